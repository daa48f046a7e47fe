//! Located error messages: file, line, column, the source line and a caret.

use std::fmt;

/// A byte range in a source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// The span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A named source text: a file, standard input or a command-line argument.
#[derive(Clone, Debug)]
pub struct Source {
    /// How the source is named in messages (a path, `<stdin>`, `<query>`).
    pub name: String,
    /// The text.
    pub text: String,
}

impl Source {
    /// A source with a name and its text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Source {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }

    /// An error located at `span` of this source.
    pub fn error(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        let start = floor_char_boundary(&self.text, span.start.min(self.text.len()));
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        let line_number = self.text[..start].matches('\n').count() + 1;
        let column = self.text[line_start..start].chars().count() + 1;
        let end = floor_char_boundary(&self.text, span.end.clamp(start, line_end));
        let width = self.text[start..end].chars().count().max(1);
        let source_line: String = self.text[line_start..line_end]
            .trim_end_matches('\r')
            .chars()
            .take(MAX_SHOWN_LINE)
            .collect();
        Diagnostic {
            location: Some(Location {
                file: self.name.clone(),
                line: line_number,
                column,
                source_line,
                width,
            }),
            message: message.into(),
            help: None,
        }
    }
}

/// Longest part of a source line that an error message shows.
const MAX_SHOWN_LINE: usize = 200;

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Where an error is, ready to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The source's name.
    pub file: String,
    /// Line, counted from 1.
    pub line: usize,
    /// Column in characters, counted from 1.
    pub column: usize,
    /// The text of the line.
    pub source_line: String,
    /// How many characters the caret underlines.
    pub width: usize,
}

/// An error for a person: what was found, what was expected, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where it happened, when it has a place in a source.
    pub location: Option<Location>,
    /// One sentence without a trailing full stop.
    pub message: String,
    /// A suggestion, such as the closest known name.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with no place in a source (a bad flag, a missing file).
    pub fn unlocated(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            location: None,
            message: message.into(),
            help: None,
        }
    }

    /// The same error with a suggestion.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            None => write!(f, "error: {}", self.message)?,
            Some(at) => {
                writeln!(
                    f,
                    "{}:{}:{}: error: {}",
                    at.file, at.line, at.column, self.message
                )?;
                let gutter = at.line.to_string();
                writeln!(f, "{} |", " ".repeat(gutter.len()))?;
                writeln!(f, "{gutter} | {}", at.source_line)?;
                write!(
                    f,
                    "{} | {}{}",
                    " ".repeat(gutter.len()),
                    " ".repeat(at.column - 1),
                    "^".repeat(at.width.min(MAX_SHOWN_LINE))
                )?;
            }
        }
        if let Some(help) = &self.help {
            write!(f, "\nhelp: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// The known name closest to `wanted` by edit distance, if any is close.
pub fn closest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|name| (edit_distance(wanted, name), name))
        .filter(|(distance, name)| *distance <= (wanted.len().max(name.len()) / 2).max(1))
        .min()
        .map(|(_, name)| name)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_line_and_column_in_characters() {
        let source = Source::new("f.nn", "a = 1\nb = ∂ + c\n");
        let error = source.error(Span::new(16, 17), "unknown name `c`");
        let at = error.location.clone().unwrap();
        assert_eq!((at.line, at.column), (2, 9));
        assert_eq!(
            error.to_string(),
            "f.nn:2:9: error: unknown name `c`\n  |\n2 | b = ∂ + c\n  |         ^"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(closest("w3", ["w1", "w2", "x"]), Some("w1"));
        assert_eq!(closest("sigmoidd", ["sigmoid", "tanh"]), Some("sigmoid"));
        assert_eq!(closest("zzzz", ["a", "b"]), None);
    }
}

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
        let line = self.text[line_start..line_end].trim_end_matches('\r');
        // A long line is shown as a window around the column.
        let skipped = (column - 1).saturating_sub(SHOWN_BEFORE_COLUMN);
        let mut source_line: String = line
            .chars()
            .skip(skipped)
            .take(MAX_SHOWN_LINE)
            .map(visible)
            .collect();
        if skipped > 0 {
            source_line.insert(0, '…');
        }
        if line.chars().count() > skipped + MAX_SHOWN_LINE {
            source_line.push('…');
        }
        let caret_at = column - skipped + usize::from(skipped > 0);
        Diagnostic {
            location: Some(Box::new(Location {
                file: self.name.clone(),
                line: line_number,
                column,
                source_line,
                caret_at,
                width,
            })),
            message: message.into(),
            help: None,
        }
    }
}

/// Longest part of a source line that an error message shows.
const MAX_SHOWN_LINE: usize = 200;

/// How many characters before the column a long line's window shows.
const SHOWN_BEFORE_COLUMN: usize = 80;

/// A character as a terminal may show it: a tab as a space, other control
/// characters as their pictures (`␛` for ESC) and direction overrides as
/// `�`, so that nothing read from a file moves the cursor, changes colours
/// or reorders the text around it.
fn visible(c: char) -> char {
    match c {
        '\t' => ' ',
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('�'),
        '\u{7f}' => '␡',
        '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => '�',
        c => c,
    }
}

/// Longest message shown, in characters: one that quotes a huge name is cut.
const MAX_SHOWN_MESSAGE: usize = 1_000;

/// A message as a terminal shows it: control characters made visible, and
/// cut to [`MAX_SHOWN_MESSAGE`] characters.
fn shown_message(message: &str) -> String {
    let visible = escape_controls(message);
    if visible.chars().count() <= MAX_SHOWN_MESSAGE {
        return visible;
    }
    let mut cut: String = visible.chars().take(MAX_SHOWN_MESSAGE).collect();
    cut.push('…');
    cut
}

/// `text` with every control character but the new line made visible, as
/// [`visible`] does: for text from a user that a terminal will show.
pub fn escape_controls(text: &str) -> String {
    text.split('\n')
        .map(|line| line.chars().map(visible).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

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
    /// The line as shown: control characters made visible, and a long
    /// line cut to a window around the column (marked `…`).
    pub source_line: String,
    /// The column of the shown line that the caret starts at, from 1.
    pub caret_at: usize,
    /// How many characters the caret underlines.
    pub width: usize,
}

/// An error for a person: what was found, what was expected, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where it happened, when it has a place in a source.
    pub location: Option<Box<Location>>,
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
            None => write!(f, "error: {}", shown_message(&self.message))?,
            Some(at) => {
                writeln!(
                    f,
                    "{}:{}:{}: error: {}",
                    escape_controls(&at.file),
                    at.line,
                    at.column,
                    shown_message(&self.message)
                )?;
                let gutter = at.line.to_string();
                writeln!(f, "{} |", " ".repeat(gutter.len()))?;
                writeln!(f, "{gutter} | {}", at.source_line)?;
                let room = (at.source_line.chars().count() + 1).saturating_sub(at.caret_at - 1);
                write!(
                    f,
                    "{} | {}{}",
                    " ".repeat(gutter.len()),
                    " ".repeat(at.caret_at - 1),
                    "^".repeat(at.width.min(room).max(1))
                )?;
            }
        }
        if let Some(help) = &self.help {
            write!(f, "\nhelp: {}", escape_controls(help))?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Longest name that [`closest`] looks for a near match of: a longer one
/// is no typing slip, and comparing it costs its length times every name's.
const LONGEST_SUGGESTED: usize = 64;

/// The known name closest to `wanted` by edit distance, if any is close.
pub fn closest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if wanted.len() > LONGEST_SUGGESTED {
        return None;
    }
    known
        .into_iter()
        // Names whose lengths differ by more than the distance allowed
        // cannot be close: they are passed over without comparing.
        .filter(|name| {
            name.len().abs_diff(wanted.len()) <= (wanted.len().max(name.len()) / 2).max(1)
        })
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
        let long = "w".repeat(100_000);
        assert_eq!(
            closest(&long, [long.as_str()]),
            None,
            "no near match of a long name is sought"
        );
    }

    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_column() {
        let text = format!("x = {}@{}\n", "a".repeat(100_000), "b".repeat(100_000));
        let error = Source::new("f.nn", text).error(Span::new(100_004, 100_005), "found `@`");
        let shown = error.to_string();
        assert!(shown.len() < 1_000, "{} bytes", shown.len());
        let lines: Vec<&str> = shown.lines().collect();
        assert!(lines[0].starts_with("f.nn:1:100005: error"));
        let caret = lines[3].find('^').unwrap();
        // The caret stands under the `@`, counted in characters.
        let above: Vec<char> = lines[2].chars().collect();
        let caret_chars = lines[3][..caret].chars().count();
        assert_eq!(above[caret_chars], '@');
        assert!(lines[2].contains('…'));
    }

    #[test]
    fn control_characters_from_a_file_are_shown_as_pictures() {
        let source = Source::new("bad\u{1b}[2Jname.nn", "x = \u{1b}]0;title\u{7}\ty\n");
        let shown = source.error(Span::new(4, 5), "found \u{1b}").to_string();
        assert!(
            !shown.chars().any(|c| c.is_control() && c != '\n'),
            "{shown:?}"
        );
        assert!(shown.contains("bad␛[2Jname.nn"));
        assert!(shown.contains("x = ␛]0;title␇ y"));
    }
}

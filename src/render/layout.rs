//! The layout of a formula, and the writers that turn it into characters.
//!
//! A layout says what a formula shows and in which order, before any style
//! decides how: atoms (a name, a number, already in the style's
//! characters), signs, groups (parentheses, fractions, powers, big sums,
//! roots, bars) and the marks where a long line may break and where an
//! equation aligns. It is a tree kept as a sequence of tokens in pre-order:
//! a group opens, its parts follow separated by [`Token::Next`], and it
//! closes. A writer reads the sequence with a stack of its own, one frame
//! per open group, so that no depth of nesting reaches the machine's stack;
//! every choice of characters is made from the tree, never by searching
//! what was already written.

use super::Format;
use super::symbols::{subscript_or_bracket, subscript_or_underscore, superscript};

/// One element of a layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Token {
    /// An atom: characters of the style, written as they are; the number
    /// names the atom in the printer's list.
    Atom(u32),
    /// `+` between two terms.
    Plus,
    /// `-` between two terms.
    Minus,
    /// `-` before what it negates.
    Negative,
    /// Two factors side by side.
    Times,
    /// A function's name applied to its bracketed argument.
    ApplyFunction,
    /// An operator (`∂/∂x`) applied to its bracketed operand.
    ApplyOperator,
    /// `=`; an aligned one is the column an equation of a block aligns on.
    Equals {
        /// True when the equations of a block align here.
        aligned: bool,
    },
    /// A place where a long line may break: before each sign of a sum.
    Break,
    /// A group begins.
    Open(Group),
    /// The next part of the group in force begins.
    Next,
    /// The group in force ends.
    Close,
}

/// The kinds of group, and the parts each has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Group {
    /// Parentheses around one part; tall ones stretch around a fraction or
    /// a big sum.
    Fenced {
        /// True when the part holds a fraction or a big sum.
        tall: bool,
    },
    /// Numerator, then denominator.
    Fraction,
    /// Base, then exponent.
    Power,
    /// The summed index, then the body: `Σ_j body`.
    BigSum,
    /// A square root of one part.
    Root,
    /// An absolute value of one part.
    Bars,
    /// A partial derivative, then the families it holds fixed:
    /// `(∂E/∂w)_y`, as thermodynamics writes a partial derivative taken
    /// with `y` held fixed.
    Held,
}

/// A group being written: the parts written so far and the one in hand.
struct Frame {
    group: Option<Group>,
    parts: Vec<String>,
    current: String,
    /// True when a [`Token::Times`] waits for the next characters, which
    /// decide how it is written.
    pending_times: bool,
}

impl Frame {
    fn new(group: Option<Group>) -> Frame {
        Frame {
            group,
            parts: Vec::new(),
            current: String::new(),
            pending_times: false,
        }
    }

    /// Appends written characters, first the separator of a waiting
    /// juxtaposition, which depends on the characters on either side.
    fn push(&mut self, text: &str, format: Format) {
        if text.is_empty() {
            return;
        }
        if self.pending_times {
            self.current
                .push_str(times_separator(format, &self.current, text));
            self.pending_times = false;
        }
        self.current.push_str(text);
    }
}

/// The layout `tokens` (atoms from `atoms`) written in `format`, cut at
/// its top-level break marks: one segment when it has none.
pub(super) fn write_segments(tokens: &[Token], atoms: &[String], format: Format) -> Vec<String> {
    let mut segments = Vec::new();
    let mut stack = vec![Frame::new(None)];
    for token in tokens {
        let frame = stack.last_mut().expect("the root frame stays");
        match *token {
            Token::Atom(atom) => frame.push(&atoms[atom as usize], format),
            Token::Times => frame.pending_times = true,
            Token::Break if frame.group.is_none() => {
                segments.push(std::mem::take(&mut frame.current));
            }
            Token::Break => {}
            Token::Open(group) => stack.push(Frame::new(Some(group))),
            Token::Next => {
                let part = std::mem::take(&mut frame.current);
                frame.parts.push(part);
            }
            Token::Close => {
                let mut done = stack.pop().expect("a group closes only once opened");
                done.parts.push(done.current);
                let group = done.group.expect("the root frame never closes");
                let written = combine(group, &done.parts, format);
                stack
                    .last_mut()
                    .expect("the root frame stays")
                    .push(&written, format);
            }
            sign => frame.push(sign_text(sign, format), format),
        }
    }
    let root = stack.pop().expect("the root frame stays");
    debug_assert!(stack.is_empty(), "every group opened is closed");
    segments.push(root.current);
    segments
}

/// The layout written in `format`, whole.
pub(super) fn write(tokens: &[Token], atoms: &[String], format: Format) -> String {
    let mut segments = write_segments(tokens, atoms, format);
    if segments.len() == 1 {
        segments.pop().expect("one segment")
    } else {
        segments.concat()
    }
}

/// The characters of a sign or mark in `format`.
fn sign_text(token: Token, format: Format) -> &'static str {
    match (token, format) {
        (Token::Plus, Format::MathMl) => "<mo>+</mo>",
        (Token::Plus, _) => " + ",
        (Token::Minus, Format::Text) => " − ",
        (Token::Minus, Format::MathMl) => "<mo>−</mo>",
        (Token::Minus, _) => " - ",
        (Token::Negative, Format::Text) => "−",
        (Token::Negative, Format::MathMl) => "<mo>−</mo>",
        (Token::Negative, _) => "-",
        (Token::ApplyFunction, Format::MathMl) => "<mo>&#x2061;</mo>",
        (Token::ApplyOperator, Format::MathMl) => "<mo>&#x2061;</mo>",
        (Token::ApplyOperator, Format::Latex) => " ",
        (Token::ApplyFunction | Token::ApplyOperator, _) => "",
        (Token::Equals { aligned: true }, Format::Latex) => " &= ",
        // A block of MathML equations is a table: the aligned sign starts
        // the right-hand cell.
        (Token::Equals { aligned: true }, Format::MathMl) => {
            "</mtd><mtd columnalign=\"left\"><mo>=</mo>"
        }
        (Token::Equals { .. }, Format::MathMl) => "<mo>=</mo>",
        (Token::Equals { .. }, _) => " = ",
        (other, _) => unreachable!("{other:?} is not a sign"),
    }
}

/// How two factors side by side are separated: a space, or a dot where
/// digits would run together (`2 \cdot 3^{x}`, `2 · 3ˣ`).
fn times_separator(format: Format, before: &str, after: &str) -> &'static str {
    let starts_with_digit = after.chars().next().is_some_and(|c| c.is_ascii_digit());
    match format {
        Format::Dsl => "*",
        Format::Latex if starts_with_digit && before.ends_with(|c: char| c.is_ascii_digit()) => {
            " \\cdot "
        }
        Format::Text if starts_with_digit => " · ",
        Format::MathMl if starts_with_number_element(after) => "<mo>·</mo>",
        Format::MathMl => "<mo>&#x2062;</mo>",
        _ => " ",
    }
}

/// True when MathML begins with a number, perhaps as the base of a script.
fn starts_with_number_element(mathml: &str) -> bool {
    let mut rest = mathml;
    for wrapper in ["<msup>", "<msub>", "<msubsup>", "<mrow>"] {
        while let Some(inner) = rest.strip_prefix(wrapper) {
            rest = inner;
        }
    }
    rest.starts_with("<mn>")
}

/// A group written from its written parts.
fn combine(group: Group, parts: &[String], format: Format) -> String {
    let part = |n: usize| parts.get(n).map(String::as_str).unwrap_or_default();
    let (a, b) = (part(0), part(1));
    match (group, format) {
        (Group::Fenced { tall: true }, Format::Latex) => format!("\\left({a}\\right)"),
        (Group::Fenced { .. }, Format::MathMl) => {
            format!("<mrow><mo>(</mo>{a}<mo>)</mo></mrow>")
        }
        (Group::Fenced { .. }, _) => format!("({a})"),
        (Group::Fraction, Format::Latex) => format!("\\frac{{{a}}}{{{b}}}"),
        (Group::Fraction, Format::MathMl) => {
            format!("<mfrac><mrow>{a}</mrow><mrow>{b}</mrow></mfrac>")
        }
        (Group::Fraction, _) => format!("{a}/{b}"),
        (Group::Power, Format::Latex) => format!("{a}^{{{b}}}"),
        (Group::Power, Format::Text) => match superscript(b) {
            Some(raised) => format!("{a}{raised}"),
            None => format!("{a}^({b})"),
        },
        (Group::Power, Format::Dsl) => format!("{a}^{b}"),
        (Group::Power, Format::MathMl) => {
            format!("<msup><mrow>{a}</mrow><mrow>{b}</mrow></msup>")
        }
        (Group::BigSum, Format::Latex) => format!("\\sum_{{{a}}} {b}"),
        (Group::BigSum, Format::Text) => format!("Σ{} {b}", subscript_or_bracket(a)),
        (Group::BigSum, Format::Dsl) => format!("sum({a}, {b})"),
        (Group::BigSum, Format::MathMl) => {
            format!("<munder><mo>∑</mo><mrow>{a}</mrow></munder><mrow>{b}</mrow>")
        }
        (Group::Root, Format::Latex) => format!("\\sqrt{{{a}}}"),
        (Group::Root, Format::MathMl) => format!("<msqrt>{a}</msqrt>"),
        (Group::Root, Format::Text) => format!("√({a})"),
        (Group::Root, Format::Dsl) => format!("sqrt({a})"),
        (Group::Bars, Format::Latex) => format!("\\lvert {a} \\rvert"),
        (Group::Bars, Format::MathMl) => format!("<mrow><mo>|</mo>{a}<mo>|</mo></mrow>"),
        (Group::Bars, Format::Text) => format!("|{a}|"),
        (Group::Bars, Format::Dsl) => format!("abs({a})"),
        (Group::Held, Format::Latex) => format!("\\left({a}\\right)_{{{b}}}"),
        (Group::Held, Format::Text) => format!("({a}){}", subscript_or_underscore(b)),
        (Group::Held, Format::MathMl) => {
            format!("<msub><mrow><mo>(</mo>{a}<mo>)</mo></mrow><mrow>{b}</mrow></msub>")
        }
        // The language has no word for it: the derivative as it is.
        (Group::Held, Format::Dsl) => a.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atoms() -> Vec<String> {
        ["a", "b", "2", "3", "x"].map(String::from).to_vec()
    }

    #[test]
    fn groups_are_written_in_each_style() {
        // A fraction of a sum; brackets are the printer's choice, made
        // before the writer sees the tokens.
        let tokens = [
            Token::Open(Group::Fraction),
            Token::Atom(0),
            Token::Break,
            Token::Plus,
            Token::Atom(1),
            Token::Next,
            Token::Atom(2),
            Token::Close,
        ];
        let atoms = atoms();
        assert_eq!(write(&tokens, &atoms, Format::Latex), "\\frac{a + b}{2}");
        assert_eq!(write(&tokens, &atoms, Format::Text), "a + b/2");
        assert_eq!(
            write(&tokens, &atoms, Format::MathMl),
            "<mfrac><mrow>a<mo>+</mo>b</mrow><mrow>2</mrow></mfrac>"
        );
    }

    #[test]
    fn only_top_level_breaks_cut_a_line() {
        let tokens = [
            Token::Atom(0),
            Token::Break,
            Token::Minus,
            Token::Open(Group::Fenced { tall: false }),
            Token::Atom(1),
            Token::Break,
            Token::Plus,
            Token::Atom(4),
            Token::Close,
        ];
        assert_eq!(
            write_segments(&tokens, &atoms(), Format::Latex),
            ["a", " - (b + x)"]
        );
    }

    #[test]
    fn digits_side_by_side_are_separated_by_a_dot() {
        let tokens = [
            Token::Atom(2),
            Token::Times,
            Token::Open(Group::Power),
            Token::Atom(3),
            Token::Next,
            Token::Atom(4),
            Token::Close,
        ];
        let atoms = atoms();
        assert_eq!(write(&tokens, &atoms, Format::Latex), "2 \\cdot 3^{x}");
        assert_eq!(write(&tokens, &atoms, Format::Text), "2 · 3ˣ");
        assert_eq!(write(&tokens, &atoms, Format::Dsl), "2*3^x");
        let tokens = [Token::Atom(0), Token::Times, Token::Atom(4)];
        assert_eq!(write(&tokens, &atoms, Format::Latex), "a x");
    }
}

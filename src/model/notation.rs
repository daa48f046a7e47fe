//! Checking notation strings, the only LaTeX a user supplies.
//!
//! A `latex` or `delta` line's string is pasted into formulas and documents,
//! so it is read here first, by a small grammar of its own: a notation is
//! a sequence of items, each a base (a letter, a digit, a punctuation mark,
//! a symbol command, a command with its one argument, or a braced group)
//! followed by primes and at most one superscript and one subscript, each
//! with an operand. Only commands that set symbols are known; commands that
//! read or write files or redefine anything (`\input`, `\write`,
//! `\catcode`, `\def`, ...) are refused, as is every command the lists do
//! not hold. No character that TeX treats specially beyond braces and
//! scripts is accepted: no `^^` (TeX's way of writing any character), no
//! `~`, `$`, `%`, `&`, `#`, no control characters and nothing outside ASCII.
//! So every accepted string is one symbol that compiles wherever a symbol
//! may stand.

/// Commands that stand for a symbol by themselves: Greek letters and a few
/// signs.
pub(crate) const SYMBOL_COMMANDS: [&str; 47] = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "pi",
    "varpi",
    "rho",
    "varrho",
    "sigma",
    "varsigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Pi",
    "Sigma",
    "Upsilon",
    "Phi",
    "Psi",
    "Omega",
    "prime",
    "ell",
    "star",
    "ast",
    "dagger",
    "circ",
    "infty",
];

/// Commands that set their one argument in another alphabet.
pub(crate) const ALPHABET_COMMANDS: [&str; 8] = [
    "mathrm",
    "mathit",
    "mathbf",
    "mathsf",
    "mathcal",
    "mathbb",
    "boldsymbol",
    "operatorname",
];

/// Commands that set an accent over their one argument.
pub(crate) const ACCENT_COMMANDS: [&str; 8] = [
    "hat", "tilde", "bar", "vec", "dot", "ddot", "check", "breve",
];

/// True when `command` takes one argument.
fn takes_argument(command: &str) -> bool {
    ALPHABET_COMMANDS.contains(&command) || ACCENT_COMMANDS.contains(&command)
}

/// Punctuation that may stand as a base or a script's operand.
const PUNCTUATION: &str = "()[],.+-*/|=<>";

/// What a second superscript on one symbol is told.
const SECOND_SUPERSCRIPT: &str =
    "a second superscript on one symbol; write both in one group, as `^{(1)2}`";

/// What a second subscript on one symbol is told.
const SECOND_SUBSCRIPT: &str =
    "a second subscript on one symbol; write both in one group, as `_{ij}`";

/// Deepest nesting of braced groups a notation may use.
const MAX_GROUP_DEPTH: usize = 16;

/// Checks a notation string; the error says what is wrong and at which
/// byte offset of the string.
pub fn check_notation(tex: &str) -> Result<(), (usize, String)> {
    if tex.trim().is_empty() {
        return Err((0, "a notation string may not be empty".to_string()));
    }
    let mut reader = Reader {
        bytes: tex.as_bytes(),
        at: 0,
    };
    reader.sequence(0)?;
    match reader.peek() {
        None => brackets_balance(tex),
        Some(b'}') => Err((reader.at, "a `}` closes nothing".to_string())),
        Some(_) => unreachable!("a sequence at the top level stops only at `}}` or the end"),
    }
}

/// Checks that round and square brackets pair up inside each group, as
/// the formulas around a symbol need: a line of a document is broken
/// only outside brackets.
fn brackets_balance(tex: &str) -> Result<(), (usize, String)> {
    let mut open: Vec<(usize, u8)> = Vec::new();
    let bytes = tex.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => {
                // A command's name, or the one character of `\,`.
                at += 1;
                while bytes.get(at).is_some_and(u8::is_ascii_alphabetic) {
                    at += 1;
                }
                continue;
            }
            c @ (b'{' | b'(' | b'[') => open.push((at, c)),
            c @ (b'}' | b')' | b']') => {
                let wanted = match c {
                    b'}' => b'{',
                    b')' => b'(',
                    _ => b'[',
                };
                match open.pop() {
                    Some((_, o)) if o == wanted => {}
                    Some((start, o)) if o != b'{' => {
                        return Err((start, format!("a `{}` is never closed", o as char)));
                    }
                    _ => return Err((at, format!("a `{}` closes nothing", c as char))),
                }
            }
            _ => {}
        }
        at += 1;
    }
    match open.pop() {
        Some((start, o)) => Err((start, format!("a `{}` is never closed", o as char))),
        None => Ok(()),
    }
}

/// A position in a notation string being read.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// The scripts a symbol carries.
///
/// TeX takes a group that holds nothing but one accent apart again, so that
/// in `{\hat{y}_n}_k` both subscripts fall on the accent: such a group
/// carries the scripts of the accent inside it.
#[derive(Clone, Copy, Default)]
struct Scripts {
    superscript: bool,
    subscript: bool,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn error<T>(&self, at: usize, message: impl Into<String>) -> Result<T, (usize, String)> {
        Err((at, message.into()))
    }

    /// Items up to a `}` or the end, inside `depth` groups; when they are
    /// one accent, its scripts.
    fn sequence(&mut self, depth: usize) -> Result<Option<Scripts>, (usize, String)> {
        let mut items = 0;
        let mut accent = None;
        loop {
            match self.peek() {
                None | Some(b'}') => return Ok(accent.filter(|_| items == 1)),
                Some(b' ') => self.at += 1,
                Some(_) => {
                    accent = self.item(depth)?;
                    items += 1;
                }
            }
        }
    }

    /// A base with its primes and scripts; when the base is an accent, the
    /// scripts it ends with.
    fn item(&mut self, depth: usize) -> Result<Option<Scripts>, (usize, String)> {
        let start = self.at;
        match self.peek() {
            Some(b'^') => return self.error(start, "a `^` needs a symbol before it"),
            Some(b'_') => return self.error(start, "a `_` needs a symbol before it"),
            Some(b'\'') => return self.error(start, "a prime `'` needs a symbol before it"),
            _ => {}
        }
        let accent = self.base(depth)?;
        let mut scripts = accent.unwrap_or_default();
        if self.peek() == Some(b'\'') {
            if scripts.superscript {
                return self.error(self.at, SECOND_SUPERSCRIPT);
            }
            while self.peek() == Some(b'\'') {
                self.at += 1;
            }
            // TeX joins primes with a superscript right after them: `a'^{2}`.
            scripts.superscript = self.peek() != Some(b'^');
        }
        loop {
            let (mark, taken, name) = match self.peek() {
                Some(b'^') => (self.at, &mut scripts.superscript, "superscript"),
                Some(b'_') => (self.at, &mut scripts.subscript, "subscript"),
                Some(b'\'') => {
                    return self.error(
                        self.at,
                        "a prime must come right after its symbol, before its scripts",
                    );
                }
                _ => return Ok(accent.map(|_| scripts)),
            };
            if *taken {
                return self.error(
                    mark,
                    if name == "superscript" {
                        SECOND_SUPERSCRIPT
                    } else {
                        SECOND_SUBSCRIPT
                    },
                );
            }
            *taken = true;
            self.at += 1;
            self.operand(depth, name)?;
        }
    }

    /// A single symbol, a command with its argument, or a group; when it
    /// is an accent, the scripts it already carries.
    fn base(&mut self, depth: usize) -> Result<Option<Scripts>, (usize, String)> {
        let start = self.at;
        let Some(c) = self.peek() else {
            return self.error(start, "expected a symbol, found the end of the string");
        };
        match c {
            b'{' => self.group(depth),
            b'\\' => self.command(depth),
            c if c.is_ascii_alphanumeric() || PUNCTUATION.as_bytes().contains(&c) => {
                self.at += 1;
                Ok(None)
            }
            _ => self.bad_character(),
        }
    }

    /// What a script or a command's argument sets: one symbol, a symbol
    /// command, or a group that is not empty; when it is a group holding one
    /// accent, the accent's scripts.
    fn operand(&mut self, depth: usize, of: &str) -> Result<Option<Scripts>, (usize, String)> {
        let start = self.at;
        match self.peek() {
            None => self.error(
                start,
                format!("a {of} needs something to set, found the end of the string"),
            ),
            Some(b'{') => {
                if self.bytes.get(start + 1) == Some(&b'}') {
                    return self.error(start, format!("a {of} may not be empty"));
                }
                self.group(depth)
            }
            Some(b'\\') => {
                let command = self.command_name()?;
                if takes_argument(command) {
                    return self.error(
                        start,
                        format!(
                            "`\\{command}` in a {of} must be braced, as `{{\\{command}{{x}}}}`"
                        ),
                    );
                }
                self.known_symbol(start, command).map(|()| None)
            }
            Some(b' ') => self.error(
                start,
                format!("a {of} needs something to set, found a space"),
            ),
            Some(b'^' | b'_' | b'\'' | b'}') => {
                let found = self.bytes[start] as char;
                self.error(
                    start,
                    format!("a {of} needs something to set, found `{found}`"),
                )
            }
            Some(c) if c.is_ascii_alphanumeric() || PUNCTUATION.as_bytes().contains(&c) => {
                self.at += 1;
                Ok(None)
            }
            Some(_) => self.bad_character(),
        }
    }

    /// A braced group of items; when they are one accent, its scripts.
    fn group(&mut self, depth: usize) -> Result<Option<Scripts>, (usize, String)> {
        let open = self.at;
        if depth >= MAX_GROUP_DEPTH {
            return self.error(
                open,
                format!("groups nest more than {MAX_GROUP_DEPTH} deep, the most a notation may"),
            );
        }
        self.at += 1;
        let accent = self.sequence(depth + 1)?;
        if self.peek() != Some(b'}') {
            return self.error(open, "a `{` is never closed");
        }
        self.at += 1;
        Ok(accent)
    }

    /// A command: a symbol, spacing, or a command with its argument; when
    /// it is an accent, the scripts it carries (none yet).
    fn command(&mut self, depth: usize) -> Result<Option<Scripts>, (usize, String)> {
        let start = self.at;
        if let Some(b',' | b';' | b'!' | b' ') = self.bytes.get(start + 1) {
            // Thin, medium, negative and ordinary spacing.
            self.at += 2;
            return Ok(None);
        }
        let command = self.command_name()?;
        if takes_argument(command) {
            // A sign is no argument: `\operatorname*` is another command.
            if let Some(c) = self.peek().filter(|c| PUNCTUATION.as_bytes().contains(c)) {
                return self.error(
                    self.at,
                    format!(
                        "`\\{command}` needs a letter, a symbol or a group to set, found `{}`",
                        c as char
                    ),
                );
            }
            // An alphabet's argument is a group, taken apart like one.
            let inside = self.operand(depth, &format!("`\\{command}`"))?;
            return Ok(if ACCENT_COMMANDS.contains(&command) {
                Some(Scripts::default())
            } else {
                inside
            });
        }
        self.known_symbol(start, command).map(|()| None)
    }

    /// Reads `\name`, and gives the name.
    fn command_name(&mut self) -> Result<&'a str, (usize, String)> {
        let start = self.at;
        self.at += 1;
        let bytes = self.bytes;
        while bytes.get(self.at).is_some_and(u8::is_ascii_alphabetic) {
            self.at += 1;
        }
        if self.at == start + 1 {
            return self.error(start, "a backslash must start a command such as `\\delta`");
        }
        let name = std::str::from_utf8(&bytes[start + 1..self.at]).expect("ASCII letters");
        // As in TeX, spaces after a command's name separate it from what follows.
        while self.peek() == Some(b' ') {
            self.at += 1;
        }
        Ok(name)
    }

    /// Accepts a command that stands for a symbol.
    fn known_symbol(&self, start: usize, command: &str) -> Result<(), (usize, String)> {
        if SYMBOL_COMMANDS.contains(&command) {
            Ok(())
        } else {
            self.error(
                start,
                format!("the command `\\{command}` is not allowed in notation"),
            )
        }
    }

    /// Refuses the character at the reader.
    fn bad_character<T>(&self) -> Result<T, (usize, String)> {
        let text = std::str::from_utf8(&self.bytes[self.at..]).unwrap_or("");
        let shown = match text.chars().next() {
            Some(c) if c.is_control() => format!("the control character U+{:04X}", c as u32),
            Some(c) if !c.is_ascii() => format!("the character `{c}` (U+{:04X})", c as u32),
            Some(c) => format!("the character `{c}`"),
            None => "a byte that is not text".to_string(),
        };
        self.error(self.at, format!("{shown} is not allowed in notation"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_as_textbooks_write_them_are_accepted() {
        for tex in [
            "w^{(1)}",
            "E_n",
            "\\delta",
            "\\mathrm{loss}",
            "\\hat{y}",
            "\\hat y_k",
            "\\delta^{(1)}",
            "\\delta^{(1)}_j",
            "a'",
            "a''^{2}",
            "w^*",
            "\\boldsymbol{w}",
            "\\mathbf{W}^{(1)}",
            "x_{\\mathrm{in}}",
            "{}^{t}x",
            "z_{i,\\,j}",
            "\\tilde{w}_{k}^{\\prime}",
            "{\\hat{y}_n}^2",
            "{\\hat{y} x}_k",
            "{\\mathrm{y}_n}_k",
        ] {
            assert_eq!(check_notation(tex), Ok(()), "{tex}");
        }
    }

    #[test]
    fn commands_that_touch_files_or_definitions_are_refused() {
        for (tex, command) in [
            ("\\input{secret}", "input"),
            ("x\\write18{rm}", "write"),
            ("\\immediate\\openout", "immediate"),
            ("\\catcode`\\^=11", "catcode"),
            ("\\def\\x{y}", "def"),
            ("\\include{a}", "include"),
            ("w_\\input", "input"),
        ] {
            let (_, message) = check_notation(tex).unwrap_err();
            assert_eq!(
                message,
                format!("the command `\\{command}` is not allowed in notation")
            );
        }
    }

    #[test]
    fn characters_that_tex_reads_specially_are_refused() {
        for (tex, at, found) in [
            ("^^5cinput{secret.txt}", 0, "a `^` needs a symbol before it"),
            (
                "w^^5c",
                2,
                "a superscript needs something to set, found `^`",
            ),
            ("a~b", 1, "the character `~` is not allowed in notation"),
            ("a$b", 1, "the character `$` is not allowed in notation"),
            ("a%b", 1, "the character `%` is not allowed in notation"),
            ("a#1", 1, "the character `#` is not allowed in notation"),
            ("a&b", 1, "the character `&` is not allowed in notation"),
            (
                "a\u{1b}[31m",
                1,
                "the control character U+001B is not allowed in notation",
            ),
            (
                "\u{3c9}",
                0,
                "the character `\u{3c9}` (U+03C9) is not allowed in notation",
            ),
        ] {
            assert_eq!(check_notation(tex), Err((at, found.to_string())), "{tex:?}");
        }
    }

    #[test]
    fn scripts_need_a_base_and_an_operand_and_come_once() {
        for (tex, at, found) in [
            (
                "w_",
                2,
                "a subscript needs something to set, found the end of the string",
            ),
            (
                "w^",
                2,
                "a superscript needs something to set, found the end of the string",
            ),
            ("^", 0, "a `^` needs a symbol before it"),
            ("_", 0, "a `_` needs a symbol before it"),
            ("''", 0, "a prime `'` needs a symbol before it"),
            ("w_{}", 2, "a subscript may not be empty"),
            (
                "w_ i",
                2,
                "a subscript needs something to set, found a space",
            ),
            (
                "w^{(1)}^{2}",
                7,
                "a second superscript on one symbol; write both in one group, as `^{(1)2}`",
            ),
            (
                "w_i_j",
                3,
                "a second subscript on one symbol; write both in one group, as `_{ij}`",
            ),
            (
                "{\\hat{y}_n}_k",
                11,
                "a second subscript on one symbol; write both in one group, as `_{ij}`",
            ),
            (
                "{{\\hat{y}'}}^2",
                12,
                "a second superscript on one symbol; write both in one group, as `^{(1)2}`",
            ),
            (
                "\\mathbf{\\hat{y}_n}_k",
                18,
                "a second subscript on one symbol; write both in one group, as `_{ij}`",
            ),
            (
                "{\\hat{y}^2}'",
                11,
                "a second superscript on one symbol; write both in one group, as `^{(1)2}`",
            ),
            (
                "a'^2^3",
                4,
                "a second superscript on one symbol; write both in one group, as `^{(1)2}`",
            ),
            (
                "a''^2'",
                5,
                "a prime must come right after its symbol, before its scripts",
            ),
            (
                "\\hat",
                4,
                "a `\\hat` needs something to set, found the end of the string",
            ),
            (
                "\\mathrm",
                7,
                "a `\\mathrm` needs something to set, found the end of the string",
            ),
            ("\\hat{}", 4, "a `\\hat` may not be empty"),
            (
                "\\operatorname*",
                13,
                "`\\operatorname` needs a letter, a symbol or a group to set, found `*`",
            ),
            (
                "w_\\hat{y}",
                2,
                "`\\hat` in a subscript must be braced, as `{\\hat{x}}`",
            ),
            (
                "\\",
                0,
                "a backslash must start a command such as `\\delta`",
            ),
            ("w^{(1}", 3, "a `(` is never closed"),
            ("w_{1]}", 4, "a `]` closes nothing"),
            ("(w", 0, "a `(` is never closed"),
            ("{(}w)", 1, "a `(` is never closed"),
        ] {
            assert_eq!(check_notation(tex), Err((at, found.to_string())), "{tex:?}");
        }
    }

    #[test]
    fn braces_must_balance_and_nest_boundedly() {
        assert_eq!(
            check_notation("w^{(1)").unwrap_err(),
            (2, "a `{` is never closed".to_string())
        );
        assert_eq!(
            check_notation("w}").unwrap_err(),
            (1, "a `}` closes nothing".to_string())
        );
        assert!(check_notation("").is_err());
        assert!(check_notation("  ").is_err());
        let deep = format!("{}x{}", "{".repeat(16), "}".repeat(16));
        assert_eq!(check_notation(&deep), Ok(()));
        let deeper = format!("{}x{}", "{".repeat(17), "}".repeat(17));
        assert_eq!(
            check_notation(&deeper).unwrap_err(),
            (
                16,
                "groups nest more than 16 deep, the most a notation may".to_string()
            )
        );
    }
}

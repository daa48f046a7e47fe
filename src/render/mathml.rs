//! Notation in presentation MathML: a symbol's LaTeX notation (a string
//! `model::notation` has checked, or one the printer made) read by the
//! same small grammar, a sequence of bases with primes and scripts, and
//! written as the elements a browser sets (`mi`, `mn`, `mo`, `msub`,
//! `msup`, `msubsup`, `mover`), with a family's indices as its subscript.

use super::symbols::greek_text;
use crate::model::notation::{ACCENT_COMMANDS, ALPHABET_COMMANDS};

/// Deepest nesting of groups the reader follows; deeper text is set as it
/// stands. Checked notation nests at most 16 deep.
const MAX_DEPTH: usize = 32;

/// The symbol `tex` with the index names `indices` as its subscript, in
/// MathML. The indices join the symbol's last script when it has no
/// subscript of its own, as TeX sets `w^{(1)}_{ji}`; otherwise the whole
/// symbol takes them, as `{E_n{}}_{j}` does.
pub(super) fn symbol(tex: &str, indices: &[String]) -> String {
    let mut reader = Reader {
        chars: tex.chars().collect(),
        at: 0,
    };
    let mut items = reader.sequence(0);
    if indices.is_empty() {
        return join(&items);
    }
    let subscript = index_list(indices);
    match items.as_mut_slice() {
        [only] if only.subscript.is_none() => {
            only.subscript = Some(subscript);
            only.markup()
        }
        _ => format!("<msub><mrow>{}</mrow>{subscript}</msub>", join(&items)),
    }
}

/// Index names as one row: side by side when each is one letter (primes
/// aside), else with commas, as the LaTeX form joins them.
fn index_list(indices: &[String]) -> String {
    let single = indices
        .iter()
        .all(|n| n.trim_end_matches('\'').chars().count() == 1);
    let names: Vec<String> = indices.iter().map(|n| index_name(n)).collect();
    let separator = if single { "" } else { "<mo>,</mo>" };
    format!("<mrow>{}</mrow>", names.join(separator))
}

/// One index name: `j`, `j′` for `j'`, `i2`; an argument with
/// arithmetic (`d-i+1`, `2i+p`) as a row of its terms and signs.
pub(super) fn index_name(name: &str) -> String {
    if name.contains(['+', '-']) {
        let mut row = String::from("<mrow>");
        let mut term = String::new();
        for c in name.chars().chain(std::iter::once('+')) {
            if c == '+' || c == '-' {
                row.push_str(&index_term(&term));
                term.clear();
                if row.len() > "<mrow>".len() || c == '-' {
                    row.push_str(if c == '-' {
                        "<mo>−</mo>"
                    } else {
                        "<mo>+</mo>"
                    });
                }
            } else {
                term.push(c);
            }
        }
        // The last sign pushed closes the loop, not a term.
        let closing = "<mo>+</mo>";
        if row.ends_with(closing) {
            row.truncate(row.len() - closing.len());
        }
        row.push_str("</mrow>");
        return row;
    }
    let stem = name.trim_end_matches('\'');
    let primes = name.len() - stem.len();
    let stem = format!("<mi>{}</mi>", escape(stem));
    if primes == 0 {
        stem
    } else {
        format!("<msup>{stem}<mo>{}</mo></msup>", "′".repeat(primes))
    }
}

/// One term of an argument: `1`, `i`, `2i`.
fn index_term(term: &str) -> String {
    let digits: String = term.chars().take_while(char::is_ascii_digit).collect();
    let rest = &term[digits.len()..];
    match (digits.is_empty(), rest.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!("<mn>{digits}</mn>"),
        (true, false) => index_name(rest),
        (false, false) => format!("<mn>{digits}</mn><mo>&#x2062;</mo>{}", index_name(rest)),
    }
}

/// Characters that XML gives a meaning, escaped.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// A base with its primes and scripts, each already in MathML.
struct Item {
    base: String,
    primes: usize,
    superscript: Option<String>,
    subscript: Option<String>,
}

impl Item {
    fn markup(&self) -> String {
        let primes = (self.primes > 0).then(|| format!("<mo>{}</mo>", "′".repeat(self.primes)));
        let superscript = match (primes, &self.superscript) {
            (None, None) => None,
            (Some(p), None) => Some(p),
            (None, Some(s)) => Some(s.clone()),
            (Some(p), Some(s)) => Some(format!("<mrow>{p}{s}</mrow>")),
        };
        let subscript = self.subscript.clone();
        let base = &self.base;
        match (superscript, subscript) {
            (None, None) => base.clone(),
            (Some(sup), None) => format!("<msup>{base}{sup}</msup>"),
            (None, Some(sub)) => format!("<msub>{base}{sub}</msub>"),
            (Some(sup), Some(sub)) => format!("<msubsup>{base}{sub}{sup}</msubsup>"),
        }
    }
}

fn join(items: &[Item]) -> String {
    match items {
        [one] => one.markup(),
        many => format!(
            "<mrow>{}</mrow>",
            many.iter().map(Item::markup).collect::<String>()
        ),
    }
}

/// A position in a notation being read.
struct Reader {
    chars: Vec<char>,
    at: usize,
}

impl Reader {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    /// Items up to a `}` or the end.
    fn sequence(&mut self, depth: usize) -> Vec<Item> {
        let mut items = Vec::new();
        loop {
            match self.peek() {
                None | Some('}') => return items,
                Some(' ') => self.at += 1,
                // A script or prime with nothing before it sets on nothing.
                Some('^' | '_' | '\'') => {
                    items.push(self.scripts(String::from("<mrow></mrow>"), depth))
                }
                // A run of digits is one number, as TeX sets `{15}`.
                Some(c) if c.is_ascii_digit() => {
                    let start = self.at;
                    while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                        self.at += 1;
                    }
                    let digits: String = self.chars[start..self.at].iter().collect();
                    items.push(self.scripts(format!("<mn>{digits}</mn>"), depth));
                }
                Some(_) => {
                    let base = self.base(depth);
                    items.push(self.scripts(base, depth));
                }
            }
        }
    }

    /// The primes and scripts after `base`.
    fn scripts(&mut self, base: String, depth: usize) -> Item {
        let mut item = Item {
            base,
            primes: 0,
            superscript: None,
            subscript: None,
        };
        loop {
            match self.peek() {
                Some('\'') => {
                    self.at += 1;
                    item.primes += 1;
                }
                Some('^') => {
                    self.at += 1;
                    item.superscript = Some(self.operand(depth));
                }
                Some('_') => {
                    self.at += 1;
                    item.subscript = Some(self.operand(depth));
                }
                _ => return item,
            }
        }
    }

    /// A single character, a command with its argument, or a group.
    fn base(&mut self, depth: usize) -> String {
        match self.peek() {
            Some('{') => self.group(depth),
            Some('\\') => self.command(depth),
            Some(c) => {
                self.at += 1;
                character(c)
            }
            None => String::new(),
        }
    }

    /// What a script or an argument sets.
    fn operand(&mut self, depth: usize) -> String {
        while self.peek() == Some(' ') {
            self.at += 1;
        }
        match self.peek() {
            None | Some('}') => "<mrow></mrow>".to_string(),
            _ => self.base(depth),
        }
    }

    /// A braced group as one row.
    fn group(&mut self, depth: usize) -> String {
        self.at += 1;
        if depth >= MAX_DEPTH {
            let rest: String = self.chars[self.at..].iter().collect();
            self.at = self.chars.len();
            return format!("<mi>{}</mi>", escape(&rest));
        }
        let items = self.sequence(depth + 1);
        if self.peek() == Some('}') {
            self.at += 1;
        }
        let inner: String = items.iter().map(Item::markup).collect();
        format!("<mrow>{inner}</mrow>")
    }

    /// A command: a symbol, spacing, an escaped character, an alphabet or
    /// an accent with its argument.
    fn command(&mut self, depth: usize) -> String {
        self.at += 1;
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.at += 1;
        }
        if self.at == start {
            // `\,` and the like are spacing; `\_` is an underscore.
            return match self.peek() {
                Some(c) => {
                    self.at += 1;
                    match c {
                        ',' | ';' | '!' | ' ' => "<mspace width=\"0.17em\"></mspace>".to_string(),
                        c => format!("<mi>{}</mi>", escape(&c.to_string())),
                    }
                }
                None => String::new(),
            };
        }
        let name: String = self.chars[start..self.at].iter().collect();
        while self.peek() == Some(' ') {
            self.at += 1;
        }
        if ACCENT_COMMANDS.contains(&name.as_str()) {
            let argument = self.operand(depth);
            let mark = accent_mark(&name);
            return format!("<mover accent=\"true\">{argument}<mo>{mark}</mo></mover>");
        }
        if ALPHABET_COMMANDS.contains(&name.as_str()) {
            let start = self.at;
            let argument = self.operand(depth);
            let plain: String = self.chars[start..self.at]
                .iter()
                .filter(|c| !matches!(c, '{' | '}' | '\\'))
                .collect();
            let simple = plain.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            return match (alphabet_variant(&name), simple) {
                (Some(variant), true) => {
                    format!("<mi mathvariant=\"{variant}\">{}</mi>", escape(&plain))
                }
                _ => argument,
            };
        }
        symbol_command(&name)
    }
}

/// One character of notation: a letter, a digit or a sign.
fn character(c: char) -> String {
    let text = escape(&c.to_string());
    if c.is_ascii_digit() {
        format!("<mn>{text}</mn>")
    } else if c.is_alphabetic() {
        format!("<mi>{text}</mi>")
    } else {
        format!("<mo>{text}</mo>")
    }
}

/// A command that stands for a symbol, as its character.
fn symbol_command(name: &str) -> String {
    if let Some(letter) = greek_text(name) {
        return format!("<mi>{letter}</mi>");
    }
    let (element, character) = match name {
        "vartheta" => ("mi", "ϑ"),
        "varpi" => ("mi", "ϖ"),
        "varrho" => ("mi", "ϱ"),
        "varsigma" => ("mi", "ς"),
        "Upsilon" => ("mi", "Υ"),
        "Psi" => ("mi", "Ψ"),
        "ell" => ("mi", "ℓ"),
        "infty" => ("mi", "∞"),
        "prime" => ("mo", "′"),
        "star" => ("mo", "⋆"),
        "ast" => ("mo", "∗"),
        "dagger" => ("mo", "†"),
        "circ" => ("mo", "∘"),
        "partial" => ("mo", "∂"),
        other => return format!("<mi>{}</mi>", escape(other)),
    };
    format!("<{element}>{character}</{element}>")
}

/// The mark an accent command sets over its argument.
fn accent_mark(name: &str) -> &'static str {
    match name {
        "hat" => "^",
        "tilde" => "~",
        "bar" => "¯",
        "vec" => "→",
        "dot" => "˙",
        "ddot" => "¨",
        "check" => "ˇ",
        _ => "˘",
    }
}

/// The MathML alphabet of an alphabet command.
fn alphabet_variant(name: &str) -> Option<&'static str> {
    Some(match name {
        "mathrm" | "operatorname" => "normal",
        "mathit" => "italic",
        "mathbf" => "bold",
        "mathsf" => "sans-serif",
        "mathcal" => "script",
        "mathbb" => "double-struck",
        "boldsymbol" => "bold-italic",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn indices_join_a_superscripted_symbol() {
        assert_eq!(
            symbol("w^{(1)}", &names(&["j", "i"])),
            "<msubsup><mi>w</mi><mrow><mi>j</mi><mi>i</mi></mrow>\
             <mrow><mo>(</mo><mn>1</mn><mo>)</mo></mrow></msubsup>"
        );
        assert_eq!(symbol("x", &[]), "<mi>x</mi>");
        assert_eq!(
            symbol("x", &names(&["i2", "j'"])),
            "<msub><mi>x</mi><mrow><mi>i2</mi><mo>,</mo><msup><mi>j</mi><mo>′</mo></msup></mrow></msub>"
        );
    }

    #[test]
    fn a_run_of_digits_is_one_number() {
        assert_eq!(
            symbol("w^{(15)}", &[]),
            "<msup><mi>w</mi><mrow><mo>(</mo><mn>15</mn><mo>)</mo></mrow></msup>"
        );
        // TeX raises one character without braces: x^15 is x^1 5.
        assert_eq!(
            symbol("x^15", &[]),
            "<mrow><msup><mi>x</mi><mn>1</mn></msup><mn>5</mn></mrow>"
        );
    }

    #[test]
    fn a_subscripted_symbol_takes_its_indices_whole() {
        assert_eq!(
            symbol("E_n", &names(&["j"])),
            "<msub><mrow><msub><mi>E</mi><mi>n</mi></msub></mrow><mrow><mi>j</mi></mrow></msub>"
        );
    }

    #[test]
    fn commands_become_characters() {
        assert_eq!(symbol("\\delta", &[]), "<mi>δ</mi>");
        assert_eq!(
            symbol("\\mathrm{loss}", &[]),
            "<mi mathvariant=\"normal\">loss</mi>"
        );
        assert_eq!(
            symbol("\\hat{y}", &[]),
            "<mover accent=\"true\"><mrow><mi>y</mi></mrow><mo>^</mo></mover>"
        );
        assert_eq!(symbol("v'", &[]), "<msup><mi>v</mi><mo>′</mo></msup>");
        assert_eq!(
            symbol("a<b&", &[]),
            "<mrow><mi>a</mi><mo>&lt;</mo><mi>b</mi><mo>&amp;</mo></mrow>"
        );
    }
}

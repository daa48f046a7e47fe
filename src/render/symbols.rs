//! How names become symbols: the default notation of a family's name
//! (`w2` is `w^{(2)}`), simple LaTeX symbols in Unicode (`E_n` is `Eₙ`),
//! and indices as subscripts.

pub(super) fn dsl_reference(name: &str, indices: &[String]) -> String {
    if indices.is_empty() {
        name.to_string()
    } else {
        format!("{name}[{}]", indices.join(","))
    }
}

/// Index names side by side when each is one letter (primes aside), else
/// with commas.
fn join_indices(names: &[String]) -> String {
    if names
        .iter()
        .all(|n| n.trim_end_matches('\'').chars().count() == 1)
    {
        names.concat()
    } else {
        names.join(",")
    }
}

pub(super) fn latex_with_indices(symbol: &str, names: &[String]) -> String {
    if names.is_empty() {
        return symbol.to_string();
    }
    // A symbol with a subscript of its own, at any depth (TeX takes a
    // group holding a single accent, as `{\hat{y}_n}`, apart again), is
    // braced before it takes the indices; the empty group keeps the braces.
    let base = if carries_script(symbol, &['_']) {
        format!("{{{symbol}{{}}}}")
    } else {
        symbol.to_string()
    };
    format!("{base}_{{{}}}", join_indices(names))
}

/// True when a symbol carries one of the script `marks` (`_`, `^`, `'`)
/// anywhere, an escaped `\_` aside.
pub(super) fn carries_script(symbol: &str, marks: &[char]) -> bool {
    let mut escaped = false;
    for c in symbol.chars() {
        if !escaped && marks.contains(&c) {
            return true;
        }
        escaped = c == '\\';
    }
    false
}

const GREEK: [(&str, &str); 34] = [
    ("alpha", "α"),
    ("beta", "β"),
    ("gamma", "γ"),
    ("delta", "δ"),
    ("epsilon", "ε"),
    ("varepsilon", "ε"),
    ("zeta", "ζ"),
    ("eta", "η"),
    ("theta", "θ"),
    ("iota", "ι"),
    ("kappa", "κ"),
    ("lambda", "λ"),
    ("mu", "μ"),
    ("nu", "ν"),
    ("xi", "ξ"),
    ("pi", "π"),
    ("rho", "ρ"),
    ("sigma", "σ"),
    ("tau", "τ"),
    ("upsilon", "υ"),
    ("phi", "φ"),
    ("varphi", "φ"),
    ("chi", "χ"),
    ("psi", "ψ"),
    ("omega", "ω"),
    ("Gamma", "Γ"),
    ("Delta", "Δ"),
    ("Theta", "Θ"),
    ("Lambda", "Λ"),
    ("Xi", "Ξ"),
    ("Pi", "Π"),
    ("Sigma", "Σ"),
    ("Phi", "Φ"),
    ("Omega", "Ω"),
];

pub(super) fn greek_text(name: &str) -> Option<String> {
    GREEK
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, g)| g.to_string())
}

/// `lambda` is `\lambda`, `w2` is `w^{(2)}`, `loss` is `\mathrm{loss}`.
pub fn default_latex(name: &str) -> String {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &name[stem.len()..];
    let stem_latex = if stem.is_empty() {
        name.to_string()
    } else if GREEK.iter().any(|(n, _)| *n == stem) {
        format!("\\{stem}")
    } else if stem.chars().count() == 1 {
        stem.to_string()
    } else {
        latex_identifier(stem, "\\mathrm")
    };
    if digits.is_empty() || stem.is_empty() {
        stem_latex
    } else {
        format!("{stem_latex}^{{({digits})}}")
    }
}

pub(super) fn latex_identifier(name: &str, command: &str) -> String {
    if name.chars().count() == 1 {
        name.to_string()
    } else {
        format!("{command}{{{}}}", latex_escape_name(name))
    }
}

pub(super) fn latex_escape_name(name: &str) -> String {
    name.replace('_', "\\_")
}

pub(super) fn default_text(name: &str) -> String {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &name[stem.len()..];
    let stem_text = greek_text(stem).unwrap_or_else(|| stem.to_string());
    if digits.is_empty() || stem.is_empty() {
        return if stem.is_empty() {
            name.to_string()
        } else {
            stem_text
        };
    }
    match superscript(&format!("({digits})")) {
        Some(raised) => format!("{stem_text}{raised}"),
        None => name.to_string(),
    }
}

/// A simple LaTeX symbol in Unicode: `w^{(1)}` is `w⁽¹⁾`, `E_n` is `Eₙ`,
/// `\delta` is `δ`. `None` when it holds something this does not know.
pub fn latex_to_text(tex: &str) -> Option<String> {
    latex_to_text_within(tex, 0)
}

/// Deepest nesting of scripts that [`latex_to_text`] follows.
const MAX_SCRIPT_DEPTH: usize = 16;

fn latex_to_text_within(tex: &str, depth: usize) -> Option<String> {
    if depth > MAX_SCRIPT_DEPTH {
        return None;
    }
    let mut out = String::new();
    let chars: Vec<char> = tex.chars().collect();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        match c {
            '\\' => {
                let start = at + 1;
                let mut end = start;
                while end < chars.len() && chars[end].is_ascii_alphabetic() {
                    end += 1;
                }
                let command: String = chars[start..end].iter().collect();
                at = end;
                if let Some(letter) = greek_text(&command) {
                    out.push_str(&letter);
                } else if matches!(
                    command.as_str(),
                    "mathrm" | "mathit" | "mathbf" | "boldsymbol" | "operatorname"
                ) {
                    // The braced argument that follows is printed as it is.
                } else {
                    return None;
                }
            }
            '^' | '_' => {
                let (group, next) = braced_group(&chars, at + 1)?;
                let inner = latex_to_text_within(&group, depth + 1)?;
                let converted = if c == '^' {
                    superscript(&inner)
                } else {
                    subscript(&inner)
                };
                out.push_str(&converted?);
                at = next;
            }
            '{' | '}' => at += 1,
            ' ' => at += 1,
            _ => {
                out.push(c);
                at += 1;
            }
        }
    }
    Some(out)
}

/// The group after `^` or `_`: `{...}` or one character.
fn braced_group(chars: &[char], at: usize) -> Option<(String, usize)> {
    match chars.get(at)? {
        '{' => {
            let mut depth = 0;
            for (offset, c) in chars[at..].iter().enumerate() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some((
                                chars[at + 1..at + offset].iter().collect(),
                                at + offset + 1,
                            ));
                        }
                    }
                    _ => {}
                }
            }
            None
        }
        c => Some((c.to_string(), at + 1)),
    }
}

/// Index names as Unicode subscripts, or in brackets when some character
/// has no subscript form.
pub(super) fn subscripts(names: &[String]) -> String {
    if names.is_empty() {
        return String::new();
    }
    let joined = join_indices(names);
    if names
        .iter()
        .all(|n| n.trim_end_matches('\'').chars().count() == 1)
        && let Some(lowered) = subscript(&joined)
    {
        return lowered;
    }
    format!("[{}]", names.join(","))
}

pub(super) fn subscript_or_bracket(name: &str) -> String {
    subscript(name).unwrap_or_else(|| format!("[{name}]"))
}

/// A name lowered into a subscript where Unicode has the characters, else
/// `_` and the name (bracketed when it holds more than one character).
pub(super) fn subscript_or_underscore(name: &str) -> String {
    match subscript(name) {
        Some(lowered) => lowered,
        None if name.chars().count() == 1 => format!("_{name}"),
        None => format!("_({name})"),
    }
}

fn subscript(text: &str) -> Option<String> {
    text.chars()
        .map(|c| {
            Some(match c {
                '0'..='9' => char::from_u32('₀' as u32 + c.to_digit(10)?)?,
                'a' => 'ₐ',
                'e' => 'ₑ',
                'h' => 'ₕ',
                'i' => 'ᵢ',
                'j' => 'ⱼ',
                'k' => 'ₖ',
                'l' => 'ₗ',
                'm' => 'ₘ',
                'n' => 'ₙ',
                'o' => 'ₒ',
                'p' => 'ₚ',
                'r' => 'ᵣ',
                's' => 'ₛ',
                't' => 'ₜ',
                'u' => 'ᵤ',
                'v' => 'ᵥ',
                'x' => 'ₓ',
                '+' => '₊',
                '-' => '₋',
                '(' => '₍',
                ')' => '₎',
                '\'' => '′',
                _ => return None,
            })
        })
        .collect()
}

pub(super) fn superscript(text: &str) -> Option<String> {
    text.chars()
        .map(|c| {
            Some(match c {
                '0' => '⁰',
                '1' => '¹',
                '2' => '²',
                '3' => '³',
                '4'..='9' => char::from_u32('⁴' as u32 + c.to_digit(10)? - 4)?,
                '+' => '⁺',
                '-' | '−' => '⁻',
                '(' => '⁽',
                ')' => '⁾',
                'a' => 'ᵃ',
                'b' => 'ᵇ',
                'c' => 'ᶜ',
                'd' => 'ᵈ',
                'e' => 'ᵉ',
                'f' => 'ᶠ',
                'g' => 'ᵍ',
                'h' => 'ʰ',
                'i' => 'ⁱ',
                'j' => 'ʲ',
                'k' => 'ᵏ',
                'l' => 'ˡ',
                'm' => 'ᵐ',
                'n' => 'ⁿ',
                'o' => 'ᵒ',
                'p' => 'ᵖ',
                'r' => 'ʳ',
                's' => 'ˢ',
                't' => 'ᵗ',
                'u' => 'ᵘ',
                'v' => 'ᵛ',
                'w' => 'ʷ',
                'x' => 'ˣ',
                'y' => 'ʸ',
                'z' => 'ᶻ',
                _ => return None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_notation_follows_the_language() {
        assert_eq!(default_latex("w2"), "w^{(2)}");
        assert_eq!(default_latex("lambda"), "\\lambda");
        assert_eq!(default_latex("loss"), "\\mathrm{loss}");
        assert_eq!(default_latex("x"), "x");
        assert_eq!(default_latex("x_in"), "\\mathrm{x\\_in}");
        assert_eq!(default_text("w2"), "w⁽²⁾");
        assert_eq!(default_text("lambda"), "λ");
    }

    #[test]
    fn simple_latex_symbols_have_unicode_forms() {
        assert_eq!(latex_to_text("w^{(1)}").as_deref(), Some("w⁽¹⁾"));
        assert_eq!(latex_to_text("E_n").as_deref(), Some("Eₙ"));
        assert_eq!(latex_to_text("\\delta").as_deref(), Some("δ"));
        assert_eq!(latex_to_text("\\mathrm{loss}").as_deref(), Some("loss"));
        assert_eq!(latex_to_text("\\hat{y}"), None);
    }

    #[test]
    fn indices_are_joined_as_the_language_says() {
        assert_eq!(
            latex_with_indices("w^{(2)}", &["k".into(), "j".into()]),
            "w^{(2)}_{kj}"
        );
        assert_eq!(latex_with_indices("E_n", &["j".into()]), "{E_n{}}_{j}");
        assert_eq!(
            latex_with_indices("\\hat{y}_n", &["k".into()]),
            "{\\hat{y}_n{}}_{k}"
        );
        assert_eq!(
            latex_with_indices("w", &["k".into(), "j2".into()]),
            "w_{k,j2}"
        );
        assert_eq!(subscripts(&["k".into(), "j".into()]), "ₖⱼ");
        assert_eq!(subscripts(&["b".into()]), "[b]");
    }
}

//! Checking notation strings, the only LaTeX a user supplies.
//!
//! A `latex` or `delta` line's string is pasted into formulas and documents,
//! so it is read here first: braces must balance, and only a small set of
//! commands that set symbols is allowed. Commands that read or write files
//! or redefine anything (`\input`, `\write`, `\catcode`, `\def`, ...) are
//! refused, as is every command this list does not know.

/// Commands a notation string may use: Greek letters, alphabets, accents
/// and a few symbols.
const ALLOWED_COMMANDS: [&str; 62] = [
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
    "mathrm",
    "mathit",
    "mathbf",
    "mathsf",
    "mathcal",
    "mathbb",
    "boldsymbol",
    "operatorname",
    "hat",
    "tilde",
    "bar",
    "vec",
    "dot",
    "ddot",
    "check",
    "breve",
    "prime",
    "ell",
    "star",
    "ast",
    "dagger",
    "circ",
];

/// Characters a notation string may hold besides letters, digits and the
/// backslash of a command.
const ALLOWED_PUNCTUATION: &str = "^_{}()[]',.+-*/|=<> ";

/// Checks a notation string; the error says what is wrong and at which
/// character offset of the string.
pub fn check_notation(tex: &str) -> Result<(), (usize, String)> {
    let mut depth = 0usize;
    let mut chars = tex.char_indices().peekable();
    if tex.trim().is_empty() {
        return Err((0, "a notation string may not be empty".to_string()));
    }
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => {
                let mut command = String::new();
                while let Some(&(_, next)) = chars.peek() {
                    if next.is_ascii_alphabetic() {
                        command.push(next);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if command.is_empty() {
                    // `\,` `\;` `\!` and `\ ` are spacing; nothing else is.
                    match chars.next() {
                        Some((_, ',' | ';' | '!' | ' ')) => {}
                        _ => {
                            return Err((
                                at,
                                "a backslash must start a command such as `\\delta`".to_string(),
                            ));
                        }
                    }
                } else if !ALLOWED_COMMANDS.contains(&command.as_str()) {
                    return Err((
                        at,
                        format!("the command `\\{command}` is not allowed in notation"),
                    ));
                }
            }
            '{' => depth += 1,
            '}' => {
                if depth == 0 {
                    return Err((at, "a `}` closes nothing".to_string()));
                }
                depth -= 1;
            }
            c if c.is_ascii_alphanumeric() || ALLOWED_PUNCTUATION.contains(c) => {}
            c => {
                return Err((
                    at,
                    format!("the character `{c}` is not allowed in notation"),
                ));
            }
        }
    }
    if depth > 0 {
        return Err((tex.len(), "a `{` is never closed".to_string()));
    }
    Ok(())
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
            "\\delta^{(1)}",
            "a'",
            "\\boldsymbol{w}",
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
        ] {
            let (_, message) = check_notation(tex).unwrap_err();
            assert_eq!(
                message,
                format!("the command `\\{command}` is not allowed in notation")
            );
        }
    }

    #[test]
    fn braces_must_balance() {
        assert_eq!(
            check_notation("w^{(1)").unwrap_err(),
            (6, "a `{` is never closed".to_string())
        );
        assert_eq!(
            check_notation("w}").unwrap_err(),
            (1, "a `}` closes nothing".to_string())
        );
        assert!(check_notation("a$b").is_err());
        assert!(check_notation("a%b").is_err());
        assert!(check_notation("").is_err());
    }
}

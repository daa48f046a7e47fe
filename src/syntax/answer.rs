//! Parsing answers written in LaTeX (`grammar/answer.pest`) into a tree that
//! keeps every form the notation has yet to decide.

use num_bigint::BigInt;
use num_rational::BigRational;
use pest::Parser as _;
use pest::iterators::Pair;

use crate::diagnostic::{Diagnostic, Source, Span};
use crate::expr::Extremum;

/// The pest parser generated from `grammar/answer.pest`.
mod generated {
    #![allow(missing_docs)]
    #[derive(pest_derive::Parser)]
    #[grammar = "../grammar/answer.pest"]
    pub struct AnswerGrammar;
}
use generated::{AnswerGrammar, Rule};

use crate::limits::{MAX_ANSWER_BYTES, MAX_ANSWER_DEPTH};

/// Commands after which an answer may nest without brackets
/// (`\sum_k \tanh \sigma x`); each counts as a level of nesting.
const PREFIX_COMMANDS: [&str; 13] = [
    "\\sum",
    "\\tanh",
    "\\sinh",
    "\\cosh",
    "\\sin",
    "\\cos",
    "\\exp",
    "\\ln",
    "\\log",
    "\\sigma",
    "\\operatorname",
    "\\mathrm",
    "\\sqrt",
];

/// A parsed answer: one expression, or a chain of equal expressions.
#[derive(Clone, Debug)]
pub struct Answer {
    /// True when the line starts with `=`: it continues the previous line.
    pub continued: bool,
    /// The sides of the chain, left to right.
    pub sides: Vec<AnswerExpr>,
}

/// How two factors of a product are joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Join {
    /// Side by side, `\cdot`, `\times` or `*`.
    Times,
    /// `/`.
    Over,
}

/// An expression of an answer, as written.
#[derive(Clone, Debug)]
pub enum AnswerExpr {
    /// A number.
    Number(BigRational),
    /// A symbol with what follows it: `w^{(2)}_{kj}`, `\delta_k`, `h'`.
    Symbol {
        /// The letter or command, as written (`w`, `\delta`, `\mathrm{loss}`).
        base: String,
        /// The superscript's text, braces removed.
        sup: Option<String>,
        /// The subscript's text, braces removed.
        sub: Option<String>,
        /// How many primes follow.
        primes: u32,
        /// Where it stands.
        span: Span,
    },
    /// `\frac{\partial A}{\partial B}`.
    Partial(Box<AnswerExpr>, Box<AnswerExpr>, Span),
    /// `\max(a, b)` or `\min(a, b)`.
    Choice(Extremum, Box<AnswerExpr>, Box<AnswerExpr>),
    /// `\tanh^2(x)`: a built-in function's name as written, primes, the power
    /// of its value and its argument.
    Call {
        /// The function as written (`\tanh`, `\operatorname{relu}`).
        name: String,
        /// Derivative marks.
        primes: u32,
        /// The power of the value, as in `\tanh^2`.
        power: Option<Box<AnswerExpr>>,
        /// The argument.
        argument: Box<AnswerExpr>,
        /// Where it stands.
        span: Span,
    },
    /// `\sqrt{x}`.
    Sqrt(Box<AnswerExpr>),
    /// `\frac{a}{b}`.
    Frac(Box<AnswerExpr>, Box<AnswerExpr>),
    /// `\sum_k body`, with the indices as written.
    Sum(Vec<(String, Span)>, Box<AnswerExpr>, Span),
    /// Brackets, kept so that `h(x)` can be read as a call.
    Group(Box<AnswerExpr>),
    /// `base^exponent` written with an explicit group or digit.
    Power(Box<AnswerExpr>, Box<AnswerExpr>),
    /// Factors in order.
    Product(Vec<(Join, AnswerExpr)>),
    /// Terms with their signs (true for minus).
    Terms(Vec<(bool, AnswerExpr)>),
}

/// Why an answer could not be read.
#[derive(Clone, Debug)]
pub enum AnswerError {
    /// Over a size or depth limit.
    TooLarge(String),
    /// Not an expression.
    Unreadable(Diagnostic),
}

/// Parses an answer; `source` names it in messages.
pub fn parse_answer(source: &Source) -> Result<Answer, AnswerError> {
    let text = &source.text;
    if text.len() > MAX_ANSWER_BYTES {
        return Err(AnswerError::TooLarge(format!(
            "the answer is longer than {MAX_ANSWER_BYTES} bytes"
        )));
    }
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_ANSWER_DEPTH {
                    return Err(AnswerError::TooLarge(format!(
                        "the answer nests brackets deeper than {MAX_ANSWER_DEPTH}"
                    )));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    // Nesting without brackets is bounded too: whatever the parser and
    // the reader then do recursively stays shallow.
    let prefixes: usize = PREFIX_COMMANDS
        .iter()
        .map(|command| text.matches(command).count())
        .sum();
    if prefixes > 4 * MAX_ANSWER_DEPTH {
        return Err(AnswerError::TooLarge(format!(
            "the answer holds more than {} sums and functions",
            4 * MAX_ANSWER_DEPTH
        )));
    }
    if text.trim().is_empty() {
        return Err(AnswerError::Unreadable(
            source.error(Span::new(0, 0), "the answer is empty"),
        ));
    }
    let mut pairs = AnswerGrammar::parse(Rule::answer, text)
        .map_err(|error| AnswerError::Unreadable(pest_error(source, &error)))?;
    let answer = pairs.next().expect("the answer rule yields one pair");
    let mut continued = false;
    let mut sides = Vec::new();
    for item in answer.into_inner() {
        match item.as_rule() {
            Rule::continued => continued = true,
            Rule::expr => sides.push(expr(item)),
            _ => {}
        }
    }
    Ok(Answer { continued, sides })
}

/// Parses the text of a superscript as an expression (for `e^{-a}`).
pub fn parse_fragment(text: &str) -> Option<AnswerExpr> {
    let source = Source::new("<exponent>", text);
    match parse_answer(&source) {
        Ok(answer) if answer.sides.len() == 1 && !answer.continued => {
            answer.sides.into_iter().next()
        }
        _ => None,
    }
}

fn pest_error(source: &Source, error: &pest::error::Error<Rule>) -> Diagnostic {
    // Brackets that do not pair up are the likeliest cause: name the one,
    // and how to mend it.
    if let Some((at, message)) = unpaired_bracket(&source.text) {
        return source.error(Span::new(at, at + 1), message);
    }
    let offset = match error.location {
        pest::error::InputLocation::Pos(offset) => offset,
        pest::error::InputLocation::Span((start, _)) => start,
    };
    let rest = &source.text[offset.min(source.text.len())..];
    let found = match rest.chars().next() {
        None => "the end of the answer".to_string(),
        Some(_) => {
            let token: String = rest
                .chars()
                .take_while(|c| !c.is_whitespace())
                .take(20)
                .collect();
            format!("`{token}`")
        }
    };
    source.error(
        Span::new(offset, offset + 1),
        format!(
            "cannot read the answer here: found {found}, expected a term, a factor or an operator"
        ),
    )
}

/// The first bracket of `text` that does not pair up, with what to write
/// instead: one closing nothing, one closing a bracket of another kind, or
/// one never closed. Brackets escaped by a backslash (`\{`) are text.
fn unpaired_bracket(text: &str) -> Option<(usize, String)> {
    let mut open: Vec<(char, usize)> = Vec::new();
    let mut escaped = false;
    let column = |at: usize| text[..at].chars().count() + 1;
    for (at, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '(' | '[' | '{' => open.push((c, at)),
            ')' | ']' | '}' => match open.pop() {
                None => {
                    return Some((
                        at,
                        format!("this `{c}` closes nothing: remove it, or open it before"),
                    ));
                }
                Some((opener, from)) if closing(opener) != c => {
                    return Some((
                        at,
                        format!(
                            "this `{c}` closes the `{opener}` opened at column {}: close that with `{}`",
                            column(from),
                            closing(opener)
                        ),
                    ));
                }
                Some(_) => {}
            },
            _ => {}
        }
    }
    open.pop().map(|(opener, from)| {
        (
            from,
            format!(
                "this `{opener}` is never closed: close it with `{}`",
                closing(opener)
            ),
        )
    })
}

/// The bracket that closes `opener`.
fn closing(opener: char) -> char {
    match opener {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

fn span_of(pair: &Pair<Rule>) -> Span {
    Span::new(pair.as_span().start(), pair.as_span().end())
}

fn strip_braces(text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.starts_with('{') && trimmed.ends_with('}') {
        trimmed[1..trimmed.len() - 1].trim().to_string()
    } else {
        trimmed.to_string()
    }
}

fn expr(pair: Pair<Rule>) -> AnswerExpr {
    let mut terms = Vec::new();
    let mut negative = false;
    for item in pair.into_inner() {
        match item.as_rule() {
            Rule::sign | Rule::add_op => negative = item.as_str() == "-",
            Rule::product => {
                terms.push((negative, product(item)));
                negative = false;
            }
            _ => {}
        }
    }
    if terms.len() == 1 && !terms[0].0 {
        return terms.pop().expect("one term").1;
    }
    AnswerExpr::Terms(terms)
}

fn product(pair: Pair<Rule>) -> AnswerExpr {
    let mut factors = Vec::new();
    let mut join = Join::Times;
    for item in pair.into_inner() {
        match item.as_rule() {
            Rule::mul_op => join = Join::Times,
            Rule::div_op => join = Join::Over,
            Rule::factor => {
                factors.push((join, factor(item)));
                join = Join::Times;
            }
            _ => {}
        }
    }
    if factors.len() == 1 && factors[0].0 == Join::Times {
        return factors.pop().expect("one factor").1;
    }
    AnswerExpr::Product(factors)
}

fn factor(pair: Pair<Rule>) -> AnswerExpr {
    let mut inner = pair.into_inner();
    let first = inner.next().expect("a factor has a part");
    let base = if first.as_rule() == Rule::sum_op {
        sum(first)
    } else {
        part(first)
    };
    match inner.next() {
        Some(power) => {
            let exponent = power_value(power);
            AnswerExpr::Power(Box::new(base), Box::new(exponent))
        }
        None => base,
    }
}

fn power_value(pair: Pair<Rule>) -> AnswerExpr {
    let inner = pair.into_inner().next().expect("a power has a value");
    let span = span_of(&inner);
    match inner.as_rule() {
        Rule::braced => braced(inner),
        Rule::digit_token => AnswerExpr::Number(BigRational::from_integer(
            inner.as_str().parse::<BigInt>().expect("a digit"),
        )),
        _ => AnswerExpr::Symbol {
            base: inner.as_str().to_string(),
            sup: None,
            sub: None,
            primes: 0,
            span,
        },
    }
}

fn braced(pair: Pair<Rule>) -> AnswerExpr {
    let inner = expr(pair.into_inner().next().expect("braces hold an expression"));
    AnswerExpr::Group(Box::new(inner))
}

fn sum(pair: Pair<Rule>) -> AnswerExpr {
    let span = span_of(&pair);
    let mut indices = Vec::new();
    let mut body = None;
    for item in pair.into_inner() {
        match item.as_rule() {
            Rule::sum_limits => {
                for limit in item.into_inner().flatten() {
                    if limit.as_rule() == Rule::index_token && indices.len() < 8 {
                        indices.push((limit.as_str().to_string(), span_of(&limit)));
                    }
                }
            }
            Rule::product => body = Some(product(item)),
            _ => {}
        }
    }
    // Only the indices below the sign count; the upper limit's token does not.
    AnswerExpr::Sum(indices, Box::new(body.expect("a sum has a body")), span)
}

fn part(pair: Pair<Rule>) -> AnswerExpr {
    let span = span_of(&pair);
    match pair.as_rule() {
        Rule::number => AnswerExpr::Number(decimal(pair.as_str())),
        Rule::symbol => symbol(pair),
        Rule::group => {
            let inner = pair.into_inner().next().expect("a group holds something");
            let content = if inner.as_rule() == Rule::braced {
                braced(inner)
            } else {
                expr(inner)
            };
            AnswerExpr::Group(Box::new(content))
        }
        Rule::sqrt => AnswerExpr::Sqrt(Box::new(braced(
            pair.into_inner().next().expect("a root has an argument"),
        ))),
        Rule::frac => {
            let mut inner = pair.into_inner();
            let top = frac_argument(inner.next().expect("a numerator"));
            let bottom = frac_argument(inner.next().expect("a denominator"));
            AnswerExpr::Frac(Box::new(top), Box::new(bottom))
        }
        Rule::partial_frac => {
            let symbols: Vec<AnswerExpr> = pair
                .into_inner()
                .filter(|p| p.as_rule() == Rule::symbol)
                .map(symbol)
                .collect();
            let mut symbols = symbols.into_iter();
            let top = symbols.next().expect("a numerator");
            let bottom = symbols.next().expect("a denominator");
            AnswerExpr::Partial(Box::new(top), Box::new(bottom), span)
        }
        Rule::choice => {
            let mut inner = pair.into_inner();
            let name = inner.next().expect("a choice is named");
            let kind = Extremum::from_name(name.as_str().trim_start_matches('\\'))
                .expect("the grammar names max or min");
            let first = expr(inner.next().expect("a first argument"));
            let second = expr(inner.next().expect("a second argument"));
            AnswerExpr::Choice(kind, Box::new(first), Box::new(second))
        }
        Rule::function => {
            let mut name = String::new();
            let mut primes = 0;
            let mut power = None;
            let mut argument = None;
            for item in pair.into_inner() {
                match item.as_rule() {
                    Rule::function_name => name = item.as_str().to_string(),
                    Rule::primes => primes = prime_count(item.as_str()),
                    Rule::function_power => {
                        let value = item.into_inner().next().expect("a power");
                        power = Some(Box::new(match value.as_rule() {
                            Rule::braced => braced(value),
                            _ => AnswerExpr::Number(decimal(value.as_str())),
                        }));
                    }
                    Rule::group => argument = Some(part(item)),
                    Rule::factor => argument = Some(factor(item)),
                    _ => {}
                }
            }
            AnswerExpr::Call {
                name,
                primes,
                power,
                argument: Box::new(argument.expect("a function has an argument")),
                span,
            }
        }
        other => unreachable!("the answer grammar yields no part {other:?}"),
    }
}

fn symbol(pair: Pair<Rule>) -> AnswerExpr {
    let span = span_of(&pair);
    let mut base = String::new();
    let mut sup = None;
    let mut sub = None;
    let mut primes = 0;
    for item in pair.into_inner() {
        match item.as_rule() {
            Rule::symbol_base => base = unbolded(item.as_str()).to_string(),
            Rule::symbol_sup => sup = Some(strip_braces(&item.as_str()[1..])),
            Rule::symbol_sub => sub = Some(strip_braces(&item.as_str()[1..])),
            Rule::primes => primes = prime_count(item.as_str()),
            _ => {}
        }
    }
    AnswerExpr::Symbol {
        base,
        sup,
        sub,
        primes,
        span,
    }
}

/// How many derivative marks `''` or `^{\prime\prime}` make.
fn prime_count(text: &str) -> u32 {
    (text.matches('\'').count() + text.matches("\\prime").count()) as u32
}

/// The letter inside `\mathbf{w}` or `\boldsymbol{\delta}`; any other base
/// as it is.
fn unbolded(base: &str) -> &str {
    ["\\mathbf{", "\\boldsymbol{", "\\bm{"]
        .iter()
        .find_map(|command| base.strip_prefix(command)?.strip_suffix('}'))
        .unwrap_or(base)
}

/// A numerator or denominator of `\frac`: braced, or one digit (`\frac12`).
fn frac_argument(pair: Pair<Rule>) -> AnswerExpr {
    match pair.as_rule() {
        Rule::digit_token => AnswerExpr::Number(decimal(pair.as_str())),
        _ => braced(pair),
    }
}

fn decimal(text: &str) -> BigRational {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits: BigInt = format!("{whole}{fraction}").parse().expect("digits");
    BigRational::new(digits, num_traits::pow(BigInt::from(10), fraction.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Answer {
        parse_answer(&Source::new("a", text)).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn a_sum_reaches_over_the_product_that_follows_it() {
        let answer = parse("h'(a_j)\\sum_k w_{kj}\\delta_k + x");
        let AnswerExpr::Terms(terms) = &answer.sides[0] else {
            panic!("terms")
        };
        assert_eq!(terms.len(), 2);
        let AnswerExpr::Product(factors) = &terms[0].1 else {
            panic!("a product")
        };
        assert_eq!(factors.len(), 3, "h', (a_j) and the sum");
        assert!(matches!(factors[2].1, AnswerExpr::Sum(..)));
    }

    #[test]
    fn symbols_keep_their_scripts() {
        let answer = parse("w^{(2)}_{kj}");
        let AnswerExpr::Symbol { base, sup, sub, .. } = &answer.sides[0] else {
            panic!("a symbol")
        };
        assert_eq!(
            (base.as_str(), sup.as_deref(), sub.as_deref()),
            ("w", Some("(2)"), Some("kj"))
        );
    }

    #[test]
    fn a_leading_left_side_and_continuations() {
        assert_eq!(parse("\\delta_j = h'(a_j)").sides.len(), 2);
        assert!(parse("&= y_k - t_k").continued);
        assert!(matches!(
            parse("\\frac{\\partial E_n}{\\partial a_k}").sides[0],
            AnswerExpr::Partial(..)
        ));
        assert!(matches!(
            parse("\\tanh^2(a_j)").sides[0],
            AnswerExpr::Call { power: Some(_), .. }
        ));
    }

    #[test]
    fn hostile_answers_are_too_large_or_unreadable() {
        let deep = format!("{}x{}", "(".repeat(100), ")".repeat(100));
        assert!(matches!(
            parse_answer(&Source::new("a", deep)),
            Err(AnswerError::TooLarge(_))
        ));
        assert!(matches!(
            parse_answer(&Source::new("a", "x".repeat(30_000))),
            Err(AnswerError::TooLarge(_))
        ));
        assert!(matches!(
            parse_answer(&Source::new("a", "")),
            Err(AnswerError::Unreadable(_))
        ));
        assert!(matches!(
            parse_answer(&Source::new("a", "y_k - ")),
            Err(AnswerError::Unreadable(_))
        ));
    }
}

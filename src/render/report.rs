//! Laying out step-by-step derivations for a reader: numbered text with
//! reasons, a LaTeX `align*` fragment, or JSON.

use serde_json::{Value, json};

use super::symbols::latex_escape_name;
use super::{Format, Lhs, Printer, mathml_element};
use crate::calculus::Form;
use crate::calculus::derivation::{Derivation, ReasonPart, Report, Step};
use crate::expr::{Contents, FamilyId, Node};
use crate::model::Model;
use crate::rules;

/// The derivation of a query and its deltas as numbered text.
pub fn text(model: &Model, report: &Report) -> String {
    let mut out = String::new();
    let why = why_the_sum(model, &report.main, Format::Text);
    derivation_text(model, &report.main, "", why.as_deref(), &mut out);
    let mut printer = Printer::new(model, Format::Text);
    // A delta's derivation ends in that delta, as Bishop's eq. 5.56 does.
    let lhs = Lhs::of_query(model, &report.query, Form::Backprop);
    let final_line = printer.equation(&lhs, report.main.result());
    out.push_str(&format!("so {final_line}\n"));
    for (family, indices, derivation) in &report.deltas {
        let symbol = printer.lhs(&Lhs::Delta(*family, indices.clone()));
        out.push_str(&format!("\nwhere {symbol}:\n"));
        derivation_text(model, derivation, "", None, &mut out);
    }
    out
}

/// Why the chain rule sums over the units a unit sends connections to,
/// the question a first reader asks of Bishop's eq. 5.55, in the network's
/// own names: none when the derivation's first link is not such a sum.
pub fn why_the_sum(model: &Model, derivation: &Derivation, format: Format) -> Option<String> {
    let first = derivation.steps.first()?;
    if !first
        .rules
        .iter()
        .any(|r| r.id == rules::CHAIN_RULE_SUCCESSORS.id)
    {
        return None;
    }
    let store = &model.store;
    let terms = match store.node(first.expr) {
        Node::Add(terms) => terms.len(),
        _ => 1,
    };
    let sums = store.contents(first.expr).has(Contents::SUM);
    if terms < 2 && !sums {
        return None;
    }
    let Node::Derivative(numerator, wrt) = store.node(derivation.lhs) else {
        return None;
    };
    let mut printer = Printer::new(model, format);
    let unit = printer.reference(wrt.family, &wrt.indices);
    let objective = printer.expr(*numerator);
    let chain = printer.expr_equation(derivation.lhs, first.expr);
    let math = |text: String| match format {
        Format::Latex => format!("${text}$"),
        _ => text,
    };
    let (unit, objective) = (math(unit), math(objective));
    let chain = match format {
        Format::Latex => format!("\\[ {chain} \\]"),
        _ => chain,
    };
    Some(format!(
        "Why a sum: when {unit} changes, so does every unit the sum runs over, and {objective} changes through each of them. The multivariate chain rule adds up these contributions, one term for each unit (Bishop's eq. 5.55): {chain}"
    ))
}

fn derivation_text(
    model: &Model,
    derivation: &Derivation,
    indent: &str,
    why: Option<&str>,
    out: &mut String,
) {
    let mut printer = Printer::new(model, Format::Text);
    let mut all = vec![derivation.lhs];
    all.extend(derivation.steps.iter().map(|s| s.expr));
    let shown = printer.exprs(&all);
    out.push_str(&format!("{indent}{}\n", shown[0]));
    for (number, (step, line)) in derivation.steps.iter().zip(&shown[1..]).enumerate() {
        let label = format!("({})", number + 1);
        out.push_str(&format!("{indent}{label} = {line}\n"));
        let pad = format!("{indent}{}", " ".repeat(label.chars().count() + 3));
        out.push_str(&format!(
            "{pad}{}: {}\n",
            rule_ids(step),
            reason(model, step, Format::Text, false)
        ));
        if number == 0
            && let Some(why) = why
        {
            out.push_str(&format!("{pad}{why}\n"));
        }
        for (letter, lemma) in step.lemmas.iter().enumerate() {
            let name = (b'a' + (letter % 26) as u8) as char;
            out.push_str(&format!("{pad}({}{name})\n", number + 1));
            derivation_text(model, lemma, &format!("{pad}  "), None, out);
        }
    }
}

fn rule_ids(step: &Step) -> String {
    step.rules
        .iter()
        .map(|r| r.id)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The label of a family's definition among a document's equations.
pub(super) fn definition_label(model: &Model, family: FamilyId) -> String {
    format!("eq:{}", model.family(family).name)
}

/// A reason in one format: words as they are, formulas printed. With
/// `cite`, in a document whose network's equations are numbered, a
/// definition the reason uses names its equation's number.
pub fn reason(model: &Model, step: &Step, format: Format, cite: bool) -> String {
    let mut printer = Printer::new(model, format);
    // Equations quoted keep clear of the link's own free indices.
    let beside = model.store.free_vars(step.expr).to_vec();
    let mut out = String::new();
    for part in &step.reason {
        match part {
            ReasonPart::Words(words) => match format {
                Format::Latex => out.push_str(&latex_text(words)),
                _ => out.push_str(words),
            },
            ReasonPart::Formula(expr) => {
                let formula = printer.expr(*expr);
                match format {
                    Format::Latex => out.push_str(&format!("${formula}$")),
                    _ => out.push_str(&formula),
                }
            }
            ReasonPart::Definition(family, lhs, rhs) if cite && format == Format::Latex => {
                let formula = printer.expr_equation_beside(*lhs, *rhs, &beside);
                let label = definition_label(model, *family);
                out.push_str(&format!("by~\\eqref{{{label}}}, ${formula}$"));
            }
            ReasonPart::Equation(lhs, rhs) | ReasonPart::Definition(_, lhs, rhs) => {
                let formula = printer.expr_equation_beside(*lhs, *rhs, &beside);
                match format {
                    Format::Latex => out.push_str(&format!("${formula}$")),
                    _ => out.push_str(&formula),
                }
            }
            ReasonPart::Indices(names) => match format {
                Format::Latex => {
                    let names: Vec<String> = names.iter().map(|n| latex_escape_name(n)).collect();
                    out.push_str(&format!("${}$", names.join(", ")));
                }
                _ => out.push_str(&names.join(", ")),
            },
        }
    }
    out
}

/// Words set in LaTeX text mode, their special characters escaped.
pub fn latex_text(words: &str) -> String {
    let mut out = String::new();
    for c in words.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '{' | '}' | '$' | '&' | '#' | '_' | '%' => {
                out.push('\\');
                out.push(c);
            }
            '^' => out.push_str("\\^{}"),
            '~' => out.push_str("\\~{}"),
            c if c.is_ascii_graphic() || c == ' ' => out.push(c),
            // A line break or a tab in a title is a space.
            '\n' | '\r' | '\t' => out.push(' '),
            // Accented Latin letters, which the document's T1 fonts hold.
            c if latin_letter(c) => out.push(c),
            // Beyond printable ASCII, the characters a comment or a title
            // commonly holds are written as TeX commands; anything else is
            // named by its code point, which every font can set.
            c => match typographic(c) {
                Some(command) => out.push_str(command),
                None => out.push_str(&format!("[U+{:04X}]", c as u32)),
            },
        }
    }
    out
}

/// True for the accented Latin letters that LaTeX's UTF-8 input sets in
/// its default OT1 fonts as well as in T1 (é, ß, Ø, ł, ő, š, ...), so that
/// words set with them compile in any document. Letters only T1 holds
/// (ð, þ, ŋ) are not among them.
fn latin_letter(c: char) -> bool {
    let latin1 = matches!(c, '\u{c0}'..='\u{ff}')
        && c.is_alphabetic()
        && !matches!(c, 'ð' | 'Ð' | 'þ' | 'Þ');
    latin1 || "ŁłŐőŰűŠšŽžČčŘřĚěŚśĆćŃńŹźŻżŇňŤťĎď".contains(c)
}

/// TeX for a character of a title or a comment outside printable ASCII:
/// punctuation, the section sign, and the Greek letters and symbols that
/// notes on networks use (accented letters pass as they are).
fn typographic(c: char) -> Option<&'static str> {
    Some(match c {
        '§' => "\\S{}",
        '¶' => "\\P{}",
        '–' => "--",
        '—' => "---",
        '‘' => "`",
        '’' => "'",
        '“' => "``",
        '”' => "''",
        '…' => "\\ldots{}",
        '×' => "$\\times$",
        '·' => "$\\cdot$",
        '∂' => "$\\partial$",
        '∑' => "$\\sum$",
        'α' => "$\\alpha$",
        'β' => "$\\beta$",
        'γ' => "$\\gamma$",
        'δ' => "$\\delta$",
        'ε' => "$\\varepsilon$",
        'η' => "$\\eta$",
        'θ' => "$\\theta$",
        'λ' => "$\\lambda$",
        'μ' => "$\\mu$",
        'σ' => "$\\sigma$",
        'φ' => "$\\phi$",
        'ω' => "$\\omega$",
        'ρ' => "$\\rho$",
        'τ' => "$\\tau$",
        'ψ' => "$\\psi$",
        'χ' => "$\\chi$",
        'ξ' => "$\\xi$",
        'π' => "$\\pi$",
        'ζ' => "$\\zeta$",
        'κ' => "$\\kappa$",
        'ν' => "$\\nu$",
        'Γ' => "$\\Gamma$",
        'Δ' => "$\\Delta$",
        'Θ' => "$\\Theta$",
        'Λ' => "$\\Lambda$",
        'Ξ' => "$\\Xi$",
        'Π' => "$\\Pi$",
        'Σ' => "$\\Sigma$",
        'Φ' => "$\\Phi$",
        'Ψ' => "$\\Psi$",
        'Ω' => "$\\Omega$",
        '≤' => "$\\leq$",
        '≥' => "$\\geq$",
        '→' => "$\\to$",
        '±' => "$\\pm$",
        '°' => "$^{\\circ}$",
        _ => return None,
    })
}

/// The derivation as a LaTeX `align*` fragment, each link with its reason.
pub fn latex(model: &Model, report: &Report) -> String {
    let mut out = String::new();
    derivation_latex(model, &report.main, Numbering::Block, &mut out);
    for (family, indices, derivation) in &report.deltas {
        let mut printer = Printer::new(model, Format::Latex);
        let symbol = printer.lhs(&Lhs::Delta(*family, indices.clone()));
        out.push_str(&format!("\\noindent where ${symbol}$:\n"));
        derivation_latex(model, derivation, Numbering::Block, &mut out);
    }
    out
}

/// How the links of a derivation are numbered.
#[derive(Clone, Copy)]
pub enum Numbering<'a> {
    /// (1), (2), ... afresh in each block, for a fragment that stands alone.
    Block,
    /// As a book numbers them: each block takes the document's next
    /// equation number N, and its links are (Na), (Nb), ...; `label`, when
    /// given, names N, so that the result can carry it.
    Document {
        /// The label of the block's number.
        label: Option<&'a str>,
    },
}

impl Numbering<'_> {
    /// The tag of link `index` (from 0) of `links`; in a document, a block
    /// of one link takes its number without a letter.
    fn tag(self, index: usize, links: usize) -> String {
        match self {
            Numbering::Block => format!("({})", index + 1),
            Numbering::Document { .. } if links == 1 => "(\\theequation{})".to_string(),
            Numbering::Document { .. } => format!("(\\theequation{{}}{})", link_letters(index)),
        }
    }
}

/// `a`, `b`, ..., `z`, `aa`, `ab`, ...: the letters of link `index`.
fn link_letters(index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = index + 1;
    while n > 0 {
        n -= 1;
        letters.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
    }
    letters.iter().rev().collect()
}

/// One derivation, with its lemmas after it: the links numbered in an
/// `align*` as `numbering` says, long ones broken before a top-level `+` or
/// `-`, and the rules and reasons of each link below.
pub fn derivation_latex(
    model: &Model,
    derivation: &Derivation,
    numbering: Numbering,
    out: &mut String,
) {
    let mut printer = Printer::new(model, Format::Latex);
    let mut all = vec![derivation.lhs];
    all.extend(derivation.steps.iter().map(|s| s.expr));
    let segments = printer.exprs_in_segments(&all);
    let lhs = segments[0].concat();
    // A document numbers the network's equations, and a reason cites them.
    let cite = matches!(numbering, Numbering::Document { .. });
    // Each link's reason stands directly below it, its rules as small
    // labels; the last one's below the block.
    let reasons: Vec<String> = derivation
        .steps
        .iter()
        .map(|step| {
            let ids: Vec<&str> = step.rules.iter().map(|r| r.id).collect();
            format!(
                "{{\\footnotesize\\textsf{{{}}}\\enspace {}.}}",
                latex_text(&ids.join(", ")),
                reason(model, step, Format::Latex, cite)
            )
        })
        .collect();
    let mut body = String::new();
    let mut after_text = false;
    for (number, line) in segments[1..].iter().enumerate() {
        let pieces = lines_of(line, LONG_LINE);
        let last = pieces.len() - 1;
        for (at, piece) in pieces.into_iter().enumerate() {
            let piece = settable(piece);
            let lead = match (number, at) {
                (0, 0) => format!("{} &= ", settable(lhs.clone())),
                (_, 0) => "  &= ".to_string(),
                _ => "  &\\quad ".to_string(),
            };
            let tag = if at == last {
                format!(" \\tag*{{{}}}", numbering.tag(number, segments.len() - 1))
            } else {
                String::new()
            };
            // A row ends with `\\`, except the one before a reason's text,
            // which `\intertext` follows after its own `\\`.
            if !body.is_empty() && !after_text {
                body.push_str(" \\\\\n");
            }
            after_text = false;
            body.push_str(&format!("{lead}{piece}{tag}"));
        }
        if number + 1 < reasons.len() {
            body.push_str(&format!(" \\\\\n\\intertext{{{}}}\n", reasons[number]));
            after_text = true;
        }
    }
    let body = if body.is_empty() { settable(lhs) } else { body };
    if let Numbering::Document { label } = numbering {
        out.push_str("\\refstepcounter{equation}");
        if let Some(label) = label {
            out.push_str(&format!("\\label{{{label}}}"));
        }
        out.push('\n');
    }
    out.push_str("\\begin{align*}\n");
    out.push_str(&body);
    out.push_str("\n\\end{align*}\n");
    if let Some(last) = reasons.last() {
        out.push_str(&format!("{last}\n\n"));
    }
    // A lemma is a block of its own, with a number of its own.
    let lemmas = match numbering {
        Numbering::Block => Numbering::Block,
        Numbering::Document { .. } => Numbering::Document { label: None },
    };
    for step in &derivation.steps {
        for lemma in &step.lemmas {
            derivation_latex(model, lemma, lemmas, out);
        }
    }
}

/// How many characters of LaTeX a displayed line may hold before it is broken.
const LONG_LINE: usize = 150;

/// Longest formula, in characters of LaTeX, that a document sets on one
/// line: a longer one would pass the largest width TeX can measure.
const MAX_SET_LINE: usize = 2_000;

/// A formula as a document sets it on one line: itself, or, when it is too
/// long for TeX to set and cannot be broken where it stands, a note saying
/// so, so that the document still compiles.
pub fn settable(latex: String) -> String {
    if latex.len() <= MAX_SET_LINE {
        latex
    } else {
        format!(
            "\\text{{\\emph{{(a formula of {} characters of \\LaTeX, too long to set on a page; \\texttt{{chainrule derive}} prints it)}}}}",
            latex.len()
        )
    }
}

/// A formula's lines: its segments (cut before the signs of its outermost
/// sum, as the printer lays it out) joined while the formula is short,
/// and otherwise into lines of about `limit` characters of LaTeX or more,
/// each after the first starting with its sign.
fn lines_of(segments: &[String], limit: usize) -> Vec<String> {
    if segments.iter().map(String::len).sum::<usize>() <= limit {
        return vec![segments.concat()];
    }
    let mut lines = Vec::new();
    let mut current = String::new();
    for segment in segments {
        if current.len() >= limit / 2 {
            lines.push(std::mem::take(&mut current));
            current.push_str(segment.trim_start_matches(' '));
        } else {
            current.push_str(segment);
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// The derivation as JSON: each step with its rule ids, reason, and the
/// expression in LaTeX, text and the language.
pub fn json(model: &Model, report: &Report) -> Value {
    let deltas: Vec<Value> = report
        .deltas
        .iter()
        .map(|(family, _, derivation)| json!({ "delta_of": model.family(*family).name, "derivation": derivation_json(model, derivation) }))
        .collect();
    json!({ "derivation": derivation_json(model, &report.main), "deltas": deltas })
}

fn derivation_json(model: &Model, derivation: &Derivation) -> Value {
    let mut all = vec![derivation.lhs];
    all.extend(derivation.steps.iter().map(|s| s.expr));
    let text = Printer::new(model, Format::Text).exprs(&all);
    let latex = Printer::new(model, Format::Latex).exprs(&all);
    let dsl = Printer::new(model, Format::Dsl).exprs(&all);
    let mathml: Vec<String> = Printer::new(model, Format::MathMl)
        .exprs(&all)
        .iter()
        .map(|body| mathml_element(body, false))
        .collect();
    let steps: Vec<Value> = derivation
        .steps
        .iter()
        .enumerate()
        .map(|(at, step)| {
            json!({
                "rules": step.rules.iter().map(|r| r.id).collect::<Vec<_>>(),
                "reason": { "text": reason(model, step, Format::Text, false), "latex": reason(model, step, Format::Latex, false) },
                "lhs": { "text": text[at], "latex": latex[at], "dsl": dsl[at], "mathml": mathml[at] },
                "rhs": { "text": text[at + 1], "latex": latex[at + 1], "dsl": dsl[at + 1], "mathml": mathml[at + 1] },
                "lemmas": step.lemmas.iter().map(|l| derivation_json(model, l)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "lhs": { "text": text[0], "latex": latex[0], "dsl": dsl[0], "mathml": mathml[0] }, "steps": steps })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_formulas_break_where_their_layout_allows() {
        let segments: Vec<String> = std::iter::once("a".to_string())
            .chain((0..12).map(|n| format!(" + \\frac{{x + y}}{{z - {n}}}")))
            .collect();
        let lines = lines_of(&segments, 60);
        assert!(lines.len() > 1);
        assert_eq!(lines[0], format!("a{}", segments[1..3].concat()));
        for line in &lines[1..] {
            assert!(line.starts_with("+ "), "{line}");
        }
        assert_eq!(
            lines.join(" "),
            segments.concat(),
            "nothing is lost or added but the break"
        );
        // A short formula stays on one line, whatever its segments.
        let short = ["a".to_string(), " + b".to_string()];
        assert_eq!(lines_of(&short, 60), ["a + b"]);
    }

    #[test]
    fn words_reach_latex_escaped() {
        assert_eq!(
            latex_text("50% of $x_1 & {y}#"),
            "50\\% of \\$x\\_1 \\& \\{y\\}\\#"
        );
        assert_eq!(latex_text("a\\b^c~"), "a\\textbackslash{}b\\^{}c\\~{}");
        assert_eq!(latex_text("\u{4e2d}\u{1b}[1m"), "[U+4E2D][U+001B][1m");
        // Typographic characters a title holds are set by TeX.
        assert_eq!(
            latex_text("PRML §5.3 – ω’s “delta”…"),
            "PRML \\S{}5.3 -- $\\omega$'s ``delta''\\ldots{}"
        );
    }
}

//! Whole LaTeX documents and TikZ figures.
//!
//! The printer makes every formula; the Tera template in `templates/` only
//! assembles them. Words that come from the user (a file name) are escaped
//! here; notation strings were checked when the model was built.

use std::collections::HashMap;

use serde::Serialize;
use tera::{Context, Tera};

use super::report::{
    Numbering, definition_label, derivation_latex, latex_text, settable, why_the_sum,
};
use super::{Format, Lhs, Printer};
use crate::Network;
use crate::calculus::derivation::{Derivation, Verbosity, collect_adjoints, derive_steps};
use crate::calculus::{Equation, Form};
use crate::diagnostic::Diagnostic;
use crate::expr::{Contents, ExprId, FamilyId, Index, IndexVar, Node};
use crate::model::{FamilyKind, LeafKind, Model, Query};
use crate::rules;

/// The document template, built into the binary so that it runs anywhere.
const TEMPLATE: &str = include_str!("../../templates/document.tex.tera");

/// Most families a dependency graph figure draws.
pub const MAX_DRAWN_FAMILIES: usize = 60;

#[derive(Serialize)]
struct NumberedEquation {
    latex: String,
    label: String,
}

#[derive(Serialize)]
struct Figure {
    tikz: String,
    caption: String,
    label: String,
}

#[derive(Serialize)]
struct DeltaReference {
    symbol: String,
    section: String,
}

#[derive(Serialize)]
struct DerivationSection {
    title: String,
    section: String,
    references: Vec<DeltaReference>,
    introduction: String,
    body: String,
    result: String,
    /// The label of the result's number.
    label: String,
    /// Whether the steps before the result took its number (then the
    /// result carries it), or the result takes a number of its own.
    numbered_by_steps: bool,
    figures: Vec<Figure>,
}

#[derive(Serialize)]
struct Algorithm {
    forward: String,
    output: String,
    backward: String,
    parameters: String,
}

/// What a document holds and how it is dressed, as `doc`'s options choose.
pub struct DocumentOptions {
    /// The title as plain text (escaped here); without one, the file's
    /// first comment, or its name.
    pub title: Option<String>,
    /// The file's name without its extension, for a title; none when the
    /// file came from standard input.
    pub file_stem: Option<String>,
    /// The LaTeX document class.
    pub class: &'static str,
    /// The body only, to `\input` into notes.
    pub fragment: bool,
    /// The queries to derive; when empty, the file's `derive` lines, or
    /// the whole gradient when it has none.
    pub queries: Vec<Query>,
}

/// The packages a document needs, as its preamble loads them and as a
/// fragment lists them.
const PREAMBLE: &str = "\\usepackage{amsmath,amssymb}\n\\usepackage{tikz}\n\\usetikzlibrary{arrows.meta,positioning}\n\\allowdisplaybreaks";

/// A complete LaTeX document deriving the queries `options` chooses.
pub fn document(network: &mut Network, options: &DocumentOptions) -> Result<String, Diagnostic> {
    let mut context = Context::new();
    context.insert("title", &title(&network.model, options));
    context.insert("class", options.class);
    // A class with chapters numbers sections, equations and figures within
    // a chapter; a document without chapters numbers them plainly.
    context.insert(
        "chaptered",
        &matches!(options.class, "report" | "book" | "scrreprt"),
    );
    context.insert("fragment", &options.fragment);
    context.insert("preamble", PREAMBLE);
    context.insert(
        "fragment_preamble",
        &PREAMBLE
            .lines()
            .map(|line| format!("% {line}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    context.insert("leaves", &leaves_sentence(&network.model));
    context.insert("network", &network_equations(network));
    let graph = (network.model.families.len() <= MAX_DRAWN_FAMILIES).then(|| graph_tikz(network));
    context.insert("graph", &graph);
    let (queries, whole_gradient) = chosen_queries(network, options);
    context.insert("whole_gradient", &whole_gradient);
    let mut sections = Vec::new();
    let mut derived_in: HashMap<FamilyId, String> = HashMap::new();
    let mut explained = false;
    for (number, query) in queries.iter().enumerate() {
        sections.push(derivation_section(
            network,
            query,
            number,
            &mut derived_in,
            &mut explained,
        )?);
    }
    context.insert("derivations", &sections);
    // A network whose gradient is too large to write out has no box of its
    // algorithm; its sections say why.
    context.insert("algorithm", &algorithm(network).ok().flatten());
    Tera::one_off(TEMPLATE, &context, false)
        .map(|text| text.trim_start().to_string())
        .map_err(|e| Diagnostic::unlocated(format!("the document template failed: {e}")))
}

/// The queries a document derives, and whether they are the whole gradient
/// (for a file without `derive` lines).
fn chosen_queries(network: &Network, options: &DocumentOptions) -> (Vec<Query>, bool) {
    if !options.queries.is_empty() {
        return (options.queries.clone(), false);
    }
    if !network.model.queries.is_empty() {
        return (network.model.queries.clone(), false);
    }
    let model = &network.model;
    let objectives = network.graph.objectives(model);
    let [objective] = objectives.as_slice() else {
        return (Vec::new(), false);
    };
    let gradient: Vec<Query> = model
        .family_ids()
        .filter(|f| model.family(*f).kind == FamilyKind::Leaf(LeafKind::Param))
        .map(|parameter| Query::delta(model, *objective, parameter))
        .collect();
    let whole = !gradient.is_empty();
    (gradient, whole)
}

/// The title in LaTeX: the one given, else the file's first comment (its
/// first sentence), else "Backpropagation in" the file's name.
fn title(model: &Model, options: &DocumentOptions) -> String {
    if let Some(title) = options.title.as_ref().filter(|t| !t.trim().is_empty()) {
        return latex_text(title);
    }
    if let Some(comment) = first_comment(&model.source.text) {
        return latex_text(&comment);
    }
    match &options.file_stem {
        Some(stem) => format!("Backpropagation in \\texttt{{{}}}", latex_text(stem)),
        None => "Backpropagation".to_string(),
    }
}

/// Most characters of a title taken from a comment.
const MAX_TITLE_CHARS: usize = 160;

/// The first sentence of the comment that opens a file, capitalised:
/// `# two-layer network, ...` gives "Two-layer network, ...". The comment
/// may run over several lines.
fn first_comment(text: &str) -> Option<String> {
    let mut comment = String::new();
    for line in text.lines() {
        let line = line.trim();
        // Blank lines, a `#!` line and bare `#` lines before the comment
        // are passed over; after it, they end it.
        if line.is_empty() || line.starts_with("#!") {
            if comment.is_empty() {
                continue;
            }
            break;
        }
        let Some(words) = line.strip_prefix('#') else {
            break;
        };
        let words = words.trim_matches(|c: char| c == '#' || c.is_whitespace());
        if words.is_empty() {
            if comment.is_empty() {
                continue;
            }
            break;
        }
        if !comment.is_empty() {
            comment.push(' ');
        }
        comment.push_str(words);
        if comment.chars().count() > MAX_TITLE_CHARS {
            break;
        }
    }
    // The first sentence: up to a full stop before a capital letter (the
    // stop in "eq. 3.27" ends no sentence).
    let sentence_end = comment.match_indices(". ").find_map(|(at, _)| {
        comment[at + 2..]
            .chars()
            .next()
            .is_some_and(char::is_uppercase)
            .then_some(at)
    });
    if let Some(end) = sentence_end {
        comment.truncate(end);
    }
    let comment = comment.trim_end_matches('.');
    let mut title: String = if comment.chars().count() > MAX_TITLE_CHARS {
        let cut: String = comment.chars().take(MAX_TITLE_CHARS).collect();
        let at_word = cut.rfind(' ').unwrap_or(cut.len());
        format!("{}...", &cut[..at_word])
    } else {
        comment.to_string()
    };
    // A first word of small letters is capitalised; a name or a formula
    // (`sigma(a)`, `tanh`-like) is left as written when it holds more.
    let first_word = title.split(' ').next().unwrap_or("");
    if first_word
        .chars()
        .all(|c| c.is_ascii_lowercase() || c == '-' || c == ',')
        && let Some(first) = title.chars().next()
    {
        title.replace_range(..first.len_utf8(), &first.to_ascii_uppercase().to_string());
    }
    (!title.is_empty()).then_some(title)
}

/// "Inputs $x_i$; parameters $w^{(1)}_{ji}$ ..." for the declared leaves.
fn leaves_sentence(model: &Model) -> String {
    let mut printer = Printer::new(model, Format::Latex);
    let mut groups: Vec<(&str, Vec<String>)> = vec![
        ("inputs", Vec::new()),
        ("targets", Vec::new()),
        ("parameters", Vec::new()),
        ("constants", Vec::new()),
    ];
    for family in model.family_ids() {
        let info = model.family(family);
        let FamilyKind::Leaf(kind) = info.kind else {
            continue;
        };
        let at = match kind {
            LeafKind::Input => 0,
            LeafKind::Target => 1,
            LeafKind::Param => 2,
            LeafKind::Const => 3,
        };
        groups[at]
            .1
            .push(format!("${}$", printer.reference(family, &info.slots)));
    }
    let parts: Vec<String> = groups
        .into_iter()
        .filter(|(_, items)| !items.is_empty())
        .map(|(name, items)| format!("{name} {}", items.join(", ")))
        .collect();
    if parts.is_empty() {
        return "The network has no leaves.".to_string();
    }
    format!("The network has {}.", parts.join("; "))
}

fn network_equations(network: &Network) -> Vec<NumberedEquation> {
    let model = &network.model;
    let mut printer = Printer::new(model, Format::Latex);
    network
        .graph
        .topological_order()
        .iter()
        .filter_map(|family| {
            let info = model.family(*family);
            let definition = info.definition?;
            let lhs = Lhs::Family(*family, info.slots.clone());
            Some(NumberedEquation {
                latex: settable(printer.equation(&lhs, definition)),
                label: definition_label(model, *family),
            })
        })
        .collect()
}

/// One `derive` line's section. A delta derived in an earlier section is
/// referred to, not derived again; `derived_in` says where each one was.
/// The first section that sums over successors says why (`explained`).
fn derivation_section(
    network: &mut Network,
    query: &Query,
    number: usize,
    derived_in: &mut HashMap<FamilyId, String>,
    explained: &mut bool,
) -> Result<DerivationSection, Diagnostic> {
    let report = match derive_steps(&mut network.engine(), query, Verbosity::Textbook) {
        Ok(report) => report,
        Err(error) => return section_without_steps(network, query, number, &error),
    };
    let model = &network.model;
    let section = format!("sec:derivation{}", number + 1);
    let mut printer = Printer::new(model, Format::Latex);
    let lhs_title = printer.expr(report.main.lhs);
    let mut body = String::new();
    // The result carries the number of the derivation that leads to it.
    let label = format!("eq:result{}", number + 1);
    derivation_latex(
        model,
        &report.main,
        Numbering::Document {
            label: Some(&label),
        },
        &mut body,
    );
    let result_lhs = Lhs::of_query(model, query, Form::Backprop);
    let use_delta = matches!(result_lhs, Lhs::Delta(..));
    if use_delta {
        derived_in
            .entry(query.denominator)
            .or_insert_with(|| section.clone());
    }
    let mut references = Vec::new();
    // The deltas this section's own links use: a delta that only an
    // earlier section's derivation needs is not named again here.
    let mut used = Vec::new();
    collect_adjoints(&model.store, &report.main, &mut used);
    for (family, _, derivation) in &report.deltas {
        if !derived_in.contains_key(family) {
            collect_adjoints(&model.store, derivation, &mut used);
        }
    }
    for (family, indices, derivation) in &report.deltas {
        let symbol = printer.lhs(&Lhs::Delta(*family, indices.clone()));
        if let Some(earlier) = derived_in.get(family) {
            if used.contains(family) {
                references.push(DeltaReference {
                    symbol,
                    section: earlier.clone(),
                });
            }
            continue;
        }
        body.push_str(&format!("\\noindent The delta ${symbol}$ used above:\n"));
        derivation_latex(
            model,
            derivation,
            Numbering::Document { label: None },
            &mut body,
        );
        derived_in.insert(*family, section.clone());
    }
    let result = printer.equation(&result_lhs, report.main.result());
    let sums = report.main.steps.first().is_some_and(|step| {
        step.rules.contains(&&rules::CHAIN_RULE_SUCCESSORS)
            && (model.store.contents(step.expr).has(Contents::SUM)
                || matches!(model.store.node(step.expr), Node::Add(_)))
    });
    let mut introduction = String::new();
    if use_delta {
        let delta = printer.lhs(&result_lhs);
        introduction.push_str(&format!("By definition ${delta} \\equiv {lhs_title}$. "));
    }
    if sums {
        let fed = printer.reference(query.denominator, &query.denominator_indices);
        introduction.push_str(&format!(
            "The derivation sums over the units that ${fed}$ feeds; "
        ));
        introduction.push_str("each step says which rule it applies.");
    } else {
        introduction.push_str("Each step says which rule it applies.");
    }
    let mut figures = Vec::new();
    let figure_label = format!("fig:chain{}", number + 1);
    if let Some(figure) = delta_figure(network, query, &report.main, &figure_label) {
        introduction.push_str(&format!(
            " Figure~\\ref{{{figure_label}}} draws the units it sums over, and what flows back from each."
        ));
        figures.push(figure);
    }
    let model = &network.model;
    if !*explained && let Some(why) = why_the_sum(model, &report.main, Format::Latex) {
        introduction.push_str(&format!("\n\n{why}\n"));
        *explained = true;
    }
    Ok(DerivationSection {
        title: format!("${lhs_title}$"),
        section,
        references,
        introduction,
        body,
        result: settable(result),
        label,
        numbered_by_steps: true,
        figures,
    })
}

/// A section that gives only the result, saying why its steps are not
/// shown (a derivation too long to write out), and, when the result is too
/// large as well, why it is not written out either.
fn section_without_steps(
    network: &mut Network,
    query: &Query,
    number: usize,
    why: &Diagnostic,
) -> Result<DerivationSection, Diagnostic> {
    let derivative = network.engine().derive(query, Form::Backprop);
    let model = &network.model;
    let mut printer = Printer::new(model, Format::Latex);
    let result_lhs = Lhs::of_query(model, query, Form::Backprop);
    let lhs_title = printer.lhs(&result_lhs);
    // The result itself may be too large to write out as well.
    let result = match derivative {
        Ok(derivative) => settable(printer.equation(&result_lhs, derivative.result)),
        Err(error) => format!(
            "{lhs_title} = \\text{{\\emph{{(not written out: {})}}}}",
            latex_text(&error.message)
        ),
    };
    let mut introduction = format!(
        "The derivation is not shown step by step: {}.",
        latex_text(&why.message)
    );
    if let Some(help) = &why.help {
        introduction.push_str(&format!(" To see it, {}.", latex_text(help)));
    }
    Ok(DerivationSection {
        title: format!("${}$", settable(lhs_title)),
        section: format!("sec:derivation{}", number + 1),
        references: Vec::new(),
        introduction,
        body: String::new(),
        result,
        label: format!("eq:result{}", number + 1),
        numbered_by_steps: false,
        figures: Vec::new(),
    })
}

/// Most successors a figure of the chain rule draws; the rest are an
/// ellipsis.
const MAX_DRAWN_SUCCESSORS: usize = 5;

/// Bishop's Figure 5.7 for a unit whose derivative the chain rule sums over
/// the units it sends connections to: the unit, every one of those units
/// (up to five, then an ellipsis), and what flows back along each
/// connection, labelled with its local derivative as Bishop labels it
/// w_kj. Those units are the deltas the result names, or, without deltas,
/// the unit's successors.
fn delta_figure(
    network: &Network,
    query: &Query,
    derivation: &Derivation,
    label: &str,
) -> Option<Figure> {
    let model = &network.model;
    let unit = query.denominator;
    let mut receivers: Vec<FamilyId> = model
        .store
        .adjoint_families(derivation.result())
        .into_iter()
        .filter(|f| *f != unit)
        .collect();
    let named_by_deltas = !receivers.is_empty();
    // The chain rule's first link sums over the units, or has a term for
    // each: a unit feeding one element only (a weight) gets no figure.
    let first = derivation.steps.first()?;
    let terms = match model.store.node(first.expr) {
        Node::Add(terms) => terms.to_vec(),
        _ => vec![first.expr],
    };
    let sums = terms
        .iter()
        .any(|t| matches!(model.store.node(*t), Node::Sum(..)));
    if !sums && terms.len() < 2 {
        return None;
    }
    if !named_by_deltas {
        let upstream = network.graph.upstream_of(query.numerator);
        receivers = network
            .graph
            .successors(unit)
            .iter()
            .copied()
            .filter(|s| upstream[s.index()])
            .collect();
        if receivers.len() < 2 {
            return None;
        }
    }
    // Each connection is labelled with its local derivative, as derived in
    // the lemma of the chain rule's step.
    // A receiving unit is named with the indices its sum runs over, as the
    // label of its connection writes it (r_{i2}, beside w_{i2,i}).
    let mut labels: HashMap<FamilyId, (ExprId, Vec<IndexVar>)> = HashMap::new();
    for lemma in derivation.steps.iter().flat_map(|s| &s.lemmas) {
        if let Node::Derivative(of, wrt) = model.store.node(lemma.lhs)
            && wrt.family == unit
            && let Node::Ref(family, indices) = model.store.node(*of)
            && let Some(indices) = Index::all_vars(indices)
        {
            labels.insert(*family, (lemma.result(), indices));
        }
    }
    let mut printer = Printer::new(model, Format::Latex);
    let me = model.family(unit);
    let symbol_of = |printer: &mut Printer, family: FamilyId| {
        let indices = labels
            .get(&family)
            .map(|(_, indices)| indices.clone())
            .unwrap_or_else(|| model.family(family).slots.clone());
        if family == unit {
            printer.lhs(&Lhs::of_query(model, query, Form::Backprop))
        } else if named_by_deltas {
            printer.lhs(&Lhs::Delta(family, indices))
        } else {
            printer.lhs(&Lhs::Derivative {
                numerator: query.numerator,
                numerator_indices: Vec::new(),
                denominator: family,
                denominator_indices: indices,
            })
        }
    };
    let center = symbol_of(&mut printer, unit);
    let mut tikz = String::from(
        "\\begin{tikzpicture}[unit/.style={circle,draw,minimum size=11mm,inner sep=1pt},\n  forward/.style={-{Stealth},gray},back/.style={-{Stealth},red!70!black,thick}]\n",
    );
    let drawn = receivers.len().min(MAX_DRAWN_SUCCESSORS);
    let rows = drawn + usize::from(receivers.len() > drawn);
    let top = 0.9 * (rows as f64 - 1.0);
    tikz.push_str(&format!("\\node[unit] (me) at (0,0) {{${center}$}};\n"));
    for (row, receiver) in receivers.iter().take(drawn).enumerate() {
        let y = top - 1.8 * row as f64;
        let symbol = symbol_of(&mut printer, *receiver);
        tikz.push_str(&format!(
            "\\node[unit] (r{row}) at (6,{y:.1}) {{${symbol}$}};\n"
        ));
        tikz.push_str(&format!(
            "\\draw[forward] (me) to[bend left=10] (r{row});\n"
        ));
        let edge = labels
            .get(receiver)
            .map(|(l, _)| Printer::new(model, Format::Latex).expr(*l))
            .unwrap_or_default();
        tikz.push_str(&format!(
            "\\draw[back] (r{row}) to[bend left=10] node[pos=0.3,below,sloped,font=\\small] {{${edge}$}} (me);\n"
        ));
    }
    if receivers.len() > drawn {
        let y = top - 1.8 * drawn as f64;
        tikz.push_str(&format!("\\node at (6,{y:.1}) {{$\\vdots$}};\n"));
    }
    tikz.push_str("\\end{tikzpicture}\n");
    // A unit is named by its index, as Bishop's unit j; anything else (a
    // weight, an input) by its symbol.
    let index = match (me.kind, me.slots.first()) {
        (FamilyKind::Defined, Some(v)) => format!("unit ${}$", model.store.var(*v).name),
        _ => format!("${}$", printer.reference(unit, &query.denominator_indices)),
    };
    let every = if receivers.iter().any(|r| !model.family(*r).slots.is_empty()) {
        " A circle with an index stands for every unit of its layer."
    } else {
        ""
    };
    let flows = if named_by_deltas {
        "the deltas of the units"
    } else {
        "the derivatives of the objective with respect to the units"
    };
    Some(Figure {
        tikz,
        caption: format!(
            "As Bishop's Figure 5.7: ${center}$ is found by propagating back {flows} to which {index} sends connections (red), each along its connection, labelled with the connection's local derivative; grey arrows run forward.{every}"
        ),
        label: label.to_string(),
    })
}

/// The dependency graph as a TikZ picture: layers left to right, leaves in
/// boxes, computed families in circles, arrows forward.
pub fn graph_tikz(network: &Network) -> String {
    let model = &network.model;
    let mut printer = Printer::new(model, Format::Latex);
    let mut layer: HashMap<FamilyId, usize> = HashMap::new();
    for family in network.graph.topological_order() {
        let depth = network
            .graph
            .predecessors(*family)
            .iter()
            .map(|p| layer.get(p).copied().unwrap_or(0) + 1)
            .max()
            .unwrap_or(0);
        layer.insert(*family, depth);
    }
    let mut rows: HashMap<usize, usize> = HashMap::new();
    // Layers fit the width of a page.
    let last_layer = layer.values().copied().max().unwrap_or(0).max(1);
    let spacing = (14.0 / last_layer as f64).min(2.4);
    let mut out = String::from(
        "\\begin{tikzpicture}[leaf/.style={rectangle,draw,minimum size=7mm},\n  unit/.style={circle,draw,minimum size=8mm,inner sep=1pt},>={Stealth}]\n",
    );
    let mut row_of: HashMap<FamilyId, usize> = HashMap::new();
    for family in model.family_ids() {
        let info = model.family(family);
        let column = layer[&family];
        let row = rows.entry(column).or_insert(0);
        row_of.insert(family, *row);
        let style = if info.kind == FamilyKind::Defined {
            "unit"
        } else {
            "leaf"
        };
        let label = printer.reference(family, &info.slots);
        out.push_str(&format!(
            "\\node[{style}] (n{}) at ({:.1},{:.1}) {{${label}$}};\n",
            family.0,
            spacing * column as f64,
            -1.3 * *row as f64
        ));
        *row += 1;
    }
    for (from, to) in network.graph.edges() {
        // An edge along a row that skips a layer would run through the
        // units between: it bends over them.
        let path = if row_of[&from] == row_of[&to] && layer[&to] > layer[&from] + 1 {
            "to[bend left=30]"
        } else {
            "--"
        };
        out.push_str(&format!("\\draw[->] (n{}) {path} (n{});\n", from.0, to.0));
    }
    out.push_str("\\end{tikzpicture}\n");
    out
}

/// Bishop's four-step box: forward pass, output deltas, the backward
/// recursion, and the derivatives with respect to the parameters.
fn algorithm(network: &mut Network) -> Result<Option<Algorithm>, Diagnostic> {
    let objectives = network.graph.objectives(&network.model);
    let [objective] = objectives.as_slice() else {
        return Ok(None);
    };
    let objective = *objective;
    let parameters: Vec<FamilyId> = network
        .model
        .family_ids()
        .filter(|f| network.model.family(*f).kind == FamilyKind::Leaf(LeafKind::Param))
        .collect();
    if parameters.is_empty() {
        return Ok(None);
    }
    let (derived, mut equations) = network.engine().system(objective, &parameters)?;
    let results: Vec<(Query, ExprId)> = parameters
        .iter()
        .map(|p| Query::delta(&network.model, objective, *p))
        .zip(derived)
        .collect();
    let model = &network.model;
    let mut printer = Printer::new(model, Format::Latex);
    let order = network.graph.topological_order();
    let rank = |f: FamilyId| order.iter().position(|o| *o == f).unwrap_or(0);
    equations.sort_by_key(|e| std::cmp::Reverse(rank(e.family)));
    let aligned = |lines: Vec<String>| {
        lines
            .into_iter()
            .map(settable)
            .collect::<Vec<_>>()
            .join(" \\\\\n")
    };
    let forward: Vec<String> = order
        .iter()
        .filter_map(|f| {
            let info = model.family(*f);
            info.definition
                .map(|d| printer.aligned_equation(&Lhs::Family(*f, info.slots.clone()), d))
        })
        .collect();
    // Output deltas are those of the output units: written without another
    // delta, of a unit that reaches the objective only through quantities
    // each computed from one other (y = a, y = σ(a), a softmax, the error
    // itself); every other delta is found on the way back.
    let graph = &network.graph;
    let upstream = graph.upstream_of(objective);
    let computed_from_one = |family: FamilyId| {
        graph
            .predecessors(family)
            .iter()
            .filter(|p| model.family(**p).kind == FamilyKind::Defined)
            .count()
            <= 1
    };
    let output_unit = |unit: FamilyId| {
        let downstream = graph.downstream_of(&[unit]);
        model.family_ids().all(|f| {
            f == unit
                || !downstream[f.index()]
                || !(upstream[f.index()] || f == objective)
                || computed_from_one(f)
        })
    };
    let (output, backward): (Vec<&Equation>, Vec<&Equation>) = equations
        .iter()
        .partition(|e| model.store.adjoint_families(e.rhs).is_empty() && output_unit(e.family));
    let print = |printer: &mut Printer, list: Vec<&Equation>| -> Vec<String> {
        list.iter()
            .map(|e| printer.aligned_equation(&Lhs::Delta(e.family, e.indices.clone()), e.rhs))
            .collect()
    };
    let output = print(&mut printer, output);
    let backward = print(&mut printer, backward);
    let parameters: Vec<String> = results
        .iter()
        .map(|(query, result)| {
            let lhs = Lhs::Derivative {
                numerator: query.numerator,
                numerator_indices: Vec::new(),
                denominator: query.denominator,
                denominator_indices: query.denominator_indices.clone(),
            };
            printer.aligned_equation(&lhs, *result)
        })
        .collect();
    Ok(Some(Algorithm {
        forward: aligned(forward),
        output: aligned(output),
        backward: aligned(backward),
        parameters: aligned(parameters),
    }))
}

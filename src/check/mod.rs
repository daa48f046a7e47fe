//! Grading answers written in LaTeX (or in the language) against the
//! derived result, and saying what is wrong.
//!
//! Equivalence is layered: first symbolic (both sides in canonical form,
//! bound indices renamed alike), then numeric (every assignment of the free
//! indices, at several seeded points, with opaque functions bound to several
//! different smooth functions; deltas in an answer evaluate through the
//! engine's own backprop equations). A verdict says which evidence it rests
//! on. An incorrect answer is diagnosed by trying repairs of it against the
//! truth: the first repair that makes it right names the likely mistake.

pub mod batch;
pub mod resolve;

use serde::Serialize;

use crate::Network;
use crate::chain::{Equation, Form};
use crate::diagnostic::{Diagnostic, Source};
use crate::expr::{ExprId, FamilyId, IndexVar, Node, Store};
use crate::model::{FamilyKind, Query};
use crate::numeric::{Draws, Flow, sample};
use crate::render::{Format, Printer};
use crate::syntax::answer::{AnswerError, parse_answer};
use resolve::Resolver;

/// How an answer is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Right, and as simple as the engine's result.
    Correct,
    /// Right, but not simplified.
    CorrectUnsimplified,
    /// Wrong.
    Incorrect,
    /// Could not be read.
    Unreadable,
    /// Over a size or depth limit.
    TooLarge,
}

impl Verdict {
    /// The verdict's name.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Correct => "correct",
            Verdict::CorrectUnsimplified => "correct-unsimplified",
            Verdict::Incorrect => "incorrect",
            Verdict::Unreadable => "unreadable",
            Verdict::TooLarge => "too-large",
        }
    }

    /// True for the verdicts that accept the answer.
    pub fn is_right(self) -> bool {
        matches!(self, Verdict::Correct | Verdict::CorrectUnsimplified)
    }
}

/// The likely mistake, in words and as the repaired expression.
#[derive(Clone, Debug, Serialize)]
pub struct Diagnosis {
    /// What is wrong, for a person.
    pub words: String,
    /// The answer repaired, in LaTeX.
    pub latex: Option<String>,
}

/// The outcome of checking one answer.
#[derive(Clone, Debug, Serialize)]
pub struct Grade {
    /// The verdict.
    pub verdict: Verdict,
    /// What the verdict rests on.
    pub evidence: String,
    /// What is wrong, for an incorrect or unreadable answer.
    pub diagnosis: Option<Diagnosis>,
    /// The simplified form, for a right but unsimplified answer.
    pub simplified: Option<String>,
    /// A point where the answer and the truth differ.
    pub counterexample: Option<String>,
    /// The answer as read, in LaTeX.
    pub answer_latex: Option<String>,
    /// The answer as read, in the language.
    pub answer_dsl: Option<String>,
}

impl Grade {
    fn simple(verdict: Verdict, words: String) -> Grade {
        Grade {
            verdict,
            evidence: "reading the answer".to_string(),
            diagnosis: Some(Diagnosis { words, latex: None }),
            simplified: None,
            counterexample: None,
            answer_latex: None,
            answer_dsl: None,
        }
    }
}

/// Seeds of the numeric comparison: each binds opaque functions anew.
const SEEDS: [u64; 4] = [11, 23, 37, 51];
/// Points drawn for each seed.
const POINTS_PER_SEED: usize = 2;

/// What the engine knows to be true for one query.
pub struct Truth {
    /// The seeds of the numeric comparison; each binds opaque functions anew.
    seeds: Vec<u64>,
    query: Query,
    backprop: ExprId,
    expanded: Option<ExprId>,
    equations: Vec<Equation>,
}

impl Truth {
    /// The same truth compared at other seeded points (and other bindings
    /// of the opaque functions), derived from `seed`.
    pub fn with_seed(mut self, seed: u64) -> Truth {
        let mut draws = Draws::new(seed);
        self.seeds = (0..SEEDS.len())
            .map(|_| (draws.unit() * 1e12) as u64)
            .collect();
        self
    }
}

/// Derives what an answer to `query` is checked against: both forms, and
/// the equation of every delta an answer may use.
pub fn truth(network: &mut Network, query: &Query) -> Result<Truth, Diagnostic> {
    let backprop = network.engine().derive(query, Form::Backprop)?;
    let expanded = network
        .engine()
        .derive(query, Form::Expanded)
        .ok()
        .map(|d| d.result);
    let mut equations = backprop.equations.clone();
    if query.numerator_indices.is_empty() {
        let with_deltas: Vec<FamilyId> = network
            .model
            .family_ids()
            .filter(|f| network.model.family(*f).delta_latex.is_some() && *f != query.numerator)
            .collect();
        for family in with_deltas {
            if equations.iter().any(|e| e.family == family)
                || !network.graph.ancestors(query.numerator).contains(&family)
            {
                continue;
            }
            let delta_query = Query::delta(&network.model, query.numerator, family);
            let slots = delta_query.denominator_indices.clone();
            let derived = network.engine().derive(&delta_query, Form::Backprop)?;
            for more in derived.equations {
                if !equations.iter().any(|e| e.family == more.family) {
                    equations.push(more);
                }
            }
            if !equations.iter().any(|e| e.family == family) {
                equations.push(Equation {
                    family,
                    indices: slots,
                    rhs: derived.result,
                });
            }
        }
    }
    Ok(Truth {
        seeds: SEEDS.to_vec(),
        query: query.clone(),
        backprop: backprop.result,
        expanded,
        equations,
    })
}

/// Reads an answer, in the language or in LaTeX, as an expression; the
/// right side of `lhs = rhs` is the answer.
pub fn read_answer(network: &mut Network, query: &Query, text: &str) -> Result<ExprId, Box<Grade>> {
    let free: Vec<IndexVar> = query.free_indices();
    // The language's own syntax first: it never reads LaTeX.
    if !text.contains('\\') && !text.contains('_') && !text.contains('^') || text.contains('[') {
        let source = Source::new("<answer>", text);
        if let Ok(expr) = network.model.expression(&source) {
            return Ok(expr);
        }
    }
    let source = Source::new("<answer>", text);
    let answer = match parse_answer(&source) {
        Ok(answer) => answer,
        Err(AnswerError::TooLarge(why)) => {
            return Err(Box::new(Grade::simple(Verdict::TooLarge, why)));
        }
        Err(AnswerError::Unreadable(diagnostic)) => {
            return Err(Box::new(Grade::simple(
                Verdict::Unreadable,
                one_line(&diagnostic),
            )));
        }
    };
    let side = answer.sides.last().expect("an answer has a side");
    let mut resolver = Resolver::new(&mut network.model, free);
    resolver.resolve(side).map_err(|error| {
        let located = one_line(&source.error(error.span, error.message.clone()));
        Box::new(Grade::simple(
            if error.mistake {
                Verdict::Incorrect
            } else {
                Verdict::Unreadable
            },
            located,
        ))
    })
}

/// A located message on one line, for grades that go into CSV and JSON:
/// `at column 15: ...`.
fn one_line(diagnostic: &Diagnostic) -> String {
    match &diagnostic.location {
        Some(at) => format!("at column {}: {}", at.column, diagnostic.message),
        None => diagnostic.message.clone(),
    }
}

/// Grades one answer to `query`.
pub fn check(network: &mut Network, truth: &Truth, text: &str) -> Grade {
    let answer = match read_answer(network, &truth.query, text) {
        Ok(answer) => answer,
        Err(grade) => return *grade,
    };
    if network.model.store.largest_number_bits() > 4096
        || network.model.store.tree_size(answer, 20_000) >= 20_000
        || has_huge_power(&network.model.store, answer)
    {
        return Grade::simple(
            Verdict::TooLarge,
            "the answer's numbers, powers or terms exceed what is checked".to_string(),
        );
    }
    grade(network, truth, answer)
}

/// Grades an answer already read as an expression.
pub fn grade(network: &mut Network, truth: &Truth, answer: ExprId) -> Grade {
    let mut printer = Printer::new(&network.model, Format::Latex);
    let answer_latex = Some(printer.expr(answer));
    let answer_dsl = Some(Printer::new(&network.model, Format::Dsl).expr(answer));
    let base = Grade {
        verdict: Verdict::Incorrect,
        evidence: String::new(),
        diagnosis: None,
        simplified: None,
        counterexample: None,
        answer_latex,
        answer_dsl,
    };
    let wanted: Vec<String> = truth
        .query
        .free_indices()
        .iter()
        .map(|v| network.model.store.var(*v).name.clone())
        .collect();
    let mut found: Vec<String> = network
        .model
        .store
        .free_vars(answer)
        .iter()
        .map(|v| network.model.store.var(*v).name.clone())
        .collect();
    found.sort();
    found.dedup();
    let mut wanted_sorted = wanted.clone();
    wanted_sorted.sort();
    if found != wanted_sorted {
        let missing_sum: Vec<&String> = found
            .iter()
            .filter(|n| !wanted_sorted.contains(n))
            .collect();
        let words = if missing_sum.is_empty() {
            format!(
                "the answer's free indices ({}) are not the query's ({})",
                list(&found),
                list(&wanted_sorted)
            )
        } else {
            format!(
                "the answer leaves `{}` free, but the result depends only on {}: a sum over `{}` is missing",
                list_refs(&missing_sum),
                if wanted_sorted.is_empty() {
                    "no index".to_string()
                } else {
                    list(&wanted_sorted)
                },
                list_refs(&missing_sum)
            )
        };
        let repaired = repair_missing_sum(network, truth, answer);
        return Grade {
            evidence: "free indices".to_string(),
            diagnosis: Some(Diagnosis {
                words,
                latex: repaired,
            }),
            ..base
        };
    }
    // Symbolic identity first: it never gives a false positive.
    let answer_canonical = alpha_canon(network, answer);
    let targets: Vec<ExprId> = [Some(truth.backprop), truth.expanded]
        .into_iter()
        .flatten()
        .collect();
    for target in &targets {
        if alpha_canon(network, *target) == answer_canonical {
            if is_unsimplified(network, answer) {
                let simplified = Some(Printer::new(&network.model, Format::Latex).expr(*target));
                return Grade {
                    verdict: Verdict::CorrectUnsimplified,
                    evidence: "symbolic identity after simplification".to_string(),
                    simplified,
                    ..base
                };
            }
            return Grade {
                verdict: Verdict::Correct,
                evidence: "symbolic identity".to_string(),
                ..base
            };
        }
    }
    let comparison = compare(
        network,
        answer,
        truth.backprop,
        &truth.equations,
        &truth.seeds,
        POINTS_PER_SEED,
    );
    if comparison.agree {
        let evidence = format!(
            "{} numeric comparisons at {} points",
            comparison.comparisons, comparison.points
        );
        let uses_deltas = network
            .model
            .store
            .any_node(answer, |n| matches!(n, Node::Adjoint(..)));
        let simplest = if uses_deltas {
            truth.backprop
        } else {
            truth.expanded.unwrap_or(truth.backprop)
        };
        if is_unsimplified(network, answer) {
            let simplified = Some(Printer::new(&network.model, Format::Latex).expr(simplest));
            return Grade {
                verdict: Verdict::CorrectUnsimplified,
                evidence,
                simplified,
                ..base
            };
        }
        return Grade {
            verdict: Verdict::Correct,
            evidence,
            ..base
        };
    }
    let diagnosis = diagnose(network, truth, answer);
    Grade {
        verdict: Verdict::Incorrect,
        evidence: format!(
            "a counterexample among {} numeric comparisons",
            comparison.comparisons.max(1)
        ),
        diagnosis: Some(
            diagnosis.unwrap_or(Diagnosis {
                words:
                    "the answer differs from the result, and no single common mistake explains it"
                        .to_string(),
                latex: None,
            }),
        ),
        counterexample: comparison.counterexample,
        ..base
    }
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_refs(names: &[&String]) -> String {
    names
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join("`, `")
}

/// Largest power an answer may raise to.
const MAX_POWER: i64 = 1_000;

fn has_huge_power(store: &Store, expr: ExprId) -> bool {
    match store.node(expr) {
        Node::Pow(_, exponent) if has_huge_number(store, *exponent) => true,
        _ => store
            .children(expr)
            .into_iter()
            .any(|c| has_huge_power(store, c)),
    }
}

/// True when an exponent holds a number, or a power of numbers, beyond
/// [`MAX_POWER`] (`10^{9}` is not computed to find out).
fn has_huge_number(store: &Store, expr: ExprId) -> bool {
    use num_traits::Signed;
    match store.node(expr) {
        Node::Number(value) => {
            value.abs() > num_rational::BigRational::from_integer(MAX_POWER.into())
        }
        Node::Pow(base, exponent) => {
            store.as_number(*base).is_some() && store.as_number(*exponent).is_some() && {
                let base = store.as_number(*base).expect("a number").abs();
                let exponent = store.as_number(*exponent).expect("a number").abs();
                base > num_rational::BigRational::from_integer(1.into())
                    && exponent > num_rational::BigRational::from_integer(3.into())
            }
        }
        _ => store
            .children(expr)
            .into_iter()
            .any(|c| has_huge_number(store, c)),
    }
}

/// True when plain simplification (numbers folded, Kronecker deltas
/// collapsed, like terms and common factors gathered; no forward quantities
/// or assumptions) makes the answer, as printed, shorter by four
/// characters or more (so `-(t - y)` passes, `2 x / 2` does not).
fn is_unsimplified(network: &mut Network, answer: ExprId) -> bool {
    let mut plain = crate::simplify::Simplifier::new(crate::simplify::Facts::none());
    let simplified = plain.simplify(&mut network.model.store, answer);
    let length = |e: ExprId| {
        Printer::new(&network.model, Format::Dsl)
            .expr(e)
            .chars()
            .count()
    };
    let (before, after) = (length(answer), length(simplified));
    before >= after + 4
}

fn alpha_canon(network: &mut Network, expr: ExprId) -> ExprId {
    let renamed = network.model.store.canonical_binders(expr);
    let simplified = network.engine().simplify(renamed);
    network.model.store.canonical_binders(simplified)
}

/// The outcome of comparing two expressions numerically.
struct Comparison {
    agree: bool,
    comparisons: usize,
    points: usize,
    counterexample: Option<String>,
}

/// Compares `answer` with `truth` for every assignment of their free indices
/// at seeded points, each seed binding opaque functions to other functions.
fn compare(
    network: &Network,
    answer: ExprId,
    truth: ExprId,
    equations: &[Equation],
    seeds: &[u64],
    points: usize,
) -> Comparison {
    let model = &network.model;
    let mut free: Vec<IndexVar> = model.store.free_vars(answer).to_vec();
    free.extend(model.store.free_vars(truth));
    free.sort_unstable();
    free.dedup();
    let tolerance = if model
        .store
        .any_node(answer, |n| matches!(n, Node::Derivative(..)))
    {
        1e-5
    } else {
        1e-8
    };
    let mut result = Comparison {
        agree: true,
        comparisons: 0,
        points: 0,
        counterexample: None,
    };
    for seed in seeds {
        let sampling = sample(
            model,
            &network.graph,
            equations,
            &free,
            *seed,
            points,
            |instance, env| {
                let (a, t) = (instance.eval(answer, env), instance.eval(truth, env));
                result.comparisons += 1;
                if (a - t).abs() <= tolerance * t.abs().max(1.0) {
                    return Flow::Continue;
                }
                result.agree = false;
                let at: Vec<String> = free
                    .iter()
                    .map(|v| format!("{} = {}", model.store.var(*v).name, env[v] + 1))
                    .collect();
                result.counterexample = Some(format!(
                    "{}answer {a:.6}, result {t:.6}",
                    if at.is_empty() {
                        String::new()
                    } else {
                        format!("at {}: ", at.join(", "))
                    }
                ));
                Flow::Stop
            },
        );
        result.points += sampling.points;
        if !result.agree {
            return result;
        }
    }
    if result.comparisons == 0 {
        result.agree = false;
        result.counterexample = Some("no point where both sides are defined".to_string());
    }
    result
}

/// Tries repairs of a wrong answer against the truth; the first that makes
/// it right names the mistake.
fn diagnose(network: &mut Network, truth: &Truth, answer: ExprId) -> Option<Diagnosis> {
    let mut candidates: Vec<(String, ExprId)> = Vec::new();
    let store = &mut network.model.store;
    // A sign error.
    candidates.push((
        "a sign error: the answer has the wrong sign".to_string(),
        store.negate(answer),
    ));
    // A constant factor, such as the 2 from the square.
    for (numerator, denominator, words) in [
        (
            1,
            2,
            "a factor of 2 too many (the 2 from differentiating the square cancels the 1/2)",
        ),
        (2, 1, "a factor of 2 too few"),
        (-1, 2, "a sign error and a factor of 2"),
    ] {
        let factor = store.number(num_rational::BigRational::new(
            numerator.into(),
            denominator.into(),
        ));
        candidates.push((words.to_string(), store.mul(vec![factor, answer])));
    }
    // Transposed indices of a weight.
    for (family, repaired) in transposed(store, &network.model.families, answer) {
        let name = network.model.family(family).name.clone();
        candidates.push((
            format!("transposed indices of `{name}`: the weight connects the other way"),
            repaired,
        ));
    }
    // A factor of the result missing from the answer (an activation's derivative).
    let mut truth_factors = top_factors(&mut network.model.store, truth.backprop);
    if let Some(expanded) = truth.expanded {
        truth_factors.extend(top_factors(&mut network.model.store, expanded));
    }
    let canonical_answer = network.engine().simplify(answer);
    let answer_factors = top_factors(&mut network.model.store, canonical_answer);
    let mut missing: Vec<ExprId> = Vec::new();
    for factor in &truth_factors {
        if !answer_factors.contains(factor)
            && network.model.store.as_number(*factor).is_none()
            && !missing.contains(factor)
        {
            missing.push(*factor);
        }
    }
    // Several factors missing together, as `y (1 - y)` from a sigmoid.
    let mut groups: Vec<ExprId> = Vec::new();
    if missing.len() > 1 {
        let together = network.model.store.mul(missing.clone());
        groups.push(together);
    }
    groups.extend(missing);
    for factor in groups {
        let shown = Printer::new(&network.model, Format::Latex).expr(factor);
        let repaired = network.model.store.mul(vec![answer, factor]);
        let plain_answer = !network
            .model
            .store
            .any_node(answer, |n| matches!(n, Node::Adjoint(..)))
            && !network
                .model
                .store
                .any_node(answer, |n| matches!(n, Node::Sum(..)));
        let words = if is_activation_derivative(&network.model.store, factor) && plain_answer {
            format!(
                "the activation's derivative ${shown}$ is missing; `y - t` alone holds only for a canonical link (a sigmoid or softmax output with the matching cross-entropy)"
            )
        } else if is_activation_derivative(&network.model.store, factor) {
            format!("the activation's derivative ${shown}$ is missing")
        } else {
            format!("the factor ${shown}$ is missing")
        };
        candidates.push((words, repaired));
    }
    // A quantity written where the one it is computed from is meant (z for a).
    for (written, meant) in confusable_pairs(network) {
        let repaired = replace_family(&mut network.model.store, answer, written, meant);
        if repaired != answer {
            let model = &network.model;
            candidates.push((
                format!(
                    "`{}` is written where `{}` is meant",
                    model.family(written).name,
                    model.family(meant).name
                ),
                repaired,
            ));
        }
    }
    for (words, repaired) in candidates {
        if repairs(network, truth, repaired) {
            let simplified = network.engine().simplify(repaired);
            let latex = Printer::new(&network.model, Format::Latex).expr(simplified);
            return Some(Diagnosis {
                words,
                latex: Some(latex),
            });
        }
    }
    // A successor's term left out: the answer matches the result with one
    // term of one of its sums removed.
    for target in [Some(truth.backprop), truth.expanded].into_iter().flatten() {
        let sums: Vec<ExprId> = std::iter::once(target)
            .chain(match network.model.store.node(target) {
                Node::Mul(factors) => factors.to_vec(),
                _ => Vec::new(),
            })
            .filter(|e| matches!(network.model.store.node(*e), Node::Add(_)))
            .collect();
        for sum in sums {
            let terms = network.model.store.children(sum);
            for (at, term) in terms.iter().enumerate() {
                let mut rest = terms.clone();
                rest.remove(at);
                let shortened = network.model.store.add(rest);
                let without =
                    crate::differentiate::replace(&mut network.model.store, target, sum, shortened);
                let comparison = compare(
                    network,
                    answer,
                    without,
                    &truth.equations,
                    &truth.seeds[..2],
                    1,
                );
                if comparison.agree {
                    let shown = Printer::new(&network.model, Format::Latex).expr(*term);
                    let latex = Printer::new(&network.model, Format::Latex).expr(target);
                    return Some(Diagnosis {
                        words: format!(
                            "the term ${shown}$, from one of the units this one feeds, is left out"
                        ),
                        latex: Some(latex),
                    });
                }
            }
        }
    }
    None
}

fn repair_missing_sum(network: &mut Network, truth: &Truth, answer: ExprId) -> Option<String> {
    let wanted = truth.query.free_indices();
    let extra: Vec<IndexVar> = network
        .model
        .store
        .free_vars(answer)
        .iter()
        .copied()
        .filter(|v| !wanted.contains(v))
        .collect();
    if extra.is_empty() {
        return None;
    }
    let mut repaired = answer;
    for var in extra.iter().rev() {
        repaired = network.model.store.sum(*var, repaired);
    }
    repairs(network, truth, repaired)
        .then(|| Printer::new(&network.model, Format::Latex).expr(repaired))
}

/// True when a repaired answer agrees with the result (a quicker
/// comparison than the verdict's: two seeds, one point each).
fn repairs(network: &Network, truth: &Truth, repaired: ExprId) -> bool {
    compare(
        network,
        repaired,
        truth.backprop,
        &truth.equations,
        &truth.seeds[..2],
        1,
    )
    .agree
}

/// The factors of a product (the expression itself otherwise), each with
/// canonical bound variables, so that equal factors are equal ids.
fn top_factors(store: &mut Store, expr: ExprId) -> Vec<ExprId> {
    let factors = match store.node(expr) {
        Node::Mul(factors) => factors.to_vec(),
        _ => vec![expr],
    };
    factors
        .into_iter()
        .map(|f| store.canonical_binders(f))
        .collect()
}

fn is_activation_derivative(store: &Store, expr: ExprId) -> bool {
    match store.node(expr) {
        Node::Call(_, order, _) => *order > 0,
        Node::Add(_) | Node::Pow(..) | Node::Mul(_) => store.children(expr).into_iter().any(|c| {
            matches!(
                store.node(c),
                Node::Pow(..) | Node::Ref(..) | Node::Call(..) | Node::Mul(_)
            )
        }),
        _ => false,
    }
}

/// Families over the same ranges where one is computed directly from the
/// other (`z[j] = h(a[j])`): a student may write either for the other.
fn confusable_pairs(network: &Network) -> Vec<(FamilyId, FamilyId)> {
    let model = &network.model;
    let mut pairs = Vec::new();
    for family in model.family_ids() {
        if model.family(family).kind != FamilyKind::Defined {
            continue;
        }
        for source in network.graph.predecessors(family) {
            if model.family(source).ranges == model.family(family).ranges
                && model.family(source).kind == FamilyKind::Defined
            {
                pairs.push((family, source));
                pairs.push((source, family));
            }
        }
    }
    pairs
}

fn replace_family(store: &mut Store, expr: ExprId, from: FamilyId, to: FamilyId) -> ExprId {
    match store.node(expr).clone() {
        Node::Ref(family, indices) if family == from => store.reference(to, &indices),
        Node::Number(_) | Node::Ref(..) | Node::Adjoint(..) | Node::Delta(..) => expr,
        node => {
            let children: Vec<ExprId> = store
                .children(expr)
                .into_iter()
                .map(|c| replace_family(store, c, from, to))
                .collect();
            store.rebuild(&node, &children)
        }
    }
}

/// Each weight reference with two indices, swapped one at a time.
fn transposed(
    store: &mut Store,
    families: &[crate::model::Family],
    expr: ExprId,
) -> Vec<(FamilyId, ExprId)> {
    let mut found = Vec::new();
    let mut references = Vec::new();
    collect_two_index_refs(store, expr, &mut references);
    references.sort_unstable();
    references.dedup();
    for reference in references {
        let Node::Ref(family, indices) = store.node(reference).clone() else {
            continue;
        };
        let info = &families[family.0 as usize];
        if info.ranges[0] != info.ranges[1] && indices.len() == 2 {
            // Swapping indices over different ranges could not be evaluated;
            // a transposition there is an index-range mistake, reported as such.
            continue;
        }
        let swapped = store.reference(family, &[indices[1], indices[0]]);
        let repaired = crate::differentiate::replace(store, expr, reference, swapped);
        found.push((family, repaired));
    }
    found
}

fn collect_two_index_refs(store: &Store, expr: ExprId, found: &mut Vec<ExprId>) {
    match store.node(expr) {
        Node::Ref(_, indices) if indices.len() == 2 => found.push(expr),
        _ => {
            for child in store.children(expr) {
                collect_two_index_refs(store, child, found);
            }
        }
    }
}

/// The grade of one line of a derivation.
#[derive(Clone, Debug, Serialize)]
pub struct LineGrade {
    /// The line, counted from 1.
    pub line: usize,
    /// `correct` when the line is a true equation, else why not.
    pub verdict: Verdict,
    /// What is wrong with the line, if anything.
    pub message: Option<String>,
}

/// The grade of a whole derivation.
#[derive(Clone, Debug, Serialize)]
pub struct DerivationGrade {
    /// The verdict of the derivation as a whole.
    pub verdict: Verdict,
    /// Every line's grade.
    pub lines: Vec<LineGrade>,
    /// The first line that is not true (counted from 1), 0 when all are.
    pub first_wrong_line: usize,
    /// The grade of the derivation's final expression against the result.
    pub result: Grade,
}

/// Grades a derivation: lines separated by `\\` or new lines, each an
/// equality; a line starting with `=` continues the previous left side.
pub fn check_derivation(network: &mut Network, truth: &Truth, text: &str) -> DerivationGrade {
    let lines: Vec<&str> = text
        .split("\\\\")
        .flat_map(|chunk| chunk.split('\n'))
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("\\begin") && !l.starts_with("\\end"))
        .collect();
    let free = truth.query.free_indices();
    let mut grades = Vec::new();
    let mut previous_left: Option<ExprId> = None;
    let mut last_right: Option<ExprId> = None;
    let mut first_wrong = 0;
    for (number, line) in lines.iter().enumerate() {
        let source = Source::new(format!("<line {}>", number + 1), *line);
        let parsed = match parse_answer(&source) {
            Ok(parsed) => parsed,
            Err(error) => {
                let (verdict, message) = match error {
                    AnswerError::TooLarge(why) => (Verdict::TooLarge, why),
                    AnswerError::Unreadable(d) => (Verdict::Unreadable, one_line(&d)),
                };
                grades.push(LineGrade {
                    line: number + 1,
                    verdict,
                    message: Some(message),
                });
                if first_wrong == 0 {
                    first_wrong = number + 1;
                }
                continue;
            }
        };
        let mut sides = Vec::new();
        let mut failure = None;
        {
            let mut resolver = Resolver::new(&mut network.model, free.clone());
            for side in &parsed.sides {
                match resolver.resolve(side) {
                    Ok(expr) => sides.push(expr),
                    Err(error) => {
                        failure = Some((
                            if error.mistake {
                                Verdict::Incorrect
                            } else {
                                Verdict::Unreadable
                            },
                            one_line(&source.error(error.span, error.message)),
                        ));
                        break;
                    }
                }
            }
        }
        if parsed.continued
            && let Some(left) = previous_left
        {
            sides.insert(0, left);
        }
        let verdict = match failure {
            Some((verdict, message)) => LineGrade {
                line: number + 1,
                verdict,
                message: Some(message),
            },
            None if sides.len() < 2 => LineGrade {
                line: number + 1,
                verdict: Verdict::Unreadable,
                message: Some(
                    "a line of a derivation is an equation: write `lhs = rhs`, or start with `=`"
                        .to_string(),
                ),
            },
            None => {
                let mut message = None;
                for pair in sides.windows(2) {
                    let comparison = compare(
                        network,
                        pair[1],
                        pair[0],
                        &truth.equations,
                        &truth.seeds[..2],
                        2,
                    );
                    if !comparison.agree {
                        let shown = Printer::new(&network.model, Format::Latex)
                            .expr_equation(pair[0], pair[1]);
                        message = Some(format!(
                            "${shown}$ does not hold ({})",
                            comparison.counterexample.unwrap_or_default()
                        ));
                        break;
                    }
                }
                LineGrade {
                    line: number + 1,
                    verdict: if message.is_none() {
                        Verdict::Correct
                    } else {
                        Verdict::Incorrect
                    },
                    message,
                }
            }
        };
        if !verdict.verdict.is_right() && first_wrong == 0 {
            first_wrong = number + 1;
        }
        grades.push(verdict);
        if let (Some(first), Some(last)) = (sides.first(), sides.last()) {
            if !parsed.continued {
                previous_left = Some(*first);
            }
            last_right = Some(*last);
        }
    }
    let result = match last_right {
        Some(expr) => grade(network, truth, expr),
        None => Grade::simple(
            Verdict::Unreadable,
            "the derivation has no line that could be read".to_string(),
        ),
    };
    if first_wrong == 0 && !result.verdict.is_right() {
        first_wrong = lines.len();
    }
    let verdict = if first_wrong == 0 {
        result.verdict
    } else if result.verdict == Verdict::TooLarge {
        Verdict::TooLarge
    } else {
        Verdict::Incorrect
    };
    DerivationGrade {
        verdict,
        lines: grades,
        first_wrong_line: first_wrong,
        result,
    }
}

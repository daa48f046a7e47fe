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
mod counterexample;
mod diagnose;
pub mod gradebook;
pub mod homework;
pub mod resolve;
mod verdict;

use crate::Network;
use crate::calculus::deltas::Naming;
use crate::calculus::{Equation, Form};
use crate::diagnostic::{Diagnostic, Source};
use crate::expr::{Contents, ExprId, FamilyId, IndexVar, Node, Store};
use crate::limits::{
    MAX_ANSWER_BYTES, MAX_ANSWER_POWER, MAX_ANSWER_SIZE, MAX_GRADE_WORK, MAX_NUMBER_BITS,
};
use crate::model::Query;
use crate::numeric::sample::{Flow, Plan, sample};
use crate::numeric::{Draws, WorkMeter};
use crate::render::{Format, Lhs, Printer};
use crate::syntax::answer::{AnswerError, parse_answer};
use diagnose::{diagnose, repair_missing_sum};
use resolve::Resolver;
pub use verdict::{
    DerivationGrade, Diagnosis, Evidence, Grade, LineGrade, Verdict, Versioned, counted,
};

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
    /// What grading one answer may spend evaluating, restarted for each.
    meter: WorkMeter,
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

impl Truth {
    /// The result an answer is checked against, as a LaTeX equation
    /// (`\\delta_j = ...`).
    pub fn result_latex(&self, network: &Network) -> String {
        let lhs = Lhs::of_query(&network.model, &self.query, Form::Backprop);
        Printer::new(&network.model, Format::Latex).equation(&lhs, self.backprop)
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
        // Every delta an answer may use: those the file names upstream of
        // the numerator, with the equations they lead to.
        let upstream = network.graph.upstream_of(query.numerator);
        let named: Vec<FamilyId> = network
            .model
            .family_ids()
            .filter(|f| {
                upstream[f.index()]
                    && Naming::Declared.names(&network.model, query.numerator, *f)
                    && !equations.iter().any(|e| e.family == *f)
            })
            .collect();
        let (results, more) = network.engine().system(query.numerator, &named)?;
        for (family, rhs) in named.into_iter().zip(results) {
            if !equations.iter().any(|e| e.family == family) {
                let indices = network.model.family(family).slots.clone();
                equations.push(Equation {
                    family,
                    indices,
                    rhs,
                });
            }
        }
        for equation in more {
            if !equations.iter().any(|e| e.family == equation.family) {
                equations.push(equation);
            }
        }
    }
    Ok(Truth {
        seeds: SEEDS.to_vec(),
        query: query.clone(),
        backprop: backprop.result,
        expanded,
        equations,
        meter: WorkMeter::new(MAX_GRADE_WORK),
    })
}

/// Reads an answer, in the language or in LaTeX, as the sides of its
/// chain of equalities (one side for a bare expression).
fn read_sides(network: &mut Network, query: &Query, text: &str) -> Result<Vec<ExprId>, Box<Grade>> {
    if text.len() > MAX_ANSWER_BYTES {
        return Err(Box::new(Grade::on_reading(
            Verdict::TooLarge,
            format!("the answer is longer than {MAX_ANSWER_BYTES} bytes, the most that is read"),
        )));
    }
    let free: Vec<IndexVar> = query.free_indices();
    // The language's own syntax first: it never reads LaTeX.
    if !text.contains('\\') && !text.contains('_') && !text.contains('^') || text.contains('[') {
        let source = Source::new("<answer>", text);
        if let Ok(expr) = network.model.expression(&source) {
            return Ok(vec![expr]);
        }
    }
    let source = Source::new("<answer>", text);
    let answer = match parse_answer(&source) {
        Ok(answer) => answer,
        Err(AnswerError::TooLarge(why)) => {
            return Err(Box::new(Grade::on_reading(Verdict::TooLarge, why)));
        }
        Err(AnswerError::Unreadable(diagnostic)) => {
            return Err(Box::new(Grade::on_reading(
                Verdict::Unreadable,
                one_line(&diagnostic),
            )));
        }
    };
    let mut resolver = Resolver::new(&mut network.model, free);
    answer
        .sides
        .iter()
        .map(|side| {
            resolver.resolve(side).map_err(|error| {
                let located = one_line(&source.error(error.span, error.message.clone()));
                Box::new(Grade::on_reading(
                    if error.mistake {
                        Verdict::Incorrect
                    } else {
                        Verdict::Unreadable
                    },
                    located,
                ))
            })
        })
        .collect()
}

/// A located message on one line, for grades that go into CSV and JSON:
/// `at column 15: ...`.
fn one_line(diagnostic: &Diagnostic) -> String {
    match &diagnostic.location {
        Some(at) => format!("at column {}: {}", at.column, diagnostic.message),
        None => diagnostic.message.clone(),
    }
}

/// Grades one answer to `query`. An answer may be a chain of equalities,
/// `\\delta_j = A = B`: the sides that only name the derivative asked for
/// lead it, and every other side must be true; the last must be finished.
pub fn check(network: &mut Network, truth: &Truth, text: &str) -> Grade {
    truth.meter.restart();
    if text.trim().is_empty() {
        return Grade {
            evidence: Evidence::Nothing,
            diagnosis: None,
            ..Grade::on_reading(Verdict::Unanswered, String::new())
        };
    }
    let sides = match read_sides(network, &truth.query, text) {
        Ok(sides) => sides,
        Err(grade) => return *grade,
    };
    let store = &network.model.store;
    if store.largest_number_bits() > MAX_NUMBER_BITS
        || sides
            .iter()
            .any(|side| store.tree_size(*side) > MAX_ANSWER_SIZE || has_huge_power(store, *side))
    {
        return Grade::on_reading(
            Verdict::TooLarge,
            "the answer's numbers, powers or terms exceed what is checked".to_string(),
        );
    }
    let labels = sides
        .iter()
        .take_while(|side| names_the_query(store, &truth.query, **side))
        .count()
        .min(sides.len() - 1);
    let claims = &sides[labels..];
    let mut last = None;
    for (at, side) in claims.iter().enumerate() {
        let grade = grade(network, truth, *side);
        let is_last = at + 1 == claims.len();
        let acceptable =
            grade.verdict.is_right() || !is_last && grade.verdict == Verdict::Incomplete;
        if claims.len() > 1 && !acceptable {
            last = Some(grade.within_chain(labels + at + 1, sides.len()));
            break;
        }
        last = Some(grade);
    }
    let mut grade = last.expect("an answer has a side");
    if sides.len() > 1 {
        // The answer as read is the whole chain, every side of it.
        for (format, read) in [
            (Format::Latex, &mut grade.answer_latex),
            (Format::Dsl, &mut grade.answer_dsl),
        ] {
            let mut printer = Printer::new(&network.model, format);
            let shown: Vec<String> = sides.iter().map(|side| printer.expr(*side)).collect();
            *read = Some(shown.join(" = "));
        }
    }
    grade
}

/// True when `expr` is nothing but the derivative `query` asks for, as its
/// delta or as a partial derivative: the left side of `\\delta_j = ...`.
fn names_the_query(store: &Store, query: &Query, expr: ExprId) -> bool {
    match store.node(expr) {
        Node::Adjoint(family, _) => *family == query.denominator,
        Node::Derivative(of, wrt) => {
            wrt.family == query.denominator
                && matches!(store.node(*of), Node::Ref(family, _) if *family == query.numerator)
        }
        _ => false,
    }
}

/// A derivative an answer holds that keeps it from being finished.
enum Unfinished {
    /// The derivative asked for: the answer restates the question.
    Restates(ExprId),
    /// A derivative not yet taken.
    Untaken(ExprId),
}

/// The first derivative in `answer` that an answer to `query` may not
/// hold: the one asked for (as a delta or a partial derivative, anywhere in
/// it), else any derivative not yet taken, except the deltas of the
/// families downstream of the queried one (written as deltas, or as the
/// partial derivatives that the network names by deltas).
fn unfinished(network: &Network, query: &Query, answer: ExprId) -> Option<Unfinished> {
    let store = &network.model.store;
    if !store
        .contents(answer)
        .any(Contents::ADJOINT.and(Contents::DERIVATIVE))
    {
        return None;
    }
    let downstream = network.graph.downstream_of(&[query.denominator]);
    let below = |family: FamilyId| family != query.denominator && downstream[family.index()];
    let mut untaken = None;
    for node in store.post_order(answer) {
        let (asked, finished) = match store.node(node) {
            Node::Adjoint(family, _) => (*family == query.denominator, below(*family)),
            Node::Derivative(of, wrt) => {
                let of_numerator =
                    matches!(store.node(*of), Node::Ref(f, _) if *f == query.numerator);
                let named_by_delta =
                    Naming::Declared.names(&network.model, query.numerator, wrt.family);
                (
                    of_numerator && wrt.family == query.denominator,
                    of_numerator && named_by_delta && below(wrt.family),
                )
            }
            _ => continue,
        };
        if asked {
            return Some(Unfinished::Restates(node));
        }
        if !finished && untaken.is_none() {
            untaken = Some(node);
        }
    }
    untaken.map(Unfinished::Untaken)
}

/// Grades an answer already read as an expression.
pub fn grade(network: &mut Network, truth: &Truth, answer: ExprId) -> Grade {
    match grade_within_bounds(network, truth, answer) {
        Ok(grade) => grade,
        Err(error) => Grade::on_reading(Verdict::TooLarge, error.message),
    }
}

/// [`grade`], stopping where simplifying the answer outgrows its bounds.
fn grade_within_bounds(
    network: &mut Network,
    truth: &Truth,
    answer: ExprId,
) -> Result<Grade, Diagnostic> {
    let mut printer = Printer::new(&network.model, Format::Latex);
    let answer_latex = Some(printer.expr(answer));
    let answer_dsl = Some(Printer::new(&network.model, Format::Dsl).expr(answer));
    let base = Grade {
        verdict: Verdict::Incorrect,
        evidence: Evidence::Nothing,
        diagnosis: None,
        simplified: None,
        counterexample: None,
        answer_latex,
        answer_dsl,
    };
    let unfinished = unfinished(network, &truth.query, answer);
    if let Some(Unfinished::Restates(node)) = unfinished {
        let shown = Printer::new(&network.model, Format::Latex).expr(node);
        return Ok(Grade {
            evidence: Evidence::Restatement,
            diagnosis: Some(Diagnosis {
                words: format!(
                    "the answer holds ${shown}$, the derivative asked for: it restates the question instead of answering it"
                ),
                latex: None,
            }),
            ..base
        });
    }
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
        // An index left free is a missing sum only when every index the
        // query wants is there too; else the answer is of something else.
        let sum_is_missing =
            !missing_sum.is_empty() && wanted_sorted.iter().all(|name| found.contains(name));
        // Summing over the extra index is named as the mistake only when
        // the sum makes the answer right.
        let repaired = if sum_is_missing {
            repair_missing_sum(network, truth, answer)
        } else {
            None
        };
        let depends_on = if wanted_sorted.is_empty() {
            "no index".to_string()
        } else {
            list(&wanted_sorted)
        };
        let words = if found.is_empty() {
            format!("the answer has no free index, but the result is indexed by {depends_on}")
        } else if !sum_is_missing {
            format!(
                "the answer's free indices ({}) are not the query's ({})",
                list(&found),
                list(&wanted_sorted)
            )
        } else if repaired.is_some() {
            format!(
                "the answer leaves `{0}` free, but the result depends only on {depends_on}: a sum over `{0}` is missing",
                list_refs(&missing_sum)
            )
        } else {
            format!(
                "the answer leaves `{}` free, but the result depends only on {depends_on}",
                list_refs(&missing_sum)
            )
        };
        // Another layer's formula has that layer's indices.
        let diagnosis = match diagnose::another_layers_formula(network, truth, answer)? {
            Some(formula) => formula,
            None => Diagnosis {
                words,
                latex: repaired,
            },
        };
        return Ok(Grade {
            evidence: Evidence::FreeIndices,
            diagnosis: Some(diagnosis),
            ..base
        });
    }
    // Symbolic identity first: it never gives a false positive.
    let answer_canonical = alpha_canon(network, answer)?;
    let targets: Vec<ExprId> = [Some(truth.backprop), truth.expanded]
        .into_iter()
        .flatten()
        .collect();
    for target in &targets {
        if alpha_canon(network, *target)? == answer_canonical {
            if is_unsimplified(network, answer)? {
                let simplified = Some(Printer::new(&network.model, Format::Latex).expr(*target));
                return Ok(Grade {
                    verdict: Verdict::CorrectUnsimplified,
                    evidence: Evidence::SymbolicIdentity { simplified: true },
                    simplified,
                    ..base
                });
            }
            return Ok(Grade {
                verdict: Verdict::Correct,
                evidence: Evidence::SymbolicIdentity { simplified: false },
                ..base
            });
        }
    }
    let comparison = compare(
        network,
        answer,
        truth,
        truth.backprop,
        &truth.seeds,
        POINTS_PER_SEED,
    );
    if comparison.agree {
        let evidence = Evidence::Numeric {
            comparisons: comparison.comparisons,
            points: comparison.points,
        };
        if let Some(Unfinished::Untaken(node)) = unfinished {
            let shown = Printer::new(&network.model, Format::Latex).expr(node);
            return Ok(Grade {
                verdict: Verdict::Incomplete,
                evidence,
                diagnosis: Some(Diagnosis {
                    words: format!(
                        "the answer is true but unfinished: the derivative ${shown}$ is still to be taken"
                    ),
                    latex: None,
                }),
                ..base
            });
        }
        let uses_deltas = network.model.store.contents(answer).has(Contents::ADJOINT);
        let simplest = if uses_deltas {
            truth.backprop
        } else {
            truth.expanded.unwrap_or(truth.backprop)
        };
        if is_unsimplified(network, answer)? {
            let simplified = Some(Printer::new(&network.model, Format::Latex).expr(simplest));
            return Ok(Grade {
                verdict: Verdict::CorrectUnsimplified,
                evidence,
                simplified,
                ..base
            });
        }
        return Ok(Grade {
            verdict: Verdict::Correct,
            evidence,
            ..base
        });
    }
    if comparison.too_large {
        return Ok(Grade {
            verdict: Verdict::TooLarge,
            evidence: Evidence::Evaluation,
            diagnosis: Some(Diagnosis {
                words: "the answer is not the result's symbolic form, and the network is too large to compare them by numbers".to_string(),
                latex: None,
            }),
            ..base
        });
    }
    let diagnosis = diagnose(network, truth, answer)?;
    // Without a diagnosis, the counterexample is what the student has to
    // go on: at a point of simple, named values when there is one.
    let counterexample = match diagnosis {
        Some(_) => comparison.counterexample,
        None => counterexample::simple_counterexample(network, truth, answer)
            .or(comparison.counterexample),
    };
    Ok(Grade {
        verdict: Verdict::Incorrect,
        evidence: Evidence::Counterexample {
            comparisons: comparison.comparisons,
        },
        diagnosis: Some(
            diagnosis.unwrap_or(Diagnosis {
                words:
                    "the answer differs from the result, and no single common mistake explains it"
                        .to_string(),
                latex: None,
            }),
        ),
        counterexample,
        ..base
    })
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

/// True when some power's exponent holds a number, or a power of numbers,
/// beyond [`MAX_ANSWER_POWER`] (`10^{9}` is not computed to find out).
fn has_huge_power(store: &Store, expr: ExprId) -> bool {
    use num_rational::BigRational;
    use num_traits::Signed;
    let huge_number = |exponent: ExprId| {
        store.any_node(exponent, |node| match node {
            Node::Number(value) => value.abs() > BigRational::from_integer(MAX_ANSWER_POWER.into()),
            Node::Pow(base, exponent) => match (store.as_number(*base), store.as_number(*exponent))
            {
                (Some(base), Some(exponent)) => {
                    base.abs() > BigRational::from_integer(1.into())
                        && exponent.abs() > BigRational::from_integer(3.into())
                }
                _ => false,
            },
            _ => false,
        })
    };
    store.any_node(
        expr,
        |node| matches!(node, Node::Pow(_, exponent) if huge_number(*exponent)),
    )
}

/// True when plain simplification (numbers folded, Kronecker deltas
/// collapsed, like terms and common factors gathered; no forward quantities
/// or assumptions) makes the answer, as printed, shorter by four
/// characters or more (so `-(t - y)` passes, `2 x / 2` does not).
fn is_unsimplified(network: &mut Network, answer: ExprId) -> Result<bool, Diagnostic> {
    let simplified = network.simplify_plain(answer)?;
    let mut printer = Printer::new(&network.model, Format::Dsl);
    let (before, after) = (
        printer.expr(answer).chars().count(),
        printer.expr(simplified).chars().count(),
    );
    Ok(before >= after + 4)
}

/// Simplified, with canonical bound variables, in canonical order: equal
/// for expressions that differ only in arrangement and bound names.
fn alpha_canon(network: &mut Network, expr: ExprId) -> Result<ExprId, Diagnostic> {
    let renamed = network.model.store.canonical_binders(expr);
    let simplified = network.simplify(renamed)?;
    let renamed = network.model.store.canonical_binders(simplified);
    network.engine().canonical(renamed)
}

/// The outcome of comparing two expressions numerically.
pub(super) struct Comparison {
    pub(super) agree: bool,
    /// True when the network is too large to evaluate by numbers, so that
    /// nothing was decided.
    pub(super) too_large: bool,
    comparisons: usize,
    points: usize,
    counterexample: Option<String>,
}

/// Compares `answer` with `truth` for every assignment of their free indices
/// at seeded points, each seed binding opaque functions to other functions.
pub(super) fn compare(
    network: &Network,
    answer: ExprId,
    truth: &Truth,
    against: ExprId,
    seeds: &[u64],
    points: usize,
) -> Comparison {
    let equations = &truth.equations;
    let model = &network.model;
    let mut free: Vec<IndexVar> = model.store.free_vars(answer).to_vec();
    free.extend(model.store.free_vars(against));
    free.sort_unstable();
    free.dedup();
    let tolerance = if model.store.contents(answer).has(Contents::DERIVATIVE) {
        1e-5
    } else {
        1e-8
    };
    let mut result = Comparison {
        agree: true,
        too_large: false,
        comparisons: 0,
        points: 0,
        counterexample: None,
    };
    for seed in seeds {
        let plan = Plan {
            seed: *seed,
            points,
            meter: &truth.meter,
        };
        let sampling = sample(
            model,
            &network.graph,
            equations,
            &free,
            plan,
            |instance, env| {
                let (a, t) = (instance.eval(answer, env), instance.eval(against, env));
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
        if sampling.too_large {
            result.agree = false;
            result.too_large = true;
            return result;
        }
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

/// The lines of a derivation: separated by `\\` or new lines, without
/// blank lines and the `\begin`/`\end` of an environment around them.
fn derivation_lines(text: &str) -> Vec<&str> {
    text.split("\\\\")
        .flat_map(|chunk| chunk.split('\n'))
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("\\begin") && !l.starts_with("\\end"))
        .collect()
}

/// True when `text` is a derivation of several lines rather than one answer.
pub fn is_derivation(text: &str) -> bool {
    derivation_lines(text).len() > 1
}

/// Grades a derivation: lines separated by `\\` or new lines, each an
/// equality; a line starting with `=` continues the previous left side.
pub fn check_derivation(network: &mut Network, truth: &Truth, text: &str) -> DerivationGrade {
    truth.meter.restart();
    let lines = derivation_lines(text);
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
                let mut too_large = false;
                for pair in sides.windows(2) {
                    let comparison =
                        compare(network, pair[1], truth, pair[0], &truth.seeds[..2], 2);
                    if !comparison.agree {
                        let shown = Printer::new(&network.model, Format::Latex)
                            .expr_equation(pair[0], pair[1]);
                        message = Some(if comparison.too_large {
                            format!(
                                "${shown}$ cannot be compared: the network is too large to evaluate by numbers"
                            )
                        } else {
                            format!(
                                "${shown}$ does not hold ({})",
                                comparison.counterexample.unwrap_or_default()
                            )
                        });
                        too_large = comparison.too_large;
                        break;
                    }
                }
                LineGrade {
                    line: number + 1,
                    verdict: match (&message, too_large) {
                        (None, _) => Verdict::Correct,
                        (Some(_), true) => Verdict::TooLarge,
                        (Some(_), false) => Verdict::Incorrect,
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
        None => Grade::on_reading(
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

//! Diagnosing a wrong answer by trying repairs of it against the truth:
//! the first repair that makes it right names the likely mistake.

use crate::Network;
use crate::calculus::Form;
use crate::calculus::local::nth_builtin_derivative;
use crate::diagnostic::Diagnostic;
use crate::expr::{
    Builtin, Contents, ExprId, FamilyId, Function, Index, IndexVar, Node, OpaqueId, Store,
};
use crate::model::{FamilyKind, Query};
use crate::render::{Format, Lhs, Printer};

use super::{Diagnosis, Truth, alpha_canon, compare};

/// Tries repairs of a wrong answer against the truth; the first that makes
/// it right names the mistake.
pub(super) fn diagnose(
    network: &mut Network,
    truth: &Truth,
    answer: ExprId,
) -> Result<Option<Diagnosis>, Diagnostic> {
    let mut candidates: Vec<(String, ExprId)> = Vec::new();
    // A constant factor, such as the 2 from the square.
    let too_many = if squares_something(&network.model, truth.query.numerator) {
        "a factor of 2 too many (the 2 from differentiating the square cancels the 1/2)"
    } else {
        "a factor of 2 too many"
    };
    let store = &mut network.model.store;
    // A sign error.
    candidates.push((
        "a sign error: the answer has the wrong sign".to_string(),
        store.negate(answer),
    ));
    for (numerator, denominator, words) in [
        (1, 2, too_many),
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
    let mut truth_factors = top_factors(network, truth.backprop)?;
    if let Some(expanded) = truth.expanded {
        truth_factors.extend(top_factors(network, expanded)?);
    }
    let canonical_answer = network.simplify(answer)?;
    let answer_factors = top_factors(network, canonical_answer)?;
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
        let contents = network.model.store.contents(answer);
        let plain_answer = !contents.has(Contents::ADJOINT) && !contents.has(Contents::SUM);
        let words = if is_activation_derivative(&network.model, factor) && plain_answer {
            format!(
                "the activation's derivative ${shown}$ is missing; `y - t` alone holds only for a canonical link (a sigmoid or softmax output with the matching cross-entropy)"
            )
        } else if is_activation_derivative(&network.model, factor) {
            format!("the activation's derivative ${shown}$ is missing")
        } else {
            format!("the factor ${shown}$ is missing")
        };
        candidates.push((words, repaired));
    }
    // A quantity written where the one it is computed from is meant (z for a).
    for (written, meant) in confusable_pairs(network) {
        let repaired = network.model.store.replace_family(answer, written, meant);
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
            let simplified = network.simplify(repaired)?;
            let latex = Printer::new(&network.model, Format::Latex).expr(simplified);
            return Ok(Some(Diagnosis {
                words,
                latex: Some(latex),
            }));
        }
    }
    if let Some(diagnosis) = another_layers_formula(network, truth, answer)? {
        return Ok(Some(diagnosis));
    }
    if let Some(diagnosis) = missing_bias(network, truth, answer) {
        return Ok(Some(diagnosis));
    }
    if let Some(diagnosis) = constant_factor_in_a_term(network, truth, answer) {
        return Ok(Some(diagnosis));
    }
    if let Some(diagnosis) = specific_activation(network, truth, answer) {
        return Ok(Some(diagnosis));
    }
    if let Some(diagnosis) = stopped_early(network, truth, answer) {
        return Ok(Some(diagnosis));
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
            let terms = network.model.store.terms(sum).to_vec();
            for (at, term) in terms.iter().enumerate() {
                let mut rest = terms.clone();
                rest.remove(at);
                let shortened = network.model.store.add(rest);
                let without = network.model.store.replace(target, sum, shortened);
                let comparison = compare(network, answer, truth, without, &truth.seeds[..2], 1);
                if comparison.agree {
                    let shown = Printer::new(&network.model, Format::Latex).expr(*term);
                    let latex = Printer::new(&network.model, Format::Latex).expr(target);
                    let query = &truth.query;
                    let from_the_objective =
                        !network.model.store.contents(*term).has(Contents::ADJOINT)
                            && network
                                .graph
                                .predecessors(query.numerator)
                                .contains(&query.denominator);
                    let words = if from_the_objective {
                        let (objective, of) = (
                            &network.model.family(query.numerator).name,
                            &network.model.family(query.denominator).name,
                        );
                        format!(
                            "the term ${shown}$ is left out: it comes from the part of `{objective}` that holds `{of}` itself (a regulariser, say), not through the units `{of}` feeds"
                        )
                    } else {
                        format!(
                            "the term ${shown}$, from one of the units this one feeds, is left out"
                        )
                    };
                    return Ok(Some(Diagnosis {
                        words,
                        latex: Some(latex),
                    }));
                }
            }
        }
    }
    Ok(None)
}

pub(super) fn repair_missing_sum(
    network: &mut Network,
    truth: &Truth,
    answer: ExprId,
) -> Option<String> {
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
        truth,
        truth.backprop,
        &truth.seeds[..2],
        1,
    )
    .agree
}

/// The factors of a product (the expression itself otherwise), each with
/// canonical bound variables, so that equal factors are equal ids.
fn top_factors(network: &mut Network, expr: ExprId) -> Result<Vec<ExprId>, Diagnostic> {
    let factors = network.model.store.factors(expr).to_vec();
    factors
        .into_iter()
        .map(|f| alpha_canon(network, f))
        .collect()
}

/// True when `expr` looks like an activation's derivative: a derivative of
/// a function, or an expression in computed quantities (`y (1 - y)`), not
/// one of constants only (`1/N`).
fn is_activation_derivative(model: &crate::model::Model, expr: ExprId) -> bool {
    let store = &model.store;
    let computed = store
        .post_order(expr)
        .into_iter()
        .any(|node| match store.node(node) {
            Node::Ref(family, _) => model.family(*family).kind == FamilyKind::Defined,
            Node::Call(..) => true,
            _ => false,
        });
    computed
        && match store.node(expr) {
            Node::Call(_, order, _) => *order > 0,
            Node::Add(_) | Node::Pow(..) | Node::Mul(_) => store.children(expr).any(|c| {
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
        for &source in network.graph.predecessors(family) {
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

/// Each weight reference with two indices, swapped one at a time.
fn transposed(
    store: &mut Store,
    families: &[crate::model::Family],
    expr: ExprId,
) -> Vec<(FamilyId, ExprId)> {
    let mut found = Vec::new();
    let references: Vec<ExprId> = store
        .post_order(expr)
        .into_iter()
        .filter(|id| matches!(store.node(*id), Node::Ref(_, indices) if indices.len() == 2))
        .collect();
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
        let repaired = store.replace(expr, reference, swapped);
        found.push((family, repaired));
    }
    found
}

/// True when the definition of `family` squares something, so that
/// differentiating it brings down a 2.
fn squares_something(model: &crate::model::Model, family: FamilyId) -> bool {
    let store = &model.store;
    model.family(family).definition.is_some_and(|definition| {
        store.post_order(definition).into_iter().any(|node| {
            matches!(store.node(node), Node::Pow(_, exponent)
                if store.as_number(*exponent).is_some_and(|e| *e == num_rational::BigRational::from_integer(2.into())))
        })
    })
}

/// Activations a student may write for a network's opaque function, with
/// how a message names them.
const ACTIVATIONS: [(Builtin, &str); 3] = [
    (Builtin::Sigmoid, "the logistic sigmoid"),
    (Builtin::Tanh, "tanh"),
    (Builtin::Softplus, "the softplus"),
];

/// A specific activation's formula written for an opaque function `h`
/// (`\sigma'(a_j)`, or `h(a_j)(1 - h(a_j))`, for `h'(a_j)`): the answer is
/// right if `h` is that activation, and only then.
fn specific_activation(network: &mut Network, truth: &Truth, answer: ExprId) -> Option<Diagnosis> {
    for opaque in 0..network.model.functions.len() {
        let h = Function::Opaque(OpaqueId(opaque as u32));
        for (builtin, named) in ACTIVATIONS {
            let store = &mut network.model.store;
            let mut as_activation = |store: &mut Store, order: u32, argument: ExprId| {
                nth_builtin_derivative(store, builtin, order, argument)
                    .unwrap_or_else(|_| store.call(Function::Builtin(builtin), order, argument))
            };
            let as_truth = store.replace_calls(truth.backprop, h, &mut as_activation);
            if as_truth == truth.backprop {
                continue;
            }
            let written_out = calls_written_out(&mut network.model, answer, h);
            let store = &mut network.model.store;
            let as_answer = store.replace_calls(written_out, h, &mut as_activation);
            if !compare(network, as_answer, truth, as_truth, &truth.seeds[..2], 1).agree {
                continue;
            }
            let name = &network.model.functions[opaque];
            let latex = Printer::new(&network.model, Format::Latex).expr(truth.backprop);
            return Some(Diagnosis {
                words: format!(
                    "the answer holds only if `{name}` is {named}: in this network `{name}` is any differentiable function, and its derivative is written `{name}'`"
                ),
                latex: Some(latex),
            });
        }
    }
    None
}

/// `expr` with every unit computed by a call of `h` alone (`z[j] =
/// h(a[j])`) written as that call (`z_j` as `h(a_j)`).
fn calls_written_out(model: &mut crate::model::Model, expr: ExprId, h: Function) -> ExprId {
    let mut written = expr;
    for family in model.family_ids().collect::<Vec<_>>() {
        let info = model.family(family);
        let Some(definition) = info.definition else {
            continue;
        };
        let slots = info.slots.clone();
        let Node::Call(function, 0, argument) = model.store.node(definition).clone() else {
            continue;
        };
        let Node::Ref(source, at) = model.store.node(argument).clone() else {
            continue;
        };
        if function != h || *at != *Index::of_vars(&slots) {
            continue;
        }
        written = model
            .store
            .replace_references(written, family, &mut |store, indices| {
                let argument = store.reference(source, indices);
                store.call(h, 0, argument)
            });
    }
    written
}

/// The chain rule stopped one step early: the answer is the derivative
/// with respect to a successor over the same indices (`-t_k / y_k`, which is
/// dE/dy_k, for dE/da_k), or, where each successor depends on every unit
/// of the queried family (a softmax), keeps only the diagonal term of the
/// sum over them (`-t_k (1 - y_k)`).
fn stopped_early(network: &mut Network, truth: &Truth, answer: ExprId) -> Option<Diagnosis> {
    let query = &truth.query;
    if !query.numerator_indices.is_empty() {
        return None;
    }
    let denominator = query.denominator;
    let successors: Vec<FamilyId> = network.graph.successors(denominator).to_vec();
    for successor in successors {
        let model = &network.model;
        if successor == query.numerator
            || model.family(successor).kind != FamilyKind::Defined
            || model.family(successor).ranges != model.family(denominator).ranges
        {
            continue;
        }
        let upstream = Query {
            denominator: successor,
            ..query.clone()
        };
        let Some(upstream_result) = derived(network, &upstream) else {
            continue;
        };
        let mut printer = Printer::new(&network.model, Format::Latex);
        let partial = printer.lhs(&Lhs::of_query(&network.model, &upstream, Form::Expanded));
        let (name, of) = (
            network.model.family(successor).name.clone(),
            network.model.family(denominator).name.clone(),
        );
        let right = printer.expr(truth.backprop);
        if compare(
            network,
            answer,
            truth,
            upstream_result,
            &truth.seeds[..2],
            1,
        )
        .agree
        {
            return Some(Diagnosis {
                words: format!(
                    "the answer is ${partial}$: the chain rule stops at `{name}`, one step before `{of}`, and leaves out how `{name}` depends on `{of}`"
                ),
                latex: Some(right),
            });
        }
        if !depends_on_every_unit(&network.model, successor, denominator) {
            continue;
        }
        let jacobian = Query {
            numerator: successor,
            numerator_indices: query.denominator_indices.clone(),
            ..query.clone()
        };
        let Some(jacobian_diagonal) = derived(network, &jacobian) else {
            continue;
        };
        let diagonal = network
            .model
            .store
            .mul(vec![upstream_result, jacobian_diagonal]);
        if compare(network, answer, truth, diagonal, &truth.seeds[..2], 1).agree {
            return Some(Diagnosis {
                words: format!(
                    "the answer keeps only the diagonal term of the chain rule's sum: every `{name}` depends on every `{of}`, so the sum runs over all of `{name}`, not only the one with the same index"
                ),
                latex: Some(right),
            });
        }
    }
    None
}

/// The result of `query` in the expanded form (in backprop form when it
/// has none), or nothing when it cannot be derived.
fn derived(network: &mut Network, query: &Query) -> Option<ExprId> {
    let mut engine = network.engine();
    engine
        .derive(query, Form::Expanded)
        .or_else(|_| network.engine().derive(query, Form::Backprop))
        .ok()
        .map(|d| d.result)
}

/// True when the definition of `successor` refers to `family` at indices
/// other than its own slots: each of its units depends on many of
/// `family`'s (as a softmax's output depends on every input).
fn depends_on_every_unit(
    model: &crate::model::Model,
    successor: FamilyId,
    family: FamilyId,
) -> bool {
    let store = &model.store;
    let slots = &model.family(successor).slots;
    model
        .family(successor)
        .definition
        .is_some_and(|definition| {
            store.post_order(definition).into_iter().any(|node| {
                matches!(store.node(node), Node::Ref(f, indices)
                if *f == family && **indices != *Index::of_vars(slots))
            })
        })
}

/// The answer is the formula of another family's delta (the layer above's,
/// or the output's): symbolically the right side of its equation.
pub(super) fn another_layers_formula(
    network: &mut Network,
    truth: &Truth,
    answer: ExprId,
) -> Result<Option<Diagnosis>, Diagnostic> {
    let canonical = alpha_canon(network, answer)?;
    for equation in &truth.equations {
        if equation.family == truth.query.denominator {
            continue;
        }
        if alpha_canon(network, equation.rhs)? != canonical {
            continue;
        }
        let mut printer = Printer::new(&network.model, Format::Latex);
        let other = printer.lhs(&Lhs::Delta(equation.family, equation.indices.clone()));
        let asked = printer.lhs(&Lhs::of_query(&network.model, &truth.query, Form::Backprop));
        return Ok(Some(Diagnosis {
            words: format!(
                "the answer is the formula of ${other}$, another layer's delta, not of ${asked}$"
            ),
            latex: Some(printer.expr(truth.backprop)),
        }));
    }
    Ok(None)
}

/// One term of the answer has a factor of 2 too many or too few, or lacks a
/// constant of the network (a `1/N`), or has one too many: multiplying that
/// term alone makes the answer right.
fn constant_factor_in_a_term(
    network: &mut Network,
    truth: &Truth,
    answer: ExprId,
) -> Option<Diagnosis> {
    let constants: Vec<FamilyId> = network
        .model
        .family_ids()
        .filter(|f| {
            let info = network.model.family(*f);
            info.kind == FamilyKind::Leaf(crate::model::LeafKind::Const) && info.ranges.is_empty()
        })
        .collect();
    let terms = network.model.store.terms(answer).to_vec();
    // A factor of 2 in one term of several (one for the whole answer is
    // tried before).
    if terms.len() > 1 {
        for (at, term) in terms.iter().enumerate() {
            for (numerator, denominator, words) in [
                (1, 2, "has a factor of 2 too many"),
                (2, 1, "lacks a factor of 2"),
            ] {
                let store = &mut network.model.store;
                let factor = store.number(num_rational::BigRational::new(
                    numerator.into(),
                    denominator.into(),
                ));
                let mut repaired_terms = terms.clone();
                repaired_terms[at] = store.mul(vec![factor, *term]);
                let repaired = store.add(repaired_terms);
                if repairs(network, truth, repaired) {
                    let mut printer = Printer::new(&network.model, Format::Latex);
                    let shown = printer.expr(*term);
                    let simplified = network.simplify(repaired).unwrap_or(repaired);
                    let latex = Printer::new(&network.model, Format::Latex).expr(simplified);
                    return Some(Diagnosis {
                        words: format!("the term ${shown}$ {words}"),
                        latex: Some(latex),
                    });
                }
            }
        }
    }
    for constant in constants {
        for (at, term) in terms.iter().enumerate() {
            for power in [-1, 1] {
                let store = &mut network.model.store;
                let reference = store.reference::<IndexVar>(constant, &[]);
                let factor = store.powi(reference, power);
                let scaled = store.mul(vec![factor, *term]);
                let mut repaired_terms = terms.clone();
                repaired_terms[at] = scaled;
                let repaired = store.add(repaired_terms);
                if !repairs(network, truth, repaired) {
                    continue;
                }
                let mut printer = Printer::new(&network.model, Format::Latex);
                let shown_factor = printer.expr(factor);
                let whole = terms.len() == 1;
                let place = if whole {
                    "the answer".to_string()
                } else {
                    format!("the term ${}$", printer.expr(*term))
                };
                // The answer lacks the factor it is repaired by; repaired by
                // the inverse, it has the constant once too many.
                let inverse = printer.expr(reference);
                let words = if power == -1 {
                    format!("{place} lacks the factor ${shown_factor}$")
                } else {
                    format!("{place} has the factor $1/{inverse}$ once too many")
                };
                let shown = network
                    .simplify(repaired)
                    .map_or(repaired, |simplified| simplified);
                let latex = Printer::new(&network.model, Format::Latex).expr(shown);
                return Some(Diagnosis {
                    words,
                    latex: Some(latex),
                });
            }
        }
    }
    None
}

/// The most sums in an answer searched for a unit written out.
const MAX_PARTS_SEARCHED: usize = 200;

/// A bias left out where the answer writes a unit out (`\sigma(\sum_i w_i
/// x_i)` for a unit whose definition adds `b0`): putting the bias back into
/// that part makes the answer right.
fn missing_bias(network: &mut Network, truth: &Truth, answer: ExprId) -> Option<Diagnosis> {
    let within: Vec<ExprId> = network
        .model
        .store
        .post_order(answer)
        .into_iter()
        .filter(|node| {
            matches!(
                network.model.store.node(*node),
                Node::Sum(..) | Node::Add(_)
            )
        })
        .collect();
    // Each part is compared whole: a bounded number of parts keeps the
    // search linear in the answer.
    if within.len() > MAX_PARTS_SEARCHED {
        return None;
    }
    for family in network.model.family_ids().collect::<Vec<_>>() {
        let Some(definition) = network.model.family(family).definition else {
            continue;
        };
        let Node::Add(terms) = network.model.store.node(definition).clone() else {
            continue;
        };
        for (at, term) in terms.iter().enumerate() {
            let Node::Ref(bias, _) = network.model.store.node(*term).clone() else {
                continue;
            };
            let kind = network.model.family(bias).kind;
            if kind != FamilyKind::Leaf(crate::model::LeafKind::Param) {
                continue;
            }
            let mut rest = terms.to_vec();
            rest.remove(at);
            let store = &mut network.model.store;
            let without = store.add(rest);
            // Equal up to the names of bound indices.
            let wanted = store.canonical_binders(without);
            let Some(&written) = within
                .iter()
                .find(|node| store.canonical_binders(**node) == wanted)
            else {
                continue;
            };
            let repaired = store.replace(answer, written, definition);
            if !repairs(network, truth, repaired) {
                continue;
            }
            let model = &network.model;
            let mut printer = Printer::new(model, Format::Latex);
            let shown_bias = printer.expr(*term);
            return Some(Diagnosis {
                words: format!(
                    "the bias ${shown_bias}$ is missing where the answer writes `{}` out",
                    model.family(family).name
                ),
                latex: Some(printer.expr(repaired)),
            });
        }
    }
    None
}

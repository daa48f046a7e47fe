//! A counterexample a student can follow: the answer and the result
//! evaluated at a point of small, simple values, every value named.

use std::collections::HashMap;

use crate::Network;
use crate::expr::{ExprId, FamilyId, IndexVar};
use crate::model::{FamilyKind, LeafKind};
use crate::numeric::{Draws, Instance, assignments};
use crate::render::{Format, Printer};

use super::Truth;

/// How one leaf element gets its value: from its kind and its first index
/// (counted from 1; 1 for a scalar).
type Pattern = fn(LeafKind, usize) -> f64;

/// The simple points tried in turn: each gives some family values that
/// differ element by element, so that an answer with its indices mixed up
/// meets a point where it differs.
const PATTERNS: [Pattern; 4] = [
    |kind, index| match kind {
        LeafKind::Input => index as f64,
        LeafKind::Param => 0.5,
        LeafKind::Target | LeafKind::Const => 1.0,
    },
    |kind, index| match kind {
        LeafKind::Target => index as f64,
        LeafKind::Param => 0.5,
        LeafKind::Input | LeafKind::Const => 1.0,
    },
    |kind, index| match kind {
        LeafKind::Param => index as f64 / 2.0,
        _ => 1.0,
    },
    |kind, _| match kind {
        LeafKind::Target => 0.0,
        _ => 1.0,
    },
];

/// A point of simple values where `answer` and the result differ, in
/// words: the sizes of the ranges, every leaf's value, and the two values
/// at the first index where they differ. None when the network has
/// functions of its own (whose values no simple point can name), or when no
/// such point shows a difference.
pub(super) fn simple_counterexample(
    network: &mut Network,
    truth: &Truth,
    answer: ExprId,
) -> Option<String> {
    if !network.model.functions.is_empty() {
        return None;
    }
    // Each leaf at its own indices, as the counterexample names it.
    let leaves: Vec<(FamilyId, ExprId)> = network
        .model
        .family_ids()
        .filter(|f| matches!(network.model.family(*f).kind, FamilyKind::Leaf(_)))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|family| {
            let slots = network.model.family(family).slots.clone();
            (family, network.model.store.reference(family, &slots))
        })
        .collect();
    let network = &*network;
    let model = &network.model;
    let mut instance = Instance::new(model, &network.graph, &mut Draws::new(0), &truth.meter)?;
    let mut free: Vec<IndexVar> = model.store.free_vars(answer).to_vec();
    free.extend(model.store.free_vars(truth.backprop));
    free.sort_unstable();
    free.dedup();
    let dims: Vec<usize> = free
        .iter()
        .map(|v| instance.sizes[model.store.var(*v).range.0 as usize])
        .collect();
    for pattern in PATTERNS {
        let value = |kind: LeafKind, at: &[usize]| pattern(kind, at.first().map_or(1, |i| i + 1));
        if instance.set_point(&value).is_err()
            || instance
                .evaluate_equations(&truth.equations, network.graph.topological_order())
                .is_err()
        {
            continue;
        }
        for at in assignments(&dims) {
            let mut env: HashMap<IndexVar, usize> = free.iter().copied().zip(at).collect();
            let (a, t) = (
                instance.eval(answer, &mut env),
                instance.eval(truth.backprop, &mut env),
            );
            if instance.over_budget() {
                return None;
            }
            if !a.is_finite() || !t.is_finite() || (a - t).abs() <= 1e-8 * t.abs().max(1.0) {
                continue;
            }
            return Some(described(network, &instance, &leaves, &free, &env, a, t));
        }
    }
    None
}

/// The counterexample in words, every value named.
fn described(
    network: &Network,
    instance: &Instance<'_>,
    leaves: &[(FamilyId, ExprId)],
    free: &[IndexVar],
    env: &HashMap<IndexVar, usize>,
    answer: f64,
    result: f64,
) -> String {
    let model = &network.model;
    let mut printer = Printer::new(model, Format::Latex);
    let mut sizes = Vec::new();
    for (range, info) in model.ranges.iter().enumerate() {
        if info.size.is_none() {
            sizes.push(format!("${} = {}$", info.name, instance.sizes[range]));
        }
    }
    let mut named = Vec::new();
    for (family, reference) in leaves {
        let info = model.family(*family);
        let reference = printer.expr(*reference);
        let tensor = &instance.values[family.index()];
        let first_index = info.slots.first().map(|v| model.store.var(*v).name.clone());
        named.push(format!(
            "${reference} = {}$",
            values_in_words(&tensor.dims, &tensor.data, first_index.as_deref())
        ));
    }
    let at: Vec<String> = free
        .iter()
        .map(|v| format!("{} = {}", model.store.var(*v).name, env[v] + 1))
        .collect();
    let mut given = sizes;
    given.extend(named);
    format!(
        "for example, with {}{}, the answer is {} but the result is {}",
        joined(&given),
        if at.is_empty() {
            String::new()
        } else {
            format!(", at ${}$", at.join(", "))
        },
        number(answer),
        number(result)
    )
}

/// The values of one leaf family: one number when all are equal, a
/// multiple of the first index when they grow with it (`i`, `k/6`), else
/// the values in order.
fn values_in_words(dims: &[usize], data: &[f64], first_index: Option<&str>) -> String {
    let Some(&first) = data.first() else {
        return "0".to_string();
    };
    if data.iter().all(|v| (v - first).abs() < 1e-12) {
        return number(first);
    }
    if let Some(index) = first_index {
        let positions = assignments(dims);
        let proportional = data
            .iter()
            .zip(positions)
            .all(|(v, at)| (v - first * (at[0] + 1) as f64).abs() < 1e-12);
        if proportional {
            return match number(first).as_str() {
                "1" => index.to_string(),
                shown => match shown.split_once('/') {
                    Some(("1", q)) => format!("{index}/{q}"),
                    _ => format!("{shown}\\,{index}"),
                },
            };
        }
    }
    let shown: Vec<String> = data.iter().take(6).map(|v| number(*v)).collect();
    format!(
        "({}{})",
        shown.join(", "),
        if data.len() > 6 { ", \\dots" } else { "" }
    )
}

/// A number as a person writes it: a small fraction when it is one,
/// else four significant digits.
fn number(x: f64) -> String {
    for q in 1..=24u32 {
        let p = x * f64::from(q);
        if (p - p.round()).abs() < 1e-9 && p.abs() < 1e6 {
            let p = p.round() as i64;
            return if q == 1 {
                p.to_string()
            } else {
                format!("{p}/{q}")
            };
        }
    }
    format!("{x:.4}")
}

/// `a`, `a and b`, `a, b and c`.
fn joined(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

//! Walking over sample points, and comparing a derived result with finite
//! differences of the forward computation there.

use std::collections::HashMap;

use crate::calculus::{Derivative, Equation};
use crate::expr::IndexVar;
use crate::graph::DependencyGraph;
use crate::model::Model;

use super::finite::Estimate;
use super::{Draws, Instance, PointError, WorkMeter, assignments};

/// Why nothing was compared, when a network is too large to evaluate.
const TOO_LARGE: &str = "the network is too large to evaluate by numbers";

/// The outcome of checking one derived result numerically.
#[derive(Clone, Debug, PartialEq)]
pub struct Agreement {
    /// The largest difference from finite differences, relative to
    /// max(1, |value|).
    pub largest_error: f64,
    /// The largest part of such a difference that the finite differences'
    /// own uncertainty (rounding, a kink nearby) does not explain.
    pub largest_unexplained: f64,
    /// How many comparisons were made.
    pub comparisons: usize,
    /// Points skipped because the network has a kink or is undefined there.
    pub skipped: usize,
    /// Why nothing could be compared, if so.
    pub problem: Option<String>,
    /// True when the network is too large to evaluate by numbers.
    pub too_large: bool,
}

/// The largest relative difference from finite differences, beyond their
/// own estimated uncertainty, that a derivative may show. A wrong
/// derivative is typically off by a sizeable fraction of its value.
pub const TOLERANCE: f64 = 1e-4;

impl Agreement {
    /// True when every comparison agreed and some were made.
    pub fn passed(&self) -> bool {
        self.problem.is_none() && self.comparisons > 0 && self.largest_unexplained <= TOLERANCE
    }
}

/// What a walk over sample points met.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sampling {
    /// Points at which the visitor ran.
    pub points: usize,
    /// Points passed over because the network (or a delta) is not finite there.
    pub skipped: usize,
    /// Why the walk stopped before its points, if it did: an assumption
    /// that the drawn data cannot meet, or a network too large to evaluate.
    pub problem: Option<String>,
    /// True when it stopped because evaluating would take more than
    /// [`MAX_EVALUATION_WORK`](crate::limits::MAX_EVALUATION_WORK) operations.
    pub too_large: bool,
}

impl Sampling {
    fn stop_too_large(&mut self) {
        self.problem = Some(TOO_LARGE.to_string());
        self.too_large = true;
    }
}

/// Whether a walk over sample points goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Visit the next assignment.
    Continue,
    /// Stop the walk.
    Stop,
}

/// Which points a walk draws, and what it may spend evaluating them.
pub struct Plan<'a> {
    /// The seed the points are drawn from.
    pub seed: u64,
    /// How many usable points to draw.
    pub points: usize,
    /// What the task the walk belongs to may still spend.
    pub meter: &'a WorkMeter,
}

/// Draws the plan's usable points from its seed (signed and positive data
/// in turn, up to ten tries a point), evaluates the deltas of `equations`
/// at each, and calls `visit` for every assignment of the `free` indices.
pub fn sample(
    model: &Model,
    graph: &DependencyGraph,
    equations: &[Equation],
    free: &[IndexVar],
    plan: Plan<'_>,
    mut visit: impl FnMut(&mut Instance<'_>, &mut HashMap<IndexVar, usize>) -> Flow,
) -> Sampling {
    let Plan {
        seed,
        points,
        meter,
    } = plan;
    let mut draws = Draws::new(seed);
    let mut sampling = Sampling::default();
    let Some(mut instance) = Instance::new(model, graph, &mut draws, meter) else {
        sampling.stop_too_large();
        return sampling;
    };
    let dims: Vec<usize> = free
        .iter()
        .map(|v| instance.sizes[model.store.var(*v).range.0 as usize])
        .collect();
    let mut attempts = 0;
    while sampling.points < points && attempts < points * 10 {
        attempts += 1;
        match instance.draw_point(&mut draws, attempts % 2 == 1) {
            Ok(()) => {}
            Err(PointError::Undefined) => {
                sampling.skipped += 1;
                continue;
            }
            Err(PointError::Assumption(message)) => {
                sampling.problem = Some(message);
                return sampling;
            }
            Err(PointError::TooLarge) => {
                sampling.stop_too_large();
                return sampling;
            }
        }
        match instance.evaluate_equations(equations, graph.topological_order()) {
            Ok(()) => {}
            Err(PointError::TooLarge) => {
                sampling.stop_too_large();
                return sampling;
            }
            Err(_) => {
                sampling.skipped += 1;
                continue;
            }
        }
        sampling.points += 1;
        for at in assignments(&dims) {
            let mut env: HashMap<IndexVar, usize> = free.iter().copied().zip(at).collect();
            let flow = visit(&mut instance, &mut env);
            if instance.over_budget() {
                sampling.stop_too_large();
                return sampling;
            }
            if flow == Flow::Stop {
                return sampling;
            }
        }
    }
    sampling
}

/// Compares a derived result with finite differences of the forward
/// computation at `points` seeded points and for every assignment of its
/// free indices. In backprop form the deltas are evaluated from their
/// equations first, so every equation of the system is checked too.
pub fn verify(
    model: &Model,
    graph: &DependencyGraph,
    derivative: &Derivative,
    points: usize,
    seed: u64,
) -> Agreement {
    let query = &derivative.query;
    let free = query.free_indices();
    let mut verdict = Agreement {
        largest_error: 0.0,
        largest_unexplained: 0.0,
        comparisons: 0,
        skipped: 0,
        problem: None,
        too_large: false,
    };
    let meter = WorkMeter::unlimited();
    let plan = Plan {
        seed,
        points,
        meter: &meter,
    };
    let sampling = sample(
        model,
        graph,
        &derivative.equations,
        &free,
        plan,
        |instance, env| {
            let numerator_at: Vec<usize> = query.numerator_indices.iter().map(|v| env[v]).collect();
            let denominator_at: Vec<usize> =
                query.denominator_indices.iter().map(|v| env[v]).collect();
            let Estimate {
                value: reference,
                uncertainty,
            } = instance.finite_difference(
                query.numerator,
                &numerator_at,
                query.denominator,
                &denominator_at,
            );
            if !reference.is_finite() || uncertainty > 1e-3 * reference.abs().max(1.0) {
                verdict.skipped += 1;
                return Flow::Continue;
            }
            let value = instance.eval(derivative.result, env);
            let error = relative_error(value, reference);
            let unexplained = (error - uncertainty / reference.abs().max(1.0)).max(0.0);
            verdict.largest_error = verdict.largest_error.max(error);
            verdict.largest_unexplained = verdict.largest_unexplained.max(unexplained);
            verdict.comparisons += 1;
            Flow::Continue
        },
    );
    verdict.skipped += sampling.skipped;
    verdict.problem = sampling.problem;
    verdict.too_large = sampling.too_large;
    if verdict.comparisons == 0 && verdict.problem.is_none() {
        verdict.problem =
            Some("found no point where the network is defined and smooth".to_string());
    }
    verdict
}

/// |value - reference| relative to max(1, |reference|); infinite when the
/// value is not a number.
pub fn relative_error(value: f64, reference: f64) -> f64 {
    if !value.is_finite() {
        return f64::INFINITY;
    }
    (value - reference).abs() / reference.abs().max(1.0)
}

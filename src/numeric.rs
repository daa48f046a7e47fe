//! Numbers as the oracle: evaluating a model forward, evaluating derived
//! results, and comparing them with central finite differences.
//!
//! Ranges get small sizes (declared, or chosen so that different ranges
//! differ), leaves get seeded random values (scaled where an `assume` line
//! asks it), and opaque functions are bound to smooth stand-ins whose
//! derivatives of every order are known.

use std::collections::HashMap;

use num_traits::ToPrimitive;

use crate::chain::{Derivative, Equation};
use crate::expr::{ExprId, FamilyId, Function, IndexVar, Node, Store};
use crate::functions::SmoothStandIn;
use crate::graph::DependencyGraph;
use crate::model::{FamilyKind, Model};

/// A deterministic random source (SplitMix64), so every check can be replayed.
#[derive(Clone, Debug)]
pub struct Draws(u64);

impl Draws {
    /// A source started from `seed`.
    pub fn new(seed: u64) -> Draws {
        Draws(seed)
    }

    /// The next number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The values of every element of one family.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// The size of each index position.
    pub dims: Vec<usize>,
    /// The elements, last position fastest.
    pub data: Vec<f64>,
}

impl Tensor {
    fn zeros(dims: Vec<usize>) -> Tensor {
        let len = dims.iter().product();
        Tensor {
            dims,
            data: vec![0.0; len],
        }
    }

    fn offset(&self, at: &[usize]) -> usize {
        at.iter().zip(&self.dims).fold(0, |acc, (i, d)| acc * d + i)
    }
}

/// A model made numeric: sizes, leaf values and function stand-ins.
pub struct Instance<'m> {
    model: &'m Model,
    order: Vec<FamilyId>,
    /// The size given to each range.
    pub sizes: Vec<usize>,
    stand_ins: Vec<SmoothStandIn>,
    /// The values of every family at the current point.
    pub values: Vec<Tensor>,
    /// The deltas of a backprop system, when one has been evaluated.
    adjoints: HashMap<FamilyId, Tensor>,
}

/// Why a point could not be used.
#[derive(Clone, Debug, PartialEq)]
pub enum PointError {
    /// The forward computation is not finite there (a log of a negative
    /// number, an overflow).
    Undefined,
    /// An assumption does not hold for the drawn data, and cannot be made to.
    Assumption(String),
}

impl<'m> Instance<'m> {
    /// Sizes for every range and stand-ins for every function, drawn from `draws`.
    pub fn new(model: &'m Model, graph: &DependencyGraph, draws: &mut Draws) -> Instance<'m> {
        let sizes = choose_sizes(model);
        let stand_ins = model
            .functions
            .iter()
            .map(|_| {
                SmoothStandIn::from_unit_draws([
                    draws.unit(),
                    draws.unit(),
                    draws.unit(),
                    draws.unit(),
                ])
            })
            .collect();
        let values = model
            .families
            .iter()
            .map(|f| Tensor::zeros(f.ranges.iter().map(|r| sizes[r.0 as usize]).collect()))
            .collect();
        Instance {
            model,
            order: graph.topological_order().to_vec(),
            sizes,
            stand_ins,
            values,
            adjoints: HashMap::new(),
        }
    }

    /// Draws leaf values (signed when `signed`, else positive), applies the
    /// assumptions that scale data, and computes every defined family.
    pub fn draw_point(&mut self, draws: &mut Draws, signed: bool) -> Result<(), PointError> {
        for family in self.model.family_ids() {
            if let FamilyKind::Leaf(_) = self.model.family(family).kind {
                for value in &mut self.values[family.0 as usize].data {
                    let magnitude = 0.2 + 0.9 * draws.unit();
                    *value = if signed && draws.unit() < 0.5 {
                        -magnitude
                    } else {
                        magnitude
                    };
                }
            }
        }
        self.apply_assumptions()?;
        self.forward()?;
        self.check_assumptions()
    }

    /// Computes every defined family from the leaves.
    pub fn forward(&mut self) -> Result<(), PointError> {
        let order = self.order.clone();
        for family in order {
            self.compute(family)?;
        }
        Ok(())
    }

    fn compute(&mut self, family: FamilyId) -> Result<(), PointError> {
        let info = self.model.family(family);
        let Some(definition) = info.definition else {
            return Ok(());
        };
        let dims = self.values[family.0 as usize].dims.clone();
        let mut data = Vec::with_capacity(self.values[family.0 as usize].data.len());
        let mut env = HashMap::new();
        for at in assignments(&dims) {
            for (slot, value) in info.slots.iter().zip(&at) {
                env.insert(*slot, *value);
            }
            let value = self.eval(definition, &mut env);
            if !value.is_finite() {
                return Err(PointError::Undefined);
            }
            data.push(value);
        }
        self.values[family.0 as usize].data = data;
        Ok(())
    }

    /// Recomputes the forward values with one element of `family` moved by
    /// `step`, holding that element's own inputs fixed, and returns the value
    /// of `numerator` at `numerator_at`.
    fn perturbed(
        &mut self,
        family: FamilyId,
        at: &[usize],
        step: f64,
        numerator: FamilyId,
        numerator_at: &[usize],
    ) -> f64 {
        let saved = self.values.clone();
        let offset = self.values[family.0 as usize].offset(at);
        self.values[family.0 as usize].data[offset] += step;
        let position = self.order.iter().position(|f| *f == family).unwrap_or(0);
        let downstream: Vec<FamilyId> = self.order[position + 1..].to_vec();
        let mut result = f64::NAN;
        let mut ok = true;
        for next in downstream {
            if self.compute(next).is_err() {
                ok = false;
                break;
            }
        }
        if ok {
            let tensor = &self.values[numerator.0 as usize];
            result = tensor.data[tensor.offset(numerator_at)];
        }
        self.values = saved;
        result
    }

    /// The derivative of `numerator[numerator_at]` with respect to
    /// `family[at]` by central differences, with an estimate of its error:
    /// the disagreement of two step sizes (large where the function has a
    /// kink) plus the rounding of the numerator's value.
    pub fn finite_difference(
        &mut self,
        numerator: FamilyId,
        numerator_at: &[usize],
        family: FamilyId,
        at: &[usize],
    ) -> (f64, f64) {
        let tensor = &self.values[family.0 as usize];
        let x = tensor.data[tensor.offset(at)];
        let numerator_tensor = &self.values[numerator.0 as usize];
        let magnitude = numerator_tensor.data[numerator_tensor.offset(numerator_at)]
            .abs()
            .max(1.0);
        let center = numerator_tensor.data[numerator_tensor.offset(numerator_at)];
        // Steps from large to small: the pair of neighbours that agree best
        // is where truncation and rounding errors are both small.
        let scale = x.abs().clamp(1.0, 10.0);
        let steps: Vec<f64> = [1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5]
            .iter()
            .map(|s| s * scale)
            .collect();
        let sides: Vec<(f64, f64)> = steps
            .iter()
            .map(|h| {
                let up = self.perturbed(family, at, *h, numerator, numerator_at);
                let down = self.perturbed(family, at, -*h, numerator, numerator_at);
                (up, down)
            })
            .collect();
        let quotients: Vec<f64> = steps
            .iter()
            .zip(&sides)
            .map(|(h, (up, down))| (up - down) / (2.0 * h))
            .collect();
        let mut best = (f64::NAN, f64::INFINITY);
        for pair in 0..steps.len() - 1 {
            let (coarse, fine) = (quotients[pair], quotients[pair + 1]);
            let ratio = steps[pair] / steps[pair + 1];
            // Richardson extrapolation: the h^2 error terms cancel.
            let estimate = (ratio * ratio * fine - coarse) / (ratio * ratio - 1.0);
            let rounding = 8.0 * f64::EPSILON * magnitude / steps[pair + 1];
            let uncertainty = (fine - coarse).abs() + rounding;
            if uncertainty < best.1 {
                best = (estimate, uncertainty);
            }
        }
        // At a kink the central difference can be smooth in h (it averages
        // the two slopes), but the one-sided slopes disagree.
        let kink_step = 4;
        let (up, down) = sides[kink_step];
        let forward = (up - center) / steps[kink_step];
        let backward = (center - down) / steps[kink_step];
        if (forward - backward).abs() > 1e-2 * best.0.abs().max(1.0) {
            return (best.0, f64::INFINITY);
        }
        best
    }

    /// Evaluates the deltas of a backprop system, downstream first.
    pub fn evaluate_equations(
        &mut self,
        equations: &[Equation],
        order: &[FamilyId],
    ) -> Result<(), PointError> {
        self.adjoints.clear();
        let mut sorted: Vec<&Equation> = equations.iter().collect();
        let rank: HashMap<FamilyId, usize> =
            order.iter().enumerate().map(|(i, f)| (*f, i)).collect();
        sorted.sort_by_key(|e| std::cmp::Reverse(rank.get(&e.family).copied().unwrap_or(0)));
        for equation in sorted {
            let dims = self.values[equation.family.0 as usize].dims.clone();
            let mut tensor = Tensor::zeros(dims.clone());
            let mut env = HashMap::new();
            for (offset, at) in assignments(&dims).into_iter().enumerate() {
                for (slot, value) in equation.indices.iter().zip(&at) {
                    env.insert(*slot, *value);
                }
                let value = self.eval(equation.rhs, &mut env);
                if !value.is_finite() {
                    return Err(PointError::Undefined);
                }
                tensor.data[offset] = value;
            }
            self.adjoints.insert(equation.family, tensor);
        }
        Ok(())
    }

    /// The value of an expression with its free indices set by `env`.
    /// A derivative not yet taken is evaluated by central differences.
    pub fn eval(&self, expr: ExprId, env: &mut HashMap<IndexVar, usize>) -> f64 {
        let store = &self.model.store;
        match store.node(expr) {
            Node::Derivative(of, wrt) => {
                let at: Vec<usize> = wrt.indices.iter().map(|v| env[v]).collect();
                self.eval_derivative(*of, wrt.family, &wrt.held, &at, env)
            }
            Node::Number(value) => value.to_f64().unwrap_or(f64::NAN),
            Node::Ref(family, indices) => {
                let tensor = &self.values[family.0 as usize];
                let at: Vec<usize> = indices.iter().map(|v| env[v]).collect();
                tensor.data[tensor.offset(&at)]
            }
            Node::Adjoint(family, indices) => match self.adjoints.get(family) {
                Some(tensor) => {
                    let at: Vec<usize> = indices.iter().map(|v| env[v]).collect();
                    tensor.data[tensor.offset(&at)]
                }
                None => f64::NAN,
            },
            Node::Add(terms) => terms.iter().map(|t| self.eval(*t, env)).sum(),
            Node::Mul(factors) => factors.iter().map(|f| self.eval(*f, env)).product(),
            Node::Pow(base, exponent) => {
                let b = self.eval(*base, env);
                match store.as_number(*exponent) {
                    Some(value) if value.is_integer() => match value.to_integer().to_i32() {
                        Some(n) => b.powi(n),
                        None => b.powf(value.to_f64().unwrap_or(f64::NAN)),
                    },
                    _ => b.powf(self.eval(*exponent, env)),
                }
            }
            Node::Call(function, order, argument) => {
                let x = self.eval(*argument, env);
                match function {
                    Function::Builtin(builtin) if *order == 0 => builtin.apply(x),
                    Function::Builtin(_) => f64::NAN,
                    Function::Opaque(id) => self.stand_ins[id.0 as usize].apply(*order, x),
                }
            }
            Node::Sum(bound, body) => {
                let size = self.sizes[store.var(*bound).range.0 as usize];
                let saved = env.get(bound).copied();
                let mut total = 0.0;
                for value in 0..size {
                    env.insert(*bound, value);
                    total += self.eval(*body, env);
                }
                match saved {
                    Some(old) => env.insert(*bound, old),
                    None => env.remove(bound),
                };
                total
            }
            Node::Delta(a, b) => {
                if env[a] == env[b] {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }

    /// The central difference of `of` with respect to `family[at]`, every
    /// family downstream of it recomputed except those `held` fixed.
    fn eval_derivative(
        &self,
        of: ExprId,
        family: FamilyId,
        held: &[FamilyId],
        at: &[usize],
        env: &mut HashMap<IndexVar, usize>,
    ) -> f64 {
        let tensor = &self.values[family.0 as usize];
        let offset = tensor.offset(at);
        let step = 1e-4 * tensor.data[offset].abs().clamp(1.0, 10.0);
        let position = self.order.iter().position(|f| *f == family).unwrap_or(0);
        let shifted = |h: f64, env: &mut HashMap<IndexVar, usize>| {
            let mut values = self.values.clone();
            values[family.0 as usize].data[offset] += h;
            let mut scratch = Instance {
                model: self.model,
                order: self.order.clone(),
                sizes: self.sizes.clone(),
                stand_ins: self.stand_ins.clone(),
                values,
                adjoints: self.adjoints.clone(),
            };
            for next in self.order[position + 1..]
                .iter()
                .filter(|f| !held.contains(f))
            {
                if scratch.compute(*next).is_err() {
                    return f64::NAN;
                }
            }
            scratch.eval(of, env)
        };
        let coarse = (shifted(step, env) - shifted(-step, env)) / (2.0 * step);
        let fine = (shifted(step / 2.0, env) - shifted(-step / 2.0, env)) / step;
        (4.0 * fine - coarse) / 3.0
    }

    /// Scales leaf data so that `sum(k, t[k]) = c` style assumptions hold.
    fn apply_assumptions(&mut self) -> Result<(), PointError> {
        for assumption in &self.model.assumptions {
            let Some((family, summed)) = summed_leaf(&self.model.store, assumption.lhs) else {
                continue;
            };
            let Some(target) = self
                .model
                .store
                .as_number(assumption.rhs)
                .and_then(|v| v.to_f64())
            else {
                continue;
            };
            let tensor = &mut self.values[family.0 as usize];
            let summed_positions: Vec<bool> = match &self
                .model
                .store
                .node(reference_of(&self.model.store, assumption.lhs))
            {
                Node::Ref(_, indices) => indices.iter().map(|v| summed.contains(v)).collect(),
                _ => continue,
            };
            // Group the elements by their unsummed positions and scale each group.
            let mut groups: HashMap<Vec<usize>, Vec<usize>> = HashMap::new();
            for (offset, at) in assignments(&tensor.dims).into_iter().enumerate() {
                let key: Vec<usize> = at
                    .iter()
                    .zip(&summed_positions)
                    .filter(|(_, s)| !**s)
                    .map(|(v, _)| *v)
                    .collect();
                groups.entry(key).or_default().push(offset);
            }
            for offsets in groups.values() {
                for offset in offsets {
                    tensor.data[*offset] = tensor.data[*offset].abs();
                }
                let total: f64 = offsets.iter().map(|o| tensor.data[*o]).sum();
                if total == 0.0 {
                    return Err(PointError::Assumption("the data sum to zero".to_string()));
                }
                for offset in offsets {
                    tensor.data[*offset] *= target / total;
                }
            }
        }
        Ok(())
    }

    /// Checks that every assumption holds at the point.
    fn check_assumptions(&self) -> Result<(), PointError> {
        for assumption in &self.model.assumptions {
            let mut free: Vec<IndexVar> = self.model.store.free_vars(assumption.lhs).to_vec();
            free.extend(self.model.store.free_vars(assumption.rhs));
            free.sort_unstable();
            free.dedup();
            let dims: Vec<usize> = free
                .iter()
                .map(|v| self.sizes[self.model.store.var(*v).range.0 as usize])
                .collect();
            for at in assignments(&dims) {
                let mut env: HashMap<IndexVar, usize> = free.iter().copied().zip(at).collect();
                let lhs = self.eval(assumption.lhs, &mut env);
                let rhs = self.eval(assumption.rhs, &mut env);
                if (lhs - rhs).abs() > 1e-9 * (1.0 + rhs.abs()) {
                    let location = self.model.source.error(assumption.span, "").location;
                    let line = location.map_or(0, |l| l.line);
                    return Err(PointError::Assumption(format!(
                        "the assumption on line {line} does not hold for drawn data, and only assumptions of the form `sum(k, t[k]) = c` over a leaf can be satisfied by scaling the data"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// `sum(k, ..., t[k, ...])` over a leaf: the leaf and the summed variables.
fn summed_leaf(store: &Store, expr: ExprId) -> Option<(FamilyId, Vec<IndexVar>)> {
    let mut summed = Vec::new();
    let mut current = expr;
    while let Node::Sum(bound, body) = store.node(current) {
        summed.push(*bound);
        current = *body;
    }
    match store.node(current) {
        Node::Ref(family, indices)
            if !summed.is_empty() && summed.iter().all(|s| indices.contains(s)) =>
        {
            Some((*family, summed))
        }
        _ => None,
    }
}

fn reference_of(store: &Store, expr: ExprId) -> ExprId {
    let mut current = expr;
    while let Node::Sum(_, body) = store.node(current) {
        current = *body;
    }
    current
}

/// Every assignment of values to positions of the given sizes, last fastest.
pub fn assignments(dims: &[usize]) -> Vec<Vec<usize>> {
    let mut all = vec![Vec::new()];
    for size in dims {
        all = all
            .into_iter()
            .flat_map(|prefix| {
                (0..*size).map(move |value| {
                    let mut next = prefix.clone();
                    next.push(value);
                    next
                })
            })
            .collect();
    }
    all
}

/// A size for every range: the declared one, or the smallest size from 2 up
/// that no other range has, so that a transposed index shows.
pub fn choose_sizes(model: &Model) -> Vec<usize> {
    let mut sizes: Vec<usize> = model
        .ranges
        .iter()
        .map(|r| r.size.map_or(0, |s| s as usize))
        .collect();
    for at in 0..sizes.len() {
        if sizes[at] == 0 {
            let mut candidate = 2;
            while sizes.contains(&candidate) {
                candidate += 1;
            }
            sizes[at] = candidate;
        }
    }
    sizes
}

/// The outcome of checking one derived result numerically.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
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
}

/// The largest relative difference from finite differences, beyond their
/// own estimated uncertainty, that a derivative may show. A wrong
/// derivative is typically off by a sizeable fraction of its value.
pub const TOLERANCE: f64 = 1e-4;

impl Verdict {
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
    /// An assumption that the drawn data cannot meet, if any.
    pub problem: Option<String>,
}

/// Whether a walk over sample points goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Visit the next assignment.
    Continue,
    /// Stop the walk.
    Stop,
}

/// Draws `points` usable points from `seed` (signed and positive data in
/// turn, up to ten tries a point), evaluates the deltas of `equations` at
/// each, and calls `visit` for every assignment of the `free` indices.
pub fn sample(
    model: &Model,
    graph: &DependencyGraph,
    equations: &[Equation],
    free: &[IndexVar],
    seed: u64,
    points: usize,
    mut visit: impl FnMut(&mut Instance<'_>, &mut HashMap<IndexVar, usize>) -> Flow,
) -> Sampling {
    let mut draws = Draws::new(seed);
    let mut instance = Instance::new(model, graph, &mut draws);
    let dims: Vec<usize> = free
        .iter()
        .map(|v| instance.sizes[model.store.var(*v).range.0 as usize])
        .collect();
    let mut sampling = Sampling::default();
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
        }
        if instance
            .evaluate_equations(equations, graph.topological_order())
            .is_err()
        {
            sampling.skipped += 1;
            continue;
        }
        sampling.points += 1;
        for at in assignments(&dims) {
            let mut env: HashMap<IndexVar, usize> = free.iter().copied().zip(at).collect();
            if visit(&mut instance, &mut env) == Flow::Stop {
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
) -> Verdict {
    let query = &derivative.query;
    let free = query.free_indices();
    let mut verdict = Verdict {
        largest_error: 0.0,
        largest_unexplained: 0.0,
        comparisons: 0,
        skipped: 0,
        problem: None,
    };
    let sampling = sample(
        model,
        graph,
        &derivative.equations,
        &free,
        seed,
        points,
        |instance, env| {
            let numerator_at: Vec<usize> = query.numerator_indices.iter().map(|v| env[v]).collect();
            let denominator_at: Vec<usize> =
                query.denominator_indices.iter().map(|v| env[v]).collect();
            let (reference, uncertainty) = instance.finite_difference(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_replayable_and_in_the_unit_interval() {
        let mut a = Draws::new(7);
        let mut b = Draws::new(7);
        for _ in 0..1000 {
            let x = a.unit();
            assert_eq!(x, b.unit());
            assert!((0.0..1.0).contains(&x));
        }
    }

    #[test]
    fn assignments_run_last_position_fastest() {
        assert_eq!(
            assignments(&[2, 2]),
            vec![vec![0, 0], vec![0, 1], vec![1, 0], vec![1, 1]]
        );
        assert_eq!(assignments(&[]), vec![Vec::<usize>::new()]);
    }
}

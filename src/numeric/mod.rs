//! Numbers as the oracle: evaluating a model forward, evaluating derived
//! results, and comparing them with central finite differences.
//!
//! Ranges get small sizes (declared, or chosen so that different ranges
//! differ), leaves get seeded random values (scaled where an `assume` line
//! asks it), and opaque functions are bound to smooth stand-ins whose
//! derivatives of every order are known. Evaluation keeps its own stack
//! and counts its work: a network or an expression too large to evaluate
//! within [`MAX_EVALUATION_WORK`] operations stops with [`PointError::TooLarge`].

pub mod finite;
pub mod sample;

use std::cell::Cell;
use std::collections::HashMap;

use num_traits::ToPrimitive;

use crate::calculus::Equation;
use crate::diagnostic::Diagnostic;
use crate::expr::functions::SmoothStandIn;
use crate::expr::{ExprId, FamilyId, Function, Index, IndexVar, Node, Store};
use crate::graph::DependencyGraph;
use crate::limits::MAX_EVALUATION_WORK;
use crate::model::{FamilyKind, LeafKind, Model};

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

/// Why a point could not be used.
#[derive(Clone, Debug, PartialEq)]
pub enum PointError {
    /// The forward computation is not finite there (a log of a negative
    /// number, an overflow).
    Undefined,
    /// An assumption does not hold for the drawn data, and cannot be made to.
    Assumption(String),
    /// Evaluating takes more than [`MAX_EVALUATION_WORK`] operations.
    TooLarge,
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
    /// Operations done so far at the current point.
    work: Cell<u64>,
    /// What the whole task may still spend, across points and instances.
    meter: &'m WorkMeter,
}

/// The operations of evaluation that one task (grading an answer, with
/// every comparison and repair it tries) may spend in all, across every
/// point and every instance it draws.
pub struct WorkMeter {
    spent: Cell<u64>,
    limit: u64,
}

impl WorkMeter {
    /// A meter allowing `limit` operations.
    pub fn new(limit: u64) -> WorkMeter {
        WorkMeter {
            spent: Cell::new(0),
            limit,
        }
    }

    /// A meter that never runs out; each point is still bounded by
    /// [`MAX_EVALUATION_WORK`].
    pub fn unlimited() -> WorkMeter {
        WorkMeter::new(u64::MAX)
    }

    /// Starts the count again, for the next task.
    pub fn restart(&self) {
        self.spent.set(0);
    }

    /// Spends one operation; false once the limit is passed.
    fn spend(&self) -> bool {
        let spent = self.spent.get().saturating_add(1);
        self.spent.set(spent);
        spent <= self.limit
    }

    /// True once the limit is passed.
    fn exhausted(&self) -> bool {
        self.spent.get() > self.limit
    }
}

impl<'m> Instance<'m> {
    /// Sizes for every range and stand-ins for every function, drawn from
    /// `draws`; `None` when the network has more elements than can be
    /// evaluated.
    pub fn new(
        model: &'m Model,
        graph: &DependencyGraph,
        draws: &mut Draws,
        meter: &'m WorkMeter,
    ) -> Option<Instance<'m>> {
        let sizes = choose_sizes(model);
        if element_count(model, &sizes) > MAX_EVALUATION_WORK {
            return None;
        }
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
        Some(Instance {
            model,
            order: graph.topological_order().to_vec(),
            sizes,
            stand_ins,
            values,
            adjoints: HashMap::new(),
            work: Cell::new(0),
            meter,
        })
    }

    /// True when evaluation has gone beyond its budget.
    pub fn over_budget(&self) -> bool {
        self.work.get() > MAX_EVALUATION_WORK || self.meter.exhausted()
    }

    /// Starts a new count of work, for the next point.
    fn reset_work(&self) {
        self.work.set(0);
    }

    /// Draws leaf values (signed when `signed`, else positive), applies the
    /// assumptions that scale data, and computes every defined family.
    pub fn draw_point(&mut self, draws: &mut Draws, signed: bool) -> Result<(), PointError> {
        self.reset_work();
        for family in self.model.family_ids() {
            if let FamilyKind::Leaf(_) = self.model.family(family).kind {
                for value in &mut self.values[family.index()].data {
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

    /// Sets every leaf element to `value(kind, position)` (its kind, and its
    /// indices counted from 0), applies the assumptions that scale data, and
    /// computes every defined family: a point chosen, not drawn.
    pub fn set_point(
        &mut self,
        value: &dyn Fn(LeafKind, &[usize]) -> f64,
    ) -> Result<(), PointError> {
        self.reset_work();
        for family in self.model.family_ids() {
            if let FamilyKind::Leaf(kind) = self.model.family(family).kind {
                let tensor = &mut self.values[family.index()];
                let positions: Vec<Vec<usize>> = assignments(&tensor.dims).collect();
                for (slot, at) in tensor.data.iter_mut().zip(&positions) {
                    *slot = value(kind, at);
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
        let dims = self.values[family.index()].dims.clone();
        let mut data = Vec::with_capacity(self.values[family.index()].data.len());
        let mut env = HashMap::new();
        for at in assignments(&dims) {
            for (slot, value) in info.slots.iter().zip(&at) {
                env.insert(*slot, *value);
            }
            let value = self.eval(definition, &mut env);
            if self.over_budget() {
                return Err(PointError::TooLarge);
            }
            if !value.is_finite() {
                return Err(PointError::Undefined);
            }
            data.push(value);
        }
        self.values[family.index()].data = data;
        Ok(())
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
            let dims = self.values[equation.family.index()].dims.clone();
            let mut tensor = Tensor::zeros(dims.clone());
            let mut env = HashMap::new();
            for (offset, at) in assignments(&dims).enumerate() {
                for (slot, value) in equation.indices.iter().zip(&at) {
                    env.insert(*slot, *value);
                }
                let value = self.eval(equation.rhs, &mut env);
                if self.over_budget() {
                    return Err(PointError::TooLarge);
                }
                if !value.is_finite() {
                    return Err(PointError::Undefined);
                }
                tensor.data[offset] = value;
            }
            self.adjoints.insert(equation.family, tensor);
        }
        Ok(())
    }

    /// The value of an expression with its free indices set by `env`. A
    /// derivative not yet taken is evaluated by central differences. NaN
    /// once the work budget is spent.
    pub fn eval(&self, expr: ExprId, env: &mut HashMap<IndexVar, usize>) -> f64 {
        /// Work of the evaluation.
        enum Task {
            Visit(ExprId),
            Apply(ExprId),
            /// A sum after `done` values of its index, with their total.
            Sum {
                bound: IndexVar,
                body: ExprId,
                done: usize,
                total: f64,
                saved: Option<usize>,
            },
        }
        let store = &self.model.store;
        let mut tasks = vec![Task::Visit(expr)];
        let mut values: Vec<f64> = Vec::new();
        while let Some(task) = tasks.pop() {
            let spent = self.work.get() + 1;
            self.work.set(spent);
            if spent > MAX_EVALUATION_WORK || !self.meter.spend() {
                return f64::NAN;
            }
            match task {
                Task::Visit(id) => match store.node(id) {
                    Node::Sum(bound, body) => tasks.push(Task::Sum {
                        bound: *bound,
                        body: *body,
                        done: 0,
                        total: 0.0,
                        saved: env.get(bound).copied(),
                    }),
                    Node::Add(_)
                    | Node::Mul(_)
                    | Node::Pow(..)
                    | Node::Call(..)
                    | Node::Extremum(..) => {
                        tasks.push(Task::Apply(id));
                        let before = tasks.len();
                        tasks.extend(store.children(id).map(Task::Visit));
                        tasks[before..].reverse();
                    }
                    _ => values.push(self.leaf(store, id, env)),
                },
                Task::Apply(id) => {
                    let count = store.children(id).count();
                    let operands = values.split_off(values.len() - count);
                    values.push(self.apply(store, id, &operands));
                }
                Task::Sum {
                    bound,
                    body,
                    done,
                    mut total,
                    saved,
                } => {
                    if done > 0 {
                        total += values.pop().expect("the body's value");
                    }
                    let size = self.sizes[store.var(bound).range.0 as usize];
                    if done == size {
                        match saved {
                            Some(old) => env.insert(bound, old),
                            None => env.remove(&bound),
                        };
                        values.push(total);
                    } else {
                        env.insert(bound, done);
                        tasks.push(Task::Sum {
                            bound,
                            body,
                            done: done + 1,
                            total,
                            saved,
                        });
                        tasks.push(Task::Visit(body));
                    }
                }
            }
        }
        values.pop().expect("the expression's value")
    }

    /// The positions (from 0) that a family's arguments name, given each
    /// variable's position; `None` when one lies outside its range.
    fn positions(
        &self,
        family: FamilyId,
        indices: &[Index],
        env: &HashMap<IndexVar, usize>,
    ) -> Option<Vec<usize>> {
        let store = &self.model.store;
        let ranges = &self.model.family(family).ranges;
        indices
            .iter()
            .zip(ranges)
            .map(|(index, range)| {
                let at = match index {
                    Index::Var(var) => env[var] as i64,
                    // Arithmetic counts positions from 1, as the language does.
                    Index::Affine(_) => store.index_value(*index, |v| env[&v] as i64 + 1) - 1,
                };
                let size = self.sizes[range.0 as usize] as i64;
                (0..size).contains(&at).then_some(at as usize)
            })
            .collect()
    }

    /// The value of a node without parts to evaluate first.
    fn leaf(&self, store: &Store, id: ExprId, env: &mut HashMap<IndexVar, usize>) -> f64 {
        match store.node(id) {
            Node::Number(value) => value.to_f64().unwrap_or(f64::NAN),
            Node::Pi => std::f64::consts::PI,
            Node::Ref(family, indices) => {
                let tensor = &self.values[family.index()];
                // An element outside its family's ranges is 0.
                match self.positions(*family, indices, env) {
                    Some(at) => tensor.data[tensor.offset(&at)],
                    None => 0.0,
                }
            }
            Node::Adjoint(family, indices) => match self.adjoints.get(family) {
                Some(tensor) => match self.positions(*family, indices, env) {
                    Some(at) => tensor.data[tensor.offset(&at)],
                    None => 0.0,
                },
                None => f64::NAN,
            },
            Node::Delta(a, b) => {
                // Positions counted from 1, as index arithmetic counts them.
                let position = |index: &Index| store.index_value(*index, |v| env[&v] as i64 + 1);
                if position(a) == position(b) { 1.0 } else { 0.0 }
            }
            Node::Derivative(of, wrt) => match self.positions(wrt.family, &wrt.indices, env) {
                Some(at) => self.eval_derivative(*of, wrt.family, &wrt.held, &at, env),
                // With respect to an element that does not exist: nothing
                // depends on it.
                None => 0.0,
            },
            _ => unreachable!("the evaluator takes compound nodes apart"),
        }
    }

    /// The value of a compound node from the values of its children.
    fn apply(&self, store: &Store, id: ExprId, operands: &[f64]) -> f64 {
        match store.node(id) {
            Node::Add(_) => operands.iter().sum(),
            Node::Mul(_) => operands.iter().product(),
            Node::Pow(_, exponent) => {
                let base = operands[0];
                match store.as_number(*exponent) {
                    Some(value) if value.is_integer() => match value.to_integer().to_i32() {
                        Some(n) => base.powi(n),
                        None => base.powf(operands[1]),
                    },
                    _ => base.powf(operands[1]),
                }
            }
            Node::Call(function, order, _) => {
                let x = operands[0];
                match function {
                    Function::Builtin(builtin) if *order == 0 => builtin.apply(x),
                    Function::Builtin(_) => f64::NAN,
                    Function::Opaque(id) => self.stand_ins[id.0 as usize].apply(*order, x),
                }
            }
            Node::Extremum(kind, ..) => kind.apply(operands[0], operands[1]),
            _ => unreachable!("only compound nodes are applied"),
        }
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
            let tensor = &mut self.values[family.index()];
            let summed_positions: Vec<bool> = match &self
                .model
                .store
                .node(reference_of(&self.model.store, assumption.lhs))
            {
                Node::Ref(_, indices) => indices
                    .iter()
                    .map(|index| index.as_var().is_some_and(|v| summed.contains(&v)))
                    .collect(),
                _ => continue,
            };
            // Group the elements by their unsummed positions and scale each group.
            let mut groups: HashMap<Vec<usize>, Vec<usize>> = HashMap::new();
            for (offset, at) in assignments(&tensor.dims).enumerate() {
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
                if self.over_budget() {
                    return Err(PointError::TooLarge);
                }
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
            if !summed.is_empty() && summed.iter().all(|s| indices.contains(&Index::Var(*s))) =>
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

/// How many elements the families of `model` have with ranges of `sizes`
/// (saturating).
pub fn element_count(model: &Model, sizes: &[usize]) -> u64 {
    model.families.iter().fold(0u64, |total, family| {
        let count = family
            .ranges
            .iter()
            .try_fold(1u64, |acc, r| acc.checked_mul(sizes[r.0 as usize] as u64));
        total.saturating_add(count.unwrap_or(u64::MAX))
    })
}

/// Refuses a network whose declared sizes give it more elements than can be
/// evaluated by numbers.
pub fn check_evaluable(model: &Model) -> Result<(), Diagnostic> {
    let sizes = choose_sizes(model);
    if element_count(model, &sizes) <= MAX_EVALUATION_WORK {
        return Ok(());
    }
    Err(too_large_to_evaluate(model))
}

/// Why a network cannot be evaluated by numbers, pointing at its largest
/// `range` line.
pub fn too_large_to_evaluate(model: &Model) -> Diagnostic {
    let message = format!(
        "with the sizes given, evaluating the network by numbers takes more than {MAX_EVALUATION_WORK} operations, the most chainrule spends"
    );
    let largest = model
        .ranges
        .iter()
        .filter_map(|r| Some((r.size?, r.size_span?)))
        .max_by_key(|(size, _)| *size);
    let error = match largest {
        Some((_, span)) => model.source.error(span, message),
        None => Diagnostic::unlocated(message),
    };
    error.with_help(
        "a derivation does not depend on the sizes: check a smaller instance of the network",
    )
}

/// Every assignment of values to positions of the given sizes, last
/// fastest, made one at a time.
pub fn assignments(dims: &[usize]) -> impl Iterator<Item = Vec<usize>> + use<> {
    let dims = dims.to_vec();
    let mut next = (!dims.contains(&0)).then(|| vec![0; dims.len()]);
    std::iter::from_fn(move || {
        let current = next.take()?;
        let mut following = current.clone();
        for position in (0..dims.len()).rev() {
            following[position] += 1;
            if following[position] < dims[position] {
                next = Some(following);
                break;
            }
            following[position] = 0;
        }
        Some(current)
    })
}

/// A size for every range: the declared one, or the smallest size from 2 up
/// that no other range has, so that a transposed index shows.
pub fn choose_sizes(model: &Model) -> Vec<usize> {
    let mut sizes: Vec<usize> = model
        .ranges
        .iter()
        .map(|r| {
            r.size
                .map_or(0, |s| usize::try_from(s).unwrap_or(usize::MAX))
        })
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
            assignments(&[2, 2]).collect::<Vec<_>>(),
            vec![vec![0, 0], vec![0, 1], vec![1, 0], vec![1, 1]]
        );
        assert_eq!(
            assignments(&[]).collect::<Vec<_>>(),
            vec![Vec::<usize>::new()]
        );
        assert_eq!(assignments(&[3, 0]).count(), 0);
    }
}

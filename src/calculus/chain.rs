//! The chain rule over the dependency graph (Bishop's eq. 5.55):
//!
//! ```text
//! dE/dX[p] = sum over successors S of X, sum over S's indices J:
//!            dE/dS[J] * dS[J]/dX[p]
//! ```
//!
//! Each family's derivative is written in variables of its own (its "at"
//! variables), so that it can be used inside a successor's sum without
//! being copied. Each definition's local derivatives are taken once, in
//! one reverse sweep, and remembered. The derivative with respect to each
//! family is then computed once, walking the families from the numerator
//! back in reverse topological order, so that a whole gradient costs time
//! linear in the network, as reverse-mode differentiation does; which
//! families matter is found by two sweeps over the topological order.
//!
//! In backprop form the families that [`Naming`] names stay as deltas;
//! written out in full, a derivative is computed both backward (as above)
//! and forward (from the denominator, through the same local derivatives),
//! and the smaller kept: forward keeps the nesting of a deep chain that
//! shares a weight, where backward would repeat it.

use crate::diagnostic::Diagnostic;
use crate::expr::{ExprId, FamilyId, Index, IndexVar, VarMap};
use crate::graph::DependencyGraph;
use crate::limits::{MAX_DERIVE_GROWTH, MAX_NUMBER_BITS, MAX_RESULT_SIZE, TooLarge};
use crate::model::{FamilyKind, LeafKind, Model, Query};
use crate::rules::StepSink;
use crate::simplify::Simplifier;

use super::deltas::Naming;
use super::local::partials;
use super::{Derivative, Equation, Form, Gradient};

/// What the engine remembers about one network between queries: the
/// simplifier with the network's facts, each family's "at" variables and
/// each definition's local derivatives.
pub struct Calculus {
    simplifier: Simplifier,
    at_vars: Vec<Option<Box<[IndexVar]>>>,
    locals: Vec<Option<Locals>>,
}

/// A definition's local derivatives: for each family it refers to (sorted),
/// the derivative with respect to it.
type Locals = Box<[(FamilyId, ExprId)]>;

impl Calculus {
    /// The memory of a new network.
    pub fn new(model: &mut Model) -> Result<Calculus, Diagnostic> {
        let simplifier =
            Simplifier::for_model(model).map_err(|e| too_large("the network's facts", e))?;
        Ok(Calculus {
            simplifier,
            at_vars: vec![None; model.families.len()],
            locals: vec![None; model.families.len()],
        })
    }
}

/// A problem while deriving: a result too large, worded for a person.
fn too_large(what: &str, error: TooLarge) -> Diagnostic {
    Diagnostic::unlocated(format!("{what} cannot be simplified: {error}"))
        .with_help("the expression is too large to work with; give intermediate families `delta` lines, or ask for the backprop form")
}

/// Derives results for one network.
pub struct Engine<'n> {
    model: &'n mut Model,
    graph: &'n DependencyGraph,
    calculus: &'n mut Calculus,
}

/// The derivatives with respect to the families that matter, each in its
/// family's "at" variables.
struct Sweep {
    exprs: Vec<Option<ExprId>>,
}

/// Which way a derivative is written out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    /// From the numerator back to the denominator.
    Backward,
    /// From the denominator forward to the numerator.
    Forward,
}

impl<'n> Engine<'n> {
    /// An engine over a network's parts.
    pub fn new(
        model: &'n mut Model,
        graph: &'n DependencyGraph,
        calculus: &'n mut Calculus,
    ) -> Engine<'n> {
        Engine {
            model,
            graph,
            calculus,
        }
    }

    /// The model.
    pub fn model(&self) -> &Model {
        self.model
    }

    /// The model, its graph and the simplifier, for the strategy of a
    /// derivation.
    pub(crate) fn parts(&mut self) -> (&mut Model, &DependencyGraph, &mut Simplifier) {
        (self.model, self.graph, &mut self.calculus.simplifier)
    }

    /// Simplifies an expression of the model with the model's facts.
    pub fn simplify(
        &mut self,
        expr: ExprId,
        sink: &mut impl StepSink,
    ) -> Result<ExprId, Diagnostic> {
        self.calculus
            .simplifier
            .simplify(&mut self.model.store, expr, sink)
            .map_err(|e| too_large("the expression", e))
    }

    /// An expression in canonical form only.
    pub fn canonical(&mut self, expr: ExprId) -> Result<ExprId, Diagnostic> {
        self.calculus
            .simplifier
            .canonical(&mut self.model.store, expr, &mut ())
            .map_err(|e| too_large("the expression", e))
    }

    /// Simplifies an expression without the model's facts.
    pub fn simplify_plain(&mut self, expr: ExprId) -> Result<ExprId, Diagnostic> {
        self.calculus
            .simplifier
            .simplify_plain(&mut self.model.store, expr, &mut ())
            .map_err(|e| too_large("the expression", e))
    }

    /// Derives a query in one form.
    pub fn derive(&mut self, query: &Query, form: Form) -> Result<Derivative, Diagnostic> {
        let (numerator, denominator) = (query.numerator, query.denominator);
        let depends = self.graph.upstream_of(numerator)[denominator.index()];
        let note = (!depends).then(|| {
            format!(
                "`{}` does not depend on `{}`, so the derivative is 0",
                self.model.family(numerator).name,
                self.model.family(denominator).name
            )
        });
        let naming = Naming::of_form(form, query.numerator_indices.is_empty());
        let relevant = self.relevant(numerator, &[denominator]);
        let names_any = self
            .model
            .family_ids()
            .any(|f| relevant[f.index()] && naming.names(self.model, numerator, f));
        let (result, equations) = if names_any {
            let sweep = self.backward(numerator, &query.numerator_indices, &relevant, naming)?;
            let result = self.result_at(&sweep, denominator, &query.denominator_indices)?;
            let equations = self.equations_for(&sweep, result)?;
            (result, equations)
        } else {
            (self.written_out(query, &relevant)?, Vec::new())
        };
        Ok(Derivative {
            query: query.clone(),
            form,
            result,
            equations,
            note,
        })
    }

    /// The derivative of a scalar `objective` with respect to `families`,
    /// each at its own indices, in backprop form: each result with the
    /// equations of every delta the results use, nearest first.
    pub fn system(
        &mut self,
        objective: FamilyId,
        families: &[FamilyId],
    ) -> Result<(Vec<ExprId>, Vec<Equation>), Diagnostic> {
        let relevant = self.relevant(objective, families);
        let sweep = self.backward(objective, &[], &relevant, Naming::Declared)?;
        let mut results = Vec::new();
        let mut equations: Vec<Equation> = Vec::new();
        let mut listed = vec![false; relevant.len()];
        for family in families {
            let slots = self.model.family(*family).slots.clone();
            let result = self.result_at(&sweep, *family, &slots)?;
            for equation in self.equations_for(&sweep, result)? {
                if !std::mem::replace(&mut listed[equation.family.index()], true) {
                    equations.push(equation);
                }
            }
            results.push(result);
        }
        Ok((results, equations))
    }

    /// The whole gradient of a scalar objective with respect to every
    /// parameter, as one shared system of deltas.
    pub fn gradient(&mut self, objective: FamilyId) -> Result<Gradient, Diagnostic> {
        let parameters: Vec<FamilyId> = self
            .model
            .family_ids()
            .filter(|f| self.model.family(*f).kind == FamilyKind::Leaf(LeafKind::Param))
            .collect();
        let relevant = self.relevant(objective, &parameters);
        let sweep = self.backward(objective, &[], &relevant, Naming::Every)?;
        let mut results = Vec::new();
        for parameter in parameters {
            let slots = self.model.family(parameter).slots.clone();
            results.push((parameter, self.result_at(&sweep, parameter, &slots)?));
        }
        let mut equations = Vec::new();
        for family in self.graph.topological_order().iter().rev() {
            if relevant[family.index()] && Naming::Every.names(self.model, objective, *family) {
                equations.push(self.equation(&sweep, *family)?);
            }
        }
        Ok(Gradient {
            objective,
            parameters: results,
            equations,
        })
    }

    /// For each family, whether it lies between the sources and the
    /// numerator: two sweeps over the topological order.
    fn relevant(&self, numerator: FamilyId, sources: &[FamilyId]) -> Vec<bool> {
        let upstream = self.graph.upstream_of(numerator);
        let downstream = self.graph.downstream_of(sources);
        upstream
            .iter()
            .zip(&downstream)
            .map(|(up, down)| *up && *down)
            .collect()
    }

    /// The variables in which the derivative with respect to `family` is
    /// written: fresh ones, made once per family.
    fn at_vars(&mut self, family: FamilyId) -> Box<[IndexVar]> {
        if let Some(vars) = &self.calculus.at_vars[family.index()] {
            return vars.clone();
        }
        let slots = self.model.family(family).slots.clone();
        let vars: Box<[IndexVar]> = slots
            .iter()
            .map(|s| self.model.store.fresh_like(*s))
            .collect();
        self.calculus.at_vars[family.index()] = Some(vars.clone());
        vars
    }

    /// `dS[at_S]/dX[at_X]`, the local derivative of `successor`'s
    /// definition with respect to `family`, every other family held fixed.
    /// All of a definition's local derivatives are taken in one sweep, the
    /// first time one is asked for.
    fn local(&mut self, successor: FamilyId, family: FamilyId) -> Result<ExprId, Diagnostic> {
        if self.calculus.locals[successor.index()].is_none() {
            let computed = self.take_locals(successor)?;
            self.calculus.locals[successor.index()] = Some(computed);
        }
        let locals = self.calculus.locals[successor.index()]
            .as_ref()
            .expect("taken above");
        Ok(match locals.binary_search_by_key(&family, |(f, _)| *f) {
            Ok(at) => locals[at].1,
            Err(_) => self.model.store.int(0),
        })
    }

    fn take_locals(&mut self, successor: FamilyId) -> Result<Locals, Diagnostic> {
        let info = self.model.family(successor).clone();
        let definition = info.definition.expect("a successor is defined");
        let at_successor = self.at_vars(successor);
        let rename: VarMap = info
            .slots
            .iter()
            .copied()
            .zip(at_successor.iter().copied())
            .collect();
        let instance = self.model.store.substitute_vars(definition, &rename);
        let mut occurrences = partials(&mut self.model.store, instance);
        // Grouped by family, in the order the sweep found them within each.
        occurrences.sort_by_key(|o| o.family);
        let mut locals = Vec::new();
        for group in occurrences.chunk_by(|a, b| a.family == b.family) {
            let family = group[0].family;
            let at = self.at_vars(family);
            let store = &mut self.model.store;
            let terms: Vec<ExprId> = group
                .iter()
                .map(|o| {
                    let deltas = store.deltas_at(&o.indices, &Index::of_vars(&at));
                    let term = store.mul(vec![o.coefficient, deltas]);
                    store.sums(&o.binders, term)
                })
                .collect();
            let raw = store.add(terms);
            let local = self.simplify(raw, &mut ())?;
            locals.push((family, local));
        }
        Ok(locals.into_boxed_slice())
    }

    /// The derivative of `numerator[numerator_indices]` with respect to
    /// every relevant family, backward; families that `naming` names are
    /// referred to by their deltas instead of being written out.
    fn backward(
        &mut self,
        numerator: FamilyId,
        numerator_indices: &[IndexVar],
        relevant: &[bool],
        naming: Naming,
    ) -> Result<Sweep, Diagnostic> {
        let start = self.model.store.len();
        let mut exprs: Vec<Option<ExprId>> = vec![None; relevant.len()];
        for &family in self.graph.topological_order().iter().rev() {
            if !relevant[family.index()] {
                continue;
            }
            let at = self.at_vars(family);
            let expr = if family == numerator {
                self.model.store.deltas(numerator_indices, &at)
            } else {
                let mut terms = Vec::new();
                for &successor in self.graph.successors(family) {
                    if !relevant[successor.index()] {
                        continue;
                    }
                    let at_successor = self.at_vars(successor);
                    let upstream = if naming.names(self.model, numerator, successor) {
                        self.model.store.adjoint(successor, &at_successor)
                    } else {
                        exprs[successor.index()].expect("successors come first")
                    };
                    let local = self.local(successor, family)?;
                    let store = &mut self.model.store;
                    let product = store.mul(vec![upstream, local]);
                    terms.push(store.sums(&at_successor, product));
                }
                let raw = self.model.store.add(terms);
                self.simplify(raw, &mut ())?
            };
            self.check_size(family, expr, start, naming != Naming::Nothing)?;
            exprs[family.index()] = Some(expr);
        }
        Ok(Sweep { exprs })
    }

    /// The derivative of the query's numerator with respect to every
    /// relevant family, forward from the denominator: `dF/dX` for each `F`
    /// from the local derivatives of `F`'s definition and the derivatives
    /// of the families it refers to. The result is `dN/dX`, in the
    /// numerator's "at" variables and fresh variables for the denominator.
    fn forward(
        &mut self,
        query: &Query,
        relevant: &[bool],
        denominator_at: &[IndexVar],
    ) -> Result<ExprId, Diagnostic> {
        let start = self.model.store.len();
        let mut exprs: Vec<Option<ExprId>> = vec![None; relevant.len()];
        for &family in self.graph.topological_order() {
            if !relevant[family.index()] {
                continue;
            }
            let at = self.at_vars(family);
            let expr = if family == query.denominator {
                self.model.store.deltas(&at, denominator_at)
            } else {
                let mut terms = Vec::new();
                for &predecessor in self.graph.predecessors(family) {
                    let Some(tangent) = exprs[predecessor.index()] else {
                        continue;
                    };
                    let at_predecessor = self.at_vars(predecessor);
                    let local = self.local(family, predecessor)?;
                    let store = &mut self.model.store;
                    let product = store.mul(vec![local, tangent]);
                    terms.push(store.sums(&at_predecessor, product));
                }
                let raw = self.model.store.add(terms);
                self.simplify(raw, &mut ())?
            };
            self.check_size(family, expr, start, false)?;
            exprs[family.index()] = Some(expr);
        }
        Ok(exprs[query.numerator.index()].unwrap_or_else(|| self.model.store.int(0)))
    }

    /// A query's derivative written out in full: backward and forward, and
    /// forward kept only when it is less than half the size (backward reads
    /// as Bishop does; forward keeps the nesting of a deep chain).
    fn written_out(&mut self, query: &Query, relevant: &[bool]) -> Result<ExprId, Diagnostic> {
        let mut tried = Vec::new();
        for direction in [Direction::Backward, Direction::Forward] {
            let result = match direction {
                Direction::Backward => self
                    .backward(
                        query.numerator,
                        &query.numerator_indices,
                        relevant,
                        Naming::Nothing,
                    )
                    .and_then(|sweep| {
                        self.result_at(&sweep, query.denominator, &query.denominator_indices)
                    }),
                Direction::Forward => {
                    let slots = self.model.family(query.denominator).slots.clone();
                    let fresh: Vec<IndexVar> = slots
                        .iter()
                        .map(|s| self.model.store.fresh_like(*s))
                        .collect();
                    self.forward(query, relevant, &fresh).and_then(|result| {
                        let mut map: VarMap = fresh
                            .iter()
                            .copied()
                            .zip(query.denominator_indices.iter().copied())
                            .collect();
                        let at = self.at_vars(query.numerator);
                        map.extend(
                            at.iter()
                                .copied()
                                .zip(query.numerator_indices.iter().copied()),
                        );
                        let placed = self.model.store.substitute_vars(result, &map);
                        self.simplify(placed, &mut ())
                    })
                }
            };
            tried.push(result);
        }
        let forward = tried.pop().expect("two directions");
        let backward = tried.pop().expect("two directions");
        let size = |expr: ExprId| self.model.store.tree_size(expr);
        match (backward, forward) {
            (Ok(b), Ok(f)) => Ok(if 2 * size(f) < size(b) { f } else { b }),
            (Ok(b), Err(_)) => Ok(b),
            (Err(_), Ok(f)) => Ok(f),
            (Err(error), Err(_)) => Err(error),
        }
    }

    /// Refuses a derivative that has grown too large to write out.
    fn check_size(
        &self,
        family: FamilyId,
        expr: ExprId,
        start: usize,
        named: bool,
    ) -> Result<(), Diagnostic> {
        let store = &self.model.store;
        let name = &self.model.family(family).name;
        let help = if named {
            "give more intermediate families `delta` lines, so that the backprop form shares them, or use `chainrule grad`"
        } else {
            "give intermediate families `delta` lines and ask for the backprop form, which shares each delta, or use `chainrule grad`"
        };
        if store.tree_size(expr) > MAX_RESULT_SIZE {
            return Err(Diagnostic::unlocated(format!(
                "the derivative with respect to `{name}` grows beyond {MAX_RESULT_SIZE} nodes when written out"
            ))
            .with_help(help));
        }
        if store.len() - start > MAX_DERIVE_GROWTH {
            return Err(Diagnostic::unlocated(format!(
                "deriving up to `{name}` takes more than {MAX_DERIVE_GROWTH} expression nodes"
            ))
            .with_help(help));
        }
        if store.largest_number_bits() > MAX_NUMBER_BITS {
            return Err(Diagnostic::unlocated(format!(
                "a coefficient of the derivative with respect to `{name}` grows beyond {MAX_NUMBER_BITS} bits"
            )));
        }
        Ok(())
    }

    /// The derivative with respect to `family` at indices `at`.
    fn result_at(
        &mut self,
        sweep: &Sweep,
        family: FamilyId,
        at: &[IndexVar],
    ) -> Result<ExprId, Diagnostic> {
        let Some(expr) = sweep.exprs[family.index()] else {
            return Ok(self.model.store.int(0));
        };
        let own = self.at_vars(family);
        let map: VarMap = own.iter().copied().zip(at.iter().copied()).collect();
        let placed = self.model.store.substitute_vars(expr, &map);
        self.simplify(placed, &mut ())
    }

    /// The delta equation of one family, in its own index names.
    fn equation(&mut self, sweep: &Sweep, family: FamilyId) -> Result<Equation, Diagnostic> {
        let indices = self.model.family(family).slots.clone();
        let rhs = self.result_at(sweep, family, &indices)?;
        Ok(Equation {
            family,
            indices,
            rhs,
        })
    }

    /// The equations of every delta that `root` refers to, transitively,
    /// in the order they are first met.
    fn equations_for(&mut self, sweep: &Sweep, root: ExprId) -> Result<Vec<Equation>, Diagnostic> {
        let mut equations: Vec<Equation> = Vec::new();
        let mut done = vec![false; sweep.exprs.len()];
        let mut queue = self.model.store.adjoint_families(root);
        let mut position = 0;
        while position < queue.len() {
            let family = queue[position];
            position += 1;
            if std::mem::replace(&mut done[family.index()], true) {
                continue;
            }
            let equation = self.equation(sweep, family)?;
            queue.extend(self.model.store.adjoint_families(equation.rhs));
            equations.push(equation);
        }
        Ok(equations)
    }
}

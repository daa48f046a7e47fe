//! The chain rule over the dependency graph (Bishop's eq. 5.55):
//!
//! ```text
//! dE/dX[p] = sum over successors S of X, sum over S's indices J:
//!            dE/dS[J] * dS[J]/dX[p]
//! ```
//!
//! The derivative with respect to each family is computed once, walking the
//! families from the objective back in reverse topological order, so that a
//! whole gradient costs time linear in the graph, as reverse-mode
//! differentiation does. In backprop form the families named by `delta`
//! lines stay as symbols (Bishop's deltas); in expanded form every
//! derivative is written out.

use std::collections::{HashMap, HashSet};

use crate::diagnostic::Diagnostic;
use crate::differentiate::derivative;
use crate::expr::{ExprId, FamilyId, IndexVar, Node, Store, VarMap};
use crate::graph::DependencyGraph;
use crate::model::{FamilyKind, Model, Query};
use crate::simplify::{Facts, Simplifier};

/// Largest expression (as a tree) an expanded derivative may grow to.
pub const MAX_RESULT_SIZE: usize = 200_000;
/// Largest numerator or denominator, in bits, that a result may hold.
pub const MAX_NUMBER_BITS: u64 = 4_096;

/// Which form a result takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// In terms of the deltas that `delta` lines name, as a system.
    Backprop,
    /// In terms of leaves and forward quantities only.
    Expanded,
}

/// One equation of a backprop system: `delta_family[indices] = rhs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Equation {
    /// The family whose delta this defines.
    pub family: FamilyId,
    /// The family's own index names.
    pub indices: Vec<IndexVar>,
    /// The right-hand side, in terms of other deltas.
    pub rhs: ExprId,
}

/// A derived result in one form.
#[derive(Clone, Debug)]
pub struct Derivative {
    /// What was asked.
    pub query: Query,
    /// The form of `result`.
    pub form: Form,
    /// The result; in backprop form its deltas are defined by `equations`.
    pub result: ExprId,
    /// The deltas `result` refers to, each defined once, nearest first
    /// (empty in expanded form).
    pub equations: Vec<Equation>,
    /// A remark for the reader, such as why the result is 0.
    pub note: Option<String>,
}

/// The derivative of an objective with respect to every parameter.
#[derive(Clone, Debug)]
pub struct Gradient {
    /// The objective.
    pub objective: FamilyId,
    /// For each parameter (in declaration order), its derivative in terms of deltas.
    pub parameters: Vec<(FamilyId, ExprId)>,
    /// The delta of every computed family between the parameters and the
    /// objective, each written once, from the objective backwards.
    pub equations: Vec<Equation>,
}

/// Derives results for one model.
pub struct Engine<'m> {
    model: &'m mut Model,
    graph: &'m DependencyGraph,
    simplifier: Simplifier,
}

/// The derivative of the numerator with respect to one family, in terms of
/// fresh index variables `slots`.
#[derive(Clone, Debug)]
struct Adjoint {
    slots: Vec<IndexVar>,
    expr: ExprId,
}

impl<'m> Engine<'m> {
    /// An engine over a model and its graph.
    pub fn new(model: &'m mut Model, graph: &'m DependencyGraph) -> Engine<'m> {
        let facts = Facts::of_model(model);
        Engine {
            model,
            graph,
            simplifier: Simplifier::new(facts),
        }
    }

    /// The model.
    pub fn model(&self) -> &Model {
        self.model
    }

    /// The model, its graph and the simplifier, for the derivation of steps.
    pub(crate) fn parts(&mut self) -> (&mut Model, &DependencyGraph, &mut Simplifier) {
        (self.model, self.graph, &mut self.simplifier)
    }

    /// Simplifies an expression of the model's store with the model's facts.
    pub fn simplify(&mut self, expr: ExprId) -> ExprId {
        self.simplifier.simplify(&mut self.model.store, expr)
    }

    /// Derives a query in one form.
    pub fn derive(&mut self, query: &Query, form: Form) -> Result<Derivative, Diagnostic> {
        let numerator = query.numerator;
        let denominator = query.denominator;
        let depends = self.graph.ancestors(numerator).contains(&denominator);
        let note = (!depends).then(|| {
            format!(
                "`{}` does not depend on `{}`, so the derivative is 0",
                self.model.family(numerator).name,
                self.model.family(denominator).name
            )
        });
        // Deltas are derivatives of a scalar; a Jacobian has none.
        let symbolic: HashSet<FamilyId> =
            if form == Form::Backprop && query.numerator_indices.is_empty() {
                self.model
                    .family_ids()
                    .filter(|f| *f != numerator && self.model.family(*f).delta_latex.is_some())
                    .collect()
            } else {
                HashSet::new()
            };
        let adjoints = self.adjoints(
            numerator,
            &query.numerator_indices,
            &[denominator],
            &symbolic,
        )?;
        let result = self.result_at(&adjoints, denominator, &query.denominator_indices);
        let equations = self.equations_for(&adjoints, &[result]);
        Ok(Derivative {
            query: query.clone(),
            form,
            result,
            equations,
            note,
        })
    }

    /// The whole gradient of a scalar objective with respect to every
    /// parameter, as one shared system of deltas.
    pub fn gradient(&mut self, objective: FamilyId) -> Result<Gradient, Diagnostic> {
        let parameters: Vec<FamilyId> = self
            .model
            .family_ids()
            .filter(|f| {
                self.model.family(*f).kind == FamilyKind::Leaf(crate::syntax::ast::LeafKind::Param)
            })
            .collect();
        let ancestors = self.graph.ancestors(objective);
        let mut between = HashSet::new();
        for parameter in &parameters {
            if ancestors.contains(parameter) {
                between.extend(
                    self.graph
                        .descendants(*parameter)
                        .intersection(&ancestors)
                        .copied(),
                );
            }
        }
        let symbolic: HashSet<FamilyId> = between
            .iter()
            .copied()
            .filter(|f| *f != objective && self.model.family(*f).kind == FamilyKind::Defined)
            .collect();
        let adjoints = self.adjoints(objective, &[], &parameters, &symbolic)?;
        let mut results = Vec::new();
        for parameter in parameters {
            let slots = self.model.family(parameter).slots.clone();
            let result = self.result_at(&adjoints, parameter, &slots);
            results.push((parameter, result));
        }
        let mut equations = Vec::new();
        for family in self.graph.topological_order().iter().rev() {
            if symbolic.contains(family) {
                equations.push(self.equation(&adjoints, *family));
            }
        }
        Ok(Gradient {
            objective,
            parameters: results,
            equations,
        })
    }

    /// The derivative of `numerator[numerator_indices]` with respect to every
    /// family between the sources and the numerator. Families in `symbolic`
    /// are referred to by their delta instead of being written out.
    fn adjoints(
        &mut self,
        numerator: FamilyId,
        numerator_indices: &[IndexVar],
        sources: &[FamilyId],
        symbolic: &HashSet<FamilyId>,
    ) -> Result<HashMap<FamilyId, Adjoint>, Diagnostic> {
        let ancestors = self.graph.ancestors(numerator);
        let mut relevant = HashSet::new();
        for source in sources {
            if ancestors.contains(source) {
                relevant.extend(
                    self.graph
                        .descendants(*source)
                        .intersection(&ancestors)
                        .copied(),
                );
            }
        }
        let mut adjoints: HashMap<FamilyId, Adjoint> = HashMap::new();
        for &family in self.graph.topological_order().iter().rev() {
            if !relevant.contains(&family) {
                continue;
            }
            let slots: Vec<IndexVar> = self
                .model
                .family(family)
                .slots
                .clone()
                .into_iter()
                .map(|s| self.model.store.fresh_like(s))
                .collect();
            let expr = if family == numerator {
                let store = &mut self.model.store;
                let deltas: Vec<ExprId> = numerator_indices
                    .iter()
                    .zip(&slots)
                    .map(|(q, s)| store.delta(*q, *s))
                    .collect();
                store.mul(deltas)
            } else {
                let mut terms = Vec::new();
                for successor in self.graph.successors(family) {
                    if !relevant.contains(&successor) {
                        continue;
                    }
                    terms.push(self.successor_term(&adjoints, symbolic, successor, family, &slots));
                }
                let raw = self.model.store.add(terms);
                self.simplify(raw)
            };
            if self.model.store.tree_size(expr, MAX_RESULT_SIZE) >= MAX_RESULT_SIZE {
                let help = if symbolic.is_empty() {
                    "give intermediate families `delta` lines and ask for the backprop form, which shares each delta, or use `chainrule grad`"
                } else {
                    "give more intermediate families `delta` lines, so that the backprop form shares them, or use `chainrule grad`"
                };
                return Err(Diagnostic::unlocated(format!(
                    "the derivative with respect to `{}` grows beyond {MAX_RESULT_SIZE} terms when written out",
                    self.model.family(family).name
                ))
                .with_help(help));
            }
            if self.model.store.largest_number_bits() > MAX_NUMBER_BITS {
                return Err(Diagnostic::unlocated(format!(
                    "a coefficient of the derivative with respect to `{}` grows beyond {MAX_NUMBER_BITS} bits",
                    self.model.family(family).name
                )));
            }
            adjoints.insert(family, Adjoint { slots, expr });
        }
        Ok(adjoints)
    }

    /// `sum over J: dE/dS[J] * dS[J]/dX[slots]` for one successor S of X.
    fn successor_term(
        &mut self,
        adjoints: &HashMap<FamilyId, Adjoint>,
        symbolic: &HashSet<FamilyId>,
        successor: FamilyId,
        family: FamilyId,
        slots: &[IndexVar],
    ) -> ExprId {
        let info = self.model.family(successor).clone();
        let store = &mut self.model.store;
        let outer: Vec<IndexVar> = info.slots.iter().map(|s| store.fresh_like(*s)).collect();
        let rename: VarMap = info
            .slots
            .iter()
            .copied()
            .zip(outer.iter().copied())
            .collect();
        let upstream = if symbolic.contains(&successor) {
            store.adjoint(successor, &outer)
        } else {
            let known = &adjoints[&successor];
            let map: VarMap = known
                .slots
                .iter()
                .copied()
                .zip(outer.iter().copied())
                .collect();
            store.instantiate(known.expr, &map)
        };
        let definition = info.definition.expect("a successor is defined");
        let instance = store.instantiate(definition, &rename);
        let local = derivative(store, instance, family, slots);
        let mut term = store.mul(vec![upstream, local]);
        for index in outer.iter().rev() {
            term = store.sum(*index, term);
        }
        term
    }

    /// The derivative with respect to `family` at the query's indices.
    fn result_at(
        &mut self,
        adjoints: &HashMap<FamilyId, Adjoint>,
        family: FamilyId,
        at: &[IndexVar],
    ) -> ExprId {
        let Some(known) = adjoints.get(&family) else {
            return self.model.store.int(0);
        };
        let map: VarMap = known
            .slots
            .iter()
            .copied()
            .zip(at.iter().copied())
            .collect();
        let placed = self.model.store.substitute_vars(known.expr, &map);
        self.simplify(placed)
    }

    /// The delta equation of one family, in its own index names.
    fn equation(&mut self, adjoints: &HashMap<FamilyId, Adjoint>, family: FamilyId) -> Equation {
        let indices = self.model.family(family).slots.clone();
        let rhs = self.result_at(adjoints, family, &indices);
        Equation {
            family,
            indices,
            rhs,
        }
    }

    /// The equations of every delta that `roots` refer to, transitively,
    /// in the order they are first met.
    fn equations_for(
        &mut self,
        adjoints: &HashMap<FamilyId, Adjoint>,
        roots: &[ExprId],
    ) -> Vec<Equation> {
        let mut equations = Vec::new();
        let mut done = HashSet::new();
        let mut queue: Vec<FamilyId> = Vec::new();
        for root in roots {
            queue.extend(adjoint_families(&self.model.store, *root));
        }
        let mut position = 0;
        while position < queue.len() {
            let family = queue[position];
            position += 1;
            if !done.insert(family) {
                continue;
            }
            let equation = self.equation(adjoints, family);
            queue.extend(adjoint_families(&self.model.store, equation.rhs));
            equations.push(equation);
        }
        equations
    }
}

/// The families whose deltas an expression refers to, in order of appearance.
pub fn adjoint_families(store: &Store, expr: ExprId) -> Vec<FamilyId> {
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![expr];
    while let Some(next) = stack.pop() {
        if !seen.insert(next) {
            continue;
        }
        if let Node::Adjoint(family, _) = store.node(next)
            && !found.contains(family)
        {
            found.push(*family);
        }
        let mut children = store.children(next);
        children.reverse();
        stack.extend(children);
    }
    found
}

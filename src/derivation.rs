//! Step-by-step derivations, as Bishop writes them (PRML eqs. 5.48 to 5.56).
//!
//! A derivation is a chain `lhs = e1 = e2 = ... = result`. Each link is an
//! expression of the store, made by applying named rules to the one before:
//! derivatives not yet taken are `Node::Derivative`s, and each round takes
//! them one rule (or, for a textbook, one definition) further. The steps are
//! therefore the computation itself, recorded as values; every link is a
//! true equation, which the tests check numerically (a derivative not yet
//! taken evaluates by finite differences).
//!
//! The first step is the chain rule over the units that the queried unit
//! sends connections to (eq. 5.55): the nearest families downstream that
//! have deltas, or, when none lies between it and the objective, its
//! immediate successors, each with a term of its own.

use std::collections::HashSet;

use crate::chain::{Engine, Equation, Form};
use crate::diagnostic::Diagnostic;
use crate::expr::{ExprId, FamilyId, Function, IndexVar, Node, Store, VarMap, Wrt};
use crate::functions::builtin_derivative;
use crate::graph::DependencyGraph;
use crate::model::{FamilyKind, Model, Query};
use crate::simplify::Simplifier;

/// The rules a link of a derivation may apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The chain rule summed over the units a unit sends connections to.
    ChainRuleSuccessors,
    /// A derivative of the objective named by its delta.
    DeltaDefinition,
    /// A family replaced by its definition.
    Definition,
    /// The derivative of a sum is the sum of the derivatives.
    SumDerivative,
    /// The derivative of a sum of terms is the sum of their derivatives.
    Linearity,
    /// A factor that does not depend leaves the derivative.
    ConstantFactor,
    /// The product rule.
    ProductRule,
    /// The power rule.
    PowerRule,
    /// The chain rule through a function: `f(u)' = f'(u) u'`.
    ActivationDerivative,
    /// An element differentiated by an element of its own family.
    KroneckerDelta,
    /// A derivative that does not depend is 0.
    Constant,
    /// Results derived apart put back in place.
    Substitution,
    /// A Kronecker delta collapses the sum over one of its indices.
    KroneckerCollapse,
    /// A formula replaced by the forward quantity it defines.
    ForwardQuantity,
    /// An `assume` line applied.
    Assumption,
    /// Canonical form: like terms, factors, order.
    Simplify,
}

impl Rule {
    /// The stable id of the rule.
    pub fn id(self) -> &'static str {
        match self {
            Rule::ChainRuleSuccessors => "chain-rule-successors",
            Rule::DeltaDefinition => "delta-definition",
            Rule::Definition => "definition",
            Rule::SumDerivative => "sum-derivative",
            Rule::Linearity => "linearity",
            Rule::ConstantFactor => "constant-factor",
            Rule::ProductRule => "product-rule",
            Rule::PowerRule => "power-rule",
            Rule::ActivationDerivative => "activation-derivative",
            Rule::KroneckerDelta => "kronecker-delta",
            Rule::Constant => "constant",
            Rule::Substitution => "substitution",
            Rule::KroneckerCollapse => "kronecker-collapse",
            Rule::ForwardQuantity => "forward-quantity",
            Rule::Assumption => "assumption",
            Rule::Simplify => "simplify",
        }
    }
}

/// A piece of a reason: words, or a formula to print in the output's format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReasonPart {
    /// Plain words.
    Words(String),
    /// A formula.
    Formula(ExprId),
    /// An equation `lhs = rhs`.
    Equation(ExprId, ExprId),
}

/// One link: `= expr`, by `rules`, because `reason`.
#[derive(Clone, Debug)]
pub struct Step {
    /// The rules applied, in order.
    pub rules: Vec<Rule>,
    /// Why, in words and formulas.
    pub reason: Vec<ReasonPart>,
    /// The expression the link arrives at.
    pub expr: ExprId,
    /// Derivations made apart and used by this link.
    pub lemmas: Vec<Derivation>,
}

/// A chain of equalities from `lhs` to the last step's expression.
#[derive(Clone, Debug)]
pub struct Derivation {
    /// What is derived (a derivative not yet taken).
    pub lhs: ExprId,
    /// The links.
    pub steps: Vec<Step>,
}

impl Derivation {
    /// The expression the derivation arrives at.
    pub fn result(&self) -> ExprId {
        self.steps.last().map_or(self.lhs, |s| s.expr)
    }
}

/// How many steps a derivation shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    /// The steps a textbook shows: one definition expanded a link.
    Textbook,
    /// Every rule application its own link.
    Full,
}

/// A derivation of a query and of every delta its result uses.
#[derive(Clone, Debug)]
pub struct Report {
    /// What was asked.
    pub query: Query,
    /// The query's derivation.
    pub main: Derivation,
    /// For each delta the derivation uses: its family, indices and derivation.
    pub deltas: Vec<(FamilyId, Vec<IndexVar>, Derivation)>,
    /// The equation of every delta the derivations use.
    pub equations: Vec<Equation>,
}

/// Derives `query` step by step, and each delta of its backprop form.
pub fn derive_steps(
    engine: &mut Engine<'_>,
    query: &Query,
    verbosity: Verbosity,
) -> Result<Report, Diagnostic> {
    let target = engine.derive(query, Form::Backprop)?;
    let main = {
        let (model, graph, simplifier) = engine.parts();
        let mut deriver = Deriver {
            model,
            graph,
            simplifier,
            verbosity,
            deltas: query.numerator_indices.is_empty(),
        };
        deriver.derivation(
            query.numerator,
            &query.numerator_indices,
            query.denominator,
            &query.denominator_indices,
            Some(target.result),
        )
    };
    // Every delta that a link uses gets its equation and its derivation,
    // nearest first.
    let mut equations: Vec<Equation> = Vec::new();
    let mut queue: Vec<FamilyId> = Vec::new();
    collect_adjoints(&engine.model().store, &main, &mut queue);
    for equation in &target.equations {
        if !queue.contains(&equation.family) {
            queue.push(equation.family);
        }
    }
    let mut deltas = Vec::new();
    let mut position = 0;
    while position < queue.len() {
        let family = queue[position];
        position += 1;
        let equation = match target.equations.iter().find(|e| e.family == family) {
            Some(known) => known.clone(),
            None => {
                let delta_query = Query::delta(engine.model(), query.numerator, family);
                let slots = delta_query.denominator_indices.clone();
                let derived = engine.derive(&delta_query, Form::Backprop)?;
                for more in derived.equations {
                    if !queue.contains(&more.family) {
                        queue.push(more.family);
                    }
                    if !equations.iter().any(|e| e.family == more.family) {
                        equations.push(more);
                    }
                }
                Equation {
                    family,
                    indices: slots,
                    rhs: derived.result,
                }
            }
        };
        let (model, graph, simplifier) = engine.parts();
        let mut deriver = Deriver {
            model,
            graph,
            simplifier,
            verbosity,
            deltas: true,
        };
        let derivation = deriver.derivation(
            query.numerator,
            &[],
            family,
            &equation.indices,
            Some(equation.rhs),
        );
        collect_adjoints(&engine.model().store, &derivation, &mut queue);
        deltas.push((family, equation.indices.clone(), derivation));
        if !equations.iter().any(|e| e.family == family) {
            equations.push(equation);
        }
    }
    Ok(Report {
        query: query.clone(),
        main,
        deltas,
        equations,
    })
}

/// The families whose deltas a derivation's links (and lemmas) refer to.
fn collect_adjoints(store: &Store, derivation: &Derivation, found: &mut Vec<FamilyId>) {
    for step in &derivation.steps {
        for family in crate::chain::adjoint_families(store, step.expr) {
            if !found.contains(&family) {
                found.push(family);
            }
        }
        for lemma in &step.lemmas {
            collect_adjoints(store, lemma, found);
        }
    }
}

/// One term of the chain rule: the unit with its derivative of the objective
/// (as written, and as named by a delta), and the local derivative.
struct UnitTerm {
    upstream: Option<(FamilyId, ExprId, ExprId)>,
    local: ExprId,
}

struct Deriver<'a> {
    model: &'a mut Model,
    graph: &'a DependencyGraph,
    simplifier: &'a mut Simplifier,
    verbosity: Verbosity,
    /// Deltas are derivatives of a scalar objective; a Jacobian has none.
    deltas: bool,
}

impl Deriver<'_> {
    fn store(&mut self) -> &mut Store {
        &mut self.model.store
    }

    /// `family` at the index names of its own declaration: `z_j`, `a_k`.
    fn at_own_indices(&mut self, family: FamilyId) -> ExprId {
        let slots = self.model.family(family).slots.clone();
        self.model.store.reference(family, &slots)
    }

    fn has_delta(&self, family: FamilyId) -> bool {
        self.deltas && self.model.family(family).delta_latex.is_some()
    }

    /// The derivation of d numerator[q] / d wrt[p], ending at `target` when given.
    fn derivation(
        &mut self,
        numerator: FamilyId,
        q: &[IndexVar],
        wrt: FamilyId,
        p: &[IndexVar],
        target: Option<ExprId>,
    ) -> Derivation {
        let top = self.store().reference(numerator, q);
        let whole = Wrt {
            family: wrt,
            indices: p.into(),
            held: Box::new([]),
        };
        let lhs = self.store().derivative(top, whole.clone());
        let mut derivation = Derivation {
            lhs,
            steps: Vec::new(),
        };
        let ancestors = self.graph.ancestors(numerator);
        if numerator == wrt || !ancestors.contains(&wrt) {
            self.expand_all(&mut derivation, lhs);
        } else {
            let frontier = self.frontier(numerator, wrt);
            if frontier == [numerator] {
                self.expand_all(&mut derivation, lhs);
            } else {
                self.chain_rule(&mut derivation, numerator, q, wrt, p, &frontier);
            }
        }
        self.finish(&mut derivation, target);
        derivation
    }

    /// The units `wrt` sends connections to, for the first step: the nearest
    /// families with deltas on the way to the numerator, or the numerator
    /// itself; when that is all, `wrt`'s immediate successors.
    fn frontier(&self, numerator: FamilyId, wrt: FamilyId) -> Vec<FamilyId> {
        let ancestors = self.graph.ancestors(numerator);
        let mut frontier = Vec::new();
        let mut seen = HashSet::new();
        let mut stack = self.graph.successors(wrt);
        while let Some(next) = stack.pop() {
            if !ancestors.contains(&next) || !seen.insert(next) {
                continue;
            }
            if next == numerator || self.has_delta(next) {
                frontier.push(next);
            } else {
                stack.extend(self.graph.successors(next));
            }
        }
        frontier.sort_unstable();
        if frontier == [numerator] {
            // No delta between: a unit that feeds several others gets a term
            // for each of them; a chain of single units is differentiated
            // straight through.
            let successors: Vec<FamilyId> = self
                .graph
                .successors(wrt)
                .into_iter()
                .filter(|s| ancestors.contains(s))
                .collect();
            if successors.len() > 1 {
                return successors;
            }
        }
        frontier
    }

    /// Eq. 5.55: the sum over the frontier, its deltas named, each local
    /// derivative derived apart, and the results put back.
    fn chain_rule(
        &mut self,
        derivation: &mut Derivation,
        numerator: FamilyId,
        q: &[IndexVar],
        wrt: FamilyId,
        p: &[IndexVar],
        frontier: &[FamilyId],
    ) {
        let top = self.store().reference(numerator, q);
        let mut chain_terms = Vec::new();
        let mut named_terms = Vec::new();
        let mut outer_factors: Vec<UnitTerm> = Vec::new();
        for &unit in frontier {
            let held: Box<[FamilyId]> = frontier.iter().copied().filter(|f| *f != unit).collect();
            let local_wrt = Wrt {
                family: wrt,
                indices: p.into(),
                held,
            };
            if unit == numerator {
                let local = self.store().derivative(top, local_wrt);
                chain_terms.push(local);
                named_terms.push(local);
                outer_factors.push(UnitTerm {
                    upstream: None,
                    local,
                });
                continue;
            }
            let slots = self.model.family(unit).slots.clone();
            let outer: Vec<IndexVar> = slots
                .iter()
                .map(|s| self.model.store.fresh_like(*s))
                .collect();
            let unit_ref = self.store().reference(unit, &outer);
            let upstream = self.store().derivative(
                top,
                Wrt {
                    family: unit,
                    indices: outer.clone().into(),
                    held: Box::new([]),
                },
            );
            let local = self.store().derivative(unit_ref, local_wrt);
            let named = if self.has_delta(unit) {
                self.store().adjoint(unit, &outer)
            } else {
                upstream
            };
            let store = self.store();
            let mut chain_term = store.mul(vec![upstream, local]);
            let mut named_term = store.mul(vec![named, local]);
            for index in outer.iter().rev() {
                chain_term = store.sum(*index, chain_term);
                named_term = store.sum(*index, named_term);
            }
            chain_terms.push(chain_term);
            named_terms.push(named_term);
            outer_factors.push(UnitTerm {
                upstream: Some((unit, upstream, named)),
                local,
            });
        }
        let chained = self.store().add(chain_terms);
        let reason = self.chain_reason(numerator, wrt, p, frontier);
        derivation.steps.push(Step {
            rules: vec![Rule::ChainRuleSuccessors],
            reason,
            expr: chained,
            lemmas: Vec::new(),
        });
        let named = self.store().add(named_terms);
        let deltas: Vec<FamilyId> = frontier
            .iter()
            .copied()
            .filter(|f| *f != numerator && self.has_delta(*f))
            .collect();
        if named != chained {
            let mut reason = Vec::new();
            for (unit, upstream, named) in outer_factors.iter().filter_map(|term| term.upstream) {
                if deltas.contains(&unit) {
                    if !reason.is_empty() {
                        reason.push(ReasonPart::Words(", ".into()));
                    }
                    reason.push(ReasonPart::Equation(named, upstream));
                }
            }
            reason.insert(0, ReasonPart::Words("by definition of the deltas, ".into()));
            derivation.steps.push(Step {
                rules: vec![Rule::DeltaDefinition],
                reason,
                expr: named,
                lemmas: Vec::new(),
            });
        }
        // Each local derivative, and each derivative of the objective that
        // has no delta, is derived apart and put back.
        let mut lemmas = Vec::new();
        let mut replacements: Vec<(ExprId, ExprId)> = Vec::new();
        for term in &outer_factors {
            let lemma = self.lemma(term.local);
            replacements.push((term.local, lemma.result()));
            lemmas.push(lemma);
            if let Some((unit, upstream, named)) = term.upstream
                && named == upstream
            {
                let inner = self.derivation_of_formal(upstream, unit);
                replacements.push((upstream, inner.result()));
                lemmas.push(inner);
            }
        }
        let mut substituted = named;
        for (from, to) in &replacements {
            substituted = crate::differentiate::replace(self.store(), substituted, *from, *to);
        }
        derivation.steps.push(Step {
            rules: vec![Rule::Substitution],
            reason: vec![ReasonPart::Words(
                "the local derivatives, derived below, put in place".into(),
            )],
            expr: substituted,
            lemmas,
        });
    }

    /// The derivation of a derivative of the objective with respect to a
    /// unit without a delta (a successor of a scalar unit).
    fn derivation_of_formal(&mut self, formal: ExprId, unit: FamilyId) -> Derivation {
        let Node::Derivative(top, wrt) = self.model.store.node(formal).clone() else {
            unreachable!("a formal derivative")
        };
        let Node::Ref(numerator, q) = self.model.store.node(top).clone() else {
            unreachable!("of a reference")
        };
        debug_assert_eq!(wrt.family, unit);
        self.derivation(numerator, &q, unit, &wrt.indices, None)
    }

    /// A local derivative derived by expanding definitions.
    fn lemma(&mut self, formal: ExprId) -> Derivation {
        let mut derivation = Derivation {
            lhs: formal,
            steps: Vec::new(),
        };
        self.expand_all(&mut derivation, formal);
        self.finish(&mut derivation, None);
        derivation
    }

    /// Rounds of rules until no derivative is left to take.
    fn expand_all(&mut self, derivation: &mut Derivation, start: ExprId) {
        let mut current = start;
        // Each round takes every derivative one definition further down a
        // finite DAG, so the rounds end; the bound guards the unexpected.
        for _ in 0..256 {
            let mut rules = Vec::new();
            let mut definitions = Vec::new();
            let next = self.round(current, &mut rules, &mut definitions);
            if next == current {
                break;
            }
            let mut reason: Vec<ReasonPart> = Vec::new();
            for (lhs, rhs) in definitions {
                if !reason.is_empty() {
                    reason.push(ReasonPart::Words(", ".into()));
                }
                reason.push(ReasonPart::Equation(lhs, rhs));
            }
            for rule in &rules {
                if let Some(words) = rule_words(*rule) {
                    if !reason.is_empty() {
                        reason.push(ReasonPart::Words("; ".into()));
                    }
                    reason.push(ReasonPart::Words(words.into()));
                }
            }
            derivation.steps.push(Step {
                rules,
                reason,
                expr: next,
                lemmas: Vec::new(),
            });
            current = next;
        }
    }

    /// One round: every outermost derivative taken one rule further
    /// (`Full`) or down to the next named quantities (`Textbook`).
    fn round(
        &mut self,
        expr: ExprId,
        rules: &mut Vec<Rule>,
        definitions: &mut Vec<(ExprId, ExprId)>,
    ) -> ExprId {
        match self.model.store.node(expr).clone() {
            Node::Derivative(of, wrt) => self.take(of, &wrt, rules, definitions, true),
            _ => {
                let children = self.model.store.children(expr);
                if children.is_empty() {
                    return expr;
                }
                let node = self.model.store.node(expr).clone();
                let new: Vec<ExprId> = children
                    .into_iter()
                    .map(|c| self.round(c, rules, definitions))
                    .collect();
                self.model.store.rebuild(&node, &new)
            }
        }
    }

    /// Takes the derivative of `of` one rule further. `first` is set for the
    /// derivative a round starts at: a textbook round expands one
    /// definition, then goes on through the structure of that definition.
    fn take(
        &mut self,
        of: ExprId,
        wrt: &Wrt,
        rules: &mut Vec<Rule>,
        definitions: &mut Vec<(ExprId, ExprId)>,
        first: bool,
    ) -> ExprId {
        let node = self.model.store.node(of).clone();
        let note = |rule: Rule, rules: &mut Vec<Rule>| {
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        };
        if !self.depends(of, wrt) {
            note(Rule::Constant, rules);
            return self.store().int(0);
        }
        match node {
            Node::Ref(family, indices) if family == wrt.family => {
                note(Rule::KroneckerDelta, rules);
                let store = self.store();
                let deltas: Vec<ExprId> = indices
                    .iter()
                    .zip(wrt.indices.iter())
                    .map(|(a, b)| store.delta(*a, *b))
                    .collect();
                store.mul(deltas)
            }
            Node::Ref(family, indices) => {
                if !first && self.verbosity == Verbosity::Textbook {
                    return self.store().derivative(of, wrt.clone());
                }
                note(Rule::Definition, rules);
                let info = self.model.family(family).clone();
                let definition = info.definition.expect("a family that depends is defined");
                let map: VarMap = info
                    .slots
                    .iter()
                    .copied()
                    .zip(indices.iter().copied())
                    .collect();
                let instance = self.store().instantiate(definition, &map);
                let shown_lhs = self.store().reference(family, &info.slots);
                if !definitions.iter().any(|(l, _)| *l == shown_lhs) {
                    definitions.push((shown_lhs, definition));
                }
                if self.verbosity == Verbosity::Full {
                    self.store().derivative(instance, wrt.clone())
                } else {
                    self.take(instance, wrt, rules, definitions, false)
                }
            }
            Node::Sum(bound, body) => {
                note(Rule::SumDerivative, rules);
                let inner = self.next(body, wrt, rules, definitions);
                self.store().sum(bound, inner)
            }
            Node::Add(terms) => {
                note(Rule::Linearity, rules);
                let taken: Vec<ExprId> = terms
                    .iter()
                    .map(|t| self.next(*t, wrt, rules, definitions))
                    .collect();
                self.store().add(taken)
            }
            Node::Mul(factors) => {
                let depending: Vec<usize> = (0..factors.len())
                    .filter(|at| self.depends(factors[*at], wrt))
                    .collect();
                note(
                    if depending.len() == 1 {
                        Rule::ConstantFactor
                    } else {
                        Rule::ProductRule
                    },
                    rules,
                );
                let mut terms = Vec::new();
                for at in depending {
                    let taken = self.next(factors[at], wrt, rules, definitions);
                    let mut product = factors.to_vec();
                    product[at] = taken;
                    terms.push(self.store().mul(product));
                }
                self.store().add(terms)
            }
            Node::Pow(base, exponent) => {
                note(Rule::PowerRule, rules);
                let store = self.store();
                if store.as_number(exponent).is_some() && !store.mentions(exponent, wrt.family) {
                    let value = store.as_number(exponent).cloned().expect("a number");
                    let lowered =
                        store.number(value - <num_rational::BigRational as num_traits::One>::one());
                    let reduced = store.pow(base, lowered);
                    let inner = self.next(base, wrt, rules, definitions);
                    self.store().mul(vec![exponent, reduced, inner])
                } else {
                    // d(b^e) = b^e (e' log b + e b'/b), the general power rule.
                    let log = self.store().builtin(crate::expr::Builtin::Log, base);
                    let exponent_part = self.next(exponent, wrt, rules, definitions);
                    let base_part = self.next(base, wrt, rules, definitions);
                    let store = self.store();
                    let first_term = store.mul(vec![exponent_part, log]);
                    let inverse = store.powi(base, -1);
                    let second_term = store.mul(vec![exponent, base_part, inverse]);
                    let sum = store.add(vec![first_term, second_term]);
                    store.mul(vec![of, sum])
                }
            }
            Node::Call(function, order, argument) => {
                note(Rule::ActivationDerivative, rules);
                let outer = match function {
                    Function::Opaque(_) => Some(self.store().call(function, order + 1, argument)),
                    Function::Builtin(builtin) if order == 0 => {
                        builtin_derivative(self.store(), builtin, argument)
                    }
                    Function::Builtin(builtin) => {
                        Some(crate::differentiate::nth_builtin_derivative(
                            self.store(),
                            builtin,
                            order + 1,
                            argument,
                        ))
                    }
                };
                match outer {
                    None => self.store().int(0),
                    Some(outer) => {
                        let inner = self.next(argument, wrt, rules, definitions);
                        self.store().mul(vec![outer, inner])
                    }
                }
            }
            Node::Derivative(..) | Node::Number(_) | Node::Adjoint(..) | Node::Delta(..) => {
                self.store().derivative(of, wrt.clone())
            }
        }
    }

    /// The derivative of a part: left formal for the next link (`Full`),
    /// or taken at once (`Textbook`).
    fn next(
        &mut self,
        inner: ExprId,
        wrt: &Wrt,
        rules: &mut Vec<Rule>,
        definitions: &mut Vec<(ExprId, ExprId)>,
    ) -> ExprId {
        if !self.depends(inner, wrt) {
            return self.store().int(0);
        }
        match self.verbosity {
            Verbosity::Full => self.store().derivative(inner, wrt.clone()),
            Verbosity::Textbook => self.take(inner, wrt, rules, definitions, false),
        }
    }

    /// True when the expression changes as `wrt` does, through families
    /// that are not held fixed.
    fn depends(&self, expr: ExprId, wrt: &Wrt) -> bool {
        let store = &self.model.store;
        let mut stack = vec![expr];
        while let Some(next) = stack.pop() {
            match store.node(next) {
                Node::Ref(family, _) => {
                    if *family == wrt.family || self.reaches(*family, wrt) {
                        return true;
                    }
                }
                _ => stack.extend(store.children(next)),
            }
        }
        false
    }

    /// True when `family` depends on `wrt.family` along a path that avoids
    /// the held families.
    fn reaches(&self, family: FamilyId, wrt: &Wrt) -> bool {
        if wrt.held.contains(&family) || self.model.family(family).kind != FamilyKind::Defined {
            return false;
        }
        self.graph
            .predecessors(family)
            .into_iter()
            .any(|p| p == wrt.family || self.reaches(p, wrt))
    }

    /// The closing links: Kronecker deltas collapsed, forward quantities,
    /// assumptions, canonical form, and the engine's own result.
    fn finish(&mut self, derivation: &mut Derivation, target: Option<ExprId>) {
        let mut current = derivation.result();
        let collapsed = self.simplifier.canon(&mut self.model.store, current);
        if collapsed != current {
            let had_deltas = self
                .model
                .store
                .any_node(current, |n| matches!(n, Node::Delta(..)));
            let rule = if had_deltas {
                Rule::KroneckerCollapse
            } else {
                Rule::Simplify
            };
            let words = if had_deltas {
                "each Kronecker delta keeps the one term of its sum where the indices agree"
            } else {
                "like terms and factors gathered"
            };
            derivation.steps.push(simple_step(rule, words, collapsed));
            current = collapsed;
        }
        // Forward quantities, then assumptions: a link each, when they apply.
        for (rule, words) in [
            (
                Rule::ForwardQuantity,
                "written through the forward quantities the network defines",
            ),
            (Rule::Assumption, "by the assumption of the network"),
        ] {
            let store = &mut self.model.store;
            let next = if rule == Rule::ForwardQuantity {
                self.simplifier.rewrite_forward(store, current)
            } else {
                self.simplifier.rewrite_assumptions(store, current)
            };
            if next != current {
                derivation.steps.push(simple_step(rule, words, next));
                current = next;
            }
        }
        let simplified = self.simplifier.simplify(&mut self.model.store, current);
        if simplified != current {
            // Multiplying out can bring a sum into the shape an assumption
            // speaks of; say so when the assumptions made the difference.
            let mut plain = Simplifier::new(crate::simplify::Facts::none());
            let without_facts = plain.simplify(&mut self.model.store, current);
            let assumptions = self.model.assumptions.clone();
            let assumed = !assumptions.is_empty()
                && self.alpha_canon(without_facts) != self.alpha_canon(simplified);
            let step = if assumed {
                let mut reason = vec![ReasonPart::Words(
                    "multiplied out and simplified, by the assumption ".into(),
                )];
                for (at, assumption) in assumptions.iter().enumerate() {
                    if at > 0 {
                        reason.push(ReasonPart::Words(" and ".into()));
                    }
                    reason.push(ReasonPart::Equation(assumption.lhs, assumption.rhs));
                }
                Step {
                    rules: vec![Rule::Simplify, Rule::Assumption],
                    reason,
                    expr: simplified,
                    lemmas: Vec::new(),
                }
            } else {
                simple_step(Rule::Simplify, "simplified", simplified)
            };
            derivation.steps.push(step);
            current = simplified;
        }
        if let Some(target) = target {
            let same = self.alpha_canon(target) == self.alpha_canon(current);
            if !same {
                derivation
                    .steps
                    .push(simple_step(Rule::Simplify, "rearranged", target));
            }
        }
    }

    /// Canonical form with canonical bound variables: equal exactly when
    /// the two expressions differ only in ordering and bound names.
    fn alpha_canon(&mut self, expr: ExprId) -> ExprId {
        let renamed = self.model.store.canonical_binders(expr);
        self.simplifier.canon(&mut self.model.store, renamed)
    }

    /// "a_j reaches E_n only through z_j, and z_j feeds a_k for every k".
    fn chain_reason(
        &mut self,
        numerator: FamilyId,
        wrt: FamilyId,
        p: &[IndexVar],
        frontier: &[FamilyId],
    ) -> Vec<ReasonPart> {
        let ancestors = self.graph.ancestors(numerator);
        let downstream = self.graph.descendants(wrt);
        let frontier_set: HashSet<FamilyId> = frontier.iter().copied().collect();
        let mut between: Vec<FamilyId> = self
            .graph
            .topological_order()
            .iter()
            .copied()
            .filter(|f| *f != wrt && downstream.contains(f) && !frontier_set.contains(f))
            .filter(|f| {
                frontier
                    .iter()
                    .any(|u| self.graph.ancestors(*u).contains(f))
            })
            .collect();
        between.retain(|f| ancestors.contains(f));
        let me = self.store().reference(wrt, p);
        let objective = self.store().reference(numerator, &[]);
        let mut parts = vec![ReasonPart::Formula(me)];
        let units: Vec<ExprId> = frontier.iter().map(|f| self.at_own_indices(*f)).collect();
        if between.is_empty() {
            parts.push(ReasonPart::Words(" feeds ".into()));
            push_list(&mut parts, &units);
            if units.len() > 1 {
                parts.push(ReasonPart::Words(" directly, one term each".into()));
            } else {
                parts.push(ReasonPart::Words(" directly".into()));
            }
        } else {
            let through: Vec<ExprId> = between.iter().map(|f| self.at_own_indices(*f)).collect();
            if self.model.family(numerator).ranges.is_empty() {
                parts.push(ReasonPart::Words(" reaches ".into()));
                parts.push(ReasonPart::Formula(objective));
            } else {
                parts.push(ReasonPart::Words(" reaches the output".into()));
            }
            parts.push(ReasonPart::Words(" only through ".into()));
            push_list(&mut parts, &through);
            parts.push(ReasonPart::Words(", which feed".into()));
            if through.len() == 1 {
                parts.push(ReasonPart::Words("s".into()));
            }
            parts.push(ReasonPart::Words(" ".into()));
            push_list(&mut parts, &units);
        }
        let mut summed: Vec<String> = Vec::new();
        for unit in frontier {
            for slot in &self.model.family(*unit).slots {
                let name = self.model.store.var(*slot).name.clone();
                if !summed.contains(&name) {
                    summed.push(name);
                }
            }
        }
        if !summed.is_empty() {
            let list = summed.join(", ");
            parts.push(ReasonPart::Words(format!(
                " for every {list}, so the sum runs over all {list}"
            )));
        }
        parts
    }
}

fn push_list(parts: &mut Vec<ReasonPart>, items: &[ExprId]) {
    for (at, item) in items.iter().enumerate() {
        if at > 0 {
            parts.push(ReasonPart::Words(if at + 1 == items.len() {
                " and ".into()
            } else {
                ", ".into()
            }));
        }
        parts.push(ReasonPart::Formula(*item));
    }
}

fn simple_step(rule: Rule, words: &str, expr: ExprId) -> Step {
    Step {
        rules: vec![rule],
        reason: vec![ReasonPart::Words(words.into())],
        expr,
        lemmas: Vec::new(),
    }
}

/// Words for the structural rules (definitions are shown as equations).
fn rule_words(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::SumDerivative => "the derivative of a sum is the sum of the derivatives",
        Rule::Linearity => "the derivative of each term",
        Rule::ConstantFactor => "factors that do not depend come out",
        Rule::ProductRule => "the product rule",
        Rule::PowerRule => "the power rule",
        Rule::ActivationDerivative => "the chain rule through the activation: (h(u))' = h'(u) u'",
        Rule::KroneckerDelta => {
            "an element's derivative by an element of its own family is a Kronecker delta"
        }
        Rule::Constant => "what does not depend has derivative 0",
        _ => return None,
    })
}

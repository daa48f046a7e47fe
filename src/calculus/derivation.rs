//! Step-by-step derivations, as Bishop writes them (PRML eqs. 5.48 to 5.56).
//!
//! A derivation is a chain `lhs = e1 = e2 = ... = result`. Each link is an
//! expression of the store, made by applying named rules to the one before:
//! derivatives not yet taken are `Node::Derivative`s, and each round takes
//! them one rule (or, for a textbook, one definition) further with the
//! differentiator of [`super::local`], the same calculus the engine uses.
//! Every rule that fires is recorded, so each link names the rules that made
//! it; the steps are the computation itself, and every link is a true
//! equation, which the tests check numerically (a derivative not yet taken
//! evaluates by finite differences).
//!
//! This module holds only strategy: which units the chain rule sums over
//! (eq. 5.55: the nearest families downstream that have deltas, or, when
//! none lies between, the immediate successors, each with a term of its
//! own), when a definition is expanded, and how a derivation finishes.

use rustc_hash::FxHashMap as HashMap;

use super::chain::Engine;
use super::deltas::Naming;
use super::local::{Depth, derivative};
use super::{Equation, Form};
use crate::diagnostic::Diagnostic;
use crate::expr::traverse::Mapper;
use crate::expr::{Contents, ExprId, FamilyId, Index, IndexVar, Node, Store, Wrt};
use crate::graph::DependencyGraph;
use crate::limits::{MAX_DERIVATION_DEPTH, MAX_DERIVATION_LINKS, MAX_RESULT_SIZE};
use crate::model::{FamilyKind, Model, Query};
use crate::rules::{self, Recorder, Rule, RuleSet};
use crate::simplify::{Simplifier, Stage, canonical};

/// A piece of a reason: words, or a formula to print in the output's format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReasonPart {
    /// Plain words.
    Words(String),
    /// A formula.
    Formula(ExprId),
    /// An equation `lhs = rhs`.
    Equation(ExprId, ExprId),
    /// A family's definition, `lhs = rhs` (its indices those of the step),
    /// which a document cites by the number of the network's equation.
    Definition(FamilyId, ExprId, ExprId),
    /// Index names, set as mathematics: `k`, or `i, j`.
    Indices(Vec<String>),
}

/// One link: `= expr`, by `rules`, because `reason`.
#[derive(Clone, Debug)]
pub struct Step {
    /// The rules applied, in the order of [`rules::ALL`].
    pub rules: Vec<&'static Rule>,
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
    let mut links = 0;
    // Deltas are derivatives of a scalar objective; a Jacobian has none.
    let naming = Naming::of_form(Form::Backprop, query.numerator_indices.is_empty());
    let main = Deriver::new(engine, verbosity, naming, &mut links).derivation(
        query.numerator,
        &query.numerator_indices,
        query.denominator,
        &query.denominator_indices,
        Some(target.result),
    )?;
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
                    indices: delta_query.denominator_indices,
                    rhs: derived.result,
                }
            }
        };
        let derivation = Deriver::new(engine, verbosity, Naming::Declared, &mut links).derivation(
            query.numerator,
            &[],
            family,
            &equation.indices,
            Some(equation.rhs),
        )?;
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
pub(crate) fn collect_adjoints(store: &Store, derivation: &Derivation, found: &mut Vec<FamilyId>) {
    let mut pending = vec![derivation];
    while let Some(next) = pending.pop() {
        for step in &next.steps {
            for family in store.adjoint_families(step.expr) {
                if !found.contains(&family) {
                    found.push(family);
                }
            }
        }
        pending.extend(next.steps.iter().rev().flat_map(|s| s.lemmas.iter().rev()));
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
    /// Which families the derivation names by their deltas.
    naming: Naming,
    /// For each variable a derivative is taken by, which families depend
    /// on it through families not held fixed.
    reaches: HashMap<Wrt, Vec<bool>>,
    /// Links made so far, by this derivation and those before it in the
    /// same report.
    links: &'a mut usize,
    /// How many derivations enclose the one being made.
    depth: usize,
}

impl<'a> Deriver<'a> {
    fn new(
        engine: &'a mut Engine<'_>,
        verbosity: Verbosity,
        naming: Naming,
        links: &'a mut usize,
    ) -> Deriver<'a> {
        let (model, graph, simplifier) = engine.parts();
        Deriver {
            model,
            graph,
            simplifier,
            verbosity,
            naming,
            reaches: HashMap::default(),
            links,
            depth: 0,
        }
    }

    /// Counts a link and refuses a derivation that grows beyond its bounds:
    /// too many links, or a link too large to print.
    fn spend(&mut self, expr: ExprId) -> Result<(), Diagnostic> {
        *self.links += 1;
        let help =
            "give the intermediate families `delta` lines, so that the derivation can name them";
        if *self.links > MAX_DERIVATION_LINKS {
            return Err(Diagnostic::unlocated(format!(
                "the derivation grows beyond {MAX_DERIVATION_LINKS} links"
            ))
            .with_help(help));
        }
        if self.model.store.tree_size(expr) > MAX_RESULT_SIZE {
            return Err(Diagnostic::unlocated(format!(
                "a link of the derivation grows beyond {MAX_RESULT_SIZE} nodes"
            ))
            .with_help(help));
        }
        Ok(())
    }

    fn store(&mut self) -> &mut Store {
        &mut self.model.store
    }

    /// `family` at the index names of its own declaration: `z_j`, `a_k`.
    fn at_own_indices(&mut self, family: FamilyId) -> ExprId {
        let slots = self.model.family(family).slots.clone();
        self.model.store.reference(family, &slots)
    }

    /// True when the derivation names the derivative of `numerator` with
    /// respect to `family` by its delta.
    fn has_delta(&self, numerator: FamilyId, family: FamilyId) -> bool {
        self.naming.names(self.model, numerator, family)
    }

    /// A link whose simplification outgrew its bounds.
    fn too_large(error: crate::limits::TooLarge) -> Diagnostic {
        Diagnostic::unlocated(format!(
            "a step of the derivation cannot be simplified: {error}"
        ))
    }

    /// The derivation of d numerator[q] / d wrt[p], ending at `target` when given.
    fn derivation(
        &mut self,
        numerator: FamilyId,
        q: &[IndexVar],
        wrt: FamilyId,
        p: &[IndexVar],
        target: Option<ExprId>,
    ) -> Result<Derivation, Diagnostic> {
        let top = self.store().reference(numerator, q);
        let whole = Wrt {
            family: wrt,
            indices: Index::of_vars(p),
            held: Box::new([]),
        };
        let lhs = self.store().derivative(top, whole);
        let mut derivation = Derivation {
            lhs,
            steps: Vec::new(),
        };
        let upstream = self.graph.upstream_of(numerator);
        if numerator == wrt || !upstream[wrt.index()] {
            self.expand_all(&mut derivation, lhs)?;
        } else {
            let frontier = self.frontier(numerator, wrt);
            if frontier == [numerator] {
                self.expand_all(&mut derivation, lhs)?;
            } else {
                self.chain_rule(&mut derivation, numerator, q, wrt, p, &frontier)?;
            }
        }
        self.finish(&mut derivation, target)?;
        Ok(derivation)
    }

    /// The units `wrt` sends connections to, for the first step: the nearest
    /// families with deltas on the way to the numerator, or the numerator
    /// itself; when that is all, `wrt`'s immediate successors.
    fn frontier(&self, numerator: FamilyId, wrt: FamilyId) -> Vec<FamilyId> {
        let upstream = self.graph.upstream_of(numerator);
        let mut frontier = Vec::new();
        let mut seen = vec![false; upstream.len()];
        let mut stack = self.graph.successors(wrt).to_vec();
        while let Some(next) = stack.pop() {
            if !upstream[next.index()] || seen[next.index()] {
                continue;
            }
            seen[next.index()] = true;
            if next == numerator || self.has_delta(numerator, next) {
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
                .iter()
                .copied()
                .filter(|s| upstream[s.index()])
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
    ) -> Result<(), Diagnostic> {
        let top = self.store().reference(numerator, q);
        // Names free where the sums stand, which a summed index may not take.
        let mut free_names: Vec<String> = p
            .iter()
            .chain(q)
            .map(|v| self.model.store.var(*v).name.clone())
            .collect();
        let mut units_as_summed = Vec::new();
        let mut summed_names = Vec::new();
        // The names each unit's own sum runs over, in frontier order.
        let mut unit_summed: Vec<Vec<String>> = Vec::new();
        let mut tied = false;
        let mut chain_terms = Vec::new();
        let mut named_terms = Vec::new();
        let mut outer_factors: Vec<UnitTerm> = Vec::new();
        for &unit in frontier {
            let held: Box<[FamilyId]> = frontier.iter().copied().filter(|f| *f != unit).collect();
            let local_wrt = Wrt {
                family: wrt,
                indices: Index::of_vars(p),
                held,
            };
            if unit == numerator {
                let local = self.store().derivative(top, local_wrt);
                units_as_summed.push(top);
                unit_summed.push(Vec::new());
                chain_terms.push(local);
                named_terms.push(local);
                outer_factors.push(UnitTerm {
                    upstream: None,
                    local,
                });
                continue;
            }
            let slots = self.model.family(unit).slots.clone();
            let fixed = self.fixed_slots(unit, wrt, frontier);
            let mut outer = Vec::new();
            let mut own_summed = Vec::new();
            for (slot, fixed) in slots.into_iter().zip(fixed) {
                // An element of `wrt` that feeds one element only: no sum.
                if let Some(position) = fixed {
                    outer.push(p[position]);
                    tied = true;
                    continue;
                }
                let (var, named) = self.summed_var(slot, &free_names);
                if let Some(name) = named {
                    if !summed_names.contains(&name) {
                        summed_names.push(name.clone());
                    }
                    own_summed.push(name.clone());
                    free_names.push(name);
                }
                outer.push(var);
            }
            // A sum's index is free of the others' sums: each unit's sum
            // may reuse the names another unit's took.
            free_names.truncate(p.len() + q.len());
            let unit_ref = self.store().reference(unit, &outer);
            units_as_summed.push(unit_ref);
            unit_summed.push(own_summed);
            let upstream = self.store().derivative(
                top,
                Wrt {
                    family: unit,
                    indices: Index::of_vars(&outer),
                    held: Box::new([]),
                },
            );
            let local = self.store().derivative(unit_ref, local_wrt);
            let named = if self.has_delta(numerator, unit) {
                self.store().adjoint(unit, &outer)
            } else {
                upstream
            };
            let store = self.store();
            let mut chain_term = store.mul(vec![upstream, local]);
            let mut named_term = store.mul(vec![named, local]);
            for index in outer.iter().rev().filter(|v| !p.contains(v)) {
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
        let mut reason = self.chain_reason(
            numerator,
            wrt,
            p,
            frontier,
            ChainUnits {
                units: &units_as_summed,
                summed: &summed_names,
                unit_summed: &unit_summed,
                tied,
            },
        );
        // A local derivative that holds another unit of the sum fixed, and
        // would change with it, says so: `(∂E/∂w)_y holds y fixed`.
        for term in &outer_factors {
            let Node::Derivative(of, local_wrt) = self.model.store.node(term.local).clone() else {
                continue;
            };
            let Node::Ref(of_family, _) = *self.model.store.node(of) else {
                continue;
            };
            let shown = self.model.depends_on(of_family, &local_wrt.held);
            if shown.is_empty() {
                continue;
            }
            reason.push(ReasonPart::Words("; ".into()));
            reason.push(ReasonPart::Formula(term.local));
            // Each held unit as the sum writes it: every y_n.
            let held: Vec<ExprId> = shown
                .iter()
                .filter_map(|f| frontier.iter().position(|u| u == f))
                .map(|at| units_as_summed[at])
                .collect();
            let every = shown
                .iter()
                .filter_map(|f| frontier.iter().position(|u| u == f))
                .any(|at| !unit_summed[at].is_empty());
            reason.push(ReasonPart::Words(
                if every { " holds every " } else { " holds " }.into(),
            ));
            push_list(&mut reason, &held);
            reason.push(ReasonPart::Words(" fixed".into()));
        }
        derivation.steps.push(Step {
            rules: vec![&rules::CHAIN_RULE_SUCCESSORS],
            reason,
            expr: chained,
            lemmas: Vec::new(),
        });
        let named = self.store().add(named_terms);
        let deltas: Vec<FamilyId> = frontier
            .iter()
            .copied()
            .filter(|f| *f != numerator && self.has_delta(numerator, *f))
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
            reason.insert(
                0,
                ReasonPart::Words(format!("{}, ", rules::DELTA_DEFINITION.words)),
            );
            derivation.steps.push(Step {
                rules: vec![&rules::DELTA_DEFINITION],
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
            let lemma = self.lemma(term.local)?;
            replacements.push((term.local, lemma.result()));
            lemmas.push(lemma);
            if let Some((unit, upstream, named)) = term.upstream
                && named == upstream
            {
                let inner = self.derivation_of_formal(upstream, unit)?;
                replacements.push((upstream, inner.result()));
                lemmas.push(inner);
            }
        }
        let mut substituted = named;
        for (from, to) in &replacements {
            substituted = self.store().replace(substituted, *from, *to);
        }
        derivation.steps.push(Step {
            rules: vec![&rules::SUBSTITUTION],
            reason: vec![ReasonPart::Words(rules::SUBSTITUTION.words.into())],
            expr: substituted,
            lemmas,
        });
        Ok(())
    }

    /// The derivation of a derivative of the objective with respect to a
    /// unit without a delta (a successor of a scalar unit).
    fn derivation_of_formal(
        &mut self,
        formal: ExprId,
        unit: FamilyId,
    ) -> Result<Derivation, Diagnostic> {
        let Node::Derivative(top, wrt) = self.model.store.node(formal).clone() else {
            unreachable!("a formal derivative")
        };
        let Node::Ref(numerator, q) = self.model.store.node(top).clone() else {
            unreachable!("of a reference")
        };
        debug_assert_eq!(wrt.family, unit);
        if self.depth >= MAX_DERIVATION_DEPTH {
            return Err(Diagnostic::unlocated(format!(
                "the derivation nests more than {MAX_DERIVATION_DEPTH} derivations inside one another"
            ))
            .with_help("give the intermediate families `delta` lines, so that the derivation can name them"));
        }
        let (Some(q), Some(p)) = (Index::all_vars(&q), Index::all_vars(&wrt.indices)) else {
            return Err(Diagnostic::unlocated(
                "a step-by-step derivation through an element at a shifted index is not written out",
            ));
        };
        self.depth += 1;
        let inner = self.derivation(numerator, &q, unit, &p, None);
        self.depth -= 1;
        inner
    }

    /// A local derivative derived by expanding definitions.
    fn lemma(&mut self, formal: ExprId) -> Result<Derivation, Diagnostic> {
        let mut derivation = Derivation {
            lhs: formal,
            steps: Vec::new(),
        };
        self.expand_all(&mut derivation, formal)?;
        self.finish(&mut derivation, None)?;
        Ok(derivation)
    }

    /// Rounds of rules until no derivative is left to take.
    fn expand_all(&mut self, derivation: &mut Derivation, start: ExprId) -> Result<(), Diagnostic> {
        let mut current = start;
        // Each round takes every derivative one definition further down a
        // finite DAG, so the rounds end; each is a link, so the link budget
        // (`spend`) stops the unexpected.
        loop {
            let mut fired = Recorder::default();
            let mut definitions = Vec::new();
            let mut taken = HashMap::default();
            for formal in outermost_derivatives(&self.model.store, current) {
                let Node::Derivative(of, wrt) = self.model.store.node(formal).clone() else {
                    unreachable!("a derivative not yet taken")
                };
                let result = self.take(of, &wrt, &mut fired, &mut definitions);
                taken.insert(formal, result);
            }
            let next = self.model.store.map(current, &mut Round { taken });
            if next == current {
                break;
            }
            let mut reason: Vec<ReasonPart> = Vec::new();
            for (lhs, rhs) in definitions {
                if !reason.is_empty() {
                    reason.push(ReasonPart::Words(", ".into()));
                }
                reason.push(match self.model.store.node(lhs) {
                    Node::Ref(family, _) => ReasonPart::Definition(*family, lhs, rhs),
                    _ => ReasonPart::Equation(lhs, rhs),
                });
            }
            for rule in fired.0.rules().filter(|r| **r != rules::DEFINITION) {
                if !reason.is_empty() {
                    reason.push(ReasonPart::Words("; ".into()));
                }
                reason.push(ReasonPart::Words(rule.words.into()));
            }
            self.spend(next)?;
            derivation.steps.push(Step {
                rules: fired.0.rules().collect(),
                reason,
                expr: next,
                lemmas: Vec::new(),
            });
            current = next;
            // A constant the power rule leaves inside a sum meets the one
            // outside it at once, in a link of its own, rather than riding
            // along until the end.
            if let Some(folded) = canonical::fold_numbers(&mut self.model.store, current) {
                derivation.steps.push(Step {
                    rules: vec![&rules::SUM_CONSTANT_OUT],
                    reason: vec![ReasonPart::Words(
                        "the number inside the sum leaves it and multiplies the one outside".into(),
                    )],
                    expr: folded,
                    lemmas: Vec::new(),
                });
                current = folded;
            }
        }
        Ok(())
    }

    /// For `wrt`, which families change as its family does, through
    /// families not held fixed: one sweep over the topological order.
    fn reaching(&mut self, wrt: &Wrt) -> &[bool] {
        if !self.reaches.contains_key(wrt) {
            let mut reaches = vec![false; self.model.families.len()];
            for family in self.graph.topological_order() {
                let info = self.model.family(*family);
                if wrt.held.contains(family) || info.kind != FamilyKind::Defined {
                    continue;
                }
                reaches[family.index()] = self
                    .graph
                    .predecessors(*family)
                    .iter()
                    .any(|p| *p == wrt.family || reaches[p.index()]);
            }
            self.reaches.insert(wrt.clone(), reaches);
        }
        &self.reaches[wrt]
    }

    /// Takes the derivative of `of` one link further: a family that
    /// depends is replaced by its definition (and, for a textbook, the
    /// derivative goes on through that definition's structure); anything
    /// else is differentiated one rule (`Full`) or down to the next named
    /// quantities (`Textbook`).
    fn take(
        &mut self,
        of: ExprId,
        wrt: &Wrt,
        fired: &mut Recorder,
        definitions: &mut Vec<(ExprId, ExprId)>,
    ) -> ExprId {
        let reaches = self.reaching(wrt).to_vec();
        let depends_on = |family: FamilyId| reaches[family.index()];
        let depth = match self.verbosity {
            Verbosity::Full => Depth::OneRule,
            Verbosity::Textbook => Depth::Whole,
        };
        let start = match self.model.store.node(of) {
            // An element at a shifted index (`L[i+k-1]`) is 0 where the
            // shift leaves the range, which its definition there is not:
            // it is written as the sum over its range of the elements the
            // shift may name, `sum(a, delta(a, i+k-1) L[a])`, whose
            // definitions hold.
            Node::Ref(family, indices)
                if *family != wrt.family
                    && reaches[family.index()]
                    && indices.iter().any(|index| index.as_var().is_none()) =>
            {
                let (family, indices) = (*family, indices.clone());
                let slots = self.model.family(family).slots.clone();
                let mut summed = Vec::new();
                let mut deltas = Vec::new();
                let mut at = Vec::new();
                for (index, slot) in indices.iter().zip(slots) {
                    match index.as_var() {
                        Some(var) => at.push(var),
                        None => {
                            let var = self.store().fresh_like(slot);
                            let delta = self.store().delta_at(Index::Var(var), *index);
                            summed.push(var);
                            deltas.push(delta);
                            at.push(var);
                        }
                    }
                }
                let element = self.store().reference(family, &at);
                deltas.push(element);
                let product = self.store().mul(deltas);
                let start = self.store().sums(&summed, product);
                if self.verbosity == Verbosity::Full {
                    return self.store().derivative(start, wrt.clone());
                }
                start
            }
            Node::Ref(family, indices) if *family != wrt.family && reaches[family.index()] => {
                let (family, indices) = (*family, indices.clone());
                fired.0 = fired.0.with(&rules::DEFINITION);
                let info = self.model.family(family).clone();
                let definition = info.definition.expect("a family that depends is defined");
                let pairs: Vec<(IndexVar, Index)> = info
                    .slots
                    .iter()
                    .copied()
                    .zip(indices.iter().copied())
                    .collect();
                let instance = self.store().instantiate_at(definition, pairs);
                // The definition is quoted at the element the step uses:
                // b_j = ..., beside a derivative of b_j.
                let shown_lhs = self.store().reference(family, &indices);
                if !definitions.iter().any(|(l, _)| *l == shown_lhs) {
                    definitions.push((shown_lhs, instance));
                }
                if self.verbosity == Verbosity::Full {
                    return self.store().derivative(instance, wrt.clone());
                }
                instance
            }
            _ => of,
        };
        derivative(&mut self.model.store, start, wrt, &depends_on, depth, fired)
    }

    /// The closing links: Kronecker deltas collapsed, forward quantities,
    /// assumptions, the rest of simplification, and the engine's own
    /// result. Each link names the rules that made it.
    fn finish(
        &mut self,
        derivation: &mut Derivation,
        target: Option<ExprId>,
    ) -> Result<(), Diagnostic> {
        let mut current = derivation.result();
        type Pass = fn(
            &mut Simplifier,
            &mut Store,
            ExprId,
            &mut Recorder,
        ) -> Result<ExprId, crate::limits::TooLarge>;
        let passes: [Pass; 3] = [
            |s, store, e, r| s.canonical(store, e, r),
            |s, store, e, r| s.stage(store, e, Stage::ForwardQuantities, r),
            |s, store, e, r| s.stage(store, e, Stage::Assumptions, r),
        ];
        for pass in passes {
            let mut fired = Recorder::default();
            let next = pass(self.simplifier, &mut self.model.store, current, &mut fired)
                .map_err(Deriver::too_large)?;
            if next != current {
                self.push_simplification(derivation, fired.0, next);
                current = next;
            }
        }
        // An assumption that only multiplying out reveals (softmax's
        // sum(l, t[l]) = 1) is shown being used: the product multiplied
        // out in one link, the assumption applied in the next.
        if self.simplifier.has_assumptions() {
            let store = &mut self.model.store;
            let mut expanding = Recorder::default();
            let expanded = self
                .simplifier
                .stage(store, current, Stage::MultiplyOut, &mut expanding)
                .map_err(Deriver::too_large)?;
            let mut assuming = Recorder::default();
            let assumed = self
                .simplifier
                .stage(store, expanded, Stage::Assumptions, &mut assuming)
                .map_err(Deriver::too_large)?;
            if assumed != expanded {
                self.push_simplification(derivation, expanding.0, expanded);
                self.push_simplification(derivation, assuming.0, assumed);
                current = assumed;
            }
        }
        let last: [Pass; 1] = [|s, store, e, r| s.simplify(store, e, r)];
        for pass in last {
            let mut fired = Recorder::default();
            let next = pass(self.simplifier, &mut self.model.store, current, &mut fired)
                .map_err(Deriver::too_large)?;
            if next != current {
                self.push_simplification(derivation, fired.0, next);
                current = next;
            }
        }
        if let Some(target) = target {
            let mut fired = Recorder::default();
            let same =
                self.alpha_canon(target, &mut fired)? == self.alpha_canon(current, &mut fired)?;
            if !same {
                derivation.steps.push(Step {
                    rules: vec![&rules::REARRANGED],
                    reason: vec![ReasonPart::Words(rules::REARRANGED.words.into())],
                    expr: target,
                    lemmas: Vec::new(),
                });
            }
        }
        Ok(())
    }

    /// A link of simplification, its reason the words of the rules that
    /// fired (an assumption quoted). A link that only flattens or reorders
    /// prints as the link before it and is left out.
    fn push_simplification(&mut self, derivation: &mut Derivation, fired: RuleSet, expr: ExprId) {
        let rules: Vec<&'static Rule> = fired.without(rules::SILENT).rules().collect();
        if rules.is_empty() {
            return;
        }
        let mut reason = Vec::new();
        for rule in &rules {
            if !reason.is_empty() {
                reason.push(ReasonPart::Words("; ".into()));
            }
            reason.push(ReasonPart::Words(rule.words.into()));
            if **rule == rules::ASSUMPTION {
                for assumption in &self.model.assumptions {
                    reason.push(ReasonPart::Words(" ".into()));
                    reason.push(ReasonPart::Equation(assumption.lhs, assumption.rhs));
                }
            }
        }
        derivation.steps.push(Step {
            rules,
            reason,
            expr,
            lemmas: Vec::new(),
        });
    }

    /// Canonical form with canonical bound variables: equal exactly when
    /// the two expressions differ only in ordering and bound names.
    fn alpha_canon(&mut self, expr: ExprId, fired: &mut Recorder) -> Result<ExprId, Diagnostic> {
        let renamed = self.model.store.canonical_binders(expr);
        self.simplifier
            .canonical(&mut self.model.store, renamed, fired)
            .map_err(Deriver::too_large)
    }

    /// For each position of `unit`, the position of `wrt` it is tied to
    /// when an element of `wrt` feeds only the elements of `unit` that have
    /// its index there: `a[j] = sum(i, w1[j,i] * x[i])` writes `w1` only in
    /// row `j`, so `w1[j,i]` feeds `a[j]` alone (Bishop's 5.50: E_n depends
    /// on w_ji only through a_j). Only a unit that `wrt` feeds directly, and
    /// through nothing else the chain rule does not hold fixed, is tied.
    fn fixed_slots(
        &self,
        unit: FamilyId,
        wrt: FamilyId,
        frontier: &[FamilyId],
    ) -> Vec<Option<usize>> {
        let info = self.model.family(unit);
        let untied = vec![None; info.slots.len()];
        let Some(definition) = info.definition else {
            return untied;
        };
        // What `wrt` reaches with the frontier held fixed.
        let mut reached = vec![false; self.model.families.len()];
        let mut stack = vec![wrt];
        while let Some(family) = stack.pop() {
            for next in self.graph.successors(family) {
                if !reached[next.index()] {
                    reached[next.index()] = true;
                    if !frontier.contains(next) {
                        stack.push(*next);
                    }
                }
            }
        }
        let upstream = self.graph.upstream_of(unit);
        let through_others = self.model.family_ids().any(|f| {
            f != unit && reached[f.index()] && upstream[f.index()] && !frontier.contains(&f)
        });
        if through_others {
            return untied;
        }
        let store = &self.model.store;
        let references: Vec<&[Index]> = store
            .post_order(definition)
            .into_iter()
            .filter_map(|id| match store.node(id) {
                Node::Ref(family, indices) if *family == wrt => Some(&indices[..]),
                _ => None,
            })
            .collect();
        if references.is_empty() {
            return untied;
        }
        info.slots
            .iter()
            .map(|slot| {
                let slot = Index::Var(*slot);
                let position = references[0].iter().position(|v| *v == slot)?;
                references
                    .iter()
                    .all(|indices| indices.get(position) == Some(&slot))
                    .then_some(position)
            })
            .collect()
    }

    /// A variable to sum `slot`'s position over in the chain rule, named as
    /// the printer will print it, so that the reason can name it too: the
    /// first of [`Model::bound_name_candidates`] not among `free`. Without
    /// one, a fresh variable, which the printer names itself (and the
    /// reason does not).
    fn summed_var(&mut self, slot: IndexVar, free: &[String]) -> (IndexVar, Option<String>) {
        let range = self.model.store.var(slot).range;
        let name = self
            .model
            .bound_name_candidates(slot)
            .into_iter()
            .find(|name| !free.contains(name));
        match name {
            Some(name) => (self.model.store.new_var(name.clone(), range), Some(name)),
            None => (self.model.store.fresh_like(slot), None),
        }
    }

    /// Why the chain rule sums over `frontier`, in words that the graph
    /// bears out: "a_j reaches E_n only through z_j, which feeds a_k for
    /// every k", or "x_i feeds a_j and r_i directly, one term each".
    fn chain_reason(
        &mut self,
        numerator: FamilyId,
        wrt: FamilyId,
        p: &[IndexVar],
        frontier: &[FamilyId],
        chain: ChainUnits,
    ) -> Vec<ReasonPart> {
        let ChainUnits {
            units,
            summed,
            unit_summed,
            tied,
        } = chain;
        let upstream = self.graph.upstream_of(numerator);
        // The units `wrt` feeds on the way to the numerator.
        let successors: Vec<FamilyId> = self
            .graph
            .successors(wrt)
            .iter()
            .copied()
            .filter(|s| upstream[s.index()] || *s == numerator)
            .collect();
        let unit_of = |family: FamilyId| {
            frontier
                .iter()
                .position(|f| *f == family)
                .map(|at| units[at])
        };
        // "z_j, which feeds a_k": a successor off the frontier, and the
        // frontier units it leads to ("feeds" when it feeds each directly).
        let via = |deriver: &mut Deriver, parts: &mut Vec<ReasonPart>, successor: FamilyId| {
            let downstream = deriver.graph.downstream_of(&[successor]);
            let reached: Vec<FamilyId> = frontier
                .iter()
                .copied()
                .filter(|f| downstream[f.index()] && *f != successor)
                .collect();
            let direct = reached
                .iter()
                .all(|f| deriver.graph.successors(successor).contains(f));
            let through = deriver.at_own_indices(successor);
            parts.push(ReasonPart::Formula(through));
            parts.push(ReasonPart::Words(if direct {
                ", which feeds ".into()
            } else {
                ", which leads to ".into()
            }));
            let reached: Vec<ExprId> = reached.iter().filter_map(|f| unit_of(*f)).collect();
            push_list(parts, &reached);
        };
        let me = self.store().reference(wrt, p);
        let objective = self.store().reference::<IndexVar>(numerator, &[]);
        let reaches = |parts: &mut Vec<ReasonPart>, model: &Model| {
            if model.family(numerator).ranges.is_empty() {
                parts.push(ReasonPart::Words(" reaches ".into()));
                parts.push(ReasonPart::Formula(objective));
            } else {
                parts.push(ReasonPart::Words(" reaches the output".into()));
            }
        };
        let mut parts = vec![ReasonPart::Formula(me)];
        let all_direct = successors.iter().all(|s| frontier.contains(s))
            && frontier.iter().all(|f| successors.contains(f));
        if all_direct && tied && summed.is_empty() {
            // Bishop's 5.50: E_n depends on w_ji only through a_j.
            let mut parts = vec![ReasonPart::Formula(objective)];
            parts.push(ReasonPart::Words(" depends on ".into()));
            parts.push(ReasonPart::Formula(me));
            parts.push(ReasonPart::Words(" only through ".into()));
            push_list(&mut parts, units);
            parts.push(ReasonPart::Words(if units.len() > 1 {
                ", the only elements it feeds, one term each".into()
            } else {
                ", the only element it feeds".into()
            }));
            return parts;
        }
        if all_direct {
            // "x_i feeds directly a_{i2} for every i2, and r_i": each unit
            // with the indices its own sum runs over.
            parts.push(ReasonPart::Words(" feeds directly ".into()));
            for (at, (unit, own)) in units.iter().zip(unit_summed).enumerate() {
                if at > 0 {
                    let last = at + 1 == units.len();
                    // A comma closes the "for every" clause before "and".
                    parts.push(ReasonPart::Words(
                        match (last, unit_summed[at - 1].is_empty()) {
                            (true, true) => " and ",
                            (true, false) => ", and ",
                            (false, _) => ", ",
                        }
                        .into(),
                    ));
                }
                parts.push(ReasonPart::Formula(*unit));
                if !own.is_empty() {
                    parts.push(ReasonPart::Words(" for every ".into()));
                    parts.push(ReasonPart::Indices(own.clone()));
                }
            }
            if units.len() > 1 {
                parts.push(ReasonPart::Words(", one term each".into()));
            }
            if !summed.is_empty() {
                let summing = unit_summed.iter().filter(|own| !own.is_empty()).count();
                let sums = if summing > 1 {
                    "each sum runs"
                } else {
                    "the sum runs"
                };
                parts.push(ReasonPart::Words(format!(", so {sums} over all ")));
                parts.push(ReasonPart::Indices(summed.to_vec()));
            }
            return parts;
        } else if let [only] = successors[..]
            && !frontier.contains(&only)
        {
            reaches(&mut parts, self.model);
            parts.push(ReasonPart::Words(" only through ".into()));
            via(self, &mut parts, only);
        } else {
            reaches(&mut parts, self.model);
            parts.push(ReasonPart::Words(" only through ".into()));
            push_list(&mut parts, units);
            parts.push(ReasonPart::Words(": it feeds ".into()));
            for (at, successor) in successors.iter().enumerate() {
                if at > 0 {
                    parts.push(ReasonPart::Words(if at + 1 == successors.len() {
                        ", and ".into()
                    } else {
                        ", ".into()
                    }));
                }
                match unit_of(*successor) {
                    Some(unit) => {
                        parts.push(ReasonPart::Formula(unit));
                        parts.push(ReasonPart::Words(" directly".into()));
                    }
                    None => via(self, &mut parts, *successor),
                }
            }
        }
        if !summed.is_empty() {
            parts.push(ReasonPart::Words(" for every ".into()));
            parts.push(ReasonPart::Indices(summed.to_vec()));
            parts.push(ReasonPart::Words(", so the sum runs over all ".into()));
            parts.push(ReasonPart::Indices(summed.to_vec()));
        }
        parts
    }
}

/// The units of a chain-rule step as its sums write them: their elements,
/// the names of the indices summed over, and whether some index of theirs
/// is tied to the derivative's own (no sum over it).
#[derive(Clone, Copy)]
struct ChainUnits<'a> {
    units: &'a [ExprId],
    summed: &'a [String],
    /// The names each unit's own sum runs over.
    unit_summed: &'a [Vec<String>],
    tied: bool,
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

/// The derivatives not yet taken that no other one encloses.
fn outermost_derivatives(store: &Store, expr: ExprId) -> Vec<ExprId> {
    let mut found = Vec::new();
    let mut seen = rustc_hash::FxHashSet::default();
    let mut stack = vec![expr];
    while let Some(next) = stack.pop() {
        if !seen.insert(next) || !store.contents(next).has(Contents::DERIVATIVE) {
            continue;
        }
        match store.node(next) {
            Node::Derivative(..) => found.push(next),
            _ => stack.extend(store.children(next)),
        }
    }
    found.sort_unstable();
    found
}

/// One round of a derivation put in place: every outermost derivative not
/// yet taken replaced by its next link; the rest left as it is.
struct Round {
    taken: HashMap<ExprId, ExprId>,
}

impl Mapper for Round {
    fn shortcut(&mut self, store: &mut Store, id: ExprId) -> Option<ExprId> {
        if !store.contents(id).has(Contents::DERIVATIVE) {
            return Some(id);
        }
        self.taken.get(&id).copied()
    }

    fn finish(&mut self, _: &mut Store, _: ExprId, rebuilt: ExprId) -> ExprId {
        rebuilt
    }
}

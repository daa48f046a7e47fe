//! The facts a network gives the simplifier, as two sets of rewrite rules:
//! its forward quantities (a formula the file defines is written as the
//! family it defines) and its assumptions (an `assume` line's left side is
//! written as its right side).
//!
//! A rule's pattern is a formula in canonical form; its free index
//! variables match any index of their range, its bound ones any bound
//! index. Matching is up to the order of terms and factors, bounded in
//! depth by [`MAX_PATTERN_DEPTH`] and in work by [`MAX_MATCH_STEPS`]: a
//! match that would take longer is taken not to match, which only means a
//! simplification not made.

use rustc_hash::FxHasher;
use std::hash::{Hash, Hasher};

use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use rustc_hash::FxHashMap as HashMap;

use crate::expr::{Contents, ExprId, Function, Index, IndexVar, Node, Store};
use crate::limits::{MAX_MATCH_STEPS, MAX_PATTERN_DEPTH};

/// A rewrite from a pattern to its replacement.
#[derive(Clone, Debug)]
pub struct Rewrite {
    /// The formula matched.
    pub pattern: ExprId,
    /// What it is written as, in the pattern's free variables.
    pub replacement: ExprId,
}

/// The forward quantities and assumptions of one network.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// Forward quantities indexed by the shape of their formula (or of the
    /// formula's first factor that holds a function or power, for products).
    forward: HashMap<u64, Vec<Rewrite>>,
    assumptions: Vec<Rewrite>,
}

impl Facts {
    /// A fact set from forward quantities (canonical formula and the
    /// reference it defines) and assumptions (canonical sides).
    pub fn new(
        store: &Store,
        shapes: &mut Shapes,
        forward: Vec<Rewrite>,
        assumptions: Vec<Rewrite>,
    ) -> Facts {
        let mut facts = Facts {
            forward: HashMap::default(),
            assumptions: assumptions
                .into_iter()
                .filter(|a| shallow_enough(store, a.pattern))
                .collect(),
        };
        for rewrite in forward {
            if !is_useful_pattern(store, rewrite.pattern) {
                continue;
            }
            let key_expr = match store.node(rewrite.pattern) {
                Node::Mul(factors) => *factors
                    .iter()
                    .find(|f| holds_function_or_power(store, **f))
                    .expect("a useful product has a function factor"),
                _ => rewrite.pattern,
            };
            let key = shapes.of(store, key_expr);
            facts.forward.entry(key).or_default().push(rewrite);
        }
        facts
    }

    /// True when the network assumes something.
    pub fn has_assumptions(&self) -> bool {
        !self.assumptions.is_empty()
    }

    /// True when there are no facts.
    pub fn is_empty(&self) -> bool {
        self.forward.is_empty() && self.assumptions.is_empty()
    }

    /// The assumption that rewrites `expr`, applied.
    pub fn assume(&self, store: &mut Store, expr: ExprId) -> Option<ExprId> {
        for rule in &self.assumptions {
            // A match holds the same kinds of node as its pattern.
            if store.contents(rule.pattern) != store.contents(expr) {
                continue;
            }
            let mut matcher = Matcher::new();
            if matcher.matches(store, rule.pattern, expr) {
                return Some(store.substitute_indices(rule.replacement, matcher.substitution()));
            }
        }
        None
    }

    /// The forward quantity that rewrites `expr`, whole or as part of a
    /// product, applied.
    pub fn forward(&self, store: &mut Store, shapes: &mut Shapes, expr: ExprId) -> Option<ExprId> {
        // Every forward formula holds a function or a symbolic power.
        if self.forward.is_empty()
            || !store
                .contents(expr)
                .any(Contents::CALL.and(Contents::SYMBOLIC_POWER))
        {
            return None;
        }
        let candidates = store.factors(expr).to_vec();
        for candidate in candidates {
            let key = shapes.of(store, candidate);
            let Some(rules) = self.forward.get(&key) else {
                continue;
            };
            for rule in rules {
                if let Some(found) = apply_forward(store, rule, expr) {
                    return Some(found);
                }
            }
        }
        None
    }
}

/// A formula worth writing as its family: a call, product or power that
/// holds a function or a symbolic power, shallow enough to match.
fn is_useful_pattern(store: &Store, pattern: ExprId) -> bool {
    matches!(
        store.node(pattern),
        Node::Call(..) | Node::Extremum(..) | Node::Mul(_) | Node::Pow(..)
    ) && holds_function_or_power(store, pattern)
        && shallow_enough(store, pattern)
}

/// True when a built-in function or a power with a symbolic exponent
/// stands somewhere in `expr`.
pub fn holds_function_or_power(store: &Store, expr: ExprId) -> bool {
    store.any_node(expr, |node| match node {
        Node::Call(Function::Builtin(_), _, _) | Node::Extremum(..) => true,
        Node::Pow(_, exponent) => store.as_number(*exponent).is_none(),
        _ => false,
    })
}

/// True when a pattern is at most [`MAX_PATTERN_DEPTH`] deep; a pattern
/// with no more nodes than that is, without a walk.
fn shallow_enough(store: &Store, pattern: ExprId) -> bool {
    store.tree_size(pattern) <= MAX_PATTERN_DEPTH || depth(store, pattern) <= MAX_PATTERN_DEPTH
}

/// The depth of an expression as a tree.
fn depth(store: &Store, expr: ExprId) -> usize {
    store.fold(expr, |_, _, children: &[usize]| {
        children.iter().max().map_or(1, |d| d + 1)
    })
}

/// Applies one forward quantity to `expr`, whole or as part of a product.
fn apply_forward(store: &mut Store, rule: &Rewrite, expr: ExprId) -> Option<ExprId> {
    let mut matcher = Matcher::new();
    if matcher.matches(store, rule.pattern, expr) {
        return Some(store.substitute_indices(rule.replacement, matcher.substitution()));
    }
    let (Node::Mul(pattern_factors), Node::Mul(target_factors)) =
        (store.node(rule.pattern), store.node(expr))
    else {
        return None;
    };
    let (pattern_factors, target_factors) = (pattern_factors.clone(), target_factors.clone());
    // Divide the pattern's factors out of the target's: each pattern factor
    // b^m must meet a target factor b^n with n of the same sign and |n| >= |m|.
    let mut remaining: Vec<(ExprId, BigRational)> = target_factors
        .iter()
        .map(|f| base_and_exponent(store, *f))
        .collect();
    let mut matcher = Matcher::new();
    for pattern_factor in pattern_factors.iter() {
        let (pattern_base, pattern_exponent) = base_and_exponent(store, *pattern_factor);
        let mut found = false;
        for slot in remaining.iter_mut() {
            let (target_base, target_exponent) = slot.clone();
            let fits = pattern_exponent.is_positive() == target_exponent.is_positive()
                && target_exponent.abs() >= pattern_exponent.abs();
            if !fits || target_exponent.is_zero() {
                continue;
            }
            let saved = matcher.bindings.clone();
            if matcher.matches(store, pattern_base, target_base) {
                slot.1 = target_exponent - pattern_exponent.clone();
                found = true;
                break;
            }
            matcher.bindings = saved;
        }
        if !found {
            return None;
        }
    }
    let mut factors = vec![store.substitute_indices(rule.replacement, matcher.substitution())];
    for (base, exponent) in remaining {
        if !exponent.is_zero() {
            let exponent = store.number(exponent);
            factors.push(store.pow(base, exponent));
        }
    }
    Some(store.mul(factors))
}

/// A factor as base and numeric exponent (`x^-2` is (x, -2), `x` is (x, 1),
/// `x^a` is (x^a, 1) for a symbolic `a`).
fn base_and_exponent(store: &Store, factor: ExprId) -> (ExprId, BigRational) {
    match store.node(factor) {
        Node::Pow(base, exponent) => match store.as_number(*exponent) {
            Some(value) => (*base, value.clone()),
            None => (factor, BigRational::one()),
        },
        _ => (factor, BigRational::one()),
    }
}

/// Structural matching up to the order of terms and factors, binding the
/// pattern's free variables, with a bound on the steps it may take.
struct Matcher {
    /// The pattern's free variables, and what they stand for (a variable,
    /// or an argument such as `t-1`).
    bindings: HashMap<IndexVar, Index>,
    /// The sums entered so far: each pattern binder with the target's.
    binders: Vec<(IndexVar, IndexVar)>,
    steps: usize,
}

impl Matcher {
    fn new() -> Matcher {
        Matcher {
            bindings: HashMap::default(),
            binders: Vec::new(),
            steps: 0,
        }
    }

    /// What the pattern's free variables stand for, to put in its
    /// replacement.
    fn substitution(&self) -> Vec<(IndexVar, Index)> {
        self.bindings
            .iter()
            .map(|(from, to)| (*from, *to))
            .collect()
    }

    /// True when the pattern's variable `from` may stand where the target
    /// has `to`: a bound one for the target's binder of the same sum, a
    /// free one for a variable of its range free in the target there,
    /// always the same.
    fn bind(&mut self, store: &Store, from: IndexVar, to: Index) -> bool {
        if let Some((_, target)) = self.binders.iter().rev().find(|(p, _)| *p == from) {
            return Index::Var(*target) == to;
        }
        if store
            .index_vars(to)
            .any(|v| self.binders.iter().any(|(_, target)| *target == v))
        {
            return false;
        }
        // A formula stands for its family's element only at a position of
        // the range: at a shifted one the element may be 0 where the
        // formula is not, so a pattern's variable stands for variables only.
        let Index::Var(var) = to else {
            return false;
        };
        if store.var(from).range != store.var(var).range {
            return false;
        }
        match self.bindings.get(&from) {
            Some(existing) => *existing == to,
            None => {
                self.bindings.insert(from, to);
                true
            }
        }
    }

    /// True when the pattern's argument may stand where the target has
    /// `to`: a variable binds; an argument with arithmetic matches one of
    /// the same shape, term by term.
    fn bind_index(&mut self, store: &Store, from: Index, to: Index) -> bool {
        if let Index::Var(var) = from {
            return self.bind(store, var, to);
        }
        let ((pattern_terms, pattern_constant), (target_terms, target_constant)) =
            (store.index_parts(from), store.index_parts(to));
        pattern_constant == target_constant
            && pattern_terms.len() == target_terms.len()
            && pattern_terms
                .iter()
                .zip(&target_terms)
                .all(|((pv, pc), (tv, tc))| pc == tc && self.bind(store, *pv, Index::Var(*tv)))
    }

    /// True when `pattern` matches `target`; the recursion follows the
    /// pattern, whose depth is at most [`MAX_PATTERN_DEPTH`].
    fn matches(&mut self, store: &Store, pattern: ExprId, target: ExprId) -> bool {
        self.steps += 1;
        if self.steps > MAX_MATCH_STEPS {
            return false;
        }
        // A match is structural, so both hold the same kinds of node.
        if store.contents(pattern) != store.contents(target) {
            return false;
        }
        match (store.node(pattern), store.node(target)) {
            (Node::Number(a), Node::Number(b)) => a == b,
            (Node::Pi, Node::Pi) => true,
            (Node::Extremum(pk, pa, pb), Node::Extremum(tk, ta, tb)) => {
                let (pa, pb, ta, tb) = (*pa, *pb, *ta, *tb);
                pk == tk && self.matches(store, pa, ta) && self.matches(store, pb, tb)
            }
            (Node::Ref(fa, ia), Node::Ref(fb, ib))
            | (Node::Adjoint(fa, ia), Node::Adjoint(fb, ib)) => {
                fa == fb
                    && ia.len() == ib.len()
                    && ia
                        .iter()
                        .zip(ib.iter())
                        .all(|(a, b)| self.bind_index(store, *a, *b))
            }
            (Node::Delta(a1, a2), Node::Delta(b1, b2)) => {
                let saved = self.bindings.clone();
                let (a1, a2, b1, b2) = (*a1, *a2, *b1, *b2);
                if self.bind_index(store, a1, b1) && self.bind_index(store, a2, b2) {
                    return true;
                }
                self.bindings = saved;
                self.bind_index(store, a1, b2) && self.bind_index(store, a2, b1)
            }
            (Node::Pow(pb, pe), Node::Pow(tb, te)) => {
                let (pb, pe, tb, te) = (*pb, *pe, *tb, *te);
                self.matches(store, pb, tb) && self.matches(store, pe, te)
            }
            (Node::Call(pf, po, pa), Node::Call(tf, to, ta)) => {
                let (pa, ta) = (*pa, *ta);
                pf == tf && po == to && self.matches(store, pa, ta)
            }
            (Node::Sum(pv, pb), Node::Sum(tv, tb)) => {
                let (pv, pb, tv, tb) = (*pv, *pb, *tv, *tb);
                if store.var(pv).range != store.var(tv).range {
                    return false;
                }
                self.binders.push((pv, tv));
                let matched = self.matches(store, pb, tb);
                self.binders.pop();
                matched
            }
            (Node::Add(ps), Node::Add(ts)) | (Node::Mul(ps), Node::Mul(ts)) => {
                let same_kind = matches!(store.node(pattern), Node::Add(_))
                    == matches!(store.node(target), Node::Add(_));
                if !same_kind || ps.len() != ts.len() {
                    return false;
                }
                let (ps, ts) = (ps.clone(), ts.clone());
                self.unordered(store, &ps, &ts, &mut vec![false; ts.len()])
            }
            _ => false,
        }
    }

    fn unordered(
        &mut self,
        store: &Store,
        patterns: &[ExprId],
        targets: &[ExprId],
        used: &mut Vec<bool>,
    ) -> bool {
        let Some((first, rest)) = patterns.split_first() else {
            return true;
        };
        for (at, target) in targets.iter().enumerate() {
            if used[at] {
                continue;
            }
            let saved = self.bindings.clone();
            if self.matches(store, *first, *target) {
                used[at] = true;
                if self.unordered(store, rest, targets, used) {
                    return true;
                }
                used[at] = false;
            }
            self.bindings = saved;
            if self.steps > MAX_MATCH_STEPS {
                return false;
            }
        }
        false
    }
}

/// Hashes of expressions' structure that ignore which index variables they
/// use, so that a formula and its instances share a shape; remembered.
#[derive(Clone, Debug, Default)]
pub struct Shapes(HashMap<ExprId, u64>);

impl Shapes {
    /// The shape of `expr`.
    pub fn of(&mut self, store: &Store, expr: ExprId) -> u64 {
        if let Some(&known) = self.0.get(&expr) {
            return known;
        }
        // Children before parents, each node once: what is known already
        // is not entered again.
        let mut stack = vec![(expr, false)];
        while let Some((id, expanded)) = stack.pop() {
            if self.0.contains_key(&id) {
                continue;
            }
            if !expanded {
                stack.push((id, true));
                stack.extend(
                    store
                        .children(id)
                        .filter(|c| !self.0.contains_key(c))
                        .map(|c| (c, false)),
                );
                continue;
            }
            let mut hasher = FxHasher::default();
            let child = |c: &ExprId| self.0[c];
            match store.node(id) {
                Node::Number(value) => ("number", value).hash(&mut hasher),
                Node::Pi => "pi".hash(&mut hasher),
                Node::Extremum(kind, a, b) => {
                    ("extremum", kind, child(a), child(b)).hash(&mut hasher)
                }
                Node::Ref(family, indices) => ("ref", family, indices.len()).hash(&mut hasher),
                Node::Adjoint(family, indices) => {
                    ("adjoint", family, indices.len()).hash(&mut hasher)
                }
                Node::Delta(..) => "delta".hash(&mut hasher),
                Node::Derivative(of, wrt) => {
                    ("derivative", child(of), wrt.family, wrt.indices.len()).hash(&mut hasher)
                }
                Node::Add(items) | Node::Mul(items) => {
                    let tag = if matches!(store.node(id), Node::Add(_)) {
                        "add"
                    } else {
                        "mul"
                    };
                    let mut shapes: Vec<u64> = items.iter().map(child).collect();
                    shapes.sort_unstable();
                    (tag, shapes).hash(&mut hasher);
                }
                Node::Pow(base, exponent) => {
                    ("pow", child(base), child(exponent)).hash(&mut hasher)
                }
                Node::Call(function, order, argument) => {
                    ("call", function, order, child(argument)).hash(&mut hasher)
                }
                Node::Sum(_, body) => ("sum", child(body)).hash(&mut hasher),
            }
            let value = hasher.finish();
            self.0.insert(id, value);
        }
        self.0[&expr]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{FamilyId, RangeId};

    /// `x[a] * sum(b, y[b] * z[c])` over one range.
    fn shape(store: &mut Store, a: IndexVar, b: IndexVar, c: IndexVar) -> ExprId {
        let x = store.reference(FamilyId(0), &[a]);
        let y = store.reference(FamilyId(1), &[b]);
        let z = store.reference(FamilyId(2), &[c]);
        let inner = store.mul(vec![y, z]);
        let summed = store.sum(b, inner);
        store.mul(vec![x, summed])
    }

    #[test]
    fn a_free_variable_never_stands_for_a_bound_one() {
        let mut store = Store::new();
        let range = RangeId(0);
        let [j, k, m, n] = ["j", "k", "m", "n"].map(|name| store.new_var(name, range));
        let pattern = shape(&mut store, j, k, j);
        // x[m] * sum(n, y[n] * z[m]): j is m throughout.
        let same = shape(&mut store, m, n, m);
        assert!(Matcher::new().matches(&store, pattern, same));
        // x[m] * sum(m, y[m] * z[m]): the z[m] inside is the summed m.
        let shadowed = shape(&mut store, m, m, m);
        assert!(!Matcher::new().matches(&store, pattern, shadowed));
    }
}

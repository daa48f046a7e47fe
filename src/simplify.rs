//! Simplification: canonical form first, then the rewrites a reader expects.
//!
//! Every rule here is an equality (where both sides are defined); the
//! numeric tests check that. The rules, each with its identity:
//! - flatten: `a + (b + c) = a + b + c`, likewise for products;
//! - fold numbers and combine like terms: `2 x + 3 x = 5 x`;
//! - combine equal bases: `x^a x^b = x^(a+b)`, so `(1-y)^-1 (1-y) = 1`;
//! - `(x^a)^n = x^(a n)` and `(x y)^n = x^n y^n` for a whole number `n`;
//! - `x^1 = x`, `x^0 = 1` (so `0^0` is taken as 1), `1 x = x`, `0 x = 0`;
//! - `log(exp(x)) = x`, `exp(log(x)) = x`, and the functions' values at 0;
//! - a sum of a sum is a sum of sums: `sum(k, a + b) = sum(k, a) + sum(k, b)`;
//! - factors that do not depend on a sum's index leave the sum:
//!   `sum(k, c f(k)) = c sum(k, f(k))`;
//! - the Kronecker delta collapses the sum that binds one of its indices:
//!   `sum(j, f(j) delta(j, p)) = f(p)`;
//! - a forward quantity that the file defines replaces its own formula:
//!   with `z[j] = tanh(a[j])`, `1 - tanh(a[j])^2 = 1 - z[j]^2`;
//! - an `assume` fact replaces its left side by its right side.
//!
//! Products are multiplied out only on a second path; the shorter of the
//! factored and the multiplied-out results is kept.

use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;

use rustc_hash::FxHashMap as HashMap;
use std::hash::{Hash, Hasher};

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use crate::expr::{Builtin, ExprId, Function, IndexVar, Node, Store, VarMap};
use crate::model::{FamilyKind, Model};

/// Largest number of terms that multiplying out one product may create.
const MAX_EXPANDED_TERMS: usize = 256;
/// Largest size a tree may have for the multiplied-out path to be tried.
const MAX_EXPAND_SIZE: usize = 4_000;

/// A rewrite from a pattern to its replacement. Every index variable of a
/// pattern is free (and matches any index of its range) or bound inside it.
#[derive(Clone, Debug)]
struct Rewrite {
    pattern: ExprId,
    replacement: ExprId,
}

/// The facts a model gives the simplifier: its forward quantities and its
/// assumptions.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// Forward quantities indexed by the shape of their formula (or of the
    /// formula's first function factor, for products).
    forward: HashMap<u64, Vec<Rewrite>>,
    assumptions: Vec<Rewrite>,
}

impl Facts {
    /// No facts at all: canonical form and the general rules only.
    pub fn none() -> Facts {
        Facts::default()
    }

    /// The forward quantities and assumptions of a model.
    pub fn of_model(model: &mut Model) -> Facts {
        let mut facts = Facts::default();
        let mut simplifier = Simplifier::new(Facts::none());
        let mut shapes = HashMap::default();
        for family in model.family_ids() {
            let info = model.family(family).clone();
            let (FamilyKind::Defined, Some(definition)) = (info.kind, info.definition) else {
                continue;
            };
            let store = &mut model.store;
            let pattern = simplifier.canon(store, definition);
            let free = store.free_vars(pattern).to_vec();
            let useful = matches!(
                store.node(pattern),
                Node::Call(..) | Node::Mul(_) | Node::Pow(..)
            ) && contains_function_or_power(store, pattern)
                && info.slots.iter().all(|s| free.contains(s));
            if !useful {
                continue;
            }
            let key_expr = match store.node(pattern) {
                Node::Mul(factors) => *factors
                    .iter()
                    .find(|f| contains_function_or_power(store, **f))
                    .expect("a useful product has a function factor"),
                _ => pattern,
            };
            let key = shape(store, key_expr, &mut shapes);
            let replacement = store.reference(family, &info.slots);
            facts.forward.entry(key).or_default().push(Rewrite {
                pattern,
                replacement,
            });
        }
        for assumption in model.assumptions.clone() {
            let store = &mut model.store;
            let pattern = simplifier.canon(store, assumption.lhs);
            let replacement = simplifier.canon(store, assumption.rhs);
            facts.assumptions.push(Rewrite {
                pattern,
                replacement,
            });
        }
        facts
    }
}

fn contains_function_or_power(store: &Store, expr: ExprId) -> bool {
    match store.node(expr) {
        Node::Call(Function::Builtin(_), _, _) => true,
        Node::Pow(_, exponent) if store.as_number(*exponent).is_none() => true,
        _ => store
            .children(expr)
            .into_iter()
            .any(|c| contains_function_or_power(store, c)),
    }
}

/// A hash of an expression's structure that ignores which index variables
/// it uses, so that a formula and its instances share a shape.
fn shape(store: &Store, expr: ExprId, memo: &mut HashMap<ExprId, u64>) -> u64 {
    if let Some(&known) = memo.get(&expr) {
        return known;
    }
    let mut hasher = DefaultHasher::new();
    match store.node(expr) {
        Node::Number(value) => ("number", value).hash(&mut hasher),
        Node::Ref(family, indices) => ("ref", family, indices.len()).hash(&mut hasher),
        Node::Adjoint(family, indices) => ("adjoint", family, indices.len()).hash(&mut hasher),
        Node::Delta(..) => "delta".hash(&mut hasher),
        Node::Derivative(of, wrt) => (
            "derivative",
            shape(store, *of, memo),
            wrt.family,
            wrt.indices.len(),
        )
            .hash(&mut hasher),
        Node::Add(items) | Node::Mul(items) => {
            let tag = if matches!(store.node(expr), Node::Add(_)) {
                "add"
            } else {
                "mul"
            };
            let mut child_shapes: Vec<u64> = items.iter().map(|c| shape(store, *c, memo)).collect();
            child_shapes.sort_unstable();
            (tag, child_shapes).hash(&mut hasher);
        }
        Node::Pow(base, exponent) => (
            "pow",
            shape(store, *base, memo),
            shape(store, *exponent, memo),
        )
            .hash(&mut hasher),
        Node::Call(function, order, argument) => {
            ("call", function, order, shape(store, *argument, memo)).hash(&mut hasher)
        }
        Node::Sum(_, body) => ("sum", shape(store, *body, memo)).hash(&mut hasher),
    }
    let value = hasher.finish();
    memo.insert(expr, value);
    value
}

/// Simplifies expressions of one store with one set of facts; remembers
/// what it has done, since each result depends only on the expression.
pub struct Simplifier {
    facts: Facts,
    canon_memo: HashMap<ExprId, ExprId>,
    expand_memo: HashMap<ExprId, ExprId>,
    rewrite_memo: HashMap<ExprId, ExprId>,
    shapes: HashMap<ExprId, u64>,
}

impl Simplifier {
    /// A simplifier that uses `facts`.
    pub fn new(facts: Facts) -> Simplifier {
        Simplifier {
            facts,
            canon_memo: HashMap::default(),
            expand_memo: HashMap::default(),
            rewrite_memo: HashMap::default(),
            shapes: HashMap::default(),
        }
    }

    /// The simplest form found: canonical form, forward quantities and
    /// assumptions applied, the shorter of factored and multiplied out.
    pub fn simplify(&mut self, store: &mut Store, expr: ExprId) -> ExprId {
        let factored = self.canon(store, expr);
        let factored = self.rewrite(store, factored);
        let factored = self.canon(store, factored);
        let factored = self.factor(store, factored);
        let factored = self.canon(store, factored);
        if store.tree_size(factored, MAX_EXPAND_SIZE) >= MAX_EXPAND_SIZE {
            return factored;
        }
        let expanded = self.expand(store, factored);
        let expanded = self.rewrite(store, expanded);
        let expanded = self.canon(store, expanded);
        let expanded = self.factor(store, expanded);
        let expanded = self.canon(store, expanded);
        let limit = MAX_EXPAND_SIZE * 4;
        if store.tree_size(expanded, limit) < store.tree_size(factored, limit) {
            expanded
        } else {
            factored
        }
    }

    /// Canonical form: flattened, numbers folded, like terms and equal bases
    /// combined, deltas collapsed, children ordered by id.
    pub fn canon(&mut self, store: &mut Store, expr: ExprId) -> ExprId {
        if let Some(&done) = self.canon_memo.get(&expr) {
            return done;
        }
        let result = match store.node(expr).clone() {
            Node::Number(_) | Node::Ref(..) | Node::Adjoint(..) | Node::Delta(..) => expr,
            Node::Add(terms) => {
                let terms: Vec<ExprId> = terms.iter().map(|t| self.canon(store, *t)).collect();
                self.make_add(store, terms)
            }
            Node::Mul(factors) => {
                let factors: Vec<ExprId> = factors.iter().map(|f| self.canon(store, *f)).collect();
                self.make_mul(store, factors)
            }
            Node::Pow(base, exponent) => {
                let base = self.canon(store, base);
                let exponent = self.canon(store, exponent);
                self.make_pow(store, base, exponent)
            }
            Node::Call(function, order, argument) => {
                let argument = self.canon(store, argument);
                make_call(store, function, order, argument)
            }
            Node::Sum(bound, body) => {
                let body = self.canon(store, body);
                self.make_sum(store, bound, body, false)
            }
            Node::Derivative(of, wrt) => {
                let of = self.canon(store, of);
                store.derivative(of, wrt)
            }
        };
        self.canon_memo.insert(expr, result);
        self.canon_memo.insert(result, result);
        result
    }

    fn make_add(&mut self, store: &mut Store, terms: Vec<ExprId>) -> ExprId {
        let mut flat = Vec::new();
        for term in terms {
            match store.node(term) {
                Node::Add(inner) => flat.extend(inner.iter().copied()),
                _ => flat.push(term),
            }
        }
        let mut constant = BigRational::zero();
        let mut coefficients: BTreeMap<ExprId, BigRational> = BTreeMap::new();
        for term in flat {
            let (coefficient, rest) = split_coefficient(store, term);
            if store.is_one(rest) {
                constant += coefficient;
            } else {
                *coefficients.entry(rest).or_insert_with(BigRational::zero) += coefficient;
            }
        }
        let mut result = Vec::new();
        for (rest, coefficient) in coefficients {
            if coefficient.is_zero() {
                continue;
            }
            let term = if coefficient.is_one() {
                rest
            } else {
                let number = store.number(coefficient);
                self.make_mul(store, vec![number, rest])
            };
            result.push(term);
        }
        if !constant.is_zero() {
            result.push(store.number(constant));
        }
        result.sort_unstable();
        store.add(result)
    }

    fn make_mul(&mut self, store: &mut Store, factors: Vec<ExprId>) -> ExprId {
        let mut flat = Vec::new();
        for factor in factors {
            match store.node(factor) {
                Node::Mul(inner) => flat.extend(inner.iter().copied()),
                _ => flat.push(factor),
            }
        }
        let mut coefficient = BigRational::one();
        let mut exponents: BTreeMap<ExprId, Vec<ExprId>> = BTreeMap::new();
        for factor in flat {
            match store.node(factor) {
                Node::Number(value) => coefficient *= value,
                Node::Pow(base, exponent) => exponents.entry(*base).or_default().push(*exponent),
                _ => {
                    let one = store.int(1);
                    exponents.entry(factor).or_default().push(one);
                }
            }
        }
        if coefficient.is_zero() {
            return store.int(0);
        }
        let mut result = Vec::new();
        for (base, powers) in exponents {
            let exponent = if powers.len() == 1 {
                powers[0]
            } else {
                self.make_add(store, powers)
            };
            let power = self.make_pow(store, base, exponent);
            match store.node(power) {
                Node::Number(value) => coefficient *= value,
                Node::Mul(inner) => result.extend(inner.iter().copied()),
                _ => result.push(power),
            }
        }
        if coefficient.is_zero() {
            return store.int(0);
        }
        // -(a - b) reads better as b - a.
        if result.len() == 1
            && -coefficient.clone() == BigRational::one()
            && let Node::Add(terms) = store.node(result[0]).clone()
        {
            let negated: Vec<ExprId> = terms
                .iter()
                .map(|t| {
                    let minus = store.int(-1);
                    self.make_mul(store, vec![minus, *t])
                })
                .collect();
            return self.make_add(store, negated);
        }
        if !coefficient.is_one() {
            result.push(store.number(coefficient));
        }
        result.sort_unstable();
        store.mul(result)
    }

    fn make_pow(&mut self, store: &mut Store, base: ExprId, exponent: ExprId) -> ExprId {
        if store.is_zero(exponent) || store.is_one(base) {
            return store.int(1);
        }
        if store.is_one(exponent) {
            return base;
        }
        let whole_exponent = store
            .as_number(exponent)
            .filter(|e| e.is_integer())
            .cloned();
        if let Some(n) = &whole_exponent {
            if let Some(value) = store.as_number(base).cloned()
                && let Some(folded) = fold_power(&value, n)
            {
                return store.number(folded);
            }
            match store.node(base).clone() {
                Node::Pow(inner_base, inner_exponent) => {
                    let product = self.make_mul(store, vec![inner_exponent, exponent]);
                    return self.make_pow(store, inner_base, product);
                }
                Node::Mul(factors) => {
                    let powers: Vec<ExprId> = factors
                        .iter()
                        .map(|f| self.make_pow(store, *f, exponent))
                        .collect();
                    return self.make_mul(store, powers);
                }
                _ => {}
            }
        }
        store.pow(base, exponent)
    }

    /// A sum over `bound` of a canonical body, with the sum rules applied.
    /// A sum of a sum is split into a sum of sums when that lets a term
    /// simplify (or always, when `distribute` is set); otherwise it stays
    /// whole, as a reader writes `sum(k, y[k] - t[k])`.
    fn make_sum(
        &mut self,
        store: &mut Store,
        bound: IndexVar,
        body: ExprId,
        distribute: bool,
    ) -> ExprId {
        if !store.has_free(body, bound) {
            return store.sum(bound, body);
        }
        match store.node(body).clone() {
            Node::Add(terms) => {
                let mut changed = false;
                let mut sums = Vec::with_capacity(terms.len());
                for term in terms.iter() {
                    // A numeric coefficient leaving the sum changes nothing a reader minds.
                    let (coefficient, rest) = split_coefficient(store, *term);
                    let summed = self.make_sum(store, bound, rest, distribute);
                    changed |= summed != store.sum(bound, rest);
                    let coefficient = store.number(coefficient);
                    sums.push(self.make_mul(store, vec![coefficient, summed]));
                }
                if !distribute && !changed {
                    return store.sum(bound, body);
                }
                self.make_add(store, sums)
            }
            Node::Delta(..) => store.int(1),
            Node::Mul(factors) => {
                let (outside, inside): (Vec<ExprId>, Vec<ExprId>) =
                    factors.iter().partition(|f| !store.has_free(**f, bound));
                let collapsing = inside.iter().position(|f| match store.node(*f) {
                    Node::Delta(a, b) => *a == bound || *b == bound,
                    _ => false,
                });
                if let Some(at) = collapsing {
                    let Node::Delta(a, b) = store.node(inside[at]).clone() else {
                        unreachable!("found a delta")
                    };
                    let other = if a == bound { b } else { a };
                    let mut rest = inside.clone();
                    rest.remove(at);
                    let rest = store.mul(rest);
                    let substituted =
                        store.substitute_vars(rest, &VarMap::from_iter([(bound, other)]));
                    let collapsed = self.canon(store, substituted);
                    let mut all = outside;
                    all.push(collapsed);
                    return self.make_mul(store, all);
                }
                if outside.is_empty() {
                    return store.sum(bound, body);
                }
                let inner_body = store.mul(inside);
                let inner = self.make_sum(store, bound, inner_body, distribute);
                let mut all = outside;
                all.push(inner);
                self.make_mul(store, all)
            }
            _ => store.sum(bound, body),
        }
    }

    /// Multiplies products out over sums (only where that stays small).
    fn expand(&mut self, store: &mut Store, expr: ExprId) -> ExprId {
        if let Some(&done) = self.expand_memo.get(&expr) {
            return done;
        }
        let result = match store.node(expr).clone() {
            Node::Add(terms) => {
                let terms: Vec<ExprId> = terms.iter().map(|t| self.expand(store, *t)).collect();
                self.make_add(store, terms)
            }
            Node::Mul(factors) => {
                let factors: Vec<ExprId> = factors.iter().map(|f| self.expand(store, *f)).collect();
                let combined = self.make_mul(store, factors);
                self.distribute(store, combined)
            }
            Node::Sum(bound, body) => {
                let body = self.expand(store, body);
                self.make_sum(store, bound, body, true)
            }
            Node::Call(function, order, argument) => {
                let argument = self.expand(store, argument);
                make_call(store, function, order, argument)
            }
            Node::Pow(base, exponent) => {
                let base = self.expand(store, base);
                self.make_pow(store, base, exponent)
            }
            _ => expr,
        };
        self.expand_memo.insert(expr, result);
        result
    }

    /// Multiplies a product out over one of its bracketed sums, then the
    /// rest. Sums holding fractions go first, so that `y (1-y) (a/(1-y) - b/y)`
    /// cancels before `(1-y)` itself is multiplied out.
    fn distribute(&mut self, store: &mut Store, product: ExprId) -> ExprId {
        let Node::Mul(factors) = store.node(product).clone() else {
            return product;
        };
        let holds_fraction = |store: &Store, sum: ExprId| {
            store.children(sum).into_iter().any(|term| {
                let factors = match store.node(term) {
                    Node::Mul(factors) => factors.to_vec(),
                    _ => vec![term],
                };
                factors.iter().any(|f| match store.node(*f) {
                    Node::Pow(_, exponent) => {
                        store.as_number(*exponent).is_some_and(|e| e.is_negative())
                    }
                    _ => false,
                })
            })
        };
        let mut chosen = None;
        for (position, factor) in factors.iter().enumerate() {
            if let Node::Add(_) = store.node(*factor) {
                let preferred = holds_fraction(store, *factor);
                if chosen.is_none() || preferred {
                    chosen = Some(position);
                }
                if preferred {
                    break;
                }
            }
        }
        let Some(position) = chosen else {
            return product;
        };
        let terms = store.children(factors[position]);
        let mut others = factors.to_vec();
        others.remove(position);
        let mut expanded_terms = Vec::new();
        for term in terms {
            let mut all = others.clone();
            all.push(term);
            let combined = self.make_mul(store, all);
            let expanded = self.expand(store, combined);
            match store.node(expanded) {
                Node::Add(inner) => expanded_terms.extend(inner.iter().copied()),
                _ => expanded_terms.push(expanded),
            }
            if expanded_terms.len() > MAX_EXPANDED_TERMS {
                return product;
            }
        }
        self.make_add(store, expanded_terms)
    }

    /// Pulls factors common to every term of a sum out of it:
    /// `a b + a c = a (b + c)`.
    fn factor(&mut self, store: &mut Store, expr: ExprId) -> ExprId {
        let children = store.children(expr);
        if children.is_empty() {
            return expr;
        }
        let node = store.node(expr).clone();
        let children: Vec<ExprId> = children
            .into_iter()
            .map(|c| self.factor(store, c))
            .collect();
        let rebuilt = store.rebuild(&node, &children);
        let Node::Add(terms) = store.node(rebuilt).clone() else {
            return rebuilt;
        };
        let factor_lists: Vec<Vec<ExprId>> = terms
            .iter()
            .map(|t| match store.node(*t) {
                Node::Mul(factors) => factors
                    .iter()
                    .copied()
                    .filter(|f| store.as_number(*f).is_none())
                    .collect(),
                _ => vec![*t],
            })
            .collect();
        let common: Vec<ExprId> = factor_lists[0]
            .iter()
            .copied()
            .filter(|f| factor_lists.iter().all(|list| list.contains(f)))
            .collect();
        if common.is_empty() {
            return rebuilt;
        }
        let rests: Vec<ExprId> = terms
            .iter()
            .map(|t| {
                let factors = match store.node(*t) {
                    Node::Mul(factors) => factors.to_vec(),
                    _ => vec![*t],
                };
                let mut remaining = factors;
                for c in &common {
                    if let Some(at) = remaining.iter().position(|f| f == c) {
                        remaining.remove(at);
                    }
                }
                store.mul(remaining)
            })
            .collect();
        let inner = self.make_add(store, rests);
        let mut all = common;
        all.push(inner);
        store.mul(all)
    }

    /// Applies only the forward quantities, then canonical form.
    pub fn rewrite_forward(&mut self, store: &mut Store, expr: ExprId) -> ExprId {
        let assumptions = std::mem::take(&mut self.facts.assumptions);
        self.rewrite_memo.clear();
        let rewritten = self.rewrite(store, expr);
        self.facts.assumptions = assumptions;
        self.rewrite_memo.clear();
        self.canon(store, rewritten)
    }

    /// Applies only the assumptions, then canonical form.
    pub fn rewrite_assumptions(&mut self, store: &mut Store, expr: ExprId) -> ExprId {
        let forward = std::mem::take(&mut self.facts.forward);
        self.rewrite_memo.clear();
        let rewritten = self.rewrite(store, expr);
        self.facts.forward = forward;
        self.rewrite_memo.clear();
        self.canon(store, rewritten)
    }

    /// Applies forward quantities and assumptions everywhere, innermost first.
    fn rewrite(&mut self, store: &mut Store, expr: ExprId) -> ExprId {
        if self.facts.forward.is_empty() && self.facts.assumptions.is_empty() {
            return expr;
        }
        if let Some(&done) = self.rewrite_memo.get(&expr) {
            return done;
        }
        let children = store.children(expr);
        let rebuilt = if children.is_empty() {
            expr
        } else {
            let node = store.node(expr).clone();
            let children: Vec<ExprId> = children
                .into_iter()
                .map(|c| self.rewrite(store, c))
                .collect();
            let rebuilt = store.rebuild(&node, &children);
            self.canon(store, rebuilt)
        };
        let result = self.rewrite_here(store, rebuilt);
        self.rewrite_memo.insert(expr, result);
        result
    }

    fn rewrite_here(&mut self, store: &mut Store, expr: ExprId) -> ExprId {
        let mut current = expr;
        // Each rewrite makes the expression smaller, so this ends; the bound
        // is a guard against a pathological file.
        for _ in 0..64 {
            match self.rewrite_once(store, current) {
                Some(next) => current = self.canon(store, next),
                None => break,
            }
        }
        current
    }

    fn rewrite_once(&mut self, store: &mut Store, expr: ExprId) -> Option<ExprId> {
        for rule in self.facts.assumptions.clone() {
            let mut bindings = HashMap::default();
            if matches(store, &rule, rule.pattern, expr, &mut bindings) {
                return Some(instantiate_replacement(store, &rule, &bindings));
            }
        }
        let candidates: Vec<ExprId> = match store.node(expr) {
            Node::Mul(factors) => factors.to_vec(),
            _ => vec![expr],
        };
        for candidate in candidates {
            let key = shape(store, candidate, &mut self.shapes);
            let Some(rules) = self.facts.forward.get(&key).cloned() else {
                continue;
            };
            for rule in rules {
                if let Some(found) = match_rewrite(store, &rule, expr) {
                    return Some(found);
                }
            }
        }
        None
    }
}

/// Applies one forward quantity to `expr`, whole or as part of a product.
fn match_rewrite(store: &mut Store, rule: &Rewrite, expr: ExprId) -> Option<ExprId> {
    let mut bindings = HashMap::default();
    if matches(store, rule, rule.pattern, expr, &mut bindings) {
        return Some(instantiate_replacement(store, rule, &bindings));
    }
    let (Node::Mul(pattern_factors), Node::Mul(target_factors)) =
        (store.node(rule.pattern).clone(), store.node(expr).clone())
    else {
        return None;
    };
    // Divide the pattern's factors out of the target's: each pattern factor
    // b^m must meet a target factor b^n with n of the same sign and |n| >= |m|.
    let mut remaining: Vec<(ExprId, BigRational)> = target_factors
        .iter()
        .map(|f| base_and_exponent(store, *f))
        .collect();
    let mut bindings = HashMap::default();
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
            let mut trial = bindings.clone();
            if matches(store, rule, pattern_base, target_base, &mut trial) {
                bindings = trial;
                slot.1 = target_exponent - pattern_exponent.clone();
                found = true;
                break;
            }
        }
        if !found {
            return None;
        }
    }
    let mut factors = vec![instantiate_replacement(store, rule, &bindings)];
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
        Node::Number(_) => (factor, BigRational::one()),
        _ => (factor, BigRational::one()),
    }
}

fn instantiate_replacement(store: &mut Store, rule: &Rewrite, bindings: &VarMap) -> ExprId {
    store.instantiate(rule.replacement, bindings)
}

/// Structural matching up to the order of terms and factors, binding the
/// rule's free variables and the pattern's bound variables.
fn matches(
    store: &Store,
    rule: &Rewrite,
    pattern: ExprId,
    target: ExprId,
    bindings: &mut VarMap,
) -> bool {
    let bind = |bindings: &mut VarMap, from: IndexVar, to: IndexVar| -> bool {
        if store.var(from).range != store.var(to).range {
            return false;
        }
        match bindings.get(&from) {
            Some(existing) => *existing == to,
            None => {
                bindings.insert(from, to);
                true
            }
        }
    };
    match (store.node(pattern), store.node(target)) {
        (Node::Number(a), Node::Number(b)) => a == b,
        (Node::Ref(fa, ia), Node::Ref(fb, ib)) | (Node::Adjoint(fa, ia), Node::Adjoint(fb, ib)) => {
            fa == fb
                && ia.len() == ib.len()
                && ia
                    .iter()
                    .zip(ib.iter())
                    .all(|(a, b)| bind(bindings, *a, *b))
        }
        (Node::Delta(a1, a2), Node::Delta(b1, b2)) => {
            let mut trial = bindings.clone();
            if bind(&mut trial, *a1, *b1) && bind(&mut trial, *a2, *b2) {
                *bindings = trial;
                return true;
            }
            bind(bindings, *a1, *b2) && bind(bindings, *a2, *b1)
        }
        (Node::Pow(pb, pe), Node::Pow(tb, te)) => {
            matches(store, rule, *pb, *tb, bindings) && matches(store, rule, *pe, *te, bindings)
        }
        (Node::Call(pf, po, pa), Node::Call(tf, to, ta)) => {
            pf == tf && po == to && matches(store, rule, *pa, *ta, bindings)
        }
        (Node::Sum(pv, pb), Node::Sum(tv, tb)) => {
            if !bind(bindings, *pv, *tv) {
                return false;
            }
            matches(store, rule, *pb, *tb, bindings)
        }
        (Node::Add(ps), Node::Add(ts)) | (Node::Mul(ps), Node::Mul(ts)) => {
            let same_kind = matches!(store.node(pattern), Node::Add(_))
                == matches!(store.node(target), Node::Add(_));
            same_kind
                && ps.len() == ts.len()
                && match_unordered(store, rule, ps, ts, &mut vec![false; ts.len()], bindings)
        }
        _ => false,
    }
}

fn match_unordered(
    store: &Store,
    rule: &Rewrite,
    patterns: &[ExprId],
    targets: &[ExprId],
    used: &mut Vec<bool>,
    bindings: &mut VarMap,
) -> bool {
    let Some((first, rest)) = patterns.split_first() else {
        return true;
    };
    for (at, target) in targets.iter().enumerate() {
        if used[at] {
            continue;
        }
        let mut trial = bindings.clone();
        if matches(store, rule, *first, *target, &mut trial) {
            used[at] = true;
            if match_unordered(store, rule, rest, targets, used, &mut trial) {
                *bindings = trial;
                return true;
            }
            used[at] = false;
        }
    }
    false
}

/// A term as its numeric coefficient and the rest: `3 x y` is (3, x y).
fn split_coefficient(store: &mut Store, term: ExprId) -> (BigRational, ExprId) {
    match store.node(term).clone() {
        Node::Number(value) => (value, store.int(1)),
        Node::Mul(factors) => {
            let mut coefficient = BigRational::one();
            let mut rest = Vec::new();
            for factor in factors.iter() {
                match store.node(*factor) {
                    Node::Number(value) => coefficient *= value,
                    _ => rest.push(*factor),
                }
            }
            (coefficient, store.mul(rest))
        }
        _ => (BigRational::one(), term),
    }
}

/// `base^exponent` for numbers, when the result stays a modest size.
fn fold_power(base: &BigRational, exponent: &BigRational) -> Option<BigRational> {
    let n = exponent.to_integer().to_i32()?;
    if base.is_zero() && n < 0 {
        return None;
    }
    let bits = base.numer().bits().max(base.denom().bits());
    if u64::from(n.unsigned_abs()) * bits.max(1) > 4096 {
        return None;
    }
    let magnitude = num_traits::pow(base.clone(), n.unsigned_abs() as usize);
    Some(if n < 0 { magnitude.recip() } else { magnitude })
}

/// A call, with the identities that hold for every argument.
fn make_call(store: &mut Store, function: Function, order: u32, argument: ExprId) -> ExprId {
    if let (Function::Builtin(builtin), 0) = (function, order) {
        if let Node::Call(Function::Builtin(inner), 0, inner_argument) =
            store.node(argument).clone()
        {
            match (builtin, inner) {
                (Builtin::Log, Builtin::Exp) | (Builtin::Exp, Builtin::Log) => {
                    return inner_argument;
                }
                _ => {}
            }
        }
        if store.is_zero(argument) {
            let value = match builtin {
                Builtin::Exp | Builtin::Cos | Builtin::Cosh => Some(1),
                Builtin::Sin
                | Builtin::Sinh
                | Builtin::Tanh
                | Builtin::Sqrt
                | Builtin::Relu
                | Builtin::Abs
                | Builtin::Sign => Some(0),
                _ => None,
            };
            if let Some(value) = value {
                return store.int(value);
            }
            if builtin == Builtin::Sigmoid {
                return store.number(BigRational::new(BigInt::from(1), BigInt::from(2)));
            }
        }
        if store.is_one(argument) && builtin == Builtin::Log {
            return store.int(0);
        }
    }
    store.call(function, order, argument)
}

#[cfg(test)]
mod tests {
    use crate::{Network, Source};

    /// Simplifies `text`, an expression over `network`, and prints it.
    fn simplified(network: &str, text: &str) -> String {
        let mut net = Network::load(Source::new("t.nn", network)).unwrap();
        let expr = net.expression(text).unwrap();
        let simple = net.engine().simplify(expr);
        net.print(simple, crate::render::Format::Dsl)
    }

    const SCALARS: &str = "input x, y, t\n";

    #[test]
    fn like_terms_and_equal_bases_combine() {
        assert_eq!(simplified(SCALARS, "2*x + 3*x - x"), "4*x");
        assert_eq!(simplified(SCALARS, "x*x^2/x^3"), "1");
        assert_eq!(simplified(SCALARS, "(x*y)^2/y"), "y*x^2");
        assert_eq!(simplified(SCALARS, "1*x + 0*y + x^1 - --x"), "x");
        assert_eq!(simplified(SCALARS, "2^10 + 1/2*2"), "1025");
    }

    #[test]
    fn quotients_cancel_on_the_multiplied_out_path() {
        assert_eq!(
            simplified(SCALARS, "y*(1 - y)*((1 - t)/(1 - y) - t/y)"),
            "y - t"
        );
    }

    #[test]
    fn functions_meet_their_inverses_and_their_values_at_zero() {
        assert_eq!(simplified(SCALARS, "log(exp(x)) + exp(log(y))"), "x + y");
        assert_eq!(simplified(SCALARS, "exp(0) + sin(0) + sigmoid(0)"), "3/2");
    }

    #[test]
    fn kronecker_deltas_collapse_the_sums_that_bind_them() {
        let net = "index j, p in M\ninput w[j]\n";
        assert_eq!(simplified(net, "sum(j, w[j] * delta(j, p))"), "w[p]");
        assert_eq!(simplified(net, "sum(j, delta(p, j))"), "1");
        assert_eq!(
            simplified(net, "sum(j, 3 * w[p] * w[j])"),
            "3*w[p]*sum(j, w[j])"
        );
    }

    #[test]
    fn sums_stay_whole_unless_splitting_helps() {
        let net = "index k, l in K\ninput y[k], t[k]\n";
        assert_eq!(
            simplified(net, "sum(k, y[k] - t[k])"),
            "sum(k, y[k] - t[k])"
        );
        assert_eq!(
            simplified(net, "sum(k, y[k] - t[k] * delta(k, l))"),
            "sum(k, y[k]) - t[l]"
        );
    }

    #[test]
    fn forward_quantities_replace_their_formulas() {
        let net = "index j in M\ninput a[j]\nz[j] = tanh(a[j])\n";
        assert_eq!(simplified(net, "1 - tanh(a[j])^2"), "1 - z[j]^2");
    }

    #[test]
    fn assumptions_are_applied() {
        let net = "index k, l in K\ninput t[k], y[k]\nassume sum(k, t[k]) = 1\n";
        assert_eq!(
            simplified(net, "y[l] * sum(l2, t[l2]) - t[l]"),
            "y[l] - t[l]"
        );
    }
}

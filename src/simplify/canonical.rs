//! The rules of canonical form, of sums and of Kronecker deltas, each
//! applied at one node whose children are already simplified. A rule
//! returns the node rewritten, or `None` when it has nothing to do; the
//! simplifier then simplifies what the rule returned.

use std::collections::BTreeMap;

use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use crate::expr::traverse::Mapper;
use crate::expr::{Contents, ExprId, Function, Index, IndexVar, Node, Store};
use crate::limits::{MAX_EXPANDED_TERMS, MAX_NUMBER_BITS};

/// `a + (b + c) = a + b + c` and `a (b c) = a b c`.
pub fn flatten(store: &mut Store, id: ExprId) -> Option<ExprId> {
    match store.node(id) {
        Node::Add(terms) if terms.iter().any(|t| matches!(store.node(*t), Node::Add(_))) => {
            let flat: Vec<ExprId> = terms
                .iter()
                .flat_map(|t| store.terms(*t).iter().copied())
                .collect();
            Some(store.add(flat))
        }
        Node::Mul(factors)
            if factors
                .iter()
                .any(|f| matches!(store.node(*f), Node::Mul(_))) =>
        {
            let flat: Vec<ExprId> = factors
                .iter()
                .flat_map(|f| store.factors(*f).iter().copied())
                .collect();
            Some(store.mul(flat))
        }
        _ => None,
    }
}

/// `2 x + 3 x = 5 x`, numbers added into one constant, terms that cancel
/// dropped.
pub fn like_terms(store: &mut Store, id: ExprId) -> Option<ExprId> {
    let Node::Add(terms) = store.node(id) else {
        return None;
    };
    if !may_have_like_terms(store, terms) {
        return None;
    }
    let terms = terms.clone();
    let mut constant = BigRational::zero();
    let mut numbers = 0;
    let mut coefficients: BTreeMap<ExprId, BigRational> = BTreeMap::new();
    for term in terms.iter() {
        let (coefficient, rest) = split_coefficient(store, *term);
        if store.is_one(rest) {
            constant += coefficient;
            numbers += 1;
        } else {
            *coefficients.entry(rest).or_insert_with(BigRational::zero) += coefficient;
        }
    }
    let unchanged = coefficients.len() + numbers == terms.len()
        && numbers <= 1
        && !(numbers == 1 && constant.is_zero())
        && coefficients.values().all(|c| !c.is_zero());
    if unchanged {
        return None;
    }
    let mut result = Vec::with_capacity(coefficients.len() + 1);
    for (rest, coefficient) in coefficients {
        if coefficient.is_zero() {
            continue;
        }
        let number = store.number(coefficient);
        result.push(store.mul(vec![number, rest]));
    }
    if !constant.is_zero() {
        result.push(store.number(constant));
    }
    Some(store.add(result))
}

/// A quick test that needs no new node: false when no two terms of a sum
/// can be like terms (each term's factors other than numbers differ) and
/// at most one term is a number.
fn may_have_like_terms(store: &Store, terms: &[ExprId]) -> bool {
    use std::hash::{Hash, Hasher};
    let mut numbers = 0;
    let mut keys: Vec<u64> = Vec::with_capacity(terms.len());
    for term in terms {
        if store.as_number(*term).is_some() {
            numbers += 1;
            continue;
        }
        let mut hasher = rustc_hash::FxHasher::default();
        for factor in store.factors(*term) {
            if store.as_number(*factor).is_none() {
                factor.hash(&mut hasher);
            }
        }
        keys.push(hasher.finish());
    }
    keys.sort_unstable();
    numbers > 1 || keys.windows(2).any(|pair| pair[0] == pair[1])
}

/// `x^a x^b = x^(a+b)`, numbers multiplied into one coefficient.
pub fn equal_bases(store: &mut Store, id: ExprId) -> Option<ExprId> {
    let Node::Mul(factors) = store.node(id) else {
        return None;
    };
    // A quick test first: at most one number, and every base different.
    let numbers = factors
        .iter()
        .filter(|f| store.as_number(**f).is_some())
        .count();
    let mut bases: Vec<ExprId> = factors
        .iter()
        .filter(|f| store.as_number(**f).is_none())
        .map(|f| match store.node(*f) {
            Node::Pow(base, _) => *base,
            _ => *f,
        })
        .collect();
    bases.sort_unstable();
    if numbers <= 1 && bases.windows(2).all(|pair| pair[0] != pair[1]) {
        return None;
    }
    let factors = factors.clone();
    let mut coefficient = BigRational::one();
    let mut numbers = 0;
    let mut exponents: BTreeMap<ExprId, Vec<ExprId>> = BTreeMap::new();
    for factor in factors.iter() {
        match store.node(*factor) {
            Node::Number(value) => {
                coefficient *= value.as_ref();
                numbers += 1;
            }
            Node::Pow(base, exponent) => exponents.entry(*base).or_default().push(*exponent),
            _ => {
                let one = store.int(1);
                exponents.entry(*factor).or_default().push(one);
            }
        }
    }
    let unchanged = numbers <= 1 && exponents.values().all(|powers| powers.len() == 1);
    if unchanged {
        return None;
    }
    let mut result = Vec::with_capacity(exponents.len() + 1);
    result.push(store.number(coefficient));
    for (base, powers) in exponents {
        let exponent = store.add(powers);
        result.push(store.pow(base, exponent));
    }
    Some(store.mul(result))
}

/// `-(a - b) = b - a`, and `-(a - 1) c = (1 - a) c`: a product negated,
/// with one sum among its factors, has that sum's terms negated instead
/// (beside other factors, only when that brings a negative constant
/// forward).
pub fn negated_difference(store: &mut Store, id: ExprId) -> Option<ExprId> {
    let Node::Mul(factors) = store.node(id) else {
        return None;
    };
    // The one number and the one sum among the factors, if there is one of
    // each.
    let (mut number, mut sum) = (None, None);
    for (at, factor) in factors.iter().enumerate() {
        let slot = match store.node(*factor) {
            Node::Number(_) => &mut number,
            Node::Add(_) => &mut sum,
            _ => continue,
        };
        if slot.replace(at).is_some() {
            return None;
        }
    }
    let (Some(number), Some(sum)) = (number, sum) else {
        return None;
    };
    if store.as_number(factors[number]) != Some(&-BigRational::one()) {
        return None;
    }
    let factors = factors.clone();
    let terms = store.terms(factors[sum]).to_vec();
    // With other factors beside it, a sum is negated only to bring a
    // negative constant forward: `-(t - 1) c` reads better as `(1 - t) c`,
    // `-(1 - y) c` no better as `(y - 1) c`.
    let negative_constant = terms
        .iter()
        .any(|t| store.as_number(*t).is_some_and(|value| value.is_negative()));
    if factors.len() > 2 && !negative_constant {
        return None;
    }
    let negated: Vec<ExprId> = terms.iter().map(|t| store.negate(*t)).collect();
    let mut rest: Vec<ExprId> = Vec::with_capacity(factors.len() - 1);
    for (at, factor) in factors.iter().enumerate() {
        if at == sum {
            rest.push(store.add(negated.clone()));
        } else if at != number {
            rest.push(*factor);
        }
    }
    Some(store.mul(rest))
}

/// Terms and factors sorted by id: commutativity, one fixed order.
pub fn order(store: &mut Store, id: ExprId) -> Option<ExprId> {
    match store.node(id) {
        Node::Add(items) | Node::Mul(items) if !items.is_sorted() => {
            let mut sorted = items.to_vec();
            sorted.sort_unstable();
            let node = store.node(id).clone();
            Some(store.rebuild(&node, &sorted))
        }
        _ => None,
    }
}

/// Powers of numbers worked out (`2^10 = 1024`, `1^e = 1`), when the
/// result stays within [`MAX_NUMBER_BITS`].
pub fn number_power(store: &mut Store, id: ExprId) -> Option<ExprId> {
    let Node::Pow(base, exponent) = *store.node(id) else {
        return None;
    };
    if store.is_one(base) {
        return Some(store.int(1));
    }
    let value = store.as_number(base)?;
    let power = whole(store, exponent)?;
    let folded = fold_power(value, power)?;
    Some(store.number(folded))
}

/// `(x^a)^n = x^(a n)` for a whole number `n`.
pub fn power_of_power(store: &mut Store, id: ExprId) -> Option<ExprId> {
    let Node::Pow(base, exponent) = *store.node(id) else {
        return None;
    };
    whole(store, exponent)?;
    let Node::Pow(inner_base, inner_exponent) = *store.node(base) else {
        return None;
    };
    let product = store.mul(vec![inner_exponent, exponent]);
    Some(store.pow(inner_base, product))
}

/// `(x y)^n = x^n y^n` for a whole number `n`.
pub fn power_of_product(store: &mut Store, id: ExprId) -> Option<ExprId> {
    let Node::Pow(base, exponent) = *store.node(id) else {
        return None;
    };
    whole(store, exponent)?;
    let Node::Mul(factors) = store.node(base) else {
        return None;
    };
    let factors = factors.clone();
    let powers: Vec<ExprId> = factors.iter().map(|f| store.pow(*f, exponent)).collect();
    Some(store.mul(powers))
}

/// `log(exp(x)) = x` and `exp(log(x)) = x`.
pub fn inverse_function(store: &mut Store, id: ExprId) -> Option<ExprId> {
    let Node::Call(Function::Builtin(outer), 0, argument) = *store.node(id) else {
        return None;
    };
    match *store.node(argument) {
        Node::Call(Function::Builtin(inner), 0, inner_argument)
            if outer.row().inverse == Some(inner) =>
        {
            Some(inner_argument)
        }
        _ => None,
    }
}

/// A built-in's exact value at a number the table of functions knows.
pub fn function_value(store: &mut Store, id: ExprId) -> Option<ExprId> {
    let Node::Call(Function::Builtin(builtin), 0, argument) = *store.node(id) else {
        return None;
    };
    let value = builtin.exact_value(store.as_number(argument)?)?;
    Some(store.number(value))
}

/// `sum(k, a + b) = sum(k, a) + sum(k, b)`, when a term's sum then
/// simplifies or `always` is set (while multiplying out); otherwise a sum
/// stays whole, as a reader writes `sum(k, y[k] - t[k])`. A numeric
/// coefficient leaves its term's sum as it splits.
pub fn sum_split(store: &mut Store, id: ExprId, always: bool) -> Option<ExprId> {
    let Node::Sum(bound, body) = *store.node(id) else {
        return None;
    };
    let Node::Add(terms) = store.node(body) else {
        return None;
    };
    let terms = terms.clone();
    let split: Vec<(BigRational, ExprId)> =
        terms.iter().map(|t| split_coefficient(store, *t)).collect();
    let helps = split
        .iter()
        .any(|(_, rest)| store.has_free(*rest, bound) && sum_rule_applies(store, bound, *rest));
    if !always && !helps {
        return None;
    }
    let sums: Vec<ExprId> = split
        .into_iter()
        .map(|(coefficient, rest)| {
            let number = store.number(coefficient);
            let summed = store.sum(bound, rest);
            store.mul(vec![number, summed])
        })
        .collect();
    Some(store.add(sums))
}

/// True when [`sum_constant_out`] or [`kronecker_collapse`] would change
/// `sum(bound, body)`.
fn sum_rule_applies(store: &Store, bound: IndexVar, body: ExprId) -> bool {
    store
        .factors(body)
        .iter()
        .any(|f| !store.has_free(*f, bound) || is_delta_on(store, *f, bound))
}

/// The value of `bound` that a Kronecker delta holds it to, where its
/// coefficient is 1 or -1 (a stride, `delta(2*i, d)`, is left alone).
fn collapses(store: &mut Store, factor: ExprId, bound: IndexVar) -> Option<Index> {
    let Node::Delta(a, b) = *store.node(factor) else {
        return None;
    };
    // a - b = c bound + rest = 0, so bound = -rest / c.
    let difference = store.index_difference(a, b);
    let coefficient = store.index_coefficient(difference, bound);
    if coefficient.abs() != 1 {
        return None;
    }
    let (terms, constant) = store.index_parts(difference);
    let rest: Vec<(IndexVar, i64)> = terms
        .into_iter()
        .filter(|(v, _)| *v != bound)
        .map(|(v, c)| (v, -c * coefficient))
        .collect();
    Some(store.index(&rest, -constant * coefficient))
}

/// True when `factor` is a Kronecker delta that `bound` stands in with a
/// coefficient of 1 or -1.
fn is_delta_on(store: &Store, factor: ExprId, bound: IndexVar) -> bool {
    matches!(store.node(factor), Node::Delta(a, b)
        if [*a, *b].iter().any(|i| store.index_coefficient(*i, bound).abs() == 1))
}

/// `sum(k, c f(k)) = c sum(k, f(k))` for factors `c` without `k`.
pub fn sum_constant_out(store: &mut Store, id: ExprId) -> Option<ExprId> {
    let Node::Sum(bound, body) = *store.node(id) else {
        return None;
    };
    if !store.has_free(body, bound) {
        return None;
    }
    let (outside, inside): (Vec<ExprId>, Vec<ExprId>) = store
        .factors(body)
        .iter()
        .copied()
        .partition(|f| !store.has_free(*f, bound));
    if outside.is_empty() {
        return None;
    }
    let inside = store.mul(inside);
    let mut all = outside;
    all.push(store.sum(bound, inside));
    Some(store.mul(all))
}

/// `c sum(k, d f(k)) = (c d) sum(k, f(k))` for numbers `c` and `d`,
/// wherever a product holds both: the constant a power rule leaves inside
/// a sum meets the one outside it, as Bishop's `1/2 sum(k, 2 (y[k] - t[k]))`
/// becomes `sum(k, y[k] - t[k])`. None when no product holds both.
pub fn fold_numbers(store: &mut Store, expr: ExprId) -> Option<ExprId> {
    struct Fold;
    impl Mapper for Fold {
        fn shortcut(&mut self, store: &mut Store, id: ExprId) -> Option<ExprId> {
            (!store.contents(id).has(Contents::SUM)).then_some(id)
        }

        fn finish(&mut self, store: &mut Store, _: ExprId, rebuilt: ExprId) -> ExprId {
            let (coefficient, factors) = flat_factors(store, rebuilt);
            let Some(mut coefficient) = coefficient else {
                return rebuilt;
            };
            let mut folded = false;
            let mut rest = Vec::with_capacity(factors.len() + 1);
            for factor in factors {
                let Node::Sum(bound, body) = *store.node(factor) else {
                    rest.push(factor);
                    continue;
                };
                match flat_factors(store, body) {
                    (Some(number), kept) => {
                        coefficient *= number;
                        folded = true;
                        let kept = store.mul(kept);
                        rest.push(store.sum(bound, kept));
                    }
                    (None, _) => rest.push(factor),
                }
            }
            if !folded {
                return rebuilt;
            }
            rest.insert(0, store.number(coefficient));
            store.mul(rest)
        }
    }
    let folded = store.map(expr, &mut Fold);
    (folded != expr).then_some(folded)
}

/// The factors of a product, products within it opened: the product of
/// its numbers (none when it has none) and the rest, in order.
fn flat_factors(store: &Store, expr: ExprId) -> (Option<BigRational>, Vec<ExprId>) {
    let mut coefficient: Option<BigRational> = None;
    let mut rest = Vec::new();
    let mut pending = vec![expr];
    while let Some(next) = pending.pop() {
        match store.node(next) {
            Node::Mul(inner) => pending.extend(inner.iter().rev()),
            Node::Number(value) => {
                coefficient = Some(
                    coefficient.map_or_else(|| value.as_ref().clone(), |c| c * value.as_ref()),
                );
            }
            _ => rest.push(next),
        }
    }
    (coefficient, rest)
}

/// `sum(j, f(j) delta(j, p)) = f(p)`, and `sum(j, delta(j, p)) = 1`;
/// with index arithmetic, the delta is solved for the summed index:
/// `sum(i, f(i) delta(i+p-1, d)) = f(d-p+1)`.
pub fn kronecker_collapse(store: &mut Store, id: ExprId) -> Option<ExprId> {
    let Node::Sum(bound, body) = *store.node(id) else {
        return None;
    };
    let factors = store.factors(body).to_vec();
    let (at, solution) = factors.iter().enumerate().find_map(|(at, f)| {
        let solution = collapses(store, *f, bound)?;
        exact_where_solved(store, &factors, at, bound, solution).then_some((at, solution))
    })?;
    let mut rest = factors;
    rest.remove(at);
    let rest = store.mul(rest);
    Some(store.substitute_indices(rest, vec![(bound, solution)]))
}

/// True when the sum over `bound` may give way to its one term at
/// `solution`: the solution is a variable of the summed range, so it names
/// a term of the sum, or another factor refers to an element at `bound`
/// itself, which is 0 wherever the solution leaves the summed range (an
/// element outside its range is 0), as the sum is there.
fn exact_where_solved(
    store: &Store,
    factors: &[ExprId],
    delta_at: usize,
    bound: IndexVar,
    solution: Index,
) -> bool {
    let range = store.var(bound).range;
    if solution
        .as_var()
        .is_some_and(|v| store.var(v).range == range)
    {
        return true;
    }
    factors.iter().enumerate().any(|(at, factor)| {
        at != delta_at
            && matches!(store.node(*factor), Node::Ref(_, indices) | Node::Adjoint(_, indices)
                if indices.contains(&Index::Var(bound)))
    })
}

/// `a (b + c) = a b + a c`: a product multiplied out over one of its
/// bracketed sums, when multiplying all of them out creates at most
/// [`MAX_EXPANDED_TERMS`] terms (counted before any work is done). Sums
/// holding fractions go first, so that `y (1-y) (a/(1-y) - b/y)` cancels
/// before `(1-y)` itself is multiplied out.
pub fn multiply_out(store: &mut Store, id: ExprId) -> Option<ExprId> {
    let Node::Mul(factors) = store.node(id) else {
        return None;
    };
    let factors = factors.clone();
    let mut predicted: usize = 1;
    let mut chosen: Option<(usize, bool)> = None;
    for (position, factor) in factors.iter().enumerate() {
        let Node::Add(terms) = store.node(*factor) else {
            continue;
        };
        predicted = predicted.saturating_mul(terms.len());
        let preferred = holds_fraction(store, *factor);
        if chosen.is_none_or(|(_, was_preferred): (usize, bool)| preferred && !was_preferred) {
            chosen = Some((position, preferred));
        }
    }
    let (position, _) = chosen?;
    if predicted > MAX_EXPANDED_TERMS {
        return None;
    }
    let terms = store.terms(factors[position]).to_vec();
    let mut others = factors.to_vec();
    others.remove(position);
    let products: Vec<ExprId> = terms
        .into_iter()
        .map(|term| {
            let mut all = others.clone();
            all.push(term);
            store.mul(all)
        })
        .collect();
    Some(store.add(products))
}

/// True when some term of a sum divides by something.
fn holds_fraction(store: &Store, sum: ExprId) -> bool {
    store.terms(sum).iter().any(|term| {
        store.factors(*term).iter().any(|f| match store.node(*f) {
            Node::Pow(_, exponent) => store.as_number(*exponent).is_some_and(|e| e.is_negative()),
            _ => false,
        })
    })
}

/// `a b + a c = a (b + c)`: factors common to every term of a sum taken
/// out (numeric coefficients stay with their terms).
pub fn common_factor(store: &mut Store, id: ExprId) -> Option<ExprId> {
    let Node::Add(terms) = store.node(id) else {
        return None;
    };
    let terms = terms.clone();
    let lists: Vec<Vec<ExprId>> = terms
        .iter()
        .map(|t| {
            store
                .factors(*t)
                .iter()
                .copied()
                .filter(|f| store.as_number(*f).is_none())
                .collect()
        })
        .collect();
    let common: Vec<ExprId> = lists[0]
        .iter()
        .copied()
        .filter(|f| lists.iter().all(|list| list.contains(f)))
        .collect();
    if common.is_empty() {
        return None;
    }
    let rests: Vec<ExprId> = terms
        .iter()
        .map(|t| {
            let mut remaining = store.factors(*t).to_vec();
            for c in &common {
                if let Some(at) = remaining.iter().position(|f| f == c) {
                    remaining.remove(at);
                }
            }
            store.mul(remaining)
        })
        .collect();
    let inner = store.add(rests);
    let mut all = common;
    all.push(inner);
    Some(store.mul(all))
}

/// A term as its numeric coefficient and the rest: `3 x y` is (3, x y).
pub fn split_coefficient(store: &mut Store, term: ExprId) -> (BigRational, ExprId) {
    match store.node(term) {
        Node::Number(value) => {
            let value = value.as_ref().clone();
            (value, store.int(1))
        }
        Node::Mul(factors) => {
            let factors = factors.clone();
            let mut coefficient = BigRational::one();
            let mut rest = Vec::with_capacity(factors.len());
            for factor in factors.iter() {
                match store.node(*factor) {
                    Node::Number(value) => coefficient *= value.as_ref(),
                    _ => rest.push(*factor),
                }
            }
            (coefficient, store.mul(rest))
        }
        _ => (BigRational::one(), term),
    }
}

/// The whole number an exponent is, if it is one that fits.
fn whole(store: &Store, exponent: ExprId) -> Option<i32> {
    let value = store.as_number(exponent)?;
    if !value.is_integer() {
        return None;
    }
    value.to_integer().to_i32()
}

/// `base^exponent` for numbers, when the result stays a modest size.
fn fold_power(base: &BigRational, exponent: i32) -> Option<BigRational> {
    if base.is_zero() && exponent < 0 {
        return None;
    }
    let bits = base.numer().bits().max(base.denom().bits());
    if u64::from(exponent.unsigned_abs()) * bits.max(1) > MAX_NUMBER_BITS {
        return None;
    }
    let magnitude = num_traits::pow(base.clone(), exponent.unsigned_abs() as usize);
    Some(if exponent < 0 {
        magnitude.recip()
    } else {
        magnitude
    })
}

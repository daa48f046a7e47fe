//! The calculus of one expression: derivatives with respect to one element
//! of a family, every other family held fixed (or, in a derivation, left as
//! a derivative not yet taken).
//!
//! What each kind of node contributes is written once, in [`partial`]: the
//! derivative of a node with respect to one of its children (linearity, the
//! product rule, the power rule, the chain rule through a function with the
//! outer derivative from the table of functions). Two drivers use it:
//! [`derivative`] goes forward, from an expression down to the variable,
//! as a derivation and `chainrule diff` need; [`partials`] goes in reverse,
//! from a definition down to every reference in it at once, so that the
//! chain rule over the graph takes each definition's local derivatives in
//! one sweep. Both are iterative and visit every distinct node once.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use num_traits::One;
use rustc_hash::FxHashMap as HashMap;

use crate::expr::{
    Builtin, Contents, ExprId, FamilyId, Function, Index, IndexVar, Node, Store, VarMap, Wrt,
};
use crate::limits::{MAX_BUILTIN_ORDER, MAX_RESULT_SIZE, TooLarge};
use crate::rules::{self, Rule, RuleSet, StepSink};
use crate::simplify::Simplifier;

/// The derivative of a node with respect to its child at `position`, the
/// other children held fixed.
pub fn partial(store: &mut Store, node: ExprId, position: usize) -> Option<ExprId> {
    match *store.node(node) {
        Node::Add(_) | Node::Sum(..) => Some(store.int(1)),
        Node::Mul(ref factors) => {
            let others: Vec<ExprId> = (factors.iter().enumerate())
                .filter_map(|(at, factor)| (at != position).then_some(*factor))
                .collect();
            Some(store.mul(others))
        }
        Node::Pow(base, exponent) => {
            let (by_base, by_exponent) = power_partials(store, node, base, exponent);
            if position == 0 {
                Some(by_base)
            } else {
                by_exponent
            }
        }
        Node::Call(function, order, argument) => outer_derivative(store, function, order, argument),
        Node::Extremum(kind, a, b) => Some(kind.partial(store, a, b, position)),
        _ => None,
    }
}

/// The power rule, once: `d(b^e) = e b^(e-1) db + b^e log(b) de`, as the
/// partial derivatives by the base and by the exponent (none when the
/// exponent is a number).
fn power_partials(
    store: &mut Store,
    power: ExprId,
    base: ExprId,
    exponent: ExprId,
) -> (ExprId, Option<ExprId>) {
    let lowered = match store.as_number(exponent).cloned() {
        Some(value) => store.number(value - num_rational::BigRational::one()),
        None => {
            let minus_one = store.int(-1);
            store.add(vec![exponent, minus_one])
        }
    };
    let reduced = store.pow(base, lowered);
    let by_base = store.mul(vec![exponent, reduced]);
    let by_exponent = store.as_number(exponent).is_none().then(|| {
        let log = store.builtin(Builtin::Log, base);
        store.mul(vec![power, log])
    });
    (by_base, by_exponent)
}

/// The chain rule through a function, once: the outer derivative at the
/// argument, from the table of functions (`tanh' = 1 - tanh^2`) or one
/// more prime on an opaque function (`h'`); `None` where it is 0.
fn outer_derivative(
    store: &mut Store,
    function: Function,
    order: u32,
    argument: ExprId,
) -> Option<ExprId> {
    match function {
        Function::Opaque(_) => Some(store.call(function, order + 1, argument)),
        Function::Builtin(builtin) => {
            debug_assert_eq!(order, 0, "built-in derivatives are written out");
            builtin.derivative(store, argument)
        }
    }
}

/// How far a derivative is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    /// The rule of the outermost node only; the derivatives of its parts
    /// are left as derivatives not yet taken.
    OneRule,
    /// Through the whole expression.
    Whole,
}

/// The derivative of `of` with respect to `wrt`, taken forward. A
/// reference to `wrt.family` gives Kronecker deltas; a reference to a
/// family for which `depends_on` is true (one that changes as the variable
/// does) is left as a derivative not yet taken; every other reference is
/// held fixed. Each rule applied is told to `sink`.
pub fn derivative(
    store: &mut Store,
    of: ExprId,
    wrt: &Wrt,
    depends_on: &dyn Fn(FamilyId) -> bool,
    depth: Depth,
    sink: &mut impl StepSink,
) -> ExprId {
    let wrt_vars: Vec<IndexVar> = wrt
        .indices
        .iter()
        .flat_map(|index| store.index_vars(*index))
        .collect();
    let of = rename_clashing_binders(store, of, &wrt_vars);
    let order = store.post_order(of);
    let mut depends: HashMap<ExprId, bool> = HashMap::default();
    for id in &order {
        let value = match store.node(*id) {
            Node::Ref(family, _) => *family == wrt.family || depends_on(*family),
            Node::Number(_) | Node::Adjoint(..) | Node::Delta(..) => false,
            _ => store.children(*id).any(|child| depends[&child]),
        };
        depends.insert(*id, value);
    }
    if !depends[&of] {
        sink.fired(RuleSet::of(&rules::CONSTANT));
        return store.int(0);
    }
    let mut fired = RuleSet::EMPTY;
    let result = match depth {
        Depth::OneRule => {
            let mut formal = |store: &mut Store, part: ExprId| {
                if depends[&part] {
                    store.derivative(part, wrt.clone())
                } else {
                    store.int(0)
                }
            };
            let own = own_partials(store, of);
            let (result, rule) = one_rule(store, of, wrt, &depends, own, &mut formal);
            if let Some(rule) = rule {
                fired = fired.with(rule);
            }
            result
        }
        Depth::Whole => {
            // Outside in, as the rules are written: a node's own partial
            // derivatives are taken before its parts' derivatives, and the
            // node's derivative after them.
            let mut taken: HashMap<ExprId, ExprId> = HashMap::default();
            let mut own: HashMap<ExprId, Own> = HashMap::default();
            let mut stack = vec![(of, false)];
            while let Some((id, entered)) = stack.pop() {
                if taken.contains_key(&id) {
                    continue;
                }
                if !entered {
                    if own.contains_key(&id) {
                        continue;
                    }
                    own.insert(id, own_partials(store, id));
                    stack.push((id, true));
                    let before = stack.len();
                    stack.extend(
                        store
                            .children(id)
                            .filter(|c| depends[c] && !taken.contains_key(c))
                            .map(|c| (c, false)),
                    );
                    stack[before..].reverse();
                    continue;
                }
                let mut child_derivative = |store: &mut Store, part: ExprId| match taken.get(&part)
                {
                    Some(done) => *done,
                    None => store.int(0),
                };
                let partials = own.remove(&id).expect("entered first");
                let (result, rule) =
                    one_rule(store, id, wrt, &depends, partials, &mut child_derivative);
                if let Some(rule) = rule {
                    fired = fired.with(rule);
                }
                taken.insert(id, result);
            }
            taken[&of]
        }
    };
    sink.fired(fired);
    result
}

/// A node's own partial derivatives, taken before its parts' derivatives.
enum Own {
    /// The outer derivative of a call (`None` where it is 0).
    Outer(Option<ExprId>),
    /// A power's partial derivatives by base and by exponent.
    Power(ExprId, Option<ExprId>),
    /// A maximum's or minimum's partial derivatives by each argument.
    Choice(ExprId, ExprId),
    /// Nothing to take first.
    Nothing,
}

fn own_partials(store: &mut Store, id: ExprId) -> Own {
    match *store.node(id) {
        Node::Call(function, order, argument) => {
            Own::Outer(outer_derivative(store, function, order, argument))
        }
        Node::Pow(base, exponent) => {
            let (by_base, by_exponent) = power_partials(store, id, base, exponent);
            Own::Power(by_base, by_exponent)
        }
        Node::Extremum(kind, a, b) => {
            Own::Choice(kind.partial(store, a, b, 0), kind.partial(store, a, b, 1))
        }
        _ => Own::Nothing,
    }
}

/// The derivative at one node, given its own partial derivatives and the
/// derivatives of its parts.
fn one_rule(
    store: &mut Store,
    id: ExprId,
    wrt: &Wrt,
    depends: &HashMap<ExprId, bool>,
    own: Own,
    part: &mut dyn FnMut(&mut Store, ExprId) -> ExprId,
) -> (ExprId, Option<&'static Rule>) {
    let (result, rule) = match store.node(id).clone() {
        Node::Ref(family, indices) if family == wrt.family => (
            store.deltas_at(&indices, &wrt.indices),
            &rules::KRONECKER_DELTA,
        ),
        // A family that depends through others: its derivative is taken
        // in a link of its own.
        Node::Ref(..) | Node::Derivative(..) => return (store.derivative(id, wrt.clone()), None),
        Node::Add(terms) => {
            let taken: Vec<ExprId> = terms.iter().map(|t| part(store, *t)).collect();
            (store.add(taken), &rules::LINEARITY)
        }
        Node::Sum(bound, body) => {
            let taken = part(store, body);
            (store.sum(bound, taken), &rules::SUM_DERIVATIVE)
        }
        Node::Mul(factors) => {
            let depending: Vec<usize> = (0..factors.len())
                .filter(|at| depends[&factors[*at]])
                .collect();
            let rule = if depending.len() == 1 {
                &rules::CONSTANT_FACTOR
            } else {
                &rules::PRODUCT_RULE
            };
            // The product rule: each factor that depends replaced in turn
            // by its derivative, the others kept in place.
            let terms: Vec<ExprId> = depending
                .into_iter()
                .map(|at| {
                    let mut product = factors.to_vec();
                    product[at] = part(store, factors[at]);
                    store.mul(product)
                })
                .collect();
            (store.add(terms), rule)
        }
        Node::Pow(base, exponent) => {
            let Own::Power(by_base, by_exponent) = own else {
                unreachable!("a power's partials are taken first")
            };
            let mut terms = Vec::new();
            if depends[&base] {
                let inner = part(store, base);
                terms.push(store.mul(vec![by_base, inner]));
            }
            if let (true, Some(by_exponent)) = (depends[&exponent], by_exponent) {
                let inner = part(store, exponent);
                terms.push(store.mul(vec![by_exponent, inner]));
            }
            (store.add(terms), &rules::POWER_RULE)
        }
        Node::Call(_, _, argument) => {
            let Own::Outer(outer) = own else {
                unreachable!("a call's outer derivative is taken first")
            };
            let result = match outer {
                None => store.int(0),
                Some(outer) => {
                    let inner = part(store, argument);
                    store.mul(vec![outer, inner])
                }
            };
            (result, &rules::ACTIVATION_DERIVATIVE)
        }
        Node::Extremum(_, a, b) => {
            let Own::Choice(by_a, by_b) = own else {
                unreachable!("a choice's partials are taken first")
            };
            let mut terms = Vec::new();
            for (argument, by) in [(a, by_a), (b, by_b)] {
                if depends[&argument] {
                    let inner = part(store, argument);
                    terms.push(store.mul(vec![by, inner]));
                }
            }
            (store.add(terms), &rules::ACTIVATION_DERIVATIVE)
        }
        Node::Number(_) | Node::Pi | Node::Adjoint(..) | Node::Delta(..) => {
            (store.int(0), &rules::CONSTANT)
        }
    };
    (result, Some(rule))
}

/// The same expression with every binder that binds one of `indices`
/// renamed to a fresh variable, so that a derivative by an element at
/// `indices` cannot confuse the two.
fn rename_clashing_binders(store: &mut Store, expr: ExprId, indices: &[IndexVar]) -> ExprId {
    if !store.contents(expr).has(Contents::SUM) {
        return expr;
    }
    let clashes = store
        .post_order(expr)
        .into_iter()
        .any(|id| matches!(store.node(id), Node::Sum(bound, _) if indices.contains(bound)));
    if !clashes {
        return expr;
    }
    struct Rename<'a> {
        indices: &'a [IndexVar],
    }
    impl crate::expr::traverse::Mapper for Rename<'_> {
        fn shortcut(&mut self, store: &mut Store, id: ExprId) -> Option<ExprId> {
            (!store.contents(id).has(Contents::SUM)).then_some(id)
        }
        fn finish(&mut self, store: &mut Store, _: ExprId, rebuilt: ExprId) -> ExprId {
            match *store.node(rebuilt) {
                Node::Sum(bound, body) if self.indices.contains(&bound) => {
                    let fresh = store.fresh_like(bound);
                    let renamed = store.substitute_vars(body, &VarMap::from_iter([(bound, fresh)]));
                    store.sum(fresh, renamed)
                }
                _ => rebuilt,
            }
        }
    }
    store.map(expr, &mut Rename { indices })
}

/// One reference inside a definition, with the local derivative of the
/// definition with respect to it.
#[derive(Clone, Debug)]
pub struct Occurrence {
    /// The family referred to.
    pub family: FamilyId,
    /// The indices it is referred to at.
    pub indices: Box<[Index]>,
    /// The sums that enclose it, outermost first.
    pub binders: Vec<IndexVar>,
    /// The derivative of the whole expression with respect to this one
    /// reference, everything else held fixed; the binders are free in it.
    pub coefficient: ExprId,
}

/// The local derivative of `expr` with respect to every reference in it,
/// in one reverse sweep: each node passes to each child its own
/// derivative times [`partial`], parents before children. A node that
/// sits under different sums is swept once for each.
pub fn partials(store: &mut Store, expr: ExprId) -> Vec<Occurrence> {
    // Scopes: the sums enclosing a place, as (enclosing scope, binder).
    let mut scopes: Vec<(usize, Option<IndexVar>)> = vec![(0, None)];
    let mut scope_ids: HashMap<(usize, IndexVar), usize> = HashMap::default();
    let mut pending: BTreeMap<(Reverse<ExprId>, usize), Vec<ExprId>> = BTreeMap::new();
    let one = store.int(1);
    pending.insert((Reverse(expr), 0), vec![one]);
    let mut found = Vec::new();
    let mut children = Vec::new();
    while let Some(((Reverse(id), scope), terms)) = pending.pop_first() {
        let adjoint = store.add(terms);
        match *store.node(id) {
            Node::Ref(family, ref indices) => {
                let indices = indices.clone();
                let mut binders = Vec::new();
                let mut at = scope;
                while let (parent, Some(binder)) = scopes[at] {
                    binders.push(binder);
                    at = parent;
                }
                binders.reverse();
                found.push(Occurrence {
                    family,
                    indices,
                    binders,
                    coefficient: adjoint,
                });
            }
            Node::Sum(bound, body) => {
                let next = scopes.len();
                let inner = *scope_ids.entry((scope, bound)).or_insert(next);
                if inner == next {
                    scopes.push((scope, Some(bound)));
                }
                pending
                    .entry((Reverse(body), inner))
                    .or_default()
                    .push(adjoint);
            }
            _ => {
                children.clear();
                children.extend(store.children(id));
                for (position, &child) in children.iter().enumerate() {
                    if !store.contents(child).has(Contents::REFERENCE) {
                        continue;
                    }
                    let Some(local) = partial(store, id, position) else {
                        continue;
                    };
                    let term = store.mul(vec![adjoint, local]);
                    pending
                        .entry((Reverse(child), scope))
                        .or_default()
                        .push(term);
                }
            }
        }
    }
    found
}

/// A family id that no model uses: the variable of
/// [`nth_builtin_derivative`].
const PLACEHOLDER: FamilyId = FamilyId(u32::MAX);

/// `f^(order)(argument)` written out for a built-in `f`: `tanh''(u)` is the
/// derivative of `1 - tanh(u)^2`, simplified after each order. Refused
/// beyond [`MAX_BUILTIN_ORDER`], and when it grows beyond
/// [`MAX_RESULT_SIZE`].
pub fn nth_builtin_derivative(
    store: &mut Store,
    builtin: Builtin,
    order: u32,
    argument: ExprId,
) -> Result<ExprId, TooLarge> {
    if order > MAX_BUILTIN_ORDER {
        return Err(TooLarge::new(format!(
            "`{}` is differentiated {order} times, more than the {MAX_BUILTIN_ORDER} times a built-in function is written out",
            builtin.name()
        )));
    }
    let variable = store.reference::<IndexVar>(PLACEHOLDER, &[]);
    let wrt = Wrt {
        family: PLACEHOLDER,
        indices: Box::new([]),
        held: Box::new([]),
    };
    let mut simplifier = Simplifier::new();
    let mut result = store.builtin(builtin, variable);
    for _ in 0..order {
        let raw = derivative(store, result, &wrt, &|_| false, Depth::Whole, &mut ());
        result = simplifier.simplify_plain(store, raw, &mut ())?;
        if store.tree_size(result) > MAX_RESULT_SIZE {
            return Err(TooLarge::new(format!(
                "the derivative of order {order} of `{}` grows beyond {MAX_RESULT_SIZE} nodes",
                builtin.name()
            )));
        }
    }
    Ok(store.replace(result, variable, argument))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::RangeId;

    fn wrt(family: FamilyId, indices: &[IndexVar]) -> Wrt {
        Wrt {
            family,
            indices: Index::of_vars(indices),
            held: Box::new([]),
        }
    }

    #[test]
    fn references_give_kronecker_deltas() {
        let mut store = Store::new();
        let (j, p) = (
            store.new_var("j", RangeId(0)),
            store.new_var("p", RangeId(0)),
        );
        let x = store.reference(FamilyId(0), &[j]);
        let by = wrt(FamilyId(0), &[p]);
        let derived = derivative(&mut store, x, &by, &|_| false, Depth::Whole, &mut ());
        assert_eq!(
            store.node(derived),
            &Node::Delta(Index::Var(j.min(p)), Index::Var(j.max(p)))
        );
        let other = store.reference(FamilyId(1), &[j]);
        let zero = derivative(&mut store, other, &by, &|_| false, Depth::Whole, &mut ());
        assert!(store.is_zero(zero));
    }

    #[test]
    fn a_sum_over_the_variables_index_is_renamed_first() {
        let mut store = Store::new();
        let j = store.new_var("j", RangeId(0));
        // d/dx[j] sum(j, x[j]) is 1, not the size of the range.
        let xj = store.reference(FamilyId(0), &[j]);
        let summed = store.sum(j, xj);
        let by = wrt(FamilyId(0), &[j]);
        let derived = derivative(&mut store, summed, &by, &|_| false, Depth::Whole, &mut ());
        let Node::Sum(bound, body) = store.node(derived).clone() else {
            panic!("a sum")
        };
        assert_ne!(bound, j);
        assert_eq!(
            store.node(body),
            &Node::Delta(Index::Var(j.min(bound)), Index::Var(j.max(bound)))
        );
    }

    #[test]
    fn the_reverse_sweep_finds_every_reference_once() {
        let mut store = Store::new();
        let j = store.new_var("j", RangeId(0));
        let (w, x, b) = (
            store.reference(FamilyId(0), &[j]),
            store.reference(FamilyId(1), &[j]),
            store.reference::<IndexVar>(FamilyId(2), &[]),
        );
        // sum(j, w[j] x[j]) + b * b
        let product = store.mul(vec![w, x]);
        let summed = store.sum(j, product);
        let square = store.mul(vec![b, b]);
        let expr = store.add(vec![summed, square]);
        let found = partials(&mut store, expr);
        let by_family = |f: u32| {
            found
                .iter()
                .filter(|o| o.family == FamilyId(f))
                .collect::<Vec<_>>()
        };
        assert_eq!(by_family(0).len(), 1);
        assert_eq!(by_family(0)[0].binders, vec![j]);
        assert_eq!(by_family(1).len(), 1);
        // b occurs once as a node; its two places in the product add up.
        let b_found = by_family(2);
        assert_eq!(b_found.len(), 1);
        assert!(b_found[0].binders.is_empty());
        let mut simplifier = Simplifier::new();
        let coefficient = simplifier
            .simplify_plain(&mut store, b_found[0].coefficient, &mut ())
            .unwrap();
        let two = store.int(2);
        let twice = store.mul(vec![two, b]);
        let expected = simplifier
            .simplify_plain(&mut store, twice, &mut ())
            .unwrap();
        assert_eq!(coefficient, expected);
    }

    #[test]
    fn second_derivative_of_tanh_is_written_out() {
        let mut store = Store::new();
        let x = store.reference::<IndexVar>(FamilyId(0), &[]);
        let second = nth_builtin_derivative(&mut store, Builtin::Tanh, 2, x).unwrap();
        assert!(!store.mentions(second, PLACEHOLDER));
        assert!(store.mentions(second, FamilyId(0)));
    }

    #[test]
    fn one_rule_at_a_time_leaves_the_parts_formal() {
        let mut store = Store::new();
        let (x, y) = (
            store.reference::<IndexVar>(FamilyId(0), &[]),
            store.reference::<IndexVar>(FamilyId(1), &[]),
        );
        let product = store.mul(vec![x, y]);
        let by = wrt(FamilyId(0), &[]);
        let mut recorder = crate::rules::Recorder::default();
        let derived = derivative(
            &mut store,
            product,
            &by,
            &|f| f == FamilyId(1),
            Depth::OneRule,
            &mut recorder,
        );
        assert!(recorder.0.contains(&rules::PRODUCT_RULE));
        assert!(store.contents(derived).has(Contents::DERIVATIVE));
    }
}

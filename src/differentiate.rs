//! Local derivatives: the derivative of one expression with respect to one
//! element of a family, every other family held fixed.
//!
//! A reference `x[k]` differentiates with respect to `x[p]` to the Kronecker
//! delta `delta(k, p)`; sums differentiate under the sum; functions follow
//! the chain rule in exactly one place, with outer derivatives from
//! [`crate::functions`]. The results are raw: [`crate::simplify`] tidies them.

use std::collections::HashMap;

use num_traits::One;

use crate::expr::{ExprId, FamilyId, Function, IndexVar, Node, Store, VarMap};
use crate::functions::builtin_derivative;

/// A family id that no model uses: the variable of [`nth_builtin_derivative`].
const PLACEHOLDER: FamilyId = FamilyId(u32::MAX);

/// The derivative of `expr` with respect to `family[at]`.
pub fn derivative(store: &mut Store, expr: ExprId, family: FamilyId, at: &[IndexVar]) -> ExprId {
    let mut differentiator = Differentiator {
        family,
        at,
        memo: HashMap::new(),
        mentions: HashMap::new(),
    };
    differentiator.derive(store, expr)
}

/// `f^(order)(argument)` written out for a built-in `f`: `tanh''(u)` is the
/// derivative of `1 - tanh(u)^2`.
pub fn nth_builtin_derivative(
    store: &mut Store,
    builtin: crate::expr::Builtin,
    order: u32,
    argument: ExprId,
) -> ExprId {
    let variable = store.reference(PLACEHOLDER, &[]);
    let mut result = store.builtin(builtin, variable);
    for _ in 0..order {
        result = derivative(store, result, PLACEHOLDER, &[]);
    }
    replace(store, result, variable, argument)
}

/// Replaces every occurrence of the subexpression `from` by `to`.
pub fn replace(store: &mut Store, expr: ExprId, from: ExprId, to: ExprId) -> ExprId {
    fn go(
        store: &mut Store,
        expr: ExprId,
        from: ExprId,
        to: ExprId,
        memo: &mut HashMap<ExprId, ExprId>,
    ) -> ExprId {
        if expr == from {
            return to;
        }
        if let Some(&done) = memo.get(&expr) {
            return done;
        }
        let children = store.children(expr);
        let result = if children.is_empty() {
            expr
        } else {
            let node = store.node(expr).clone();
            let new_children: Vec<ExprId> = children
                .into_iter()
                .map(|c| go(store, c, from, to, memo))
                .collect();
            store.rebuild(&node, &new_children)
        };
        memo.insert(expr, result);
        result
    }
    go(store, expr, from, to, &mut HashMap::new())
}

struct Differentiator<'a> {
    family: FamilyId,
    at: &'a [IndexVar],
    memo: HashMap<ExprId, ExprId>,
    mentions: HashMap<ExprId, bool>,
}

impl Differentiator<'_> {
    fn mentions(&mut self, store: &Store, expr: ExprId) -> bool {
        if let Some(&known) = self.mentions.get(&expr) {
            return known;
        }
        let answer = match store.node(expr) {
            Node::Ref(f, _) => *f == self.family,
            _ => store
                .children(expr)
                .into_iter()
                .any(|c| self.mentions(store, c)),
        };
        self.mentions.insert(expr, answer);
        answer
    }

    fn derive(&mut self, store: &mut Store, expr: ExprId) -> ExprId {
        if !self.mentions(store, expr) {
            return store.int(0);
        }
        if let Some(&done) = self.memo.get(&expr) {
            return done;
        }
        let result = match store.node(expr).clone() {
            Node::Number(_) | Node::Adjoint(..) | Node::Delta(..) => store.int(0),
            // A derivative not yet taken stays formal when differentiated again.
            Node::Derivative(..) => store.derivative(
                expr,
                crate::expr::Wrt {
                    family: self.family,
                    indices: self.at.into(),
                    held: Box::new([]),
                },
            ),
            Node::Ref(_, indices) => {
                let deltas: Vec<ExprId> = indices
                    .iter()
                    .zip(self.at)
                    .map(|(index, at)| store.delta(*index, *at))
                    .collect();
                store.mul(deltas)
            }
            Node::Add(terms) => {
                let derived: Vec<ExprId> = terms.iter().map(|t| self.derive(store, *t)).collect();
                store.add(derived)
            }
            Node::Mul(factors) => {
                // The product rule: one term for each factor that depends.
                let mut terms = Vec::new();
                for (position, factor) in factors.iter().enumerate() {
                    if !self.mentions(store, *factor) {
                        continue;
                    }
                    let derived = self.derive(store, *factor);
                    let mut product: Vec<ExprId> = factors.to_vec();
                    product[position] = derived;
                    terms.push(store.mul(product));
                }
                store.add(terms)
            }
            Node::Pow(base, exponent) => self.derive_power(store, expr, base, exponent),
            Node::Call(function, order, argument) => {
                let outer = match function {
                    Function::Opaque(_) => Some(store.call(function, order + 1, argument)),
                    Function::Builtin(builtin) if order == 0 => {
                        builtin_derivative(store, builtin, argument)
                    }
                    Function::Builtin(builtin) => {
                        Some(nth_builtin_derivative(store, builtin, order + 1, argument))
                    }
                };
                match outer {
                    None => store.int(0),
                    Some(outer) => {
                        let inner = self.derive(store, argument);
                        store.mul(vec![outer, inner])
                    }
                }
            }
            Node::Sum(bound, body) => {
                let (bound, body) = if self.at.contains(&bound) {
                    let fresh = store.fresh_like(bound);
                    let renamed = store.substitute_vars(body, &VarMap::from_iter([(bound, fresh)]));
                    (fresh, renamed)
                } else {
                    (bound, body)
                };
                let derived = self.derive(store, body);
                store.sum(bound, derived)
            }
        };
        self.memo.insert(expr, result);
        result
    }

    /// `d(b^e) = e b^(e-1) db` for a constant exponent, `b^e log(b) de` for
    /// a constant base, and both terms otherwise.
    fn derive_power(
        &mut self,
        store: &mut Store,
        power: ExprId,
        base: ExprId,
        exponent: ExprId,
    ) -> ExprId {
        let mut terms = Vec::new();
        if self.mentions(store, base) {
            let lowered = match store.as_number(exponent).cloned() {
                Some(value) => store.number(value - num_rational::BigRational::one()),
                None => {
                    let minus_one = store.int(-1);
                    store.add(vec![exponent, minus_one])
                }
            };
            let reduced = store.pow(base, lowered);
            let inner = self.derive(store, base);
            terms.push(store.mul(vec![exponent, reduced, inner]));
        }
        if self.mentions(store, exponent) {
            let log = store.builtin(crate::expr::Builtin::Log, base);
            let inner = self.derive(store, exponent);
            terms.push(store.mul(vec![power, log, inner]));
        }
        store.add(terms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{Builtin, RangeId};

    #[test]
    fn references_give_kronecker_deltas() {
        let mut store = Store::new();
        let (j, p) = (
            store.new_var("j", RangeId(0)),
            store.new_var("p", RangeId(0)),
        );
        let x = store.reference(FamilyId(0), &[j]);
        let derived = derivative(&mut store, x, FamilyId(0), &[p]);
        assert_eq!(store.node(derived), &Node::Delta(j.min(p), j.max(p)));
        let other = store.reference(FamilyId(1), &[j]);
        let zero = derivative(&mut store, other, FamilyId(0), &[p]);
        assert!(store.is_zero(zero));
    }

    #[test]
    fn second_derivative_of_tanh_is_written_out() {
        let mut store = Store::new();
        let x = store.reference(FamilyId(0), &[]);
        let second = nth_builtin_derivative(&mut store, Builtin::Tanh, 2, x);
        assert!(!store.mentions(second, PLACEHOLDER));
        assert!(store.mentions(second, FamilyId(0)));
    }
}

//! Index arguments: a variable (`j`), or an affine combination of
//! variables with whole coefficients and a whole constant (`t - 1`,
//! `i + p - 1`, `2 i + p`, `0`), as the language's version 2 writes them.
//!
//! An argument is a small `Copy` value: a variable, or the id of a
//! combination the store holds once (hash-consed, like expressions), so
//! that equal arguments are equal values and a reference stays small.

use super::{IndexVar, Store};

/// A combination held by the store, named by a small id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AffineId(u32);

/// An index argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Index {
    /// A variable: `j`.
    Var(IndexVar),
    /// Anything else: `t - 1`, `i + p - 1`, `0`. Never a bare variable.
    Affine(AffineId),
}

/// `Σ coefficient · variable + constant`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Affine {
    /// The variables with their coefficients, sorted by variable, none 0.
    pub terms: Box<[(IndexVar, i64)]>,
    /// The constant.
    pub constant: i64,
}

impl From<IndexVar> for Index {
    fn from(var: IndexVar) -> Index {
        Index::Var(var)
    }
}

impl Index {
    /// Variables as arguments.
    pub fn of_vars(vars: &[IndexVar]) -> Box<[Index]> {
        vars.iter().map(|var| Index::Var(*var)).collect()
    }

    /// The variables of arguments that are all variables.
    pub fn all_vars(indices: &[Index]) -> Option<Vec<IndexVar>> {
        indices.iter().map(|index| index.as_var()).collect()
    }

    /// The variable, when the argument is one.
    pub fn as_var(self) -> Option<IndexVar> {
        match self {
            Index::Var(var) => Some(var),
            Index::Affine(_) => None,
        }
    }
}

/// The affine combinations a store holds, and where each is.
#[derive(Default)]
pub(super) struct Affines {
    table: Vec<Affine>,
    lookup: rustc_hash::FxHashMap<Affine, AffineId>,
}

impl Store {
    /// The argument `Σ coefficient · variable + constant`, its terms merged
    /// and ordered; a bare variable is [`Index::Var`].
    ///
    /// The language keeps every whole number written in an index within
    /// [`MAX_INDEX_LITERAL`], and arguments only ever meet by adding (a
    /// Kronecker delta is solved for a variable of coefficient ±1), so the
    /// arithmetic here stays far from the limits of `i64`.
    pub fn index(&mut self, terms: &[(IndexVar, i64)], constant: i64) -> Index {
        let mut merged: Vec<(IndexVar, i64)> = Vec::with_capacity(terms.len());
        let mut sorted = terms.to_vec();
        sorted.sort_unstable_by_key(|(var, _)| *var);
        for (var, coefficient) in sorted {
            match merged.last_mut() {
                Some((last, sum)) if *last == var => *sum += coefficient,
                _ => merged.push((var, coefficient)),
            }
        }
        merged.retain(|(_, coefficient)| *coefficient != 0);
        if let ([(var, 1)], 0) = (merged.as_slice(), constant) {
            return Index::Var(*var);
        }
        let affine = Affine {
            terms: merged.into_boxed_slice(),
            constant,
        };
        if let Some(id) = self.affines.lookup.get(&affine) {
            return Index::Affine(*id);
        }
        let id =
            AffineId(u32::try_from(self.affines.table.len()).expect("fewer than 2^32 indices"));
        self.affines.table.push(affine.clone());
        self.affines.lookup.insert(affine, id);
        Index::Affine(id)
    }

    /// A whole-number argument: a specific position.
    pub fn index_constant(&mut self, value: i64) -> Index {
        self.index(&[], value)
    }

    /// The terms and the constant of an argument.
    pub fn index_parts(&self, index: Index) -> (Vec<(IndexVar, i64)>, i64) {
        match index {
            Index::Var(var) => (vec![(var, 1)], 0),
            Index::Affine(id) => {
                let affine = &self.affines.table[id.0 as usize];
                (affine.terms.to_vec(), affine.constant)
            }
        }
    }

    /// The variables an argument uses, in order.
    pub fn index_vars(&self, index: Index) -> impl Iterator<Item = IndexVar> + '_ {
        let affine: &[(IndexVar, i64)] = match index {
            Index::Var(_) => &[],
            Index::Affine(id) => &self.affines.table[id.0 as usize].terms,
        };
        index
            .as_var()
            .into_iter()
            .chain(affine.iter().map(|(var, _)| *var))
    }

    /// The coefficient of `var` in an argument.
    pub fn index_coefficient(&self, index: Index, var: IndexVar) -> i64 {
        match index {
            Index::Var(v) => i64::from(v == var),
            Index::Affine(id) => self.affines.table[id.0 as usize]
                .terms
                .iter()
                .find(|(v, _)| *v == var)
                .map_or(0, |(_, c)| *c),
        }
    }

    /// The argument with each variable replaced by an argument: affine
    /// combinations compose.
    pub fn substitute_index(
        &mut self,
        index: Index,
        mut replace: impl FnMut(IndexVar) -> Index,
    ) -> Index {
        if let Index::Var(var) = index {
            return replace(var);
        }
        let (terms, constant) = self.index_parts(index);
        let mut combined: Vec<(IndexVar, i64)> = Vec::new();
        let mut total = constant;
        for (var, coefficient) in terms {
            let (inner, inner_constant) = self.index_parts(replace(var));
            combined.extend(inner.into_iter().map(|(v, c)| (v, coefficient * c)));
            total += coefficient * inner_constant;
        }
        self.index(&combined, total)
    }

    /// The difference of two arguments, `a - b`.
    pub fn index_difference(&mut self, a: Index, b: Index) -> Index {
        let (mut terms, a_constant) = self.index_parts(a);
        let (b_terms, b_constant) = self.index_parts(b);
        terms.extend(b_terms.into_iter().map(|(var, c)| (var, -c)));
        self.index(&terms, a_constant - b_constant)
    }

    /// The position an argument names, 1-based as the language counts,
    /// given each variable's position.
    pub fn index_value(&self, index: Index, position: impl Fn(IndexVar) -> i64) -> i64 {
        let (terms, constant) = self.index_parts(index);
        terms
            .iter()
            .fold(constant, |total, (var, c)| total + c * position(*var))
    }
}

/// The largest whole number an index may be written with, as coefficient
/// or constant.
pub const MAX_INDEX_LITERAL: i64 = 1_000_000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::RangeId;

    #[test]
    fn arguments_are_normalised_and_held_once() {
        let mut store = Store::new();
        let t = store.new_var("t", RangeId(0));
        let p = store.new_var("p", RangeId(1));
        assert_eq!(store.index(&[(t, 1)], 0), Index::Var(t));
        let back = store.index(&[(t, 1)], -1);
        assert_eq!(store.index(&[(t, 2), (t, -1)], -1), back);
        assert_eq!(store.index(&[(p, 0), (t, 1)], -1), back);
        let window = store.index(&[(p, 1), (t, 1)], -1);
        assert_eq!(store.index(&[(t, 1), (p, 1)], -1), window);
        assert_eq!(store.index_coefficient(window, p), 1);
        assert_eq!(store.index_vars(window).collect::<Vec<_>>(), [t, p]);
    }

    #[test]
    fn substitution_composes_combinations() {
        let mut store = Store::new();
        let (i, p, d) = (
            store.new_var("i", RangeId(0)),
            store.new_var("p", RangeId(1)),
            store.new_var("d", RangeId(0)),
        );
        // i + p - 1 with i = d - p + 1 is d.
        let window = store.index(&[(i, 1), (p, 1)], -1);
        let solved = store.index(&[(d, 1), (p, -1)], 1);
        let composed =
            store.substitute_index(window, |v| if v == i { solved } else { Index::Var(v) });
        assert_eq!(composed, Index::Var(d));
        let shift = store.index(&[(p, 1)], -1);
        assert_eq!(store.index_difference(window, Index::Var(i)), shift);
        let position = |v: IndexVar| if v == i { 3 } else { 2 };
        assert_eq!(store.index_value(window, position), 4);
    }
}

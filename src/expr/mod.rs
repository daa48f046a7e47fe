//! The expression store: hash-consed expression nodes named by small ids.
//!
//! Invariant: two ids are equal exactly when their expressions are equal in
//! structure, because every node is interned once and children are interned
//! before their parents, so a child's id is always smaller than its
//! parent's. Every walk over the store relies on that order and is
//! iterative (see [`traverse`]), so no walk depends on the stack's size.
//! Index variables are ids too; their names are only hints for printing.

pub mod functions;
pub mod index;
pub mod traverse;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::One;
use rustc_hash::FxHashMap as HashMap;

pub use functions::{Builtin, Extremum};
pub use index::Index;

/// A renaming of index variables.
pub type VarMap = HashMap<IndexVar, IndexVar>;

/// An expression in a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(u32);

/// The number 0, in every store.
const ZERO: ExprId = ExprId(0);
/// The number 1, in every store.
const ONE: ExprId = ExprId(1);
/// The number -1, in every store.
const MINUS_ONE: ExprId = ExprId(2);

impl ExprId {
    /// The id's position in the store, for dense tables keyed by node.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// An index variable: a declared index name, or one made by the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndexVar(u32);

/// A family of quantities (`x`, `w1`, `a`, `E`) in a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FamilyId(pub u32);

impl FamilyId {
    /// The family's position in its model, for dense tables keyed by family.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A range of index values (`D`, `M`, `K`) in a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RangeId(pub u32);

/// An opaque function declared with `function h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpaqueId(pub u32);

/// What a function call calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    /// A built-in function.
    Builtin(Builtin),
    /// A declared opaque function.
    Opaque(OpaqueId),
}

/// One node of an expression. Subtraction, division and negation are not
/// nodes: `a - b` is `a + (-1) b` and `a / b` is `a b^-1`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// An exact rational number, boxed so that every other node stays
    /// small.
    Number(Box<BigRational>),
    /// The constant π.
    Pi,
    /// `max(a, b)` or `min(a, b)`.
    Extremum(Extremum, ExprId, ExprId),
    /// An element of a family: `w1[j,i]`, `h[t-1, j]`.
    Ref(FamilyId, Box<[Index]>),
    /// The derivative of the objective with respect to an element of a
    /// family: Bishop's delta, `dE/da[j]`.
    Adjoint(FamilyId, Box<[Index]>),
    /// A sum of two or more terms.
    Add(Box<[ExprId]>),
    /// A product of two or more factors.
    Mul(Box<[ExprId]>),
    /// A power: base, exponent.
    Pow(ExprId, ExprId),
    /// A call of a function, differentiated `order` times (only opaque
    /// functions carry an order; built-in derivatives are written out).
    Call(Function, u32, ExprId),
    /// A sum over one bound index.
    Sum(IndexVar, ExprId),
    /// The Kronecker delta of two positions: 1 where they are equal.
    Delta(Index, Index),
    /// A derivative not yet taken, of an expression. Only step-by-step
    /// derivations and answers hold these.
    Derivative(ExprId, Box<Wrt>),
}

/// What a derivative not yet taken is taken with respect to: an element of
/// a family, every family between it and the expression recomputed except
/// those `held` fixed (as the chain rule's partial derivatives hold the
/// other units it sums over).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Wrt {
    /// The family.
    pub family: FamilyId,
    /// The element's indices.
    pub indices: Box<[Index]>,
    /// Families held fixed.
    pub held: Box<[FamilyId]>,
}

/// What the store knows of an index variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexVarInfo {
    /// The name it prefers when printed.
    pub name: String,
    /// The range it runs over.
    pub range: RangeId,
}

/// Kinds of node an expression holds somewhere, recorded when it is
/// interned, so that "does it hold a sum" costs nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Contents(u16);

impl Contents {
    /// A sum over a bound index.
    pub const SUM: Contents = Contents(1);
    /// A Kronecker delta.
    pub const KRONECKER: Contents = Contents(2);
    /// A delta of the objective (an [`Node::Adjoint`]).
    pub const ADJOINT: Contents = Contents(4);
    /// A derivative not yet taken.
    pub const DERIVATIVE: Contents = Contents(8);
    /// A call of a function.
    pub const CALL: Contents = Contents(16);
    /// A reference to a family.
    pub const REFERENCE: Contents = Contents(32);
    /// A sum of terms.
    pub const ADD: Contents = Contents(64);
    /// A power whose exponent is not a number.
    pub const SYMBOLIC_POWER: Contents = Contents(128);
    /// A product with a sum among its factors, or a sum over an index of
    /// a sum of terms: something multiplying out could work on.
    pub const SUM_INSIDE: Contents = Contents(256);
    /// A power with a negative number as exponent: a fraction.
    pub const FRACTION: Contents = Contents(512);
    /// A sum of terms one of which holds a product of sums: multiplying
    /// out could let terms meet.
    pub const TERM_WITH_SUM_INSIDE: Contents = Contents(1024);

    fn with(self, other: Contents) -> Contents {
        Contents(self.0 | other.0)
    }

    /// True when some kind in `kinds` is among these.
    pub fn any(self, kinds: Contents) -> bool {
        self.0 & kinds.0 != 0
    }

    /// Both sets of kinds.
    pub fn and(self, other: Contents) -> Contents {
        self.with(other)
    }

    /// True when every kind in `kinds` is among these.
    pub fn has(self, kinds: Contents) -> bool {
        self.0 & kinds.0 == kinds.0
    }
}

/// The children of a node, in order.
#[derive(Clone, Debug)]
pub enum Children<'a> {
    /// A leaf.
    None,
    /// One child.
    One(ExprId),
    /// Two children, still to come in order.
    Two(ExprId, ExprId),
    /// The items of a sum or product.
    Many(std::slice::Iter<'a, ExprId>),
}

impl Iterator for Children<'_> {
    type Item = ExprId;

    fn next(&mut self) -> Option<ExprId> {
        match std::mem::replace(self, Children::None) {
            Children::None => None,
            Children::One(only) => Some(only),
            Children::Two(first, second) => {
                *self = Children::One(second);
                Some(first)
            }
            Children::Many(mut items) => {
                let next = items.next().copied();
                *self = Children::Many(items);
                next
            }
        }
    }
}

/// The arena of interned expressions and index variables. The numbers 0,
/// 1 and -1 are its first three nodes, so that they are made and
/// recognised without a lookup.
pub struct Store {
    nodes: Vec<Node>,
    free: Vec<Box<[IndexVar]>>,
    /// Each node's size written out as a tree, saturating.
    sizes: Vec<u64>,
    contents: Vec<Contents>,
    /// Every id in order, so that one can be lent as a one-element slice.
    ids: Vec<ExprId>,
    /// The ids by the hash of their nodes, each with that hash (so that
    /// growing the table hashes no node again): each node is stored once.
    lookup: hashbrown::HashTable<(u64, ExprId)>,
    vars: Vec<IndexVarInfo>,
    largest_number_bits: u64,
    /// The variables that [`Store::canonical_binders`] binds, by range and depth.
    binder_vars: HashMap<(RangeId, u32), IndexVar>,
    /// The affine index arguments the store holds.
    affines: index::Affines,
}

impl Default for Store {
    fn default() -> Store {
        Store::new()
    }
}

impl Store {
    /// A store holding only the numbers 0, 1 and -1.
    pub fn new() -> Store {
        let mut store = Store {
            nodes: Vec::new(),
            free: Vec::new(),
            sizes: Vec::new(),
            contents: Vec::new(),
            ids: Vec::new(),
            lookup: hashbrown::HashTable::new(),
            vars: Vec::new(),
            largest_number_bits: 0,
            binder_vars: HashMap::default(),
            affines: index::Affines::default(),
        };
        for (value, id) in [(0, ZERO), (1, ONE), (-1, MINUS_ONE)] {
            let made = store.number(BigRational::from_integer(BigInt::from(value)));
            debug_assert_eq!(made, id);
        }
        store
    }

    /// The node behind an id.
    pub fn node(&self, id: ExprId) -> &Node {
        &self.nodes[id.index()]
    }

    /// How many nodes the store holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the store holds no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The size in bits of the largest numerator or denominator interned so
    /// far; callers bound the work that ever larger numbers would cost.
    pub fn largest_number_bits(&self) -> u64 {
        self.largest_number_bits
    }

    /// A new index variable.
    pub fn new_var(&mut self, name: impl Into<String>, range: RangeId) -> IndexVar {
        self.vars.push(IndexVarInfo {
            name: name.into(),
            range,
        });
        IndexVar(self.vars.len() as u32 - 1)
    }

    /// A new variable with the same name hint and range as `like`.
    pub fn fresh_like(&mut self, like: IndexVar) -> IndexVar {
        let info = self.var(like).clone();
        self.new_var(info.name, info.range)
    }

    /// What the store knows of a variable.
    pub fn var(&self, var: IndexVar) -> &IndexVarInfo {
        &self.vars[var.0 as usize]
    }

    /// The sorted index variables free in an expression.
    pub fn free_vars(&self, id: ExprId) -> &[IndexVar] {
        &self.free[id.index()]
    }

    /// True when `var` is free in the expression.
    pub fn has_free(&self, id: ExprId, var: IndexVar) -> bool {
        self.free_vars(id).binary_search(&var).is_ok()
    }

    /// The kinds of node the expression holds somewhere.
    pub fn contents(&self, id: ExprId) -> Contents {
        self.contents[id.index()]
    }

    /// The number of nodes of the expression written out as a tree
    /// (shared subexpressions count each time they appear), kept as it is
    /// built and saturating at the largest `usize`.
    pub fn tree_size(&self, id: ExprId) -> usize {
        usize::try_from(self.sizes[id.index()]).unwrap_or(usize::MAX)
    }

    /// Interns a node as it is.
    pub fn intern(&mut self, node: Node) -> ExprId {
        let hash = hash_node(&node);
        let nodes = &self.nodes;
        if let Some(&(_, id)) = self.lookup.find(hash, |(_, id)| nodes[id.index()] == node) {
            return id;
        }
        self.insert_new(hash, node)
    }

    /// Interns a sum (`product` false) or a product of `items`, looked up
    /// before the items are boxed, so that a node already held costs no
    /// allocation.
    fn intern_items(&mut self, product: bool, items: Vec<ExprId>) -> ExprId {
        let hash = hash_items(product, &items);
        let nodes = &self.nodes;
        let found = self.lookup.find(hash, |(_, id)| match &nodes[id.index()] {
            Node::Add(held) => !product && **held == *items,
            Node::Mul(held) => product && **held == *items,
            _ => false,
        });
        if let Some(&(_, id)) = found {
            return id;
        }
        let items = items.into_boxed_slice();
        let node = if product {
            Node::Mul(items)
        } else {
            Node::Add(items)
        };
        self.insert_new(hash, node)
    }

    /// Adds a node the store does not hold, whose hash is `hash`.
    fn insert_new(&mut self, hash: u64, node: Node) -> ExprId {
        if let Node::Number(value) = &node {
            let bits = value.numer().bits().max(value.denom().bits());
            self.largest_number_bits = self.largest_number_bits.max(bits);
        }
        let free = self.compute_free(&node);
        let mut size = 1u64;
        let mut contents = self.own_contents(&node);
        for child in children_of(&node) {
            size = size.saturating_add(self.sizes[child.index()]);
            contents = contents.with(self.contents[child.index()]);
        }
        let id = ExprId(u32::try_from(self.nodes.len()).expect("fewer than 2^32 nodes"));
        self.nodes.push(node);
        self.free.push(free);
        self.sizes.push(size);
        self.contents.push(contents);
        self.ids.push(id);
        self.lookup
            .insert_unique(hash, (hash, id), |(hash, _)| *hash);
        id
    }

    /// The kinds a node is, by itself.
    fn own_contents(&self, node: &Node) -> Contents {
        let is_add = |id: &ExprId| matches!(self.node(*id), Node::Add(_));
        match node {
            Node::Sum(_, body) if is_add(body) => Contents::SUM.with(Contents::SUM_INSIDE),
            Node::Sum(..) => Contents::SUM,
            Node::Delta(..) => Contents::KRONECKER,
            Node::Adjoint(..) => Contents::ADJOINT,
            Node::Derivative(..) => Contents::DERIVATIVE,
            Node::Call(..) | Node::Extremum(..) => Contents::CALL,
            Node::Ref(..) => Contents::REFERENCE,
            Node::Add(terms)
                if terms
                    .iter()
                    .any(|t| self.contents(*t).has(Contents::SUM_INSIDE)) =>
            {
                Contents::ADD.with(Contents::TERM_WITH_SUM_INSIDE)
            }
            Node::Add(_) => Contents::ADD,
            Node::Mul(factors) if factors.iter().any(is_add) => Contents::SUM_INSIDE,
            Node::Pow(_, exponent) => match self.as_number(*exponent) {
                None => Contents::SYMBOLIC_POWER,
                Some(value) if num_traits::Signed::is_negative(value) => Contents::FRACTION,
                Some(_) => Contents(0),
            },
            _ => Contents(0),
        }
    }

    fn compute_free(&self, node: &Node) -> Box<[IndexVar]> {
        let mut vars: Vec<IndexVar> = match node {
            Node::Ref(_, indices) | Node::Adjoint(_, indices) => indices
                .iter()
                .flat_map(|index| self.index_vars(*index))
                .collect(),
            Node::Delta(a, b) => self.index_vars(*a).chain(self.index_vars(*b)).collect(),
            Node::Sum(bound, body) => self
                .free_vars(*body)
                .iter()
                .copied()
                .filter(|var| var != bound)
                .collect(),
            Node::Derivative(of, wrt) => self
                .free_vars(*of)
                .iter()
                .copied()
                .chain(wrt.indices.iter().flat_map(|index| self.index_vars(*index)))
                .collect(),
            _ => children_of(node)
                .flat_map(|child| self.free_vars(child).iter().copied())
                .collect(),
        };
        vars.sort_unstable();
        vars.dedup();
        vars.into_boxed_slice()
    }

    /// An exact number.
    pub fn number(&mut self, value: BigRational) -> ExprId {
        self.intern(Node::Number(Box::new(value)))
    }

    /// The constant π.
    pub fn pi(&mut self) -> ExprId {
        self.intern(Node::Pi)
    }

    /// A whole number.
    pub fn int(&mut self, value: i64) -> ExprId {
        match value {
            0 => ZERO,
            1 => ONE,
            -1 => MINUS_ONE,
            _ => self.number(BigRational::from_integer(BigInt::from(value))),
        }
    }

    /// The number behind an id, if it is one.
    pub fn as_number(&self, id: ExprId) -> Option<&BigRational> {
        match self.node(id) {
            Node::Number(value) => Some(value),
            _ => None,
        }
    }

    /// True when the expression is the number 0.
    pub fn is_zero(&self, id: ExprId) -> bool {
        id == ZERO
    }

    /// True when the expression is the number 1.
    pub fn is_one(&self, id: ExprId) -> bool {
        id == ONE
    }

    /// True when the expression is the number -1.
    pub fn is_minus_one(&self, id: ExprId) -> bool {
        id == MINUS_ONE
    }

    /// `family[indices]`.
    pub fn reference<I: Copy + Into<Index>>(&mut self, family: FamilyId, indices: &[I]) -> ExprId {
        let indices: Box<[Index]> = indices.iter().map(|i| (*i).into()).collect();
        self.intern(Node::Ref(family, indices))
    }

    /// The derivative of the objective with respect to `family[indices]`:
    /// `δ_j`, `δ_a[t+1, j]`.
    pub fn adjoint<I: Copy + Into<Index>>(&mut self, family: FamilyId, indices: &[I]) -> ExprId {
        let indices: Box<[Index]> = indices.iter().map(|i| (*i).into()).collect();
        self.intern(Node::Adjoint(family, indices))
    }

    /// A sum; drops zero terms, and is the term itself when only one is left.
    pub fn add(&mut self, mut terms: Vec<ExprId>) -> ExprId {
        terms.retain(|t| *t != ZERO);
        match terms.len() {
            0 => ZERO,
            1 => terms[0],
            _ => self.intern_items(false, terms),
        }
    }

    /// A product; is 0 when a factor is 0, multiplies its numbers into one
    /// leading coefficient, drops unit factors.
    pub fn mul(&mut self, mut factors: Vec<ExprId>) -> ExprId {
        if factors.contains(&ZERO) {
            return ZERO;
        }
        factors.retain(|f| *f != ONE);
        let numbers = factors
            .iter()
            .filter(|f| self.as_number(**f).is_some())
            .count();
        if numbers > 1 {
            let product = factors
                .iter()
                .filter_map(|f| self.as_number(*f))
                .fold(BigRational::one(), |acc, n| acc * n);
            factors.retain(|f| self.as_number(*f).is_none());
            let coefficient = self.number(product);
            if coefficient != ONE {
                factors.insert(0, coefficient);
            }
        }
        match factors.len() {
            0 => ONE,
            1 => factors[0],
            _ => self.intern_items(true, factors),
        }
    }

    /// `base ^ exponent`; `x^1` is `x` and `x^0` is 1.
    pub fn pow(&mut self, base: ExprId, exponent: ExprId) -> ExprId {
        if self.is_one(exponent) {
            return base;
        }
        if self.is_zero(exponent) {
            return self.int(1);
        }
        self.intern(Node::Pow(base, exponent))
    }

    /// `base ^ exponent` for a whole-number exponent.
    pub fn powi(&mut self, base: ExprId, exponent: i64) -> ExprId {
        let exponent = self.int(exponent);
        self.pow(base, exponent)
    }

    /// `-1 * e`.
    pub fn negate(&mut self, e: ExprId) -> ExprId {
        let minus_one = self.int(-1);
        self.mul(vec![minus_one, e])
    }

    /// A function call.
    pub fn call(&mut self, function: Function, order: u32, argument: ExprId) -> ExprId {
        self.intern(Node::Call(function, order, argument))
    }

    /// A call of a built-in function.
    pub fn builtin(&mut self, builtin: Builtin, argument: ExprId) -> ExprId {
        self.call(Function::Builtin(builtin), 0, argument)
    }

    /// `max(a, b)` or `min(a, b)`; either of one value twice is that value.
    pub fn extremum(&mut self, kind: Extremum, a: ExprId, b: ExprId) -> ExprId {
        if a == b {
            return a;
        }
        self.intern(Node::Extremum(kind, a, b))
    }

    /// `sum(index, body)`; a zero body gives 0.
    pub fn sum(&mut self, index: IndexVar, body: ExprId) -> ExprId {
        if self.is_zero(body) {
            return body;
        }
        self.intern(Node::Sum(index, body))
    }

    /// `sum(indices..., body)`, the first index outermost.
    pub fn sums(&mut self, indices: &[IndexVar], body: ExprId) -> ExprId {
        indices
            .iter()
            .rev()
            .fold(body, |inner, index| self.sum(*index, inner))
    }

    /// The derivative of `of` with respect to `wrt`, not yet taken.
    pub fn derivative(&mut self, of: ExprId, wrt: Wrt) -> ExprId {
        self.intern(Node::Derivative(of, Box::new(wrt)))
    }

    /// The Kronecker delta; `delta(i, i)` is 1.
    pub fn delta(&mut self, a: IndexVar, b: IndexVar) -> ExprId {
        self.delta_at(Index::Var(a), Index::Var(b))
    }

    /// The Kronecker delta of two arguments: 1 when they are equal, 0 when
    /// they differ by a constant other than 0 (`delta(t, t+1)`).
    pub fn delta_at(&mut self, a: Index, b: Index) -> ExprId {
        if a == b {
            return self.int(1);
        }
        let difference = self.index_difference(a, b);
        if self.index_vars(difference).next().is_none() {
            return self.int(0);
        }
        let (a, b) = if a < b { (a, b) } else { (b, a) };
        self.intern(Node::Delta(a, b))
    }

    /// The product of Kronecker deltas that equates two lists of indices
    /// position by position (1 when both are empty).
    pub fn deltas(&mut self, left: &[IndexVar], right: &[IndexVar]) -> ExprId {
        let left: Vec<Index> = left.iter().map(|v| Index::Var(*v)).collect();
        let right: Vec<Index> = right.iter().map(|v| Index::Var(*v)).collect();
        self.deltas_at(&left, &right)
    }

    /// The product of Kronecker deltas that equates two lists of arguments
    /// position by position.
    pub fn deltas_at(&mut self, left: &[Index], right: &[Index]) -> ExprId {
        let factors: Vec<ExprId> = left
            .iter()
            .zip(right)
            .map(|(a, b)| self.delta_at(*a, *b))
            .collect();
        self.mul(factors)
    }

    /// Rebuilds a node with new children, through the smart constructors.
    pub fn rebuild(&mut self, node: &Node, children: &[ExprId]) -> ExprId {
        match node {
            Node::Number(_) | Node::Pi | Node::Ref(..) | Node::Adjoint(..) | Node::Delta(..) => {
                self.intern(node.clone())
            }
            Node::Add(_) => self.add(children.to_vec()),
            Node::Mul(_) => self.mul(children.to_vec()),
            Node::Pow(..) => self.pow(children[0], children[1]),
            Node::Extremum(kind, ..) => self.extremum(*kind, children[0], children[1]),
            Node::Call(function, order, _) => self.call(*function, *order, children[0]),
            Node::Sum(index, _) => self.sum(*index, children[0]),
            Node::Derivative(_, wrt) => self.derivative(children[0], wrt.as_ref().clone()),
        }
    }

    /// The children of a node, in order.
    pub fn children(&self, id: ExprId) -> Children<'_> {
        children_of(self.node(id))
    }

    /// The terms of a sum, or the expression itself.
    pub fn terms(&self, id: ExprId) -> &[ExprId] {
        match self.node(id) {
            Node::Add(terms) => terms,
            _ => std::slice::from_ref(self.id_slot(id)),
        }
    }

    /// The factors of a product, or the expression itself.
    pub fn factors(&self, id: ExprId) -> &[ExprId] {
        match self.node(id) {
            Node::Mul(factors) => factors,
            _ => std::slice::from_ref(self.id_slot(id)),
        }
    }

    /// A stored copy of `id`, so that a one-element slice of it can be lent.
    fn id_slot(&self, id: ExprId) -> &ExprId {
        &self.ids[id.index()]
    }
}

/// The hash a node is looked up by.
fn hash_node(node: &Node) -> u64 {
    use std::hash::BuildHasher;
    match node {
        Node::Add(items) => hash_items(false, items),
        Node::Mul(items) => hash_items(true, items),
        other => rustc_hash::FxBuildHasher.hash_one(other),
    }
}

/// The hash of a sum (`product` false) or a product of `items`.
fn hash_items(product: bool, items: &[ExprId]) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one((product, items))
}

/// The children of a node, in order.
fn children_of(node: &Node) -> Children<'_> {
    match node {
        Node::Number(_) | Node::Pi | Node::Ref(..) | Node::Adjoint(..) | Node::Delta(..) => {
            Children::None
        }
        Node::Add(items) | Node::Mul(items) => Children::Many(items.iter()),
        Node::Pow(base, exponent) | Node::Extremum(_, base, exponent) => {
            Children::Two(*base, *exponent)
        }
        Node::Call(_, _, argument) => Children::One(*argument),
        Node::Sum(_, body) | Node::Derivative(body, _) => Children::One(*body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_three_words_at_most() {
        // Numbers and the rare formal derivative are boxed so that the
        // store's table of nodes stays small on large networks.
        assert!(
            std::mem::size_of::<Node>() <= 24,
            "{}",
            std::mem::size_of::<Node>()
        );
    }

    #[test]
    fn sums_and_products_found_before_boxing_are_the_ones_interned() {
        let mut store = Store::new();
        let j = store.new_var("j", RangeId(0));
        let x = store.reference(FamilyId(0), &[j]);
        let y = store.reference(FamilyId(1), &[j]);
        let product = store.intern(Node::Mul(Box::new([x, y])));
        let sum = store.intern(Node::Add(Box::new([x, y])));
        assert_eq!(store.mul(vec![x, y]), product);
        assert_eq!(store.add(vec![x, y]), sum);
        assert_ne!(product, sum);
        let mut spare = Vec::with_capacity(8);
        spare.extend([x, y]);
        assert_eq!(store.mul(spare), product);
    }

    #[test]
    fn equal_structure_gives_equal_ids() {
        let mut store = Store::new();
        let j = store.new_var("j", RangeId(0));
        let a = store.reference(FamilyId(0), &[j]);
        let b = store.reference(FamilyId(0), &[j]);
        assert_eq!(a, b);
        let two = store.int(2);
        assert_eq!(store.mul(vec![two, a]), store.mul(vec![two, b]));
        assert_ne!(store.mul(vec![two, a]), store.mul(vec![a, two]));
    }

    #[test]
    fn smart_constructors_drop_units_and_zeros() {
        let mut store = Store::new();
        let j = store.new_var("j", RangeId(0));
        let x = store.reference(FamilyId(0), &[j]);
        let (zero, one) = (store.int(0), store.int(1));
        assert_eq!(store.add(vec![zero, x]), x);
        assert_eq!(store.mul(vec![one, x]), x);
        assert_eq!(store.mul(vec![zero, x]), zero);
        assert_eq!(store.pow(x, one), x);
        assert_eq!(store.delta(j, j), one);
    }

    #[test]
    fn contents_and_sizes_are_recorded_when_interned() {
        let mut store = Store::new();
        let (j, p) = (
            store.new_var("j", RangeId(0)),
            store.new_var("p", RangeId(0)),
        );
        let x = store.reference(FamilyId(0), &[j]);
        let delta = store.delta(j, p);
        let product = store.mul(vec![x, delta]);
        let summed = store.sum(j, product);
        assert!(store.contents(summed).has(Contents::SUM));
        assert!(store.contents(summed).has(Contents::KRONECKER));
        assert!(!store.contents(summed).has(Contents::ADJOINT));
        assert!(!store.contents(x).has(Contents::SUM));
        assert_eq!(store.tree_size(summed), 4);
        assert_eq!(store.free_vars(summed), &[p]);
    }

    #[test]
    fn children_come_in_order() {
        let mut store = Store::new();
        let x = store.reference::<IndexVar>(FamilyId(0), &[]);
        let two = store.int(2);
        let power = store.pow(x, two);
        assert_eq!(store.children(power).collect::<Vec<_>>(), vec![x, two]);
        assert_eq!(store.terms(x), &[x]);
        assert_eq!(store.factors(power), &[power]);
    }
}

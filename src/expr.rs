//! The expression store: hash-consed expression nodes named by small ids.
//!
//! Invariant: two ids are equal exactly when their expressions are equal in
//! structure, because every node is interned once and children are interned
//! before their parents. Index variables are ids too; their names are only
//! hints for printing.

use rustc_hash::FxHashMap as HashMap;

/// A renaming of index variables.
pub type VarMap = HashMap<IndexVar, IndexVar>;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

/// An expression in a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(u32);

/// An index variable: a declared index name, or one made by the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndexVar(u32);

/// A family of quantities (`x`, `w1`, `a`, `E`) in a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FamilyId(pub u32);

/// A range of index values (`D`, `M`, `K`) in a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RangeId(pub u32);

/// An opaque function declared with `function h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpaqueId(pub u32);

/// The built-in scalar functions of the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Builtin {
    /// `exp`
    Exp,
    /// `log`, natural
    Log,
    /// `sqrt`
    Sqrt,
    /// `sin`
    Sin,
    /// `cos`
    Cos,
    /// `sinh`
    Sinh,
    /// `cosh`
    Cosh,
    /// `tanh`
    Tanh,
    /// `sigmoid`, the logistic function (alias `sigma`)
    Sigmoid,
    /// `softplus`, log(1 + exp x)
    Softplus,
    /// `relu`, max(0, x)
    Relu,
    /// `abs`
    Abs,
    /// `step`: 0 below zero, 1 above
    Step,
    /// `sign`
    Sign,
}

impl Builtin {
    /// Every built-in function, in a fixed order.
    pub const ALL: [Builtin; 14] = [
        Builtin::Exp,
        Builtin::Log,
        Builtin::Sqrt,
        Builtin::Sin,
        Builtin::Cos,
        Builtin::Sinh,
        Builtin::Cosh,
        Builtin::Tanh,
        Builtin::Sigmoid,
        Builtin::Softplus,
        Builtin::Relu,
        Builtin::Abs,
        Builtin::Step,
        Builtin::Sign,
    ];

    /// The name used in the language.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Exp => "exp",
            Builtin::Log => "log",
            Builtin::Sqrt => "sqrt",
            Builtin::Sin => "sin",
            Builtin::Cos => "cos",
            Builtin::Sinh => "sinh",
            Builtin::Cosh => "cosh",
            Builtin::Tanh => "tanh",
            Builtin::Sigmoid => "sigmoid",
            Builtin::Softplus => "softplus",
            Builtin::Relu => "relu",
            Builtin::Abs => "abs",
            Builtin::Step => "step",
            Builtin::Sign => "sign",
        }
    }

    /// The built-in of that name (`sigma` is `sigmoid`).
    pub fn from_name(name: &str) -> Option<Builtin> {
        if name == "sigma" {
            return Some(Builtin::Sigmoid);
        }
        Builtin::ALL
            .into_iter()
            .find(|builtin| builtin.name() == name)
    }

    /// The function's value at `x`.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Builtin::Exp => x.exp(),
            Builtin::Log => x.ln(),
            Builtin::Sqrt => x.sqrt(),
            Builtin::Sin => x.sin(),
            Builtin::Cos => x.cos(),
            Builtin::Sinh => x.sinh(),
            Builtin::Cosh => x.cosh(),
            Builtin::Tanh => x.tanh(),
            Builtin::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Builtin::Softplus => {
                if x > 30.0 {
                    x + (-x).exp().ln_1p()
                } else {
                    x.exp().ln_1p()
                }
            }
            Builtin::Relu => x.max(0.0),
            Builtin::Abs => x.abs(),
            Builtin::Step => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Builtin::Sign => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
        }
    }
}

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
    /// An exact rational number.
    Number(BigRational),
    /// An element of a family: `w1[j,i]`.
    Ref(FamilyId, Box<[IndexVar]>),
    /// The derivative of the objective with respect to an element of a
    /// family: Bishop's delta, `dE/da[j]`.
    Adjoint(FamilyId, Box<[IndexVar]>),
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
    /// The Kronecker delta of two indices over one range.
    Delta(IndexVar, IndexVar),
    /// A derivative not yet taken, of an expression. Only step-by-step
    /// derivations hold these.
    Derivative(ExprId, Wrt),
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
    pub indices: Box<[IndexVar]>,
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

/// The arena of interned expressions and index variables.
#[derive(Default)]
pub struct Store {
    nodes: Vec<Node>,
    free: Vec<Box<[IndexVar]>>,
    /// Each node's size written out as a tree, saturating.
    sizes: Vec<u64>,
    lookup: HashMap<Node, ExprId>,
    vars: Vec<IndexVarInfo>,
    largest_number_bits: u64,
    binder_vars: HashMap<(RangeId, u32), IndexVar>,
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        Store::default()
    }

    /// The node behind an id.
    pub fn node(&self, id: ExprId) -> &Node {
        &self.nodes[id.0 as usize]
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
        &self.free[id.0 as usize]
    }

    /// True when `var` is free in the expression.
    pub fn has_free(&self, id: ExprId, var: IndexVar) -> bool {
        self.free_vars(id).binary_search(&var).is_ok()
    }

    /// Interns a node as it is.
    pub fn intern(&mut self, node: Node) -> ExprId {
        if let Some(&id) = self.lookup.get(&node) {
            return id;
        }
        if let Node::Number(value) = &node {
            let bits = value.numer().bits().max(value.denom().bits());
            self.largest_number_bits = self.largest_number_bits.max(bits);
        }
        let free = self.compute_free(&node);
        let size = self.children_of(&node).iter().fold(1u64, |total, c| {
            total.saturating_add(self.sizes[c.0 as usize])
        });
        let id = ExprId(u32::try_from(self.nodes.len()).expect("fewer than 2^32 nodes"));
        self.nodes.push(node.clone());
        self.free.push(free);
        self.sizes.push(size);
        self.lookup.insert(node, id);
        id
    }

    fn compute_free(&self, node: &Node) -> Box<[IndexVar]> {
        let mut vars: Vec<IndexVar> = match node {
            Node::Number(_) => Vec::new(),
            Node::Ref(_, indices) | Node::Adjoint(_, indices) => indices.to_vec(),
            Node::Add(items) | Node::Mul(items) => items
                .iter()
                .flat_map(|item| self.free_vars(*item).iter().copied())
                .collect(),
            Node::Pow(base, exponent) => self
                .free_vars(*base)
                .iter()
                .chain(self.free_vars(*exponent))
                .copied()
                .collect(),
            Node::Call(_, _, argument) => self.free_vars(*argument).to_vec(),
            Node::Sum(bound, body) => self
                .free_vars(*body)
                .iter()
                .copied()
                .filter(|var| var != bound)
                .collect(),
            Node::Delta(a, b) => vec![*a, *b],
            Node::Derivative(of, wrt) => self
                .free_vars(*of)
                .iter()
                .chain(wrt.indices.iter())
                .copied()
                .collect(),
        };
        vars.sort_unstable();
        vars.dedup();
        vars.into_boxed_slice()
    }

    /// An exact number.
    pub fn number(&mut self, value: BigRational) -> ExprId {
        self.intern(Node::Number(value))
    }

    /// A whole number.
    pub fn int(&mut self, value: i64) -> ExprId {
        self.number(BigRational::from_integer(BigInt::from(value)))
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
        self.as_number(id).is_some_and(Zero::is_zero)
    }

    /// True when the expression is the number 1.
    pub fn is_one(&self, id: ExprId) -> bool {
        self.as_number(id).is_some_and(One::is_one)
    }

    /// `family[indices]`.
    pub fn reference(&mut self, family: FamilyId, indices: &[IndexVar]) -> ExprId {
        self.intern(Node::Ref(family, indices.into()))
    }

    /// The derivative of the objective with respect to `family[indices]`.
    pub fn adjoint(&mut self, family: FamilyId, indices: &[IndexVar]) -> ExprId {
        self.intern(Node::Adjoint(family, indices.into()))
    }

    /// A sum; drops zero terms, and is the term itself when only one is left.
    pub fn add(&mut self, terms: Vec<ExprId>) -> ExprId {
        let terms: Vec<ExprId> = terms.into_iter().filter(|t| !self.is_zero(*t)).collect();
        match terms.len() {
            0 => self.int(0),
            1 => terms[0],
            _ => self.intern(Node::Add(terms.into())),
        }
    }

    /// A product; is 0 when a factor is 0, multiplies its numbers into one
    /// leading coefficient, drops unit factors.
    pub fn mul(&mut self, factors: Vec<ExprId>) -> ExprId {
        if factors.iter().any(|f| self.is_zero(*f)) {
            return self.int(0);
        }
        let numbers: Vec<BigRational> = factors
            .iter()
            .filter_map(|f| self.as_number(*f).cloned())
            .collect();
        let factors: Vec<ExprId> = if numbers.len() > 1 {
            let product = numbers
                .into_iter()
                .fold(BigRational::one(), |acc, n| acc * n);
            let coefficient = self.number(product);
            std::iter::once(coefficient)
                .chain(factors.into_iter().filter(|f| self.as_number(*f).is_none()))
                .collect()
        } else {
            factors
        };
        let factors: Vec<ExprId> = factors.into_iter().filter(|f| !self.is_one(*f)).collect();
        match factors.len() {
            0 => self.int(1),
            1 => factors[0],
            _ => self.intern(Node::Mul(factors.into())),
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

    /// `sum(index, body)`; a zero body gives 0.
    pub fn sum(&mut self, index: IndexVar, body: ExprId) -> ExprId {
        if self.is_zero(body) {
            return body;
        }
        self.intern(Node::Sum(index, body))
    }

    /// The derivative of `of` with respect to `wrt`, not yet taken.
    pub fn derivative(&mut self, of: ExprId, wrt: Wrt) -> ExprId {
        self.intern(Node::Derivative(of, wrt))
    }

    /// The Kronecker delta; `delta(i, i)` is 1.
    pub fn delta(&mut self, a: IndexVar, b: IndexVar) -> ExprId {
        if a == b {
            return self.int(1);
        }
        let (a, b) = if a < b { (a, b) } else { (b, a) };
        self.intern(Node::Delta(a, b))
    }

    /// Rebuilds a node with new children, through the smart constructors.
    pub fn rebuild(&mut self, node: &Node, children: &[ExprId]) -> ExprId {
        match node {
            Node::Number(_) | Node::Ref(..) | Node::Adjoint(..) | Node::Delta(..) => {
                self.intern(node.clone())
            }
            Node::Add(_) => self.add(children.to_vec()),
            Node::Mul(_) => self.mul(children.to_vec()),
            Node::Pow(..) => self.pow(children[0], children[1]),
            Node::Call(function, order, _) => self.call(*function, *order, children[0]),
            Node::Sum(index, _) => self.sum(*index, children[0]),
            Node::Derivative(_, wrt) => self.intern(Node::Derivative(children[0], wrt.clone())),
        }
    }

    /// The children of a node, in order.
    pub fn children(&self, id: ExprId) -> Vec<ExprId> {
        self.children_of(self.node(id))
    }

    fn children_of(&self, node: &Node) -> Vec<ExprId> {
        match node {
            Node::Number(_) | Node::Ref(..) | Node::Adjoint(..) | Node::Delta(..) => Vec::new(),
            Node::Add(items) | Node::Mul(items) => items.to_vec(),
            Node::Pow(base, exponent) => vec![*base, *exponent],
            Node::Call(_, _, argument) => vec![*argument],
            Node::Sum(_, body) | Node::Derivative(body, _) => vec![*body],
        }
    }

    /// Renames free index variables by `map`, avoiding capture: a bound
    /// variable is renamed to a fresh one wherever a binder would otherwise
    /// catch a variable that `map` brings in.
    pub fn substitute_vars(&mut self, id: ExprId, map: &VarMap) -> ExprId {
        if map.is_empty() || !self.free_vars(id).iter().any(|v| map.contains_key(v)) {
            return id;
        }
        match self.node(id).clone() {
            Node::Ref(family, indices) => {
                let renamed: Vec<IndexVar> =
                    indices.iter().map(|v| *map.get(v).unwrap_or(v)).collect();
                self.reference(family, &renamed)
            }
            Node::Adjoint(family, indices) => {
                let renamed: Vec<IndexVar> =
                    indices.iter().map(|v| *map.get(v).unwrap_or(v)).collect();
                self.adjoint(family, &renamed)
            }
            Node::Delta(a, b) => {
                let (a, b) = (*map.get(&a).unwrap_or(&a), *map.get(&b).unwrap_or(&b));
                self.delta(a, b)
            }
            Node::Derivative(of, wrt) => {
                let indices = wrt
                    .indices
                    .iter()
                    .map(|v| *map.get(v).unwrap_or(v))
                    .collect();
                let of = self.substitute_vars(of, map);
                self.intern(Node::Derivative(of, Wrt { indices, ..wrt }))
            }
            Node::Sum(bound, body) => {
                let mut inner = map.clone();
                inner.remove(&bound);
                let captures = inner.values().any(|v| *v == bound);
                let (bound, inner) = if captures {
                    let fresh = self.fresh_like(bound);
                    inner.insert(bound, fresh);
                    (fresh, inner)
                } else {
                    (bound, inner)
                };
                let body = self.substitute_vars(body, &inner);
                self.sum(bound, body)
            }
            node => {
                let children: Vec<ExprId> = self
                    .children(id)
                    .into_iter()
                    .map(|child| self.substitute_vars(child, map))
                    .collect();
                self.rebuild(&node, &children)
            }
        }
    }

    /// Renames every bound variable to a fresh one and free ones by `map`,
    /// so that a copy of a definition never shares a binder with anything.
    pub fn instantiate(&mut self, id: ExprId, map: &VarMap) -> ExprId {
        match self.node(id).clone() {
            Node::Sum(bound, body) => {
                let fresh = self.fresh_like(bound);
                let mut inner = map.clone();
                inner.insert(bound, fresh);
                let body = self.instantiate(body, &inner);
                self.sum(fresh, body)
            }
            Node::Number(_) => id,
            Node::Ref(..) | Node::Adjoint(..) | Node::Delta(..) => self.substitute_vars(id, map),
            Node::Derivative(of, wrt) => {
                let indices = wrt
                    .indices
                    .iter()
                    .map(|v| *map.get(v).unwrap_or(v))
                    .collect();
                let of = self.instantiate(of, map);
                self.intern(Node::Derivative(of, Wrt { indices, ..wrt }))
            }
            node => {
                let children: Vec<ExprId> = self
                    .children(id)
                    .into_iter()
                    .map(|child| self.instantiate(child, map))
                    .collect();
                self.rebuild(&node, &children)
            }
        }
    }

    /// The same expression with every bound variable renamed to one chosen
    /// by its range and its depth among the binders, so that expressions
    /// equal up to the names of bound variables become equal ids (after
    /// canonical ordering). A canonical variable is never free anywhere.
    pub fn canonical_binders(&mut self, id: ExprId) -> ExprId {
        self.canonical_at(id, 0, &VarMap::default())
    }

    fn canonical_at(&mut self, id: ExprId, depth: u32, map: &VarMap) -> ExprId {
        match self.node(id).clone() {
            Node::Number(_) => id,
            Node::Ref(..) | Node::Adjoint(..) | Node::Delta(..) => self.substitute_vars(id, map),
            Node::Sum(bound, body) => {
                let range = self.var(bound).range;
                let hint = self.var(bound).name.clone();
                let canonical = *self.binder_vars.entry((range, depth)).or_insert_with(|| {
                    self.vars.push(IndexVarInfo { name: hint, range });
                    IndexVar(self.vars.len() as u32 - 1)
                });
                let mut inner = map.clone();
                inner.insert(bound, canonical);
                let body = self.canonical_at(body, depth + 1, &inner);
                self.sum(canonical, body)
            }
            Node::Derivative(of, wrt) => {
                let indices = wrt
                    .indices
                    .iter()
                    .map(|v| *map.get(v).unwrap_or(v))
                    .collect();
                let of = self.canonical_at(of, depth, map);
                self.intern(Node::Derivative(of, Wrt { indices, ..wrt }))
            }
            node => {
                let children: Vec<ExprId> = self
                    .children(id)
                    .into_iter()
                    .map(|child| self.canonical_at(child, depth, map))
                    .collect();
                self.rebuild(&node, &children)
            }
        }
    }

    /// The number of nodes of the expression written out as a tree, counted
    /// up to `limit` (shared subexpressions count each time they appear).
    pub fn tree_size(&self, id: ExprId, limit: usize) -> usize {
        usize::try_from(self.sizes[id.0 as usize])
            .unwrap_or(usize::MAX)
            .min(limit)
    }

    /// True when some node of the expression satisfies `predicate`.
    pub fn any_node(&self, id: ExprId, predicate: impl Fn(&Node) -> bool) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![id];
        while let Some(next) = stack.pop() {
            if !seen.insert(next) {
                continue;
            }
            if predicate(self.node(next)) {
                return true;
            }
            stack.extend(self.children(next));
        }
        false
    }

    /// True when the expression mentions `family` (as a reference or an adjoint).
    pub fn mentions(&self, id: ExprId, family: FamilyId) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![id];
        while let Some(next) = stack.pop() {
            if !seen.insert(next) {
                continue;
            }
            match self.node(next) {
                Node::Ref(f, _) | Node::Adjoint(f, _) if *f == family => return true,
                _ => stack.extend(self.children(next)),
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn substitution_never_captures() {
        let mut store = Store::new();
        let range = RangeId(0);
        let (j, k) = (store.new_var("j", range), store.new_var("k", range));
        // sum(k, w[k, j]) with j := k must not become sum(k, w[k, k]).
        let w = store.reference(FamilyId(0), &[k, j]);
        let summed = store.sum(k, w);
        let renamed = store.substitute_vars(summed, &VarMap::from_iter([(j, k)]));
        let Node::Sum(bound, body) = store.node(renamed).clone() else {
            panic!("still a sum")
        };
        assert_ne!(bound, k);
        assert_eq!(
            store.node(body),
            &Node::Ref(FamilyId(0), vec![bound, k].into())
        );
        assert_eq!(store.free_vars(renamed), &[k]);
    }
}

//! Walks over the store: fold, any, map and renaming, each iterative and
//! memoised, each visiting every distinct node of an expression once.
//!
//! Children are interned before their parents, so the nodes of an
//! expression sorted by id are in an order where every child comes before
//! its parents: folds and maps work in that order with explicit stacks, and
//! no walk depends on the depth of an expression or the size of the stack.

use rustc_hash::FxHashMap as HashMap;

use super::{
    Contents, ExprId, FamilyId, Function, Index, IndexVar, Node, Store, VarMap, Wrt, ZERO,
};

/// A bottom-up rewrite of an expression, for [`Store::map`].
pub trait Mapper {
    /// The result for `id` without looking inside it, when that is known
    /// (a part that the rewrite leaves alone, or one it has seen before).
    fn shortcut(&mut self, _store: &mut Store, _id: ExprId) -> Option<ExprId> {
        None
    }

    /// The result for `id`, given `rebuilt`: the node with every child
    /// already rewritten (`id` itself when no child changed).
    fn finish(&mut self, store: &mut Store, id: ExprId, rebuilt: ExprId) -> ExprId;
}

impl Store {
    /// Every distinct node of an expression, children before parents.
    pub fn post_order(&self, root: ExprId) -> Vec<ExprId> {
        let mut seen = rustc_hash::FxHashSet::default();
        let mut stack = vec![root];
        let mut found = Vec::new();
        while let Some(next) = stack.pop() {
            if seen.insert(next) {
                found.push(next);
                stack.extend(self.children(next));
            }
        }
        found.sort_unstable();
        found
    }

    /// Folds an expression bottom-up: `combine` sees every distinct node
    /// once, after its children, with their results in order.
    pub fn fold<T: Clone>(
        &self,
        root: ExprId,
        mut combine: impl FnMut(&Store, ExprId, &[T]) -> T,
    ) -> T {
        let mut results: HashMap<ExprId, T> = HashMap::default();
        let mut inputs = Vec::new();
        for id in self.post_order(root) {
            inputs.clear();
            inputs.extend(self.children(id).map(|child| results[&child].clone()));
            let value = combine(self, id, &inputs);
            results.insert(id, value);
        }
        results.remove(&root).expect("the root is folded last")
    }

    /// True when a power of zero with a negative exponent stands in `root`:
    /// it divides by zero.
    pub fn divides_by_zero(&self, root: ExprId) -> bool {
        self.any_node(root, |node| {
            matches!(node, Node::Pow(base, exponent)
                if *base == ZERO && self.as_number(*exponent).is_some_and(num_traits::Signed::is_negative))
        })
    }

    /// True when some node of the expression satisfies `predicate`; stops
    /// at the first that does.
    pub fn any_node(&self, root: ExprId, mut predicate: impl FnMut(&Node) -> bool) -> bool {
        let mut seen = rustc_hash::FxHashSet::default();
        let mut stack = vec![root];
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

    /// True when the expression mentions `family` (as a reference or a delta).
    pub fn mentions(&self, root: ExprId, family: FamilyId) -> bool {
        self.any_node(
            root,
            |node| matches!(node, Node::Ref(f, _) | Node::Adjoint(f, _) if *f == family),
        )
    }

    /// The families an expression refers to, each once, in order of id.
    pub fn referenced_families(&self, root: ExprId) -> Vec<FamilyId> {
        let mut families: Vec<FamilyId> = self
            .post_order(root)
            .into_iter()
            .filter_map(|id| match self.node(id) {
                Node::Ref(family, _) => Some(*family),
                _ => None,
            })
            .collect();
        families.sort_unstable();
        families.dedup();
        families
    }

    /// The families whose deltas an expression refers to, each once, in the
    /// order a reader meets them (left to right).
    pub fn adjoint_families(&self, root: ExprId) -> Vec<FamilyId> {
        if !self.contents(root).has(Contents::ADJOINT) {
            return Vec::new();
        }
        let mut found = Vec::new();
        let mut families = rustc_hash::FxHashSet::default();
        let mut seen = rustc_hash::FxHashSet::default();
        let mut stack = vec![root];
        while let Some(next) = stack.pop() {
            if !seen.insert(next) || !self.contents(next).has(Contents::ADJOINT) {
                continue;
            }
            if let Node::Adjoint(family, _) = self.node(next)
                && families.insert(*family)
            {
                found.push(*family);
            }
            let before = stack.len();
            stack.extend(self.children(next));
            stack[before..].reverse();
        }
        found
    }

    /// Rewrites an expression bottom-up, every distinct node once: a node
    /// is rebuilt from its rewritten children through the smart
    /// constructors, then handed to `mapper`.
    pub fn map(&mut self, root: ExprId, mapper: &mut impl Mapper) -> ExprId {
        let mut done: HashMap<ExprId, ExprId> = HashMap::default();
        // (node, children pushed): a node is finished once its children are.
        let mut stack: Vec<(ExprId, bool)> = vec![(root, false)];
        let mut children = Vec::new();
        while let Some((id, expanded)) = stack.pop() {
            if done.contains_key(&id) {
                continue;
            }
            if !expanded {
                if let Some(result) = mapper.shortcut(self, id) {
                    done.insert(id, result);
                    continue;
                }
                stack.push((id, true));
                // Children are rewritten left to right.
                let before = stack.len();
                stack.extend(
                    self.children(id)
                        .filter(|child| !done.contains_key(child))
                        .map(|child| (child, false)),
                );
                stack[before..].reverse();
                continue;
            }
            children.clear();
            children.extend(self.children(id).map(|child| done[&child]));
            let unchanged = self.children(id).eq(children.iter().copied());
            let rebuilt = if unchanged {
                id
            } else {
                let node = self.node(id).clone();
                self.rebuild(&node, &children)
            };
            let result = mapper.finish(self, id, rebuilt);
            done.insert(id, result);
        }
        done[&root]
    }

    /// Replaces every occurrence of the subexpression `from` by `to`.
    pub fn replace(&mut self, root: ExprId, from: ExprId, to: ExprId) -> ExprId {
        struct Replace {
            from: ExprId,
            to: ExprId,
        }
        impl Mapper for Replace {
            fn shortcut(&mut self, _: &mut Store, id: ExprId) -> Option<ExprId> {
                // Children have smaller ids than parents, so nothing below
                // a node with a smaller id than `from` can be `from`.
                (id == self.from)
                    .then_some(self.to)
                    .or((id < self.from).then_some(id))
            }
            fn finish(&mut self, _: &mut Store, _: ExprId, rebuilt: ExprId) -> ExprId {
                rebuilt
            }
        }
        self.map(root, &mut Replace { from, to })
    }

    /// Replaces every reference to `from` by the same reference to `to`.
    pub fn replace_family(&mut self, root: ExprId, from: FamilyId, to: FamilyId) -> ExprId {
        struct ReplaceFamily {
            from: FamilyId,
            to: FamilyId,
        }
        impl Mapper for ReplaceFamily {
            fn finish(&mut self, store: &mut Store, _: ExprId, rebuilt: ExprId) -> ExprId {
                match store.node(rebuilt) {
                    Node::Ref(family, indices) if *family == self.from => {
                        let indices = indices.clone();
                        store.reference(self.to, &indices)
                    }
                    _ => rebuilt,
                }
            }
        }
        self.map(root, &mut ReplaceFamily { from, to })
    }

    /// Replaces every reference to `family` by what `build` makes of its
    /// indices.
    pub fn replace_references(
        &mut self,
        root: ExprId,
        family: FamilyId,
        build: &mut dyn FnMut(&mut Store, &[Index]) -> ExprId,
    ) -> ExprId {
        struct ReplaceReferences<'a> {
            family: FamilyId,
            build: &'a mut dyn FnMut(&mut Store, &[Index]) -> ExprId,
        }
        impl Mapper for ReplaceReferences<'_> {
            fn finish(&mut self, store: &mut Store, _: ExprId, rebuilt: ExprId) -> ExprId {
                match store.node(rebuilt) {
                    Node::Ref(family, indices) if *family == self.family => {
                        let indices = indices.clone();
                        (self.build)(store, &indices)
                    }
                    _ => rebuilt,
                }
            }
        }
        self.map(root, &mut ReplaceReferences { family, build })
    }

    /// Replaces every call of `function` (and of its derivatives) by what
    /// `build` makes of the call's order of derivative and argument.
    pub fn replace_calls(
        &mut self,
        root: ExprId,
        function: Function,
        build: &mut dyn FnMut(&mut Store, u32, ExprId) -> ExprId,
    ) -> ExprId {
        struct ReplaceCalls<'a> {
            function: Function,
            build: &'a mut dyn FnMut(&mut Store, u32, ExprId) -> ExprId,
        }
        impl Mapper for ReplaceCalls<'_> {
            fn finish(&mut self, store: &mut Store, _: ExprId, rebuilt: ExprId) -> ExprId {
                match store.node(rebuilt) {
                    Node::Call(function, order, argument) if *function == self.function => {
                        let (order, argument) = (*order, *argument);
                        (self.build)(store, order, argument)
                    }
                    _ => rebuilt,
                }
            }
        }
        self.map(root, &mut ReplaceCalls { function, build })
    }

    /// Renames free index variables by `map`, avoiding capture: a bound
    /// variable is renamed to a fresh one wherever a binder would otherwise
    /// catch a variable that `map` brings in.
    pub fn substitute_vars(&mut self, root: ExprId, map: &VarMap) -> ExprId {
        let pairs: Vec<(IndexVar, Index)> = map
            .iter()
            .map(|(from, to)| (*from, Index::Var(*to)))
            .collect();
        self.substitute_indices(root, pairs)
    }

    /// Replaces free index variables by arguments (`i` by `d - p + 1`),
    /// avoiding capture as [`Store::substitute_vars`] does.
    pub fn substitute_indices(&mut self, root: ExprId, pairs: Vec<(IndexVar, Index)>) -> ExprId {
        let mut pairs: Vec<(IndexVar, Index)> = pairs
            .into_iter()
            .filter(|(from, to)| Index::Var(*from) != *to)
            .collect();
        pairs.sort_unstable();
        let scope = Scope { pairs, depth: 0 };
        if !Substitution.touches(self, &scope, root) {
            return root;
        }
        rename(self, root, scope, &mut Substitution)
    }

    /// Renames free index variables by `map` and every bound variable to a
    /// fresh one, so that a copy of a definition shares no binder with
    /// anything else.
    pub fn instantiate(&mut self, root: ExprId, map: &VarMap) -> ExprId {
        let pairs = map.iter().map(|(f, t)| (*f, Index::Var(*t))).collect();
        self.instantiate_at(root, pairs)
    }

    /// Replaces free index variables by arguments and every bound variable
    /// by a fresh one: a definition instantiated at an element such as
    /// `h[t-1, j]`.
    pub fn instantiate_at(&mut self, root: ExprId, mut pairs: Vec<(IndexVar, Index)>) -> ExprId {
        pairs.sort_unstable();
        rename(self, root, Scope { pairs, depth: 0 }, &mut FreshBinders)
    }

    /// The same expression with every bound variable renamed to one chosen
    /// by its range and its depth among the binders, so that expressions
    /// equal up to the names of bound variables become equal ids (after
    /// canonical ordering). A canonical variable is never free anywhere.
    pub fn canonical_binders(&mut self, root: ExprId) -> ExprId {
        let scope = Scope {
            pairs: Vec::new(),
            depth: 0,
        };
        rename(self, root, scope, &mut CanonicalBinders)
    }
}

/// A renaming in force at some place of an expression: variables replaced
/// (sorted by the variable replaced) by variables or arguments, and how
/// many binders enclose the place.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Scope {
    pairs: Vec<(IndexVar, Index)>,
    depth: u32,
}

impl Scope {
    fn get(&self, var: IndexVar) -> Index {
        match self.pairs.binary_search_by_key(&var, |(from, _)| *from) {
            Ok(at) => self.pairs[at].1,
            Err(_) => Index::Var(var),
        }
    }

    fn renames_any(&self, vars: &[IndexVar]) -> bool {
        !self.pairs.is_empty()
            && vars.iter().any(|v| {
                self.pairs
                    .binary_search_by_key(v, |(from, _)| *from)
                    .is_ok()
            })
    }

    fn without(&self, var: IndexVar) -> Vec<(IndexVar, Index)> {
        self.pairs
            .iter()
            .copied()
            .filter(|(from, _)| *from != var)
            .collect()
    }
}

/// How a renaming treats binders.
trait Binders {
    /// True when the renaming may change something inside `id`.
    fn touches(&self, store: &Store, scope: &Scope, id: ExprId) -> bool;

    /// Inside `sum(bound, body)`: the binder's variable and the body's scope.
    fn enter(
        &mut self,
        store: &mut Store,
        scope: &Scope,
        bound: IndexVar,
        body: ExprId,
    ) -> (IndexVar, Scope);
}

/// Capture-avoiding substitution of free variables.
struct Substitution;

impl Binders for Substitution {
    fn touches(&self, store: &Store, scope: &Scope, id: ExprId) -> bool {
        scope.renames_any(store.free_vars(id))
    }

    fn enter(
        &mut self,
        store: &mut Store,
        scope: &Scope,
        bound: IndexVar,
        body: ExprId,
    ) -> (IndexVar, Scope) {
        // Only what the body mentions is carried in, so that a body shared
        // under different binders is renamed once.
        let mut inner = scope.without(bound);
        inner.retain(|(from, _)| store.has_free(body, *from));
        let captures = inner
            .iter()
            .any(|(_, to)| store.index_vars(*to).any(|v| v == bound));
        if !captures {
            return (
                bound,
                Scope {
                    pairs: inner,
                    depth: scope.depth + 1,
                },
            );
        }
        let fresh = store.fresh_like(bound);
        inner.push((bound, Index::Var(fresh)));
        inner.sort_unstable();
        (
            fresh,
            Scope {
                pairs: inner,
                depth: scope.depth + 1,
            },
        )
    }
}

/// Every binder renamed to a fresh variable.
struct FreshBinders;

impl Binders for FreshBinders {
    fn touches(&self, store: &Store, scope: &Scope, id: ExprId) -> bool {
        store.contents(id).has(Contents::SUM) || scope.renames_any(store.free_vars(id))
    }

    fn enter(
        &mut self,
        store: &mut Store,
        scope: &Scope,
        bound: IndexVar,
        _body: ExprId,
    ) -> (IndexVar, Scope) {
        let fresh = store.fresh_like(bound);
        let mut inner = scope.without(bound);
        inner.push((bound, Index::Var(fresh)));
        inner.sort_unstable();
        (
            fresh,
            Scope {
                pairs: inner,
                depth: scope.depth + 1,
            },
        )
    }
}

/// Binders renamed to canonical variables by range and depth.
struct CanonicalBinders;

impl Binders for CanonicalBinders {
    fn touches(&self, store: &Store, scope: &Scope, id: ExprId) -> bool {
        store.contents(id).has(Contents::SUM) || scope.renames_any(store.free_vars(id))
    }

    fn enter(
        &mut self,
        store: &mut Store,
        scope: &Scope,
        bound: IndexVar,
        body: ExprId,
    ) -> (IndexVar, Scope) {
        let info = store.var(bound).clone();
        let key = (info.range, scope.depth);
        let canonical = match store.binder_vars.get(&key) {
            Some(var) => *var,
            None => {
                let var = store.new_var(info.name, info.range);
                store.binder_vars.insert(key, var);
                var
            }
        };
        // A canonical variable is never free, except in an expression some
        // substitution brought it into: there a fresh one keeps it apart.
        let canonical = if canonical != bound && store.has_free(body, canonical) {
            store.fresh_like(bound)
        } else {
            canonical
        };
        let mut inner = scope.without(bound);
        inner.retain(|(from, _)| store.has_free(body, *from));
        inner.push((bound, Index::Var(canonical)));
        inner.sort_unstable();
        (
            canonical,
            Scope {
                pairs: inner,
                depth: scope.depth + 1,
            },
        )
    }
}

/// Renames variables through an expression, the renaming changing at each
/// binder: every distinct node in every distinct scope is visited once.
fn rename(store: &mut Store, root: ExprId, top: Scope, binders: &mut impl Binders) -> ExprId {
    let mut scopes: Vec<Scope> = vec![top.clone()];
    let mut scope_ids: HashMap<Scope, u32> = HashMap::from_iter([(top, 0)]);
    let mut done: HashMap<(ExprId, u32), ExprId> = HashMap::default();
    // Where a sum's body goes: its binder's variable and the body's scope.
    let mut bodies: HashMap<(ExprId, u32), (IndexVar, u32)> = HashMap::default();
    let mut stack: Vec<(ExprId, u32, bool)> = vec![(root, 0, false)];
    while let Some((id, scope_id, expanded)) = stack.pop() {
        let key = (id, scope_id);
        if done.contains_key(&key) {
            continue;
        }
        let scope = &scopes[scope_id as usize];
        if !binders.touches(store, scope, id) {
            done.insert(key, id);
            continue;
        }
        let node = store.node(id).clone();
        if !expanded {
            stack.push((id, scope_id, true));
            match &node {
                Node::Sum(bound, body) => {
                    let scope = scope.clone();
                    let (variable, inner) = binders.enter(store, &scope, *bound, *body);
                    let next_id = scopes.len() as u32;
                    let inner_id = *scope_ids.entry(inner.clone()).or_insert(next_id);
                    if inner_id == next_id {
                        scopes.push(inner);
                    }
                    bodies.insert(key, (variable, inner_id));
                    stack.push((*body, inner_id, false));
                }
                _ => {
                    // Children are renamed left to right.
                    let before = stack.len();
                    stack.extend(store.children(id).map(|child| (child, scope_id, false)));
                    stack[before..].reverse();
                }
            }
            continue;
        }
        let result = match node {
            Node::Ref(family, indices) => {
                let renamed = rename_indices(store, scope, &indices);
                store.reference(family, &renamed)
            }
            Node::Adjoint(family, indices) => {
                let renamed = rename_indices(store, scope, &indices);
                store.adjoint(family, &renamed)
            }
            Node::Delta(a, b) => {
                let renamed = rename_indices(store, scope, &[a, b]);
                store.delta_at(renamed[0], renamed[1])
            }
            Node::Number(_) => id,
            Node::Sum(_, body) => {
                let (variable, inner_id) = bodies[&key];
                let body = done[&(body, inner_id)];
                store.sum(variable, body)
            }
            Node::Derivative(of, wrt) => {
                let indices = rename_indices(store, scope, &wrt.indices).into();
                let of = done[&(of, scope_id)];
                store.derivative(of, Wrt { indices, ..*wrt })
            }
            node => {
                let children: Vec<ExprId> = store
                    .children(id)
                    .map(|child| done[&(child, scope_id)])
                    .collect();
                store.rebuild(&node, &children)
            }
        };
        done.insert(key, result);
    }
    done[&(root, 0)]
}

/// Arguments with every variable replaced as `scope` says.
fn rename_indices(store: &mut Store, scope: &Scope, indices: &[Index]) -> Vec<Index> {
    indices
        .iter()
        .map(|index| store.substitute_index(*index, |v| scope.get(v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::RangeId;

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
            &Node::Ref(FamilyId(0), Index::of_vars(&[bound, k]))
        );
        assert_eq!(store.free_vars(renamed), &[k]);
    }

    #[test]
    fn a_shadowing_binder_keeps_its_own_variable() {
        let mut store = Store::new();
        let range = RangeId(0);
        let (j, p) = (store.new_var("j", range), store.new_var("p", range));
        // x[j] * sum(j, x[j]) with j := p is x[p] * sum(j, x[j]).
        let x = store.reference(FamilyId(0), &[j]);
        let summed = store.sum(j, x);
        let product = store.mul(vec![x, summed]);
        let renamed = store.substitute_vars(product, &VarMap::from_iter([(j, p)]));
        let xp = store.reference(FamilyId(0), &[p]);
        let expected = store.mul(vec![xp, summed]);
        assert_eq!(renamed, expected);
    }

    #[test]
    fn alpha_equivalent_expressions_meet_with_canonical_binders() {
        let mut store = Store::new();
        let range = RangeId(0);
        let (j, k) = (store.new_var("j", range), store.new_var("k", range));
        let xj = store.reference(FamilyId(0), &[j]);
        let xk = store.reference(FamilyId(0), &[k]);
        let (a, b) = (store.sum(j, xj), store.sum(k, xk));
        assert_ne!(a, b);
        assert_eq!(store.canonical_binders(a), store.canonical_binders(b));
    }

    #[test]
    fn canonical_binders_keep_an_expression_already_canonical() {
        let mut store = Store::new();
        let range = RangeId(0);
        let (j, k) = (store.new_var("j", range), store.new_var("k", range));
        // sum(j, w[j, k] * sum(k, x[k])), with a free k outside the inner sum.
        let xk = store.reference(FamilyId(1), &[k]);
        let inner = store.sum(k, xk);
        let w = store.reference(FamilyId(0), &[j, k]);
        let product = store.mul(vec![w, inner]);
        let outer = store.sum(j, product);
        let once = store.canonical_binders(outer);
        assert_eq!(store.canonical_binders(once), once);
        assert_eq!(store.free_vars(once), &[k]);
    }

    #[test]
    fn walks_handle_depths_beyond_any_stack() {
        let mut store = Store::new();
        let mut expr = store.reference::<IndexVar>(FamilyId(0), &[]);
        for _ in 0..200_000 {
            let one = store.int(1);
            expr = store.add(vec![expr, one]);
            let two = store.int(2);
            expr = store.mul(vec![expr, two]);
        }
        let leaf = store.reference::<IndexVar>(FamilyId(0), &[]);
        let other = store.reference::<IndexVar>(FamilyId(1), &[]);
        let replaced = store.replace(expr, leaf, other);
        assert!(store.mentions(replaced, FamilyId(1)));
        assert!(!store.mentions(replaced, FamilyId(0)));
        let depth = store.fold(replaced, |_, _, children: &[u32]| {
            children.iter().max().map_or(1, |d| d + 1)
        });
        assert_eq!(depth, 400_001);
        assert_eq!(store.canonical_binders(replaced), replaced);
    }
}

//! Simplification: rewriting to a normal form by named rules.
//!
//! Every rule is a value of [`crate::rules`] paired here with the function
//! that applies it at one node; [`RULE_TABLE`] lists them in the order they
//! are tried. A pass is a choice of rules (canonical form always, and some
//! of: the network's forward quantities, its assumptions, multiplying out,
//! common factors); it rewrites an expression bottom-up, every distinct
//! node once, each node until no rule of the pass applies, with an
//! explicit stack, so that its depth never matters. Each rule that fires is
//! reported to the caller's [`StepSink`], remembered results included.
//!
//! Every rule is an equality (where both sides are defined); the numeric
//! tests check that. [`Simplifier::simplify`] runs the passes in turn, once
//! factored and once multiplied out, and keeps the smaller result.

pub mod canonical;
pub mod facts;

use rustc_hash::FxHashMap as HashMap;

use crate::expr::{Contents, ExprId, Node, Store};
use crate::limits::{MAX_EXPAND_SIZE, MAX_SIMPLIFY_GROWTH, MAX_SIMPLIFY_STEPS, TooLarge};
use crate::model::{FamilyKind, Model};
use crate::rules::{self, Rule, RuleSet, StepSink};
use facts::{Facts, Rewrite, Shapes};

/// The rules a pass uses besides canonical form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Pass {
    forward: bool,
    assumptions: bool,
    multiply_out: bool,
    common_factor: bool,
}

impl Pass {
    /// How many different passes there are.
    const COUNT: usize = 16;

    /// The pass's place among all passes, for a table of memories.
    fn index(self) -> usize {
        usize::from(self.forward)
            | usize::from(self.assumptions) << 1
            | usize::from(self.multiply_out) << 2
            | usize::from(self.common_factor) << 3
    }

    const CANONICAL: Pass = Pass {
        forward: false,
        assumptions: false,
        multiply_out: false,
        common_factor: false,
    };
}

/// A set of rules that a derivation applies as a link of its own, on top
/// of canonical form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Formulas the network defines written as their families.
    ForwardQuantities,
    /// The network's `assume` lines.
    Assumptions,
    /// Products of sums multiplied out.
    MultiplyOut,
}

/// What a rule may look at while it applies.
struct Context<'a> {
    store: &'a mut Store,
    facts: &'a Facts,
    shapes: &'a mut Shapes,
    pass: Pass,
}

/// When a rule of the table is in a pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Member {
    /// Always: canonical form.
    Canonical,
    /// With the network's forward quantities.
    Forward,
    /// With the network's assumptions.
    Assumptions,
    /// While multiplying out.
    MultiplyOut,
    /// While taking out common factors.
    CommonFactor,
}

impl Member {
    fn in_pass(self, pass: Pass) -> bool {
        match self {
            Member::Canonical => true,
            Member::Forward => pass.forward,
            Member::Assumptions => pass.assumptions,
            Member::MultiplyOut => pass.multiply_out,
            Member::CommonFactor => pass.common_factor,
        }
    }
}

/// A set of kinds of node, as bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Kinds(u8);

impl Kinds {
    const ADD: Kinds = Kinds(1);
    const MUL: Kinds = Kinds(2);
    const POW: Kinds = Kinds(4);
    const CALL: Kinds = Kinds(8);
    const SUM: Kinds = Kinds(16);
    const OTHER: Kinds = Kinds(32);
    const ANY: Kinds = Kinds(u8::MAX);

    /// The kind of `node`.
    fn of(node: &Node) -> Kinds {
        match node {
            Node::Add(_) => Kinds::ADD,
            Node::Mul(_) => Kinds::MUL,
            Node::Pow(..) => Kinds::POW,
            Node::Call(..) => Kinds::CALL,
            Node::Sum(..) => Kinds::SUM,
            _ => Kinds::OTHER,
        }
    }

    fn meets(self, other: Kinds) -> bool {
        self.0 & other.0 != 0
    }
}

/// A rule and the function that applies it at one node.
struct Entry {
    rule: &'static Rule,
    /// The kinds of node the rule can rewrite; it is not tried on others.
    on: Kinds,
    member: Member,
    apply: fn(&mut Context<'_>, ExprId) -> Option<ExprId>,
}

/// Every rule of simplification, in the order they are tried at a node.
/// Flattening and ordering are not listed: a pass does them to every node
/// before it tries these (see [`Simplifier::run`]).
static RULE_TABLE: [Entry; 15] = [
    Entry {
        rule: &rules::LIKE_TERMS,
        on: Kinds::ADD,
        member: Member::Canonical,
        apply: |cx, id| canonical::like_terms(cx.store, id),
    },
    Entry {
        rule: &rules::EQUAL_BASES,
        on: Kinds::MUL,
        member: Member::Canonical,
        apply: |cx, id| canonical::equal_bases(cx.store, id),
    },
    Entry {
        rule: &rules::NEGATED_DIFFERENCE,
        on: Kinds::MUL,
        member: Member::Canonical,
        apply: |cx, id| canonical::negated_difference(cx.store, id),
    },
    Entry {
        rule: &rules::NUMBER_POWER,
        on: Kinds::POW,
        member: Member::Canonical,
        apply: |cx, id| canonical::number_power(cx.store, id),
    },
    Entry {
        rule: &rules::POWER_OF_POWER,
        on: Kinds::POW,
        member: Member::Canonical,
        apply: |cx, id| canonical::power_of_power(cx.store, id),
    },
    Entry {
        rule: &rules::POWER_OF_PRODUCT,
        on: Kinds::POW,
        member: Member::Canonical,
        apply: |cx, id| canonical::power_of_product(cx.store, id),
    },
    Entry {
        rule: &rules::INVERSE_FUNCTION,
        on: Kinds::CALL,
        member: Member::Canonical,
        apply: |cx, id| canonical::inverse_function(cx.store, id),
    },
    Entry {
        rule: &rules::FUNCTION_VALUE,
        on: Kinds::CALL,
        member: Member::Canonical,
        apply: |cx, id| canonical::function_value(cx.store, id),
    },
    Entry {
        rule: &rules::KRONECKER_COLLAPSE,
        on: Kinds::SUM,
        member: Member::Canonical,
        apply: |cx, id| canonical::kronecker_collapse(cx.store, id),
    },
    Entry {
        rule: &rules::SUM_CONSTANT_OUT,
        on: Kinds::SUM,
        member: Member::Canonical,
        apply: |cx, id| canonical::sum_constant_out(cx.store, id),
    },
    Entry {
        rule: &rules::SUM_SPLIT,
        on: Kinds::SUM,
        member: Member::Canonical,
        apply: |cx, id| canonical::sum_split(cx.store, id, cx.pass.multiply_out),
    },
    Entry {
        rule: &rules::ASSUMPTION,
        on: Kinds::ANY,
        member: Member::Assumptions,
        apply: |cx, id| cx.facts.assume(cx.store, id),
    },
    Entry {
        rule: &rules::FORWARD_QUANTITY,
        on: Kinds::ANY,
        member: Member::Forward,
        apply: |cx, id| cx.facts.forward(cx.store, cx.shapes, id),
    },
    Entry {
        rule: &rules::MULTIPLY_OUT,
        on: Kinds::MUL,
        member: Member::MultiplyOut,
        apply: |cx, id| canonical::multiply_out(cx.store, id),
    },
    Entry {
        rule: &rules::COMMON_FACTOR,
        on: Kinds::ADD,
        member: Member::CommonFactor,
        apply: |cx, id| canonical::common_factor(cx.store, id),
    },
];

/// A simplified expression and the rules that made it.
#[derive(Clone, Copy, Debug)]
struct Normal {
    expr: ExprId,
    fired: RuleSet,
}

/// What one pass made of each expression it met: tables dense in the
/// store's ids, since a pass meets most of the nodes made while it runs.
#[derive(Clone, Default)]
struct Memo {
    /// Each expression's normal form, where the pass has met it.
    exprs: Vec<Option<ExprId>>,
    /// The rules that made it.
    fired: Vec<RuleSet>,
}

impl Memo {
    fn get(&self, id: ExprId) -> Option<Normal> {
        let expr = self.exprs.get(id.index()).copied().flatten()?;
        Some(Normal {
            expr,
            fired: self.fired[id.index()],
        })
    }

    fn contains(&self, id: ExprId) -> bool {
        self.exprs.get(id.index()).is_some_and(Option::is_some)
    }

    /// The normal form of an expression the pass has met.
    fn known(&self, id: ExprId) -> Normal {
        self.get(id).expect("a part is simplified before its whole")
    }

    /// Remembers `normal` for `id` unless something is remembered already.
    fn keep_first(&mut self, id: ExprId, normal: Normal) {
        let at = id.index();
        if at >= self.exprs.len() {
            self.exprs.resize(at + 1, None);
            self.fired.resize(at + 1, RuleSet::EMPTY);
        }
        if self.exprs[at].is_none() {
            self.exprs[at] = Some(normal.expr);
            self.fired[at] = normal.fired;
        }
    }
}

/// Simplifies expressions of one store with one set of facts; remembers
/// every result, since each depends only on the expression and the pass.
pub struct Simplifier {
    facts: Facts,
    shapes: Shapes,
    /// For each pass, what it made of each expression it met.
    memo: Vec<Memo>,
    /// Results of the whole of [`Simplifier::simplify`], with facts or without.
    simplest: HashMap<(bool, ExprId), Normal>,
}

impl Simplifier {
    /// A simplifier that knows no facts.
    pub fn new() -> Simplifier {
        Simplifier {
            facts: Facts::default(),
            shapes: Shapes::default(),
            memo: vec![Memo::default(); Pass::COUNT],
            simplest: HashMap::default(),
        }
    }

    /// A simplifier that knows a model's forward quantities and assumptions.
    pub fn for_model(model: &mut Model) -> Result<Simplifier, TooLarge> {
        let mut simplifier = Simplifier::new();
        let mut forward = Vec::new();
        for family in model.family_ids() {
            let info = model.family(family);
            let (FamilyKind::Defined, Some(definition)) = (info.kind, info.definition) else {
                continue;
            };
            // Only a formula with a function or a symbolic power is worth
            // writing as its family; most definitions are neither.
            if !facts::holds_function_or_power(&model.store, definition) {
                continue;
            }
            let slots = info.slots.clone();
            let store = &mut model.store;
            let pattern = simplifier.canonical(store, definition, &mut ())?;
            if slots.iter().all(|s| store.has_free(pattern, *s)) {
                let replacement = store.reference(family, &slots);
                forward.push(Rewrite {
                    pattern,
                    replacement,
                });
            }
        }
        let mut assumptions = Vec::new();
        for assumption in model.assumptions.clone() {
            let store = &mut model.store;
            assumptions.push(Rewrite {
                pattern: simplifier.canonical(store, assumption.lhs, &mut ())?,
                replacement: simplifier.canonical(store, assumption.rhs, &mut ())?,
            });
        }
        simplifier.facts = Facts::new(&model.store, &mut simplifier.shapes, forward, assumptions);
        Ok(simplifier)
    }

    /// The simplest form found: canonical form, forward quantities and
    /// assumptions applied, common factors out; tried once as it is and
    /// once multiplied out, and the shorter kept.
    pub fn simplify(
        &mut self,
        store: &mut Store,
        expr: ExprId,
        sink: &mut impl StepSink,
    ) -> Result<ExprId, TooLarge> {
        let facts = !self.facts.is_empty();
        self.simplest(store, expr, facts, sink)
    }

    /// [`Simplifier::simplify`] without the network's facts: what any
    /// reader could simplify.
    pub fn simplify_plain(
        &mut self,
        store: &mut Store,
        expr: ExprId,
        sink: &mut impl StepSink,
    ) -> Result<ExprId, TooLarge> {
        self.simplest(store, expr, false, sink)
    }

    /// Canonical form only: flattened, numbers folded, like terms and equal
    /// bases gathered, sums and Kronecker deltas simplified, in order.
    pub fn canonical(
        &mut self,
        store: &mut Store,
        expr: ExprId,
        sink: &mut impl StepSink,
    ) -> Result<ExprId, TooLarge> {
        self.report(store, expr, Pass::CANONICAL, sink)
    }

    /// True when the network assumes something.
    pub fn has_assumptions(&self) -> bool {
        self.facts.has_assumptions()
    }

    /// Canonical form with the rules of one stage besides.
    pub fn stage(
        &mut self,
        store: &mut Store,
        expr: ExprId,
        stage: Stage,
        sink: &mut impl StepSink,
    ) -> Result<ExprId, TooLarge> {
        let pass = match stage {
            Stage::ForwardQuantities => Pass {
                forward: true,
                ..Pass::CANONICAL
            },
            Stage::Assumptions => Pass {
                assumptions: true,
                ..Pass::CANONICAL
            },
            Stage::MultiplyOut => Pass {
                multiply_out: true,
                ..Pass::CANONICAL
            },
        };
        self.report(store, expr, pass, sink)
    }

    fn report(
        &mut self,
        store: &mut Store,
        expr: ExprId,
        pass: Pass,
        sink: &mut impl StepSink,
    ) -> Result<ExprId, TooLarge> {
        let normal = self.run(store, expr, pass)?;
        sink.fired(normal.fired);
        Ok(normal.expr)
    }

    fn simplest(
        &mut self,
        store: &mut Store,
        expr: ExprId,
        facts: bool,
        sink: &mut impl StepSink,
    ) -> Result<ExprId, TooLarge> {
        let with_facts = Pass {
            forward: facts,
            assumptions: facts,
            ..Pass::CANONICAL
        };
        let factoring = Pass {
            common_factor: true,
            ..Pass::CANONICAL
        };
        let multiplying = Pass {
            multiply_out: true,
            ..Pass::CANONICAL
        };
        if let Some(known) = self.simplest.get(&(facts, expr)) {
            sink.fired(known.fired);
            return Ok(known.expr);
        }
        let factored = self.chain(store, expr, &[Pass::CANONICAL, with_facts, factoring])?;
        // Multiplying out can only make an expression shorter where it lets
        // terms meet: a fraction may cancel, terms of a sum combine, a
        // Kronecker delta collapse a sum, or an assumption apply.
        let contents = store.contents(factored.expr);
        let summed = contents.has(Contents::SUM)
            && (contents.has(Contents::KRONECKER) || self.facts.has_assumptions());
        let worth_trying = contents.has(Contents::SUM_INSIDE)
            && (summed || contents.any(Contents::FRACTION.and(Contents::TERM_WITH_SUM_INSIDE)));
        if !worth_trying || store.tree_size(factored.expr) > MAX_EXPAND_SIZE {
            self.simplest.insert((facts, expr), factored);
            sink.fired(factored.fired);
            return Ok(factored.expr);
        }
        let expanded = self.chain(store, factored.expr, &[multiplying, with_facts, factoring])?;
        let best = if store.tree_size(expanded.expr) < store.tree_size(factored.expr) {
            Normal {
                expr: expanded.expr,
                fired: factored.fired.union(expanded.fired),
            }
        } else {
            factored
        };
        self.simplest.insert((facts, expr), best);
        sink.fired(best.fired);
        Ok(best.expr)
    }

    /// Passes one after the other; a pass whose own rules cannot apply to
    /// what the one before left (in canonical form already) is skipped.
    fn chain(
        &mut self,
        store: &mut Store,
        expr: ExprId,
        passes: &[Pass],
    ) -> Result<Normal, TooLarge> {
        let mut current = Normal {
            expr,
            fired: RuleSet::EMPTY,
        };
        for (at, pass) in passes.iter().enumerate() {
            if at > 0 && !self.may_apply(*pass, store.contents(current.expr)) {
                continue;
            }
            let next = self.run(store, current.expr, *pass)?;
            current = Normal {
                expr: next.expr,
                fired: current.fired.union(next.fired),
            };
        }
        Ok(current)
    }

    /// True when a rule of `pass` beyond canonical form could apply to an
    /// expression that holds `contents`.
    fn may_apply(&self, pass: Pass, contents: Contents) -> bool {
        let facts = (pass.assumptions && self.facts.has_assumptions())
            || (pass.forward && contents.any(Contents::CALL.and(Contents::SYMBOLIC_POWER)));
        facts
            || (pass.multiply_out && contents.has(Contents::SUM_INSIDE))
            || (pass.common_factor && contents.has(Contents::ADD))
    }

    /// One pass: every node rewritten, children first, until no rule of the
    /// pass applies to it.
    fn run(&mut self, store: &mut Store, root: ExprId, pass: Pass) -> Result<Normal, TooLarge> {
        if let Some(done) = self.memo[pass.index()].get(root) {
            return Ok(done);
        }
        /// Work still to do.
        enum Task {
            /// Simplify a node's children, then the node.
            Visit(ExprId),
            /// The node's children are simplified: simplify it.
            Finish(ExprId),
            /// A rule rewrote `node` (as rebuilt) to `to`; `to` is now
            /// simplified, and so is the node. `fired` holds the rules that
            /// fired on the node's parts and on it, `own` those on it alone.
            Adopt {
                node: ExprId,
                rebuilt: ExprId,
                to: ExprId,
                fired: RuleSet,
                own: RuleSet,
            },
        }
        let start = store.len();
        let mut stack = vec![Task::Visit(root)];
        let mut children = Vec::new();
        let mut steps = 0usize;
        while let Some(task) = stack.pop() {
            steps += 1;
            if steps > MAX_SIMPLIFY_STEPS {
                return Err(TooLarge::new(format!(
                    "simplifying it takes more than {MAX_SIMPLIFY_STEPS} steps"
                )));
            }
            if store.len() - start > MAX_SIMPLIFY_GROWTH {
                return Err(TooLarge::new(format!(
                    "simplifying it grows beyond {MAX_SIMPLIFY_GROWTH} nodes"
                )));
            }
            match task {
                Task::Visit(id) => {
                    if self.memo[pass.index()].contains(id) {
                        continue;
                    }
                    // A part already in canonical form, where no rule of the
                    // pass beyond canonical form can apply, stays as it is.
                    if pass != Pass::CANONICAL
                        && !self.may_apply(pass, store.contents(id))
                        && self.memo[Pass::CANONICAL.index()]
                            .get(id)
                            .is_some_and(|normal| normal.expr == id)
                    {
                        self.settle(pass, id, id, RuleSet::EMPTY);
                        continue;
                    }
                    stack.push(Task::Finish(id));
                    // Children are simplified left to right.
                    let before = stack.len();
                    for child in store.children(id) {
                        if !self.memo[pass.index()].contains(child) {
                            stack.push(Task::Visit(child));
                        }
                    }
                    stack[before..].reverse();
                }
                Task::Finish(id) => {
                    if self.memo[pass.index()].contains(id) {
                        continue;
                    }
                    let mut fired = RuleSet::EMPTY;
                    children.clear();
                    for child in store.children(id) {
                        let normal = self.memo[pass.index()].known(child);
                        fired = fired.union(normal.fired);
                        children.push(normal.expr);
                    }
                    let mut rebuilt = if store.children(id).eq(children.iter().copied()) {
                        id
                    } else {
                        let node = store.node(id).clone();
                        store.rebuild(&node, &children)
                    };
                    // Flattening and ordering keep the children simplified,
                    // so they are done here, without another round.
                    if let Some(flat) = canonical::flatten(store, rebuilt) {
                        fired = fired.with(&rules::FLATTEN);
                        rebuilt = flat;
                    }
                    if let Some(ordered) = canonical::order(store, rebuilt) {
                        fired = fired.with(&rules::ORDER);
                        rebuilt = ordered;
                    }
                    if rebuilt != id
                        && let Some(known) = self.memo[pass.index()].get(rebuilt)
                    {
                        self.settle(pass, id, known.expr, fired.union(known.fired));
                        continue;
                    }
                    match self.apply_rules(store, rebuilt, pass) {
                        None => {
                            self.settle(pass, rebuilt, rebuilt, RuleSet::EMPTY);
                            self.settle(pass, id, rebuilt, fired);
                        }
                        Some((to, rule)) => {
                            let fired = fired.with(rule);
                            match self.memo[pass.index()].get(to) {
                                Some(known) => {
                                    let own = RuleSet::of(rule).union(known.fired);
                                    self.settle(pass, rebuilt, known.expr, own);
                                    self.settle(pass, id, known.expr, fired.union(known.fired));
                                }
                                None => {
                                    stack.push(Task::Adopt {
                                        node: id,
                                        rebuilt,
                                        to,
                                        fired,
                                        own: RuleSet::of(rule),
                                    });
                                    stack.push(Task::Visit(to));
                                }
                            }
                        }
                    }
                }
                Task::Adopt {
                    node,
                    rebuilt,
                    to,
                    fired,
                    own,
                } => {
                    let known = self.memo[pass.index()].known(to);
                    self.settle(pass, rebuilt, known.expr, own.union(known.fired));
                    self.settle(pass, node, known.expr, fired.union(known.fired));
                }
            }
        }
        Ok(self.memo[pass.index()].known(root))
    }

    /// Remembers that `id` simplifies to the normal form `expr`, which is
    /// its own normal form.
    fn settle(&mut self, pass: Pass, id: ExprId, expr: ExprId, fired: RuleSet) {
        let memo = &mut self.memo[pass.index()];
        memo.keep_first(id, Normal { expr, fired });
        memo.keep_first(
            expr,
            Normal {
                expr,
                fired: RuleSet::EMPTY,
            },
        );
    }

    /// The first rule of the pass that rewrites `id` (whose children are
    /// simplified), with what it rewrites it to.
    fn apply_rules(
        &mut self,
        store: &mut Store,
        id: ExprId,
        pass: Pass,
    ) -> Option<(ExprId, &'static Rule)> {
        if matches!(store.node(id), Node::Derivative(..)) {
            return None;
        }
        let kind = Kinds::of(store.node(id));
        let mut context = Context {
            store,
            facts: &self.facts,
            shapes: &mut self.shapes,
            pass,
        };
        RULE_TABLE
            .iter()
            .filter(|entry| entry.on.meets(kind) && entry.member.in_pass(pass))
            .find_map(|entry| {
                (entry.apply)(&mut context, id)
                    .filter(|to| *to != id)
                    .map(|to| (to, entry.rule))
            })
    }
}

impl Default for Simplifier {
    fn default() -> Simplifier {
        Simplifier::new()
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::Recorder;
    use crate::{Format, Network, Source};

    /// Simplifies `text`, an expression over `network`, and prints it.
    fn simplified(network: &str, text: &str) -> String {
        let mut net = Network::load(Source::new("t.nn", network)).unwrap();
        let expr = net.expression(text).unwrap();
        let simple = net.simplify(expr).unwrap();
        net.print(simple, Format::Dsl)
    }

    /// The ids of the rules that fire while simplifying `text`.
    fn fired(network: &str, text: &str) -> Vec<&'static str> {
        let mut net = Network::load(Source::new("t.nn", network)).unwrap();
        let expr = net.expression(text).unwrap();
        let mut recorder = Recorder::default();
        net.simplify_recording(expr, &mut recorder).unwrap();
        recorder.0.rules().map(|r| r.id).collect()
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
    fn kronecker_deltas_of_index_arithmetic_are_solved_for_the_summed_index() {
        let net = "index i in N\nindex d in D\nindex p in P\ninput w[p], g[i]\n";
        // The kernel comes out flipped: i = d - p + 1.
        assert_eq!(
            simplified(net, "sum(i, g[i] * delta(i+p-1, d))"),
            "g[d-p+1]"
        );
        // Without a factor that vanishes where d - p + 1 leaves N, the sum
        // is not its one term: it stays.
        assert_eq!(
            simplified(net, "sum(i, delta(i+p-1, d))"),
            "sum(i, delta(d, i+p-1))"
        );
        // A stride is left alone; positions that differ by a number never
        // meet.
        assert_eq!(
            simplified(net, "sum(i, g[i] * delta(2*i, d))"),
            "sum(i, g[i]*delta(d, 2*i))"
        );
        assert_eq!(simplified(net, "g[i] * delta(i, i+1)"), "0");
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

    #[test]
    fn the_rules_that_fire_are_named() {
        let net = "index j, p in M\ninput w[j]\n";
        assert_eq!(
            fired(net, "sum(j, w[j] * delta(j, p))"),
            ["kronecker-collapse"]
        );
        assert!(fired(SCALARS, "2*x + 3*x").contains(&"like-terms"));
        let tanh = "index j in M\ninput a[j]\nz[j] = tanh(a[j])\n";
        assert!(fired(tanh, "1 - tanh(a[j])^2").contains(&"forward-quantity"));
        // Remembered results still say which rules made them.
        let mut network = Network::load(Source::new("t.nn", net)).unwrap();
        let expr = network.expression("sum(j, w[j] * delta(j, p))").unwrap();
        network.simplify(expr).unwrap();
        let mut again = Recorder::default();
        network.simplify_recording(expr, &mut again).unwrap();
        assert!(again.0.contains(&crate::rules::KRONECKER_COLLAPSE));
    }

    #[test]
    fn a_product_of_many_binomials_stays_factored() {
        let factors: Vec<String> = (0..20).map(|i| format!("(x + {})", i + 1)).collect();
        let text = factors.join("*");
        let printed = simplified(SCALARS, &text);
        assert_eq!(printed.matches('(').count(), 20, "{printed}");
    }

    #[test]
    fn deep_expressions_simplify_without_recursion() {
        let deep = format!("{}x*x", "-".repeat(1_900));
        assert_eq!(simplified(SCALARS, &deep), "x^2");
    }
}

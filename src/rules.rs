//! Every rule the engine applies, as a value: the rules of the calculus
//! (which the differentiator applies) and the rules of simplification
//! (which the simplifier applies), each with the kebab-case id that
//! derivations show, the words a reason uses, and its side condition. The
//! identity each rule stands for is its doc comment.
//!
//! Whoever applies a rule tells a [`StepSink`]: `()` when nobody listens,
//! which costs nothing, or a [`Recorder`] when a derivation wants to say
//! which rules made a link.

use std::fmt;

/// One rule.
#[derive(Debug)]
pub struct Rule {
    /// The id that derivations show.
    pub id: &'static str,
    /// What the rule does, in words for a reason.
    pub words: &'static str,
    /// When it may be applied, in words; empty when always.
    pub condition: &'static str,
    bit: u8,
}

impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        self.bit == other.bit
    }
}

impl Eq for Rule {}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

macro_rules! rules {
    ($( $(#[$doc:meta])* $name:ident = $bit:literal, $id:literal, $words:literal, $condition:literal; )*) => {
        $( $(#[$doc])* pub const $name: Rule = Rule { id: $id, words: $words, condition: $condition, bit: $bit }; )*
        /// Every rule, in the order of their bits.
        pub const ALL: &[&Rule] = &[$(&$name),*];
    };
}

rules! {
    // The chain rule over the graph and the shape of a derivation.

    /// `dE/dX = sum over the units S that X feeds, sum over S's indices J:
    /// dE/dS[J] dS[J]/dX` (Bishop's eq. 5.55).
    CHAIN_RULE_SUCCESSORS = 0, "chain-rule-successors",
        "the chain rule over the units this one sends connections to", "";
    /// `dE/dS[J] = δ_J` for a family that a `delta` line names.
    DELTA_DEFINITION = 1, "delta-definition", "by definition of the deltas", "";
    /// A family is replaced by its defining expression.
    DEFINITION = 2, "definition", "by definition", "";
    /// Results derived apart are put back in place.
    SUBSTITUTION = 3, "substitution",
        "the derivatives derived below put in place", "";

    // The calculus of one expression.

    /// `d(sum_j f_j)/dx = sum_j df_j/dx`.
    SUM_DERIVATIVE = 4, "sum-derivative",
        "the derivative of a sum is the sum of the derivatives", "";
    /// `d(a + b)/dx = da/dx + db/dx`.
    LINEARITY = 5, "linearity", "the derivative of each term", "";
    /// `d(c f)/dx = c df/dx` when `c` does not depend on `x`.
    CONSTANT_FACTOR = 6, "constant-factor",
        "factors that do not depend on the variable come out of the derivative",
        "the other factors do not depend on the variable";
    /// `d(f g)/dx = df/dx g + f dg/dx`.
    PRODUCT_RULE = 7, "product-rule", "the product rule", "";
    /// `d(b^e)/dx = e b^(e-1) db/dx + b^e log(b) de/dx`.
    POWER_RULE = 8, "power-rule", "the power rule", "";
    /// `d f(u)/dx = f'(u) du/dx`, the outer derivative from the table of
    /// functions, or `h'` for an opaque `h`.
    ACTIVATION_DERIVATIVE = 9, "activation-derivative",
        "the chain rule through the function: its derivative at its argument times the argument's derivative", "";
    /// `d x[k]/d x[p] = delta(k, p)`.
    KRONECKER_DELTA = 10, "kronecker-delta",
        "an element's derivative by an element of its own family is 1 where their indices agree and 0 elsewhere: a Kronecker delta", "";
    /// `dc/dx = 0` when `c` does not depend on `x`.
    CONSTANT = 11, "constant", "what does not depend on the variable has derivative 0", "";

    // Canonical form.

    /// `a + (b + c) = a + b + c`, and likewise for products.
    FLATTEN = 12, "flatten", "brackets of one kind merged", "";
    /// `2 x + 3 x = 5 x`; numbers added into one.
    LIKE_TERMS = 13, "like-terms", "like terms gathered", "";
    /// `x^a x^b = x^(a+b)`, so `(1-y)^-1 (1-y) = 1`; numbers multiplied into one.
    EQUAL_BASES = 14, "equal-bases", "equal bases gathered", "";
    /// `-(a - b) = b - a`, and `-(a - 1) c = (1 - a) c`.
    NEGATED_DIFFERENCE = 15, "negated-difference", "the minus sign taken into the bracket", "";
    /// `(x^a)^n = x^(a n)`.
    POWER_OF_POWER = 16, "power-of-power", "a power of a power", "n is a whole number";
    /// `(x y)^n = x^n y^n`.
    POWER_OF_PRODUCT = 17, "power-of-product", "a power of a product", "n is a whole number";
    /// `2^10 = 1024`, `1^e = 1`: powers of numbers worked out.
    NUMBER_POWER = 18, "number-power", "a power of a number worked out",
        "the result holds at most 4,096 bits";
    /// `log(exp(x)) = x` and `exp(log(x)) = x`.
    INVERSE_FUNCTION = 19, "inverse-function", "a function meets its inverse",
        "where both sides are defined";
    /// `exp(0) = 1`, `sigmoid(0) = 1/2`, `log(1) = 0`: values the table of
    /// functions knows exactly.
    FUNCTION_VALUE = 20, "function-value", "a function's value worked out", "";

    // Sums and Kronecker deltas.

    /// `sum(k, a + b) = sum(k, a) + sum(k, b)`.
    SUM_SPLIT = 21, "sum-split", "a sum of terms summed term by term",
        "a term then simplifies, or products are being multiplied out";
    /// `sum(k, c f(k)) = c sum(k, f(k))`.
    SUM_CONSTANT_OUT = 22, "sum-constant-out", "factors that do not depend on the summed index leave the sum",
        "c does not depend on k";
    /// `sum(j, f(j) delta(j, p)) = f(p)`.
    KRONECKER_COLLAPSE = 23, "kronecker-collapse",
        "each Kronecker delta keeps the one term of its sum where the indices agree",
        "j and p range over one range";

    // Facts of the network.

    /// A formula that the file defines is written as the family it defines:
    /// with `z[j] = tanh(a[j])`, `1 - tanh(a[j])^2 = 1 - z[j]^2`.
    FORWARD_QUANTITY = 24, "forward-quantity",
        "written through the forward quantities the network defines", "";
    /// An `assume` line's left side is replaced by its right side.
    ASSUMPTION = 25, "assumption", "by the assumption of the network", "";

    // Multiplying out and factoring.

    /// `a (b + c) = a b + a c`.
    MULTIPLY_OUT = 26, "multiply-out", "multiplied out",
        "multiplying out creates at most 256 terms";
    /// `a b + a c = a (b + c)`.
    COMMON_FACTOR = 27, "common-factor", "common factors taken out", "";
    /// `b + a = a + b` and `b a = a b`: terms and factors in one fixed order,
    /// so that equal expressions are equal ids.
    ORDER = 28, "order", "terms and factors in a fixed order", "";
    /// The derivation's last expression written as the chain rule over the
    /// graph writes its result: the two are equal, as every link is.
    REARRANGED = 29, "rearranged", "the same result, arranged as the engine writes it", "";
}

/// A set of rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RuleSet(u64);

impl RuleSet {
    /// No rule.
    pub const EMPTY: RuleSet = RuleSet(0);

    /// The set of one rule.
    pub const fn of(rule: &Rule) -> RuleSet {
        RuleSet(1 << rule.bit)
    }

    /// Both sets.
    pub const fn union(self, other: RuleSet) -> RuleSet {
        RuleSet(self.0 | other.0)
    }

    /// This set with `rule`.
    pub const fn with(self, rule: &Rule) -> RuleSet {
        self.union(RuleSet::of(rule))
    }

    /// True when the set holds `rule`.
    pub const fn contains(self, rule: &Rule) -> bool {
        self.0 & (1 << rule.bit) != 0
    }

    /// The rules of this set that are not in `other`.
    pub const fn without(self, other: RuleSet) -> RuleSet {
        RuleSet(self.0 & !other.0)
    }

    /// True when the set holds no rule.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The rules of the set, in the order of [`ALL`].
    pub fn rules(self) -> impl Iterator<Item = &'static Rule> {
        ALL.iter().copied().filter(move |rule| self.contains(rule))
    }
}

/// The rules whose work a printed formula does not show (products print
/// flat, and in an order of their own); a derivation does not name them.
pub const SILENT: RuleSet = RuleSet::of(&FLATTEN).with(&ORDER);

/// Hears every rule that fires.
pub trait StepSink {
    /// Some rules fired.
    fn fired(&mut self, rules: RuleSet);
}

/// Nobody listens.
impl StepSink for () {
    fn fired(&mut self, _: RuleSet) {}
}

/// Collects the rules that fired.
#[derive(Clone, Copy, Debug, Default)]
pub struct Recorder(pub RuleSet);

impl StepSink for Recorder {
    fn fired(&mut self, rules: RuleSet) {
        self.0 = self.0.union(rules);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_its_own_bit_and_id() {
        for (at, rule) in ALL.iter().enumerate() {
            assert_eq!(rule.bit as usize, at, "{}", rule.id);
            assert!(ALL[..at].iter().all(|earlier| earlier.id != rule.id));
            assert!(!rule.words.is_empty());
        }
        assert!(ALL.len() <= 64);
    }

    #[test]
    fn a_recorder_hears_what_fired() {
        let mut recorder = Recorder::default();
        recorder.fired(RuleSet::of(&LIKE_TERMS));
        recorder.fired(RuleSet::of(&KRONECKER_COLLAPSE));
        let ids: Vec<&str> = recorder.0.rules().map(|r| r.id).collect();
        assert_eq!(ids, ["like-terms", "kronecker-collapse"]);
    }
}

//! The built-in functions, one row each: every stage asks this table what
//! it needs to know of a function (its names, how it prints, its outer
//! derivative, its value, its domain, its value at 0), so that adding a
//! function touches one row.
//!
//! Also here: the smooth stand-ins that numeric checks bind opaque
//! functions to.

use num_bigint::BigInt;
use num_rational::BigRational;

use crate::expr::{ExprId, Store};

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
    /// `tan`
    Tan,
    /// `atan`, the inverse tangent
    Atan,
    /// `asin`, the inverse sine, on [-1, 1]
    Asin,
    /// `acos`, the inverse cosine, on [-1, 1]
    Acos,
    /// `erf`, the error function
    Erf,
    /// `gelu`, exactly x Φ(x), Φ the standard normal distribution function
    Gelu,
    /// `silu` (alias `swish`), x σ(x)
    Silu,
}

/// The two-argument built-ins: which of two values is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Extremum {
    /// `max(a, b)`
    Max,
    /// `min(a, b)`
    Min,
}

impl Extremum {
    /// Both, in a fixed order.
    pub const ALL: [Extremum; 2] = [Extremum::Max, Extremum::Min];

    /// The name in the language (and, with a backslash, in LaTeX).
    pub fn name(self) -> &'static str {
        match self {
            Extremum::Max => "max",
            Extremum::Min => "min",
        }
    }

    /// The one of that name.
    pub fn from_name(name: &str) -> Option<Extremum> {
        Extremum::ALL.into_iter().find(|e| e.name() == name)
    }

    /// Its value.
    pub fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            Extremum::Max => a.max(b),
            Extremum::Min => a.min(b),
        }
    }

    /// The partial derivative by argument `position` (0 or 1), written at
    /// `a` and `b`: `step(a - b)` for the kept one. Where the two are
    /// equal neither step is 1, as neither one-sided derivative is whole.
    pub fn partial(self, store: &mut Store, a: ExprId, b: ExprId, position: usize) -> ExprId {
        let (mine, other) = if position == 0 { (a, b) } else { (b, a) };
        let (larger, smaller) = match self {
            Extremum::Max => (mine, other),
            Extremum::Min => (other, mine),
        };
        let minus = store.negate(smaller);
        let difference = store.add(vec![larger, minus]);
        store.builtin(Builtin::Step, difference)
    }
}

/// How LaTeX writes a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LatexName {
    /// A command of its own, raised to powers as `\tanh^{2}(x)`.
    Command(&'static str),
    /// An operator name set upright: `\operatorname{relu}(x)`.
    Operator(&'static str),
    /// `\sqrt{x}`.
    Root,
    /// `\lvert x \rvert`.
    Bars,
}

/// Where a function is defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// Every real number.
    Reals,
    /// x > 0.
    Positive,
    /// x ≥ 0.
    NonNegative,
    /// -1 ≤ x ≤ 1.
    UnitInterval,
}

impl Domain {
    /// True when `x` lies in the domain.
    pub fn contains(self, x: f64) -> bool {
        match self {
            Domain::Reals => x.is_finite(),
            Domain::Positive => x > 0.0,
            Domain::NonNegative => x >= 0.0,
            Domain::UnitInterval => (-1.0..=1.0).contains(&x),
        }
    }
}

/// A rational number as numerator and denominator.
pub type Fraction = (i64, i64);

/// Everything the engine knows of one built-in function.
pub struct FunctionRow {
    /// The function.
    pub builtin: Builtin,
    /// Its name in the language.
    pub name: &'static str,
    /// Other names the language accepts for it.
    pub aliases: &'static [&'static str],
    /// Other names an answer may write it with (`\\ln`, read without the
    /// backslash).
    pub answer_names: &'static [&'static str],
    /// Its name in Unicode text.
    pub text: &'static str,
    /// Its name in LaTeX.
    pub latex: LatexName,
    /// The outer derivative written at an argument `u` (`tanh` gives
    /// `1 - tanh(u)^2`); `None` where it is 0 almost everywhere.
    pub derivative: fn(&mut Store, ExprId) -> Option<ExprId>,
    /// Its value.
    pub value: fn(f64) -> f64,
    /// Where it is defined.
    pub domain: Domain,
    /// Arguments where its value is an exact rational, each as
    /// `((numerator, denominator), (numerator, denominator))`: `exp(0) = 1`.
    pub exact_values: &'static [(Fraction, Fraction)],
    /// The function it undoes: `log(exp(x)) = x`.
    pub inverse: Option<Builtin>,
}

impl Builtin {
    /// Every built-in function, in a fixed order.
    pub const ALL: [Builtin; 21] = [
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
        Builtin::Tan,
        Builtin::Atan,
        Builtin::Asin,
        Builtin::Acos,
        Builtin::Erf,
        Builtin::Gelu,
        Builtin::Silu,
    ];

    /// The function's row of the table.
    pub fn row(self) -> &'static FunctionRow {
        &TABLE[self as usize]
    }

    /// The name used in the language.
    pub fn name(self) -> &'static str {
        self.row().name
    }

    /// The built-in of that name or alias (`sigma` is `sigmoid`).
    pub fn from_name(name: &str) -> Option<Builtin> {
        TABLE
            .iter()
            .find(|row| row.name == name || row.aliases.contains(&name))
            .map(|row| row.builtin)
    }

    /// The function's value at `x`; NaN outside its domain.
    pub fn apply(self, x: f64) -> f64 {
        let row = self.row();
        if row.domain.contains(x) {
            (row.value)(x)
        } else {
            f64::NAN
        }
    }

    /// The outer derivative at `argument`; `None` where it is 0 almost
    /// everywhere (`step`, `sign`).
    pub fn derivative(self, store: &mut Store, argument: ExprId) -> Option<ExprId> {
        (self.row().derivative)(store, argument)
    }

    /// The exact value at `x`, when the table knows it.
    pub fn exact_value(self, x: &BigRational) -> Option<BigRational> {
        let rational = |(n, d): (i64, i64)| BigRational::new(BigInt::from(n), BigInt::from(d));
        self.row()
            .exact_values
            .iter()
            .find(|(at, _)| rational(*at) == *x)
            .map(|(_, value)| rational(*value))
    }

    /// The built-in an answer names: `\\ln`, `\\sigma`, `\\operatorname{relu}`,
    /// read without the backslash and any `operatorname` or `mathrm`.
    pub fn from_answer_name(name: &str) -> Option<Builtin> {
        let plain: String = name
            .trim_start_matches('\\')
            .trim_start_matches("operatorname")
            .trim_start_matches("mathrm")
            .chars()
            .filter(|c| c.is_ascii_alphabetic())
            .collect();
        let lowered = plain.to_ascii_lowercase();
        Builtin::from_name(&lowered).or_else(|| {
            TABLE
                .iter()
                .find(|row| row.answer_names.contains(&lowered.as_str()))
                .map(|row| row.builtin)
        })
    }
}

/// The table, in the order of [`Builtin::ALL`].
static TABLE: [FunctionRow; 21] = [
    FunctionRow {
        builtin: Builtin::Exp,
        name: "exp",
        aliases: &[],
        answer_names: &[],
        text: "exp",
        latex: LatexName::Command("\\exp"),
        derivative: |store, u| Some(store.builtin(Builtin::Exp, u)),
        value: f64::exp,
        domain: Domain::Reals,
        exact_values: &[((0, 1), (1, 1))],
        inverse: Some(Builtin::Log),
    },
    FunctionRow {
        builtin: Builtin::Log,
        name: "log",
        aliases: &[],
        answer_names: &["ln"],
        text: "log",
        latex: LatexName::Command("\\ln"),
        derivative: |store, u| Some(store.powi(u, -1)),
        value: f64::ln,
        domain: Domain::Positive,
        exact_values: &[((1, 1), (0, 1))],
        inverse: Some(Builtin::Exp),
    },
    FunctionRow {
        builtin: Builtin::Sqrt,
        name: "sqrt",
        aliases: &[],
        answer_names: &[],
        text: "√",
        latex: LatexName::Root,
        derivative: |store, u| {
            let half = store.number(BigRational::new(BigInt::from(1), BigInt::from(2)));
            let root = store.builtin(Builtin::Sqrt, u);
            let inverse = store.powi(root, -1);
            Some(store.mul(vec![half, inverse]))
        },
        value: f64::sqrt,
        domain: Domain::NonNegative,
        exact_values: &[((0, 1), (0, 1))],
        inverse: None,
    },
    FunctionRow {
        builtin: Builtin::Sin,
        name: "sin",
        aliases: &[],
        answer_names: &[],
        text: "sin",
        latex: LatexName::Command("\\sin"),
        derivative: |store, u| Some(store.builtin(Builtin::Cos, u)),
        value: f64::sin,
        domain: Domain::Reals,
        exact_values: &[((0, 1), (0, 1))],
        inverse: Some(Builtin::Asin),
    },
    FunctionRow {
        builtin: Builtin::Cos,
        name: "cos",
        aliases: &[],
        answer_names: &[],
        text: "cos",
        latex: LatexName::Command("\\cos"),
        derivative: |store, u| {
            let sin = store.builtin(Builtin::Sin, u);
            Some(store.negate(sin))
        },
        value: f64::cos,
        domain: Domain::Reals,
        exact_values: &[((0, 1), (1, 1))],
        inverse: Some(Builtin::Acos),
    },
    FunctionRow {
        builtin: Builtin::Sinh,
        name: "sinh",
        aliases: &[],
        answer_names: &[],
        text: "sinh",
        latex: LatexName::Command("\\sinh"),
        derivative: |store, u| Some(store.builtin(Builtin::Cosh, u)),
        value: f64::sinh,
        domain: Domain::Reals,
        exact_values: &[((0, 1), (0, 1))],
        inverse: None,
    },
    FunctionRow {
        builtin: Builtin::Cosh,
        name: "cosh",
        aliases: &[],
        answer_names: &[],
        text: "cosh",
        latex: LatexName::Command("\\cosh"),
        derivative: |store, u| Some(store.builtin(Builtin::Sinh, u)),
        value: f64::cosh,
        domain: Domain::Reals,
        exact_values: &[((0, 1), (1, 1))],
        inverse: None,
    },
    FunctionRow {
        builtin: Builtin::Tanh,
        name: "tanh",
        aliases: &[],
        answer_names: &[],
        text: "tanh",
        latex: LatexName::Command("\\tanh"),
        derivative: |store, u| {
            let tanh = store.builtin(Builtin::Tanh, u);
            let one = store.int(1);
            let square = store.powi(tanh, 2);
            let minus = store.negate(square);
            Some(store.add(vec![one, minus]))
        },
        value: f64::tanh,
        domain: Domain::Reals,
        exact_values: &[((0, 1), (0, 1))],
        inverse: None,
    },
    FunctionRow {
        builtin: Builtin::Sigmoid,
        name: "sigmoid",
        aliases: &["sigma"],
        answer_names: &[],
        text: "σ",
        latex: LatexName::Command("\\sigma"),
        derivative: |store, u| {
            let sigmoid = store.builtin(Builtin::Sigmoid, u);
            let one = store.int(1);
            let minus = store.negate(sigmoid);
            let complement = store.add(vec![one, minus]);
            Some(store.mul(vec![sigmoid, complement]))
        },
        value: |x| 1.0 / (1.0 + (-x).exp()),
        domain: Domain::Reals,
        exact_values: &[((0, 1), (1, 2))],
        inverse: None,
    },
    FunctionRow {
        builtin: Builtin::Softplus,
        name: "softplus",
        aliases: &[],
        answer_names: &[],
        text: "softplus",
        latex: LatexName::Operator("softplus"),
        derivative: |store, u| Some(store.builtin(Builtin::Sigmoid, u)),
        value: |x| {
            if x > 30.0 {
                x + (-x).exp().ln_1p()
            } else {
                x.exp().ln_1p()
            }
        },
        domain: Domain::Reals,
        exact_values: &[],
        inverse: None,
    },
    FunctionRow {
        builtin: Builtin::Relu,
        name: "relu",
        aliases: &[],
        answer_names: &[],
        text: "relu",
        latex: LatexName::Operator("relu"),
        derivative: |store, u| Some(store.builtin(Builtin::Step, u)),
        value: |x| x.max(0.0),
        domain: Domain::Reals,
        exact_values: &[((0, 1), (0, 1))],
        inverse: None,
    },
    FunctionRow {
        builtin: Builtin::Abs,
        name: "abs",
        aliases: &[],
        answer_names: &[],
        text: "abs",
        latex: LatexName::Bars,
        derivative: |store, u| Some(store.builtin(Builtin::Sign, u)),
        value: f64::abs,
        domain: Domain::Reals,
        exact_values: &[((0, 1), (0, 1))],
        inverse: None,
    },
    FunctionRow {
        builtin: Builtin::Step,
        name: "step",
        aliases: &[],
        answer_names: &[],
        text: "step",
        latex: LatexName::Operator("step"),
        derivative: |_, _| None,
        value: |x| if x > 0.0 { 1.0 } else { 0.0 },
        domain: Domain::Reals,
        exact_values: &[],
        inverse: None,
    },
    FunctionRow {
        builtin: Builtin::Sign,
        name: "sign",
        aliases: &[],
        answer_names: &[],
        text: "sign",
        latex: LatexName::Operator("sign"),
        derivative: |_, _| None,
        value: |x| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        },
        domain: Domain::Reals,
        exact_values: &[((0, 1), (0, 1))],
        inverse: None,
    },
    FunctionRow {
        builtin: Builtin::Tan,
        name: "tan",
        aliases: &[],
        answer_names: &[],
        text: "tan",
        latex: LatexName::Command("\\tan"),
        derivative: |store, u| {
            let tan = store.builtin(Builtin::Tan, u);
            let square = store.powi(tan, 2);
            let one = store.int(1);
            Some(store.add(vec![one, square]))
        },
        value: f64::tan,
        domain: Domain::Reals,
        exact_values: &[((0, 1), (0, 1))],
        inverse: Some(Builtin::Atan),
    },
    FunctionRow {
        builtin: Builtin::Atan,
        name: "atan",
        aliases: &[],
        answer_names: &["arctan"],
        text: "arctan",
        latex: LatexName::Command("\\arctan"),
        derivative: |store, u| {
            let square = store.powi(u, 2);
            let one = store.int(1);
            let sum = store.add(vec![one, square]);
            Some(store.powi(sum, -1))
        },
        value: f64::atan,
        domain: Domain::Reals,
        exact_values: &[((0, 1), (0, 1))],
        inverse: None,
    },
    FunctionRow {
        builtin: Builtin::Asin,
        name: "asin",
        aliases: &[],
        answer_names: &["arcsin"],
        text: "arcsin",
        latex: LatexName::Command("\\arcsin"),
        derivative: |store, u| Some(inverse_root_of_one_minus_square(store, u)),
        value: f64::asin,
        domain: Domain::UnitInterval,
        exact_values: &[((0, 1), (0, 1))],
        inverse: None,
    },
    FunctionRow {
        builtin: Builtin::Acos,
        name: "acos",
        aliases: &[],
        answer_names: &["arccos"],
        text: "arccos",
        latex: LatexName::Command("\\arccos"),
        derivative: |store, u| {
            let root = inverse_root_of_one_minus_square(store, u);
            Some(store.negate(root))
        },
        value: f64::acos,
        domain: Domain::UnitInterval,
        exact_values: &[((1, 1), (0, 1))],
        inverse: None,
    },
    FunctionRow {
        builtin: Builtin::Erf,
        name: "erf",
        aliases: &[],
        answer_names: &[],
        text: "erf",
        latex: LatexName::Operator("erf"),
        // 2/sqrt(pi) exp(-u^2)
        derivative: |store, u| {
            let square = store.powi(u, 2);
            let minus = store.negate(square);
            let bell = store.builtin(Builtin::Exp, minus);
            let two = store.int(2);
            let pi = store.pi();
            let root = store.builtin(Builtin::Sqrt, pi);
            let over_root = store.powi(root, -1);
            Some(store.mul(vec![two, over_root, bell]))
        },
        value: libm::erf,
        domain: Domain::Reals,
        exact_values: &[((0, 1), (0, 1))],
        inverse: None,
    },
    FunctionRow {
        builtin: Builtin::Gelu,
        name: "gelu",
        aliases: &[],
        answer_names: &[],
        text: "GELU",
        latex: LatexName::Operator("GELU"),
        // Φ(u) + u φ(u): (1 + erf(u/sqrt(2)))/2 + u exp(-u^2/2)/sqrt(2 pi)
        derivative: |store, u| {
            let half = store.number(BigRational::new(BigInt::from(1), BigInt::from(2)));
            let minus_half = store.number(BigRational::new(BigInt::from(-1), BigInt::from(2)));
            let two = store.int(2);
            let root_two = store.builtin(Builtin::Sqrt, two);
            let over_root_two = store.powi(root_two, -1);
            let scaled = store.mul(vec![u, over_root_two]);
            let erf = store.builtin(Builtin::Erf, scaled);
            let one = store.int(1);
            let inner = store.add(vec![one, erf]);
            let distribution = store.mul(vec![half, inner]);
            let square = store.powi(u, 2);
            let exponent = store.mul(vec![minus_half, square]);
            let bell = store.builtin(Builtin::Exp, exponent);
            let pi = store.pi();
            let two_pi = store.mul(vec![two, pi]);
            let root = store.builtin(Builtin::Sqrt, two_pi);
            let over_root = store.powi(root, -1);
            let density = store.mul(vec![u, over_root, bell]);
            Some(store.add(vec![distribution, density]))
        },
        value: |x| 0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2)),
        domain: Domain::Reals,
        exact_values: &[((0, 1), (0, 1))],
        inverse: None,
    },
    FunctionRow {
        builtin: Builtin::Silu,
        name: "silu",
        aliases: &["swish"],
        answer_names: &[],
        text: "SiLU",
        latex: LatexName::Operator("SiLU"),
        // σ(u) (1 + u (1 - σ(u)))
        derivative: |store, u| {
            let sigmoid = store.builtin(Builtin::Sigmoid, u);
            let one = store.int(1);
            let minus = store.negate(sigmoid);
            let complement = store.add(vec![one, minus]);
            let scaled = store.mul(vec![u, complement]);
            let inner = store.add(vec![one, scaled]);
            Some(store.mul(vec![sigmoid, inner]))
        },
        value: |x| x / (1.0 + (-x).exp()),
        domain: Domain::Reals,
        exact_values: &[((0, 1), (0, 1))],
        inverse: None,
    },
];

/// `(1 - u^2)^(-1/2)`, the derivative of the inverse sine.
fn inverse_root_of_one_minus_square(store: &mut Store, u: ExprId) -> ExprId {
    let square = store.powi(u, 2);
    let minus = store.negate(square);
    let one = store.int(1);
    let difference = store.add(vec![one, minus]);
    let root = store.builtin(Builtin::Sqrt, difference);
    store.powi(root, -1)
}

/// The smooth function that numeric checks bind an opaque function to,
/// chosen by `seed`: `f(x) = a sin(b x + c) + d x`, whose derivative of
/// every order is known in closed form.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SmoothStandIn {
    amplitude: f64,
    frequency: f64,
    phase: f64,
    slope: f64,
}

impl SmoothStandIn {
    /// A stand-in drawn from four numbers in [0, 1).
    pub fn from_unit_draws(draws: [f64; 4]) -> SmoothStandIn {
        SmoothStandIn {
            amplitude: 0.5 + draws[0],
            frequency: 0.5 + draws[1],
            phase: 6.0 * draws[2],
            slope: draws[3] - 0.5,
        }
    }

    /// The `order`-th derivative at `x`.
    pub fn apply(&self, order: u32, x: f64) -> f64 {
        let angle =
            self.frequency * x + self.phase + f64::from(order) * std::f64::consts::FRAC_PI_2;
        let wave = self.amplitude * self.frequency.powi(order as i32) * angle.sin();
        match order {
            0 => wave + self.slope * x,
            1 => wave + self.slope,
            _ => wave,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_the_order_of_all() {
        for builtin in Builtin::ALL {
            assert_eq!(builtin.row().builtin, builtin);
            assert_eq!(Builtin::from_name(builtin.name()), Some(builtin));
        }
        assert_eq!(Builtin::from_name("sigma"), Some(Builtin::Sigmoid));
        assert_eq!(Builtin::from_name("tanhh"), None);
    }

    #[test]
    fn exact_values_agree_with_the_functions() {
        for builtin in Builtin::ALL {
            for ((xn, xd), (n, d)) in builtin.row().exact_values {
                let x = *xn as f64 / *xd as f64;
                assert_eq!(
                    builtin.apply(x),
                    *n as f64 / *d as f64,
                    "{}",
                    builtin.name()
                );
            }
        }
    }

    #[test]
    fn answers_name_functions_as_latex_does() {
        assert_eq!(Builtin::from_answer_name("\\ln"), Some(Builtin::Log));
        assert_eq!(Builtin::from_answer_name("\\sigma"), Some(Builtin::Sigmoid));
        assert_eq!(
            Builtin::from_answer_name("\\operatorname{relu}"),
            Some(Builtin::Relu)
        );
        assert_eq!(Builtin::from_answer_name("\\foo"), None);
    }

    /// The value of a closed formula in `x`, the reference to family 0.
    fn value_at(store: &Store, expr: ExprId, x: f64) -> f64 {
        use crate::expr::Node;
        use num_traits::ToPrimitive;
        match store.node(expr) {
            Node::Number(value) => value.to_f64().expect("a small number"),
            Node::Pi => std::f64::consts::PI,
            Node::Ref(..) => x,
            Node::Add(terms) => terms.iter().map(|t| value_at(store, *t, x)).sum(),
            Node::Mul(factors) => factors.iter().map(|f| value_at(store, *f, x)).product(),
            Node::Pow(base, exponent) => {
                value_at(store, *base, x).powf(value_at(store, *exponent, x))
            }
            Node::Call(crate::expr::Function::Builtin(builtin), 0, argument) => {
                builtin.apply(value_at(store, *argument, x))
            }
            other => panic!("not in a derivative of the table: {other:?}"),
        }
    }

    #[test]
    fn outer_derivatives_agree_with_finite_differences() {
        let mut store = Store::new();
        let x = store.reference::<crate::expr::IndexVar>(crate::expr::FamilyId(0), &[]);
        let h = 1e-6;
        for builtin in Builtin::ALL {
            let Some(derivative) = builtin.derivative(&mut store, x) else {
                continue;
            };
            // Points inside every domain, away from kinks at 0.
            for point in [-0.7, -0.3, 0.2, 0.45, 0.8] {
                let numeric = (builtin.apply(point + h) - builtin.apply(point - h)) / (2.0 * h);
                if numeric.is_nan() {
                    continue; // outside the domain
                }
                let symbolic = value_at(&store, derivative, point);
                assert!(
                    (numeric - symbolic).abs() < 1e-6 * (1.0 + symbolic.abs()),
                    "{} at {point}: {symbolic} against {numeric}",
                    builtin.name()
                );
            }
        }
    }

    #[test]
    fn inverses_undo_their_functions() {
        for builtin in Builtin::ALL {
            if let Some(inverse) = builtin.row().inverse {
                for point in [-0.7, 0.2, 0.45] {
                    // f(f⁻¹(x)) = x wherever f⁻¹(x) is defined.
                    let inner = inverse.apply(point);
                    if inner.is_finite() {
                        let back = builtin.apply(inner);
                        assert!((back - point).abs() < 1e-12, "{}", builtin.name());
                    }
                }
            }
        }
    }

    #[test]
    fn values_outside_the_domain_are_not_numbers() {
        assert!(Builtin::Log.apply(-1.0).is_nan());
        assert!(Builtin::Log.apply(0.0).is_nan());
        assert_eq!(Builtin::Sqrt.apply(0.0), 0.0);
        assert!(Builtin::Sqrt.apply(-0.5).is_nan());
        assert!(Builtin::Asin.apply(1.5).is_nan());
        assert!(Builtin::Acos.apply(-1.01).is_nan());
        assert_eq!(Builtin::Asin.apply(1.0), std::f64::consts::FRAC_PI_2);
    }

    #[test]
    fn stand_in_derivatives_agree_with_finite_differences() {
        let f = SmoothStandIn::from_unit_draws([0.3, 0.7, 0.2, 0.9]);
        let h = 1e-5;
        for order in 0..4 {
            for x in [-1.3, 0.0, 0.4, 2.2] {
                let numeric = (f.apply(order, x + h) - f.apply(order, x - h)) / (2.0 * h);
                assert!(
                    (numeric - f.apply(order + 1, x)).abs() < 1e-6,
                    "order {order} at {x}"
                );
            }
        }
    }
}

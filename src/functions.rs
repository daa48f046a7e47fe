//! What is known of each function: the outer derivatives of the built-ins,
//! as one table, and the smooth stand-ins that numeric checks bind opaque
//! functions to.

use num_bigint::BigInt;
use num_rational::BigRational;

use crate::expr::{Builtin, ExprId, Store};

/// The first derivative of a built-in function, written at `argument`:
/// `tanh` gives `1 - tanh(u)^2`. `None` for functions whose derivative is 0
/// almost everywhere (`step`, `sign`).
pub fn builtin_derivative(store: &mut Store, builtin: Builtin, argument: ExprId) -> Option<ExprId> {
    let u = argument;
    Some(match builtin {
        Builtin::Exp => store.builtin(Builtin::Exp, u),
        Builtin::Log => store.powi(u, -1),
        Builtin::Sqrt => {
            let half = store.number(BigRational::new(BigInt::from(1), BigInt::from(2)));
            let root = store.builtin(Builtin::Sqrt, u);
            let inverse = store.powi(root, -1);
            store.mul(vec![half, inverse])
        }
        Builtin::Sin => store.builtin(Builtin::Cos, u),
        Builtin::Cos => {
            let sin = store.builtin(Builtin::Sin, u);
            store.negate(sin)
        }
        Builtin::Sinh => store.builtin(Builtin::Cosh, u),
        Builtin::Cosh => store.builtin(Builtin::Sinh, u),
        Builtin::Tanh => {
            let tanh = store.builtin(Builtin::Tanh, u);
            one_minus_square(store, tanh)
        }
        Builtin::Sigmoid => {
            let sigmoid = store.builtin(Builtin::Sigmoid, u);
            let one = store.int(1);
            let minus = store.negate(sigmoid);
            let complement = store.add(vec![one, minus]);
            store.mul(vec![sigmoid, complement])
        }
        Builtin::Softplus => store.builtin(Builtin::Sigmoid, u),
        Builtin::Relu => store.builtin(Builtin::Step, u),
        Builtin::Abs => store.builtin(Builtin::Sign, u),
        Builtin::Step | Builtin::Sign => return None,
    })
}

fn one_minus_square(store: &mut Store, value: ExprId) -> ExprId {
    let one = store.int(1);
    let square = store.powi(value, 2);
    let minus = store.negate(square);
    store.add(vec![one, minus])
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

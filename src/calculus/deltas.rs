//! Which families a result names by their deltas: the one place that
//! decides it.

use crate::expr::FamilyId;
use crate::model::{FamilyKind, Model};

use super::Form;

/// Which families a derivative names by their deltas (Bishop's δ) instead
/// of writing their derivatives out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Naming {
    /// None: everything is written out (the expanded form, or a Jacobian,
    /// whose numerator is not a scalar and so has no deltas).
    Nothing,
    /// The families that `delta` lines name (the backprop form).
    Declared,
    /// Every computed family (a whole gradient, as backpropagation shares it).
    Every,
}

impl Naming {
    /// The naming of a derivative in `form` of a numerator that is scalar
    /// or not.
    pub fn of_form(form: Form, scalar_numerator: bool) -> Naming {
        match form {
            Form::Backprop if scalar_numerator => Naming::Declared,
            _ => Naming::Nothing,
        }
    }

    /// True when the derivative of `numerator` with respect to `family`
    /// is named by a delta.
    pub fn names(self, model: &Model, numerator: FamilyId, family: FamilyId) -> bool {
        let info = model.family(family);
        family != numerator
            && info.kind == FamilyKind::Defined
            && match self {
                Naming::Nothing => false,
                Naming::Declared => info.delta_latex.is_some(),
                Naming::Every => true,
            }
    }
}

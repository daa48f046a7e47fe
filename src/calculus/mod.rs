//! Derivatives: the calculus of one expression ([`local`]), the chain rule
//! over the dependency graph ([`chain`]), which families are named by
//! deltas ([`deltas`]), and derivations step by step ([`derivation`]).

pub mod chain;
pub mod deltas;
pub mod derivation;
pub mod local;

use crate::expr::{ExprId, FamilyId, IndexVar};
use crate::model::Query;

/// Which form a result takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// In terms of the deltas that `delta` lines name, as a system.
    Backprop,
    /// In terms of leaves and forward quantities only.
    Expanded,
}

impl Form {
    /// The form's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Form::Backprop => "backprop",
            Form::Expanded => "expanded",
        }
    }
}

/// One equation of a backprop system: `delta_family[indices] = rhs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Equation {
    /// The family whose delta this defines.
    pub family: FamilyId,
    /// The family's own index names.
    pub indices: Vec<IndexVar>,
    /// The right-hand side, in terms of other deltas.
    pub rhs: ExprId,
}

/// A derived result in one form.
#[derive(Clone, Debug)]
pub struct Derivative {
    /// What was asked.
    pub query: Query,
    /// The form of `result`.
    pub form: Form,
    /// The result; in backprop form its deltas are defined by `equations`.
    pub result: ExprId,
    /// The deltas `result` refers to, each defined once, nearest first
    /// (empty in expanded form).
    pub equations: Vec<Equation>,
    /// A remark for the reader, such as why the result is 0.
    pub note: Option<String>,
}

/// The derivative of an objective with respect to every parameter.
#[derive(Clone, Debug)]
pub struct Gradient {
    /// The objective.
    pub objective: FamilyId,
    /// For each parameter (in declaration order), its derivative in terms of deltas.
    pub parameters: Vec<(FamilyId, ExprId)>,
    /// The delta of every computed family between the parameters and the
    /// objective, each written once, from the objective backwards.
    pub equations: Vec<Equation>,
}

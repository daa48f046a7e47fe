//! Results as data for other programs: derivatives, gradients and
//! expressions as JSON, each formula in every format, and the dependency
//! graph in Graphviz's DOT language.

use std::cell::RefCell;

use serde::Serialize;
use serde_json::{Value, json};

use super::{Format, Lhs, Printer, mathml_element};
use crate::Network;
use crate::calculus::{Derivative, Equation, Form, Gradient};
use crate::diagnostic::Diagnostic;
use crate::expr::{ExprId, FamilyId, IndexVar};
use crate::model::{FamilyKind, Model};

/// One formula in every format; fields in the order JSON lists them.
#[derive(Serialize)]
pub struct Formats {
    /// In the language.
    pub dsl: String,
    /// In LaTeX.
    pub latex: String,
    /// As a MathML `math` element, where the output carries MathML.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mathml: Option<String>,
    /// In Unicode text.
    pub text: String,
}

/// A delta's equation, both sides in every format.
#[derive(Serialize)]
struct EquationJson {
    delta_of: String,
    indices: Vec<String>,
    lhs: Formats,
    rhs: Formats,
}

/// Printers of every format, each built once for an output.
pub struct AllFormats<'a> {
    text: Printer<'a>,
    latex: Printer<'a>,
    dsl: Printer<'a>,
    mathml: Option<Printer<'a>>,
}

impl<'a> AllFormats<'a> {
    /// Printers for `model`, MathML among them.
    pub fn new(model: &'a Model) -> AllFormats<'a> {
        AllFormats {
            mathml: Some(Printer::new(model, Format::MathMl)),
            ..AllFormats::without_mathml(model)
        }
    }

    /// Printers for `model` of text, LaTeX and the language: a gradient's
    /// JSON, whose MathML would be five times its LaTeX (`grad --format
    /// mathml` gives it).
    pub fn without_mathml(model: &'a Model) -> AllFormats<'a> {
        AllFormats {
            text: Printer::new(model, Format::Text),
            latex: Printer::new(model, Format::Latex),
            dsl: Printer::new(model, Format::Dsl),
            mathml: None,
        }
    }

    /// An expression in every format.
    pub fn expr(&mut self, expr: ExprId) -> Formats {
        Formats {
            dsl: self.dsl.expr(expr),
            latex: self.latex.expr(expr),
            mathml: self
                .mathml
                .as_mut()
                .map(|printer| mathml_element(&printer.expr(expr), false)),
            text: self.text.expr(expr),
        }
    }

    /// A left side in every format.
    fn lhs(&mut self, lhs: &Lhs) -> Formats {
        Formats {
            dsl: self.dsl.lhs(lhs),
            latex: self.latex.lhs(lhs),
            mathml: self
                .mathml
                .as_mut()
                .map(|printer| mathml_element(&printer.lhs(lhs), false)),
            text: self.text.lhs(lhs),
        }
    }

    /// The model the printers print.
    fn model(&self) -> &'a Model {
        self.dsl.model()
    }

    /// A delta's equation, both sides in every format.
    fn equation(&mut self, equation: &Equation) -> EquationJson {
        let model = self.model();
        EquationJson {
            delta_of: model.family(equation.family).name.clone(),
            indices: index_names(model, &equation.indices),
            lhs: self.lhs(&Lhs::Delta(equation.family, equation.indices.clone())),
            rhs: self.expr(equation.rhs),
        }
    }
}

/// The names of index variables, as written.
fn index_names(model: &Model, indices: &[IndexVar]) -> Vec<String> {
    indices
        .iter()
        .map(|v| model.store.var(*v).name.clone())
        .collect()
}

/// Both forms of a result (the expanded one, or why there is none): each
/// side in every format, the backprop equations, and the free indices.
pub fn derivative_json(
    model: &Model,
    backprop: &Derivative,
    expanded: &Result<Derivative, Diagnostic>,
    asked: Form,
) -> Value {
    let query = &backprop.query;
    let mut free: Vec<String> = Vec::new();
    for var in query
        .numerator_indices
        .iter()
        .chain(&query.denominator_indices)
    {
        let name = model.store.var(*var).name.clone();
        if !free.contains(&name) {
            free.push(name);
        }
    }
    let mut formats = AllFormats::new(model);
    let expanded_value = match expanded {
        Ok(derivative) => json!({
            "lhs": formats.lhs(&Lhs::of_query(model, query, derivative.form)),
            "rhs": formats.expr(derivative.result),
        }),
        Err(error) => json!({ "error": error.message }),
    };
    json!({
        "query": query.text,
        "form": asked.name(),
        "numerator": model.family(query.numerator).name,
        "denominator": model.family(query.denominator).name,
        "free_indices": free,
        "expanded": expanded_value,
        "backprop": {
            "lhs": formats.lhs(&Lhs::of_query(model, query, backprop.form)),
            "rhs": formats.expr(backprop.result),
            "equations": backprop.equations.iter().map(|e| formats.equation(e)).collect::<Vec<_>>(),
        },
        "note": backprop.note,
    })
}

/// A parameter's derivative; fields in the order JSON lists them.
#[derive(Serialize)]
struct ParameterJson {
    indices: Vec<String>,
    parameter: String,
    rhs: Formats,
}

/// The whole gradient; fields in the order JSON lists them. Its lists are
/// printed as they are written, so that no formula outlives its writing.
#[derive(Serialize)]
pub struct GradientJson<'g, 'm> {
    equations: Streamed<'g, 'm, Equation, EquationJson>,
    objective: String,
    parameters: Streamed<'g, 'm, (FamilyId, ExprId), ParameterJson>,
}

/// A list whose items are printed in every format as a serializer asks for
/// them.
struct Streamed<'g, 'm, T, J> {
    items: &'g [T],
    formats: &'g RefCell<AllFormats<'m>>,
    print: fn(&mut AllFormats<'m>, &T) -> J,
}

impl<T, J: Serialize> Serialize for Streamed<'_, '_, T, J> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.items
                .iter()
                .map(|item| (self.print)(&mut self.formats.borrow_mut(), item)),
        )
    }
}

/// A gradient: the shared delta equations and each parameter's
/// derivative, every formula in every format, printed as it is written.
pub fn gradient_json<'g, 'm>(
    model: &'m Model,
    gradient: &'g Gradient,
    formats: &'g RefCell<AllFormats<'m>>,
) -> GradientJson<'g, 'm> {
    GradientJson {
        equations: Streamed {
            items: &gradient.equations,
            formats,
            print: |formats, equation| formats.equation(equation),
        },
        objective: model.family(gradient.objective).name.clone(),
        parameters: Streamed {
            items: &gradient.parameters,
            formats,
            print: |formats, (parameter, expr)| {
                let model = formats.model();
                let info = model.family(*parameter);
                ParameterJson {
                    indices: index_names(model, &info.slots),
                    parameter: info.name.clone(),
                    rhs: formats.expr(*expr),
                }
            },
        },
    }
}

/// The dependency graph in Graphviz's DOT language: leaves as boxes,
/// computed families as ellipses, arrows in the direction of computation.
pub fn dot(network: &Network) -> String {
    let model = &network.model;
    let mut out = String::from("digraph network {\n  rankdir=LR;\n");
    for family in model.family_ids() {
        let info = model.family(family);
        let shape = match info.kind {
            FamilyKind::Leaf(_) => "box",
            FamilyKind::Defined => "ellipse",
        };
        out.push_str(&format!("  \"{}\" [shape={shape}];\n", info.name));
    }
    for (from, to) in network.graph.edges() {
        out.push_str(&format!(
            "  \"{}\" -> \"{}\";\n",
            model.family(from).name,
            model.family(to).name
        ));
    }
    out.push_str("}\n");
    out
}

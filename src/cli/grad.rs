//! `chainrule grad FILE`: the derivative of the objective with respect to
//! every parameter, as one shared system of deltas.

use std::cell::RefCell;

use super::{FormatArg, Outcome, choose_objective, equation_line, load, pretty, render_format};
use crate::calculus::Gradient;
use crate::diagnostic::Diagnostic;
use crate::expr::ExprId;
use crate::model::{FamilyKind, LeafKind, Model};
use crate::render::data::AllFormats;
use crate::render::{Lhs, data, equations};

/// The arguments of `grad`.
#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// The network file (`-` for standard input)
    file: String,
    /// The objective (default: the one scalar definition nothing uses)
    #[arg(long)]
    objective: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
}

/// Derives the gradient and prints it.
pub(super) fn run(args: Args) -> Result<Outcome, Diagnostic> {
    let mut network = load(&args.file)?;
    let model = &network.model;
    let has_parameters = model
        .family_ids()
        .any(|f| model.family(f).kind == FamilyKind::Leaf(LeafKind::Param));
    if !has_parameters {
        return Err(Diagnostic::unlocated(format!(
            "{} declares no `param`, so there is no gradient to take",
            super::files::shown(&args.file)
        ))
        .with_help(
            "declare the parameters with `param NAME`, or ask for one derivative with `derive`",
        ));
    }
    let objective = choose_objective(&network, args.objective.as_deref())?;
    let gradient = network.engine().gradient(objective)?;
    Ok(Outcome::success(grad_output(
        &network.model,
        &gradient,
        args.format,
    )))
}

fn grad_lines(model: &Model, gradient: &Gradient) -> Vec<(Lhs, ExprId)> {
    let mut lines: Vec<(Lhs, ExprId)> = gradient.equations.iter().map(equation_line).collect();
    for (parameter, expr) in &gradient.parameters {
        let slots = model.family(*parameter).slots.clone();
        lines.push((
            Lhs::Derivative {
                numerator: gradient.objective,
                numerator_indices: Vec::new(),
                denominator: *parameter,
                denominator_indices: slots,
            },
            *expr,
        ));
    }
    lines
}

fn grad_output(model: &Model, gradient: &Gradient, format: FormatArg) -> String {
    match format {
        FormatArg::Json => {
            let formats = RefCell::new(AllFormats::without_mathml(model));
            pretty(&data::gradient_json(model, gradient, &formats))
        }
        other => equations(model, &grad_lines(model, gradient), render_format(other)),
    }
}

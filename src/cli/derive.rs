//! `chainrule derive FILE QUERY`: one derivative, in either form and any
//! format, or its derivation step by step.

use clap::ValueEnum;

use super::{FormatArg, Outcome, load, pretty, render_format, system};
use crate::calculus::derivation::{Verbosity, derive_steps};
use crate::calculus::{Derivative, Form};
use crate::diagnostic::Diagnostic;
use crate::model::Model;
use crate::render::{Format, Printer, data, equations, report};

/// The arguments of `derive`.
#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// The network file (`-` for standard input)
    file: String,
    /// The query, such as 'dE/dw1[j,i]'
    query: String,
    /// Backprop form (in terms of deltas) or expanded form
    #[arg(long, value_enum, default_value_t = FormArg::Backprop)]
    form: FormArg,
    /// Output format
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
    /// Adds the step-by-step derivation: the steps a textbook shows, or
    /// with `--steps=full` every rule application
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "textbook")]
    steps: Option<StepsArg>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum StepsArg {
    Textbook,
    Full,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormArg {
    Backprop,
    Expanded,
}

/// Derives the query and prints it.
pub(super) fn run(args: Args) -> Result<Outcome, Diagnostic> {
    let mut network = load(&args.file)?;
    let query = network.query(&args.query)?;
    if let Some(steps) = args.steps {
        let verbosity = match steps {
            StepsArg::Textbook => Verbosity::Textbook,
            StepsArg::Full => Verbosity::Full,
        };
        let report = derive_steps(&mut network.engine(), &query, verbosity)?;
        let model = &network.model;
        return Ok(Outcome::success(match args.format {
            FormatArg::Json => pretty(&report::json(model, &report)),
            FormatArg::Latex => report::latex(model, &report),
            FormatArg::Text | FormatArg::Dsl => report::text(model, &report),
            FormatArg::MathMl => {
                return Err(Diagnostic::unlocated(
                    "a derivation step by step is printed as text, latex or json, not mathml",
                )
                .with_help("`--steps --format json` gives every link in MathML too"));
            }
        }));
    }
    let form = match args.form {
        FormArg::Backprop => Form::Backprop,
        FormArg::Expanded => Form::Expanded,
    };
    if args.format == FormatArg::Json {
        let backprop = network.engine().derive(&query, Form::Backprop)?;
        let expanded = network.engine().derive(&query, Form::Expanded);
        let value = data::derivative_json(&network.model, &backprop, &expanded, form);
        return Ok(Outcome::success(pretty(&value)));
    }
    let derivative = network.engine().derive(&query, form)?;
    Ok(Outcome::success(derive_output(
        &network.model,
        &derivative,
        args.format,
    )))
}

fn derive_output(model: &Model, derivative: &Derivative, format: FormatArg) -> String {
    let lines = system(model, derivative);
    if format == FormatArg::Dsl && lines.len() == 1 {
        return format!(
            "{}\n",
            Printer::new(model, Format::Dsl).expr(derivative.result)
        );
    }
    let mut out = equations(model, &lines, render_format(format));
    if let (Some(note), FormatArg::Text) = (&derivative.note, format) {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

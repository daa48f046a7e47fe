//! `chainrule diff EXPR VAR`: a quick question without a file.

use serde_json::json;

use super::{FormatArg, Outcome, render_format};
use crate::calculus::local::{Depth, derivative};
use crate::diagnostic::{Diagnostic, Source};
use crate::expr::Wrt;
use crate::limits::MAX_RESULT_SIZE;
use crate::model::Model;
use crate::render::data::AllFormats;
use crate::render::{Format, Printer, mathml_element};
use crate::simplify::Simplifier;
use crate::syntax;

/// The arguments of `diff`.
#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// The expression, in the language's syntax
    #[arg(allow_hyphen_values = true)]
    expression: String,
    /// The variable to differentiate with respect to
    variable: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = FormatArg::Dsl)]
    format: FormatArg,
    /// A function of your own, differentiated as `h'` (repeatable)
    #[arg(long = "function", value_name = "NAME")]
    functions: Vec<String>,
}

/// Differentiates the expression, every name in it an input.
pub(super) fn run(args: Args) -> Result<Outcome, Diagnostic> {
    let (expression, variable, format) = (
        args.expression.as_str(),
        args.variable.as_str(),
        args.format,
    );
    let source = Source::new("<expression>", expression);
    let parsed = syntax::parse_expression(&source)?;
    let (mut model, lowered) = Model::for_expression(source, &parsed, &args.functions)?;
    let Some(family) = model.family_named(variable) else {
        if model.is_taken(variable) || !is_identifier(variable) {
            return Err(Diagnostic::unlocated(format!(
                "`{variable}` is not a variable of the expression"
            )));
        }
        return Ok(Outcome::success(match format {
            FormatArg::Json => format!(
                "{}\n",
                json!({"derivative": {"text": "0", "latex": "0", "dsl": "0", "mathml": mathml_element("<mn>0</mn>", false)}, "note": format!("the expression does not mention `{variable}`")})
            ),
            FormatArg::MathMl => format!("{}\n", mathml_element("<mn>0</mn>", true)),
            _ => "0\n".to_string(),
        }));
    };
    let wrt = Wrt {
        family,
        indices: Box::new([]),
        held: Box::new([]),
    };
    let raw = derivative(
        &mut model.store,
        lowered,
        &wrt,
        &|_| false,
        Depth::Whole,
        &mut (),
    );
    let result = Simplifier::new()
        .simplify_plain(&mut model.store, raw, &mut ())
        .map_err(|e| Diagnostic::unlocated(format!("the derivative cannot be simplified: {e}")))?;
    if model.store.divides_by_zero(result) {
        return Err(Diagnostic::unlocated(format!(
            "`{expression}` divides by zero once its numbers are worked out"
        )));
    }
    if model.store.tree_size(result) > MAX_RESULT_SIZE {
        return Err(Diagnostic::unlocated(format!(
            "the derivative grows beyond {MAX_RESULT_SIZE} nodes when written out"
        )));
    }
    Ok(Outcome::success(match format {
        FormatArg::Json => format!(
            "{}\n",
            json!({"expression": expression, "variable": variable, "derivative": AllFormats::new(&model).expr(result)})
        ),
        FormatArg::MathMl => format!(
            "{}\n",
            mathml_element(&Printer::new(&model, Format::MathMl).expr(result), true)
        ),
        other => format!(
            "{}\n",
            Printer::new(&model, render_format(other)).expr(result)
        ),
    }))
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

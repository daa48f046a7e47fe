//! The command line: parses arguments, runs one command, and says what
//! happened with an exit status (0 success, 1 a check that ran and failed,
//! 2 bad input or usage). Each command has a file of its own; this one
//! holds what they share: reading a network, choosing an objective, and
//! printing systems of equations.

mod check;
mod derive;
mod diff;
mod doc;
mod files;
mod grad;
mod grade;
mod graph;
mod verify;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;

use crate::Network;
use crate::calculus::{Derivative, Equation};
use crate::diagnostic::{Diagnostic, Source, Span};
use crate::expr::{ExprId, FamilyId};
use crate::limits::MAX_INPUT_BYTES;
use crate::model::{FamilyKind, Model};
use crate::render::{Format, Lhs};

/// chainrule: symbolic backpropagation, derived step by step.
#[derive(Parser, Debug)]
#[command(name = "chainrule", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Prints the derivative asked by QUERY, such as 'dE/da[j]'
    Derive(derive::Args),
    /// Prints the derivative of the objective with respect to every parameter
    Grad(grad::Args),
    /// Checks every derived result against finite differences
    Verify(verify::Args),
    /// Grades an answer, a derivation, or a batch of answers
    Check(check::Args),
    /// Grades a homework for a class: a gradebook, feedback and a summary
    Grade(grade::Args),
    /// Differentiates an expression without a file: diff 'tanh(w*x + b)' w
    Diff(diff::Args),
    /// Writes a LaTeX document deriving every `derive` line step by step
    Doc(doc::Args),
    /// Prints the dependency graph
    Graph(graph::Args),
}

/// The output formats of a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Text,
    Latex,
    Dsl,
    #[value(name = "mathml")]
    MathMl,
    Json,
}

/// What a command printed and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The exit status: 0 success, 1 a check that ran and failed, 2 bad
    /// input or usage.
    pub status: u8,
    /// What it prints on standard output.
    pub stdout: String,
    /// What it prints on standard error.
    pub stderr: String,
}

impl Outcome {
    fn success(stdout: String) -> Outcome {
        Outcome {
            status: 0,
            stdout,
            stderr: String::new(),
        }
    }

    fn failed(stdout: String) -> Outcome {
        Outcome {
            status: 1,
            stdout,
            stderr: String::new(),
        }
    }

    /// Success or failure, as `right` says.
    fn judged(right: bool, stdout: String) -> Outcome {
        if right {
            Outcome::success(stdout)
        } else {
            Outcome::failed(stdout)
        }
    }
}

/// Runs the command line given by `args` without printing: what it would
/// print, and its exit status.
pub fn execute(args: impl IntoIterator<Item = String>) -> Outcome {
    let mut streamed = Vec::new();
    let mut outcome = execute_streaming(args, &mut streamed);
    outcome
        .stdout
        .insert_str(0, &String::from_utf8_lossy(&streamed));
    outcome
}

/// Runs a command line; what a command writes while it runs (a batch's
/// grades) goes to `stream`, the rest is returned.
fn execute_streaming(args: impl IntoIterator<Item = String>, stream: &mut dyn Write) -> Outcome {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let rendered = error.render().to_string();
            return if error.use_stderr() {
                Outcome {
                    status: 2,
                    stdout: String::new(),
                    stderr: rendered,
                }
            } else {
                Outcome::success(rendered)
            };
        }
    };
    let result = match cli.command {
        Command::Derive(args) => derive::run(args),
        Command::Grad(args) => grad::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Check(args) => check::run(args, stream),
        Command::Grade(args) => grade::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Doc(args) => doc::run(args),
        Command::Graph(args) => graph::run(args),
    };
    result.unwrap_or_else(|diagnostic| Outcome {
        status: 2,
        stdout: String::new(),
        stderr: format!("{diagnostic}\n"),
    })
}

/// Runs the command line given by `args` (as the system passes them, not
/// necessarily UTF-8), prints what it says, and returns the exit status. A
/// reader that stops reading early (`chainrule grad big.nn | head`) ends
/// the output quietly; a device that cannot take the output is an error.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let outcome = match utf8_arguments(args) {
        Ok(args) => execute_streaming(args, &mut stdout),
        Err(diagnostic) => Outcome {
            status: 2,
            stdout: String::new(),
            stderr: format!("{diagnostic}\n"),
        },
    };
    let written = stdout
        .write_all(outcome.stdout.as_bytes())
        .and_then(|()| stdout.flush());
    let mut stderr = std::io::stderr().lock();
    match written {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            // Nothing more can be said if standard error is closed too.
            let _ = writeln!(stderr, "error: cannot write the output: {error}");
            ExitCode::from(2)
        }
        _ => {
            let _ = stderr.write_all(outcome.stderr.as_bytes());
            ExitCode::from(outcome.status)
        }
    }
}

/// The arguments as text, or which one is not UTF-8.
fn utf8_arguments(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Vec<String>, Diagnostic> {
    args.into_iter()
        .enumerate()
        .map(|(at, arg)| {
            arg.into_string().map_err(|raw| {
                Diagnostic::unlocated(format!(
                    "argument {at} is not UTF-8 text: `{}`",
                    raw.to_string_lossy()
                ))
                .with_help("chainrule reads file names, queries and answers as UTF-8 text")
            })
        })
        .collect()
}

/// Reads a network file (or standard input for `-`) and loads it.
pub fn load(path: &str) -> Result<Network, Diagnostic> {
    let bytes = files::read_bounded(path, MAX_INPUT_BYTES, "the network file")?;
    let name = if path == "-" { "<stdin>" } else { path }.to_string();
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(&error.as_bytes()[..valid]).into_owned();
            let source = Source::new(name, prefix);
            return Err(source.error(
                Span::new(valid, valid),
                "found a byte that is not UTF-8 text, expected a UTF-8 encoded file",
            ));
        }
    };
    Network::load(Source::new(name, text))
}

fn choose_objective(network: &Network, named: Option<&str>) -> Result<FamilyId, Diagnostic> {
    let model = &network.model;
    if let Some(name) = named {
        let family = model
            .family_named(name)
            .ok_or_else(|| Diagnostic::unlocated(format!("unknown objective `{name}`")))?;
        let info = model.family(family);
        if info.kind != FamilyKind::Defined || !info.ranges.is_empty() {
            return Err(Diagnostic::unlocated(format!(
                "the objective `{name}` must be a scalar definition"
            )));
        }
        return Ok(family);
    }
    let candidates = network.graph.objectives(model);
    match candidates.as_slice() {
        [one] => Ok(*one),
        [] => Err(Diagnostic::unlocated(
            "the file has no scalar definition that nothing else uses, so it has no objective",
        )
        .with_help(
            "define one, such as `E = 1/2 * sum(k, (y[k] - t[k])^2)`, or name one with --objective",
        )),
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|f| format!("`{}`", model.family(*f).name))
                .collect();
            Err(Diagnostic::unlocated(format!(
                "the file has several possible objectives: {}",
                names.join(", ")
            ))
            .with_help("choose one with --objective NAME"))
        }
    }
}

fn render_format(format: FormatArg) -> Format {
    match format {
        FormatArg::Text | FormatArg::Json => Format::Text,
        FormatArg::Latex => Format::Latex,
        FormatArg::Dsl => Format::Dsl,
        FormatArg::MathMl => Format::MathMl,
    }
}

/// A value as pretty JSON, ending with a new line.
fn pretty<T: Serialize>(value: &T) -> String {
    let mut out = serde_json::to_string_pretty(value).expect("JSON values print");
    out.push('\n');
    out
}

/// The left side of a derive result: the delta when the denominator has one
/// and the numerator is scalar, else the derivative itself.
fn main_lhs(model: &Model, derivative: &Derivative) -> Lhs {
    Lhs::of_query(model, &derivative.query, derivative.form)
}

/// The equations of a result, main first.
fn system(model: &Model, derivative: &Derivative) -> Vec<(Lhs, ExprId)> {
    let mut lines = vec![(main_lhs(model, derivative), derivative.result)];
    lines.extend(derivative.equations.iter().map(equation_line));
    lines
}

fn equation_line(equation: &Equation) -> (Lhs, ExprId) {
    (
        Lhs::Delta(equation.family, equation.indices.clone()),
        equation.rhs,
    )
}

/// Reads a network file's text without loading it.
fn read_source(path: &str) -> Result<Source, Diagnostic> {
    let network = load(path)?;
    Ok(network.model.source.clone())
}

//! The command line: parses arguments, runs one command, and says what
//! happened with an exit status (0 success, 1 a check that failed, 2 bad
//! input or usage).

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::chain::{Derivative, Equation, Form, Gradient};
use crate::derivation::{Verbosity, derive_steps};
use crate::diagnostic::{Diagnostic, Source};
use crate::expr::{ExprId, FamilyId};
use crate::model::{FamilyKind, Model, Query};
use crate::numeric;
use crate::render::{Format, Lhs, Printer};
use crate::{Network, check, differentiate, report, simplify, syntax};

/// Largest input file read, in bytes.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// chainrule: symbolic backpropagation, derived step by step.
#[derive(Parser, Debug)]
#[command(name = "chainrule", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Prints the derivative asked by QUERY, such as 'dE/da[j]'
    Derive {
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
    },
    /// Prints the derivative of the objective with respect to every parameter
    Grad {
        /// The network file (`-` for standard input)
        file: String,
        /// The objective (default: the one scalar definition nothing uses)
        #[arg(long)]
        objective: Option<String>,
        /// Output format
        #[arg(long, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
    },
    /// Checks every derived result against finite differences
    Verify {
        /// The network file (`-` for standard input)
        file: String,
        /// How many random points to compare at
        #[arg(long, default_value_t = 3)]
        points: usize,
        /// The seed of the random points
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Grades an answer, a derivation, or a batch of answers
    Check {
        /// The network file (`-` for standard input)
        file: String,
        /// The query the answer answers, such as 'dE/da[j]' (not with --batch)
        query: Option<String>,
        /// The answer, in LaTeX or in the language
        #[arg(long, allow_hyphen_values = true)]
        answer: Option<String>,
        /// A file holding a derivation: lines of equalities
        #[arg(long)]
        answer_file: Option<String>,
        /// A file of answers: CSV with columns id,query,answer, or JSON Lines
        #[arg(long)]
        batch: Option<String>,
        /// Where to write the batch's verdicts (`.jsonl` for JSON Lines, else CSV)
        #[arg(long)]
        out: Option<String>,
        /// Output format of a single grade
        #[arg(long, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
    },
    /// Differentiates an expression without a file: diff 'tanh(w*x + b)' w
    Diff {
        /// The expression, in the language's syntax
        expression: String,
        /// The variable to differentiate with respect to
        variable: String,
        /// Output format
        #[arg(long, value_enum, default_value_t = FormatArg::Dsl)]
        format: FormatArg,
    },
    /// Writes a LaTeX document deriving every `derive` line step by step
    Doc {
        /// The network file (`-` for standard input)
        file: String,
        /// Where to write the document
        #[arg(short, long)]
        output: String,
        /// Also compile it to PDF (needs pdflatex)
        #[arg(long)]
        pdf: bool,
    },
    /// Prints the dependency graph
    Graph {
        /// The network file (`-` for standard input)
        file: String,
        /// Output format
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Text,
    Latex,
    Dsl,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum GraphFormat {
    Dot,
    Tikz,
}

/// What a command ends with.
enum Outcome {
    /// Everything asked was done and held.
    Success(String),
    /// A check ran and failed; the text says how.
    Failed(String),
}

/// Runs the command line given by `args` and returns the exit status.
pub fn run(args: Vec<String>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    match execute(cli.command) {
        Ok(Outcome::Success(text)) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Ok(Outcome::Failed(text)) => {
            print!("{text}");
            ExitCode::from(1)
        }
        Err(diagnostic) => {
            eprintln!("{diagnostic}");
            ExitCode::from(2)
        }
    }
}

fn execute(command: Command) -> Result<Outcome, Diagnostic> {
    match command {
        Command::Derive {
            file,
            query,
            form,
            format,
            steps,
        } => {
            let mut network = load(&file)?;
            let query = network.query(&query)?;
            if let Some(steps) = steps {
                let verbosity = match steps {
                    StepsArg::Textbook => Verbosity::Textbook,
                    StepsArg::Full => Verbosity::Full,
                };
                let report = derive_steps(&mut network.engine(), &query, verbosity)?;
                let model = &network.model;
                return Ok(Outcome::Success(match format {
                    FormatArg::Json => pretty_json(&report::json(model, &report)),
                    FormatArg::Latex => report::latex(model, &report),
                    FormatArg::Text | FormatArg::Dsl => report::text(model, &report),
                }));
            }
            let form = match form {
                FormArg::Backprop => Form::Backprop,
                FormArg::Expanded => Form::Expanded,
            };
            if format == FormatArg::Json {
                let backprop = network.engine().derive(&query, Form::Backprop)?;
                let expanded = network.engine().derive(&query, Form::Expanded);
                let value = derive_json(&network.model, &backprop, &expanded, form);
                return Ok(Outcome::Success(pretty_json(&value)));
            }
            let derivative = network.engine().derive(&query, form)?;
            Ok(Outcome::Success(derive_output(
                &network.model,
                &derivative,
                format,
            )))
        }
        Command::Grad {
            file,
            objective,
            format,
        } => {
            let mut network = load(&file)?;
            let objective = choose_objective(&network, objective.as_deref())?;
            let gradient = network.engine().gradient(objective)?;
            Ok(Outcome::Success(grad_output(
                &network.model,
                &gradient,
                format,
            )))
        }
        Command::Verify { file, points, seed } => verify(&file, points.max(1), seed),
        Command::Check {
            file,
            query,
            answer,
            answer_file,
            batch,
            out,
            format,
        } => check_command(&file, query, answer, answer_file, batch, out, format),
        Command::Diff {
            expression,
            variable,
            format,
        } => diff(&expression, &variable, format).map(Outcome::Success),
        Command::Graph { file, format } => {
            let network = load(&file)?;
            Ok(Outcome::Success(match format {
                GraphFormat::Dot => dot(&network),
                GraphFormat::Tikz => crate::document::graph_tikz(&network),
            }))
        }
        Command::Doc { file, output, pdf } => {
            let mut network = load(&file)?;
            let title = std::path::Path::new(&file).file_stem().map_or_else(
                || "the network".to_string(),
                |s| format!("`{}`", s.to_string_lossy()),
            );
            let text = crate::document::document(&mut network, &title)?;
            std::fs::write(&output, text)
                .map_err(|e| Diagnostic::unlocated(format!("cannot write `{output}`: {e}")))?;
            let mut said = format!("wrote {output}\n");
            if pdf {
                said.push_str(&compile_pdf(&output)?);
            }
            Ok(Outcome::Success(said))
        }
    }
}

/// Reads a network file (or standard input for `-`) and loads it.
pub fn load(path: &str) -> Result<Network, Diagnostic> {
    let (name, bytes) = if path == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_INPUT_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Diagnostic::unlocated(format!("cannot read standard input: {e}")))?;
        ("<stdin>".to_string(), bytes)
    } else {
        let metadata = std::fs::metadata(path)
            .map_err(|e| Diagnostic::unlocated(format!("cannot read `{path}`: {e}")))?;
        if metadata.len() > MAX_INPUT_BYTES as u64 {
            return Err(too_big(path));
        }
        let bytes = std::fs::read(path)
            .map_err(|e| Diagnostic::unlocated(format!("cannot read `{path}`: {e}")))?;
        (path.to_string(), bytes)
    };
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(too_big(&name));
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(&error.as_bytes()[..valid]).into_owned();
            let source = Source::new(name, prefix.clone());
            return Err(source.error(
                crate::diagnostic::Span::new(valid, valid),
                "found a byte that is not UTF-8 text, expected a UTF-8 encoded file",
            ));
        }
    };
    Network::load(Source::new(name, text))
}

fn too_big(name: &str) -> Diagnostic {
    Diagnostic::unlocated(format!(
        "`{name}` is larger than {} MiB, the most chainrule reads",
        MAX_INPUT_BYTES / (1024 * 1024)
    ))
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

/// The left side of a derive result: the delta when the denominator has one
/// and the numerator is scalar, else the derivative itself.
fn main_lhs(model: &Model, derivative: &Derivative) -> Lhs {
    Lhs::of_query(model, &derivative.query, derivative.form == Form::Backprop)
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

fn render_format(format: FormatArg) -> Format {
    match format {
        FormatArg::Text | FormatArg::Json => Format::Text,
        FormatArg::Latex => Format::Latex,
        FormatArg::Dsl => Format::Dsl,
    }
}

fn pretty_json(value: &Value) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(value).expect("JSON values print")
    )
}

fn derive_output(model: &Model, derivative: &Derivative, format: FormatArg) -> String {
    let lines = system(model, derivative);
    if format == FormatArg::Dsl && lines.len() == 1 {
        return format!(
            "{}\n",
            Printer::new(model, Format::Dsl).expr(derivative.result)
        );
    }
    let mut out = equations_text(model, &lines, render_format(format));
    if let (Some(note), FormatArg::Text) = (&derivative.note, format) {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

/// Equations one a line; in LaTeX, aligned on their equals signs.
fn equations_text(model: &Model, lines: &[(Lhs, ExprId)], format: Format) -> String {
    let mut printer = Printer::new(model, format);
    let printed: Vec<String> = lines
        .iter()
        .map(|(lhs, rhs)| printer.equation(lhs, *rhs))
        .collect();
    match format {
        Format::Latex if printed.len() > 1 => {
            let body: Vec<String> = printed
                .iter()
                .map(|line| line.replacen(" = ", " &= ", 1))
                .collect();
            format!(
                "\\begin{{aligned}}\n{}\n\\end{{aligned}}\n",
                body.join(" \\\\\n")
            )
        }
        _ => printed.iter().map(|line| format!("{line}\n")).collect(),
    }
}

/// An expression in every format.
fn all_formats(model: &Model, expr: ExprId) -> Value {
    json!({
        "text": Printer::new(model, Format::Text).expr(expr),
        "latex": Printer::new(model, Format::Latex).expr(expr),
        "dsl": Printer::new(model, Format::Dsl).expr(expr),
    })
}

fn lhs_formats(model: &Model, lhs: &Lhs) -> Value {
    json!({
        "text": Printer::new(model, Format::Text).lhs(lhs),
        "latex": Printer::new(model, Format::Latex).lhs(lhs),
        "dsl": Printer::new(model, Format::Dsl).lhs(lhs),
    })
}

fn equation_json(model: &Model, equation: &Equation) -> Value {
    let (lhs, rhs) = equation_line(equation);
    json!({
        "delta_of": model.family(equation.family).name,
        "indices": equation.indices.iter().map(|v| model.store.var(*v).name.clone()).collect::<Vec<_>>(),
        "lhs": lhs_formats(model, &lhs),
        "rhs": all_formats(model, rhs),
    })
}

/// Both forms of a result: each side in text, LaTeX and the language,
/// the backprop equations, and the free indices.
fn derive_json(
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
    let expanded_value = match expanded {
        Ok(derivative) => json!({
            "lhs": lhs_formats(model, &main_lhs(model, derivative)),
            "rhs": all_formats(model, derivative.result),
        }),
        Err(error) => json!({ "error": error.message }),
    };
    json!({
        "query": query.text,
        "form": match asked { Form::Backprop => "backprop", Form::Expanded => "expanded" },
        "numerator": model.family(query.numerator).name,
        "denominator": model.family(query.denominator).name,
        "free_indices": free,
        "expanded": expanded_value,
        "backprop": {
            "lhs": lhs_formats(model, &main_lhs(model, backprop)),
            "rhs": all_formats(model, backprop.result),
            "equations": backprop.equations.iter().map(|e| equation_json(model, e)).collect::<Vec<_>>(),
        },
        "note": backprop.note,
    })
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
    if format == FormatArg::Json {
        let parameters: Vec<Value> = gradient
            .parameters
            .iter()
            .map(|(parameter, expr)| {
                json!({
                    "parameter": model.family(*parameter).name,
                    "indices": model.family(*parameter).slots.iter().map(|v| model.store.var(*v).name.clone()).collect::<Vec<_>>(),
                    "rhs": all_formats(model, *expr),
                })
            })
            .collect();
        let value = json!({
            "objective": model.family(gradient.objective).name,
            "equations": gradient.equations.iter().map(|e| equation_json(model, e)).collect::<Vec<_>>(),
            "parameters": parameters,
        });
        return format!(
            "{}\n",
            serde_json::to_string_pretty(&value).expect("JSON values print")
        );
    }
    equations_text(model, &grad_lines(model, gradient), render_format(format))
}

fn verify(file: &str, points: usize, seed: u64) -> Result<Outcome, Diagnostic> {
    let mut network = load(file)?;
    let mut queries = network.model.queries.clone();
    if queries.is_empty() {
        // Without derive lines, check the whole gradient.
        if let Ok(objective) = choose_objective(&network, None) {
            for parameter in network.model.family_ids() {
                if network.model.family(parameter).kind
                    == FamilyKind::Leaf(crate::syntax::ast::LeafKind::Param)
                {
                    queries.push(Query::delta(&network.model, objective, parameter));
                }
            }
        }
    }
    if queries.is_empty() {
        return Err(Diagnostic::unlocated(format!(
            "`{file}` has no derive lines and no objective to check"
        )));
    }
    let mut report = String::new();
    let mut all_passed = true;
    for query in &queries {
        let mut line = String::new();
        let mut passed = true;
        for form in [Form::Expanded, Form::Backprop] {
            let name = match form {
                Form::Expanded => "expanded",
                Form::Backprop => "backprop",
            };
            let derivative = match network.engine().derive(query, form) {
                Ok(derivative) => derivative,
                Err(error) if form == Form::Expanded => {
                    line.push_str(&format!("  expanded: not checked ({})", error.message));
                    continue;
                }
                Err(error) => return Err(error),
            };
            let verdict =
                numeric::verify(&network.model, &network.graph, &derivative, points, seed);
            passed &= verdict.passed();
            match &verdict.problem {
                Some(problem) => line.push_str(&format!("  {name}: {problem}")),
                None => line.push_str(&format!(
                    "  {name} {:.1e} ({} comparisons{})",
                    verdict.largest_error,
                    verdict.comparisons,
                    if verdict.skipped > 0 {
                        format!(", {} skipped at kinks or undefined points", verdict.skipped)
                    } else {
                        String::new()
                    }
                )),
            }
        }
        all_passed &= passed;
        let status = if passed { "PASS" } else { "FAIL" };
        report.push_str(&format!(
            "{status}  {}  largest relative error:{line}\n",
            query.text
        ));
    }
    Ok(if all_passed {
        Outcome::Success(report)
    } else {
        Outcome::Failed(report)
    })
}

/// The `check` command: one answer, one derivation, or a batch.
fn check_command(
    file: &str,
    query: Option<String>,
    answer: Option<String>,
    answer_file: Option<String>,
    batch: Option<String>,
    out: Option<String>,
    format: FormatArg,
) -> Result<Outcome, Diagnostic> {
    if let Some(batch) = batch {
        let network_source = read_source(file)?;
        let text = std::fs::read_to_string(&batch)
            .map_err(|e| Diagnostic::unlocated(format!("cannot read `{batch}`: {e}")))?;
        let rows = check::batch::read_rows(&batch, &text)?;
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let grades = check::batch::grade_rows(&network_source, &rows, workers)?;
        let json_lines =
            out.as_deref().is_some_and(|o| o.ends_with(".jsonl")) || format == FormatArg::Json;
        let written = check::batch::write_grades(&grades, json_lines);
        let all_right = grades
            .iter()
            .all(|g| g.verdict == "correct" || g.verdict == "correct-unsimplified");
        let report = match out {
            Some(path) => {
                std::fs::write(&path, written)
                    .map_err(|e| Diagnostic::unlocated(format!("cannot write `{path}`: {e}")))?;
                let right = grades
                    .iter()
                    .filter(|g| g.verdict.starts_with("correct"))
                    .count();
                format!(
                    "graded {} answers, {right} right; wrote {path}\n",
                    grades.len()
                )
            }
            None => written,
        };
        return Ok(if all_right {
            Outcome::Success(report)
        } else {
            Outcome::Failed(report)
        });
    }
    let query_text =
        query.ok_or_else(|| Diagnostic::unlocated("`check` needs a QUERY, or --batch FILE"))?;
    let mut network = load(file)?;
    let query = network.query(&query_text)?;
    let truth = check::truth(&mut network, &query)?;
    if let Some(path) = answer_file {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Diagnostic::unlocated(format!("cannot read `{path}`: {e}")))?;
        let graded = check::check_derivation(&mut network, &truth, &text);
        let right = graded.verdict.is_right();
        let report = match format {
            FormatArg::Json => {
                pretty_json(&serde_json::to_value(&graded).expect("grades serialize"))
            }
            _ => {
                let mut lines = String::new();
                for line in &graded.lines {
                    lines.push_str(&format!("line {}: {}", line.line, line.verdict.name()));
                    if let Some(message) = &line.message {
                        lines.push_str(&format!(" ({message})"));
                    }
                    lines.push('\n');
                }
                lines.push_str(&format!("derivation: {}", graded.verdict.name()));
                if graded.first_wrong_line > 0 {
                    lines.push_str(&format!(", first wrong line {}", graded.first_wrong_line));
                }
                lines.push('\n');
                lines.push_str(&grade_text(&graded.result));
                lines
            }
        };
        return Ok(if right {
            Outcome::Success(report)
        } else {
            Outcome::Failed(report)
        });
    }
    let answer = answer.ok_or_else(|| {
        Diagnostic::unlocated("`check` needs --answer TEX, --answer-file FILE or --batch FILE")
    })?;
    let graded = check::check(&mut network, &truth, &answer);
    let report = match format {
        FormatArg::Json => pretty_json(&serde_json::to_value(&graded).expect("grades serialize")),
        _ => grade_text(&graded),
    };
    Ok(if graded.verdict.is_right() {
        Outcome::Success(report)
    } else {
        Outcome::Failed(report)
    })
}

/// A grade for a person.
fn grade_text(grade: &check::Grade) -> String {
    let mut out = format!("{} ({})\n", grade.verdict.name(), grade.evidence);
    if let Some(read) = &grade.answer_latex {
        out.push_str(&format!("read as: {read}\n"));
    }
    if let Some(simplified) = &grade.simplified {
        out.push_str(&format!("simplified: {simplified}\n"));
    }
    if let Some(diagnosis) = &grade.diagnosis {
        out.push_str(&format!("diagnosis: {}\n", diagnosis.words));
        if let Some(latex) = &diagnosis.latex {
            out.push_str(&format!("repaired: {latex}\n"));
        }
    }
    if let Some(counterexample) = &grade.counterexample {
        out.push_str(&format!("counterexample: {counterexample}\n"));
    }
    out
}

/// Reads a network file's text without loading it.
fn read_source(path: &str) -> Result<Source, Diagnostic> {
    let network = load(path)?;
    Ok(network.model.source.clone())
}

fn diff(expression: &str, variable: &str, format: FormatArg) -> Result<String, Diagnostic> {
    let source = Source::new("<expression>", expression);
    let parsed = syntax::parse_expression(&source)?;
    let (mut model, lowered) = Model::for_expression(source, &parsed)?;
    let Some(family) = model.family_named(variable) else {
        if model.is_taken(variable) || !is_identifier(variable) {
            return Err(Diagnostic::unlocated(format!(
                "`{variable}` is not a variable of the expression"
            )));
        }
        return Ok(match format {
            FormatArg::Json => format!(
                "{}\n",
                json!({"derivative": {"text": "0", "latex": "0", "dsl": "0"}, "note": format!("the expression does not mention `{variable}`")})
            ),
            _ => "0\n".to_string(),
        });
    };
    let raw = differentiate::derivative(&mut model.store, lowered, family, &[]);
    let mut simplifier = simplify::Simplifier::new(simplify::Facts::none());
    let result = simplifier.simplify(&mut model.store, raw);
    Ok(match format {
        FormatArg::Json => format!(
            "{}\n",
            json!({"expression": expression, "variable": variable, "derivative": all_formats(&model, result)})
        ),
        other => format!(
            "{}\n",
            Printer::new(&model, render_format(other)).expr(result)
        ),
    })
}

/// Compiles a written document with pdflatex (twice, for its references).
/// The paths go to the program as arguments, never through a shell.
fn compile_pdf(tex_path: &str) -> Result<String, Diagnostic> {
    let path = std::path::Path::new(tex_path);
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    for _ in 0..2 {
        let run = std::process::Command::new("pdflatex")
            .arg("-interaction=nonstopmode")
            .arg("-halt-on-error")
            .arg("-output-directory")
            .arg(directory)
            .arg(path)
            .output();
        match run {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(Diagnostic::unlocated(format!("wrote {tex_path}, but found no LaTeX engine to compile it"))
                    .with_help("install pdflatex with TikZ and the AMS packages (on Debian: apt-get install texlive-latex-base texlive-latex-recommended texlive-pictures), or compile the .tex yourself"));
            }
            Err(error) => {
                return Err(Diagnostic::unlocated(format!(
                    "cannot run pdflatex: {error}"
                )));
            }
            Ok(output) if !output.status.success() => {
                let log = String::from_utf8_lossy(&output.stdout);
                let first_error: String = log
                    .lines()
                    .skip_while(|l| !l.starts_with('!'))
                    .take(6)
                    .collect::<Vec<_>>()
                    .join("\n");
                return Err(Diagnostic::unlocated(format!(
                    "pdflatex could not compile {tex_path}:\n{first_error}"
                )));
            }
            Ok(_) => {}
        }
    }
    Ok(format!("wrote {}\n", path.with_extension("pdf").display()))
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The dependency graph in Graphviz's DOT language: leaves as boxes,
/// computed families as ellipses, arrows in the direction of computation.
fn dot(network: &Network) -> String {
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

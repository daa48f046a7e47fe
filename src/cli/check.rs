//! `chainrule check FILE QUERY --answer TEX`: grading an answer, a whole
//! derivation, or a batch of answers.

use std::path::Path;

use super::files::{read_bounded, read_text, refuse_overwriting, write_atomically};
use super::{FormatArg, Outcome, load, pretty, read_source};
use crate::check::{Grade, batch, check, check_derivation, truth};
use crate::diagnostic::Diagnostic;
use crate::limits::{MAX_BATCH_BYTES, MAX_DERIVATION_BYTES};

/// The arguments of `check`.
#[derive(clap::Args, Debug)]
pub(super) struct Args {
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
}

/// Grades one answer, one derivation, or a batch.
pub(super) fn run(args: Args) -> Result<Outcome, Diagnostic> {
    let Args {
        file,
        query,
        answer,
        answer_file,
        batch,
        out,
        format,
    } = args;
    let file = file.as_str();
    if let Some(batch) = batch {
        if let Some(out) = &out {
            refuse_overwriting(Path::new(out), &[file, &batch])?;
        }
        let network_source = read_source(file)?;
        let bytes = read_bounded(&batch, MAX_BATCH_BYTES, "the batch file")?;
        let rows = batch::read_rows(&batch, &bytes)?;
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let grades = batch::grade_rows(&network_source, &rows, workers)?;
        let json_lines =
            out.as_deref().is_some_and(|o| o.ends_with(".jsonl")) || format == FormatArg::Json;
        let written = batch::write_grades(&grades, json_lines);
        let all_right = grades.iter().all(|g| g.verdict.is_right());
        let report = match out {
            Some(path) => {
                write_atomically(Path::new(&path), written.as_bytes())?;
                let right = grades.iter().filter(|g| g.verdict.is_right()).count();
                format!(
                    "graded {} answers, {right} right; wrote {path}\n",
                    grades.len()
                )
            }
            None => written,
        };
        return Ok(Outcome::judged(all_right, report));
    }
    let query_text =
        query.ok_or_else(|| Diagnostic::unlocated("`check` needs a QUERY, or --batch FILE"))?;
    let mut network = load(file)?;
    let query = network.query(&query_text)?;
    let truth = truth(&mut network, &query)?;
    if let Some(path) = answer_file {
        let text = read_text(&path, MAX_DERIVATION_BYTES, "the derivation file")?;
        let graded = check_derivation(&mut network, &truth, &text);
        let right = graded.verdict.is_right();
        let report = match format {
            FormatArg::Json => pretty(&serde_json::to_value(&graded).expect("grades serialize")),
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
        return Ok(Outcome::judged(right, report));
    }
    let answer = answer.ok_or_else(|| {
        Diagnostic::unlocated("`check` needs --answer TEX, --answer-file FILE or --batch FILE")
    })?;
    let graded = check(&mut network, &truth, &answer);
    let report = match format {
        FormatArg::Json => pretty(&serde_json::to_value(&graded).expect("grades serialize")),
        _ => grade_text(&graded),
    };
    Ok(Outcome::judged(graded.verdict.is_right(), report))
}

/// A grade for a person.
fn grade_text(grade: &Grade) -> String {
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

//! `chainrule check FILE QUERY --answer TEX`: grading an answer, a whole
//! derivation, or a batch of answers.

use std::path::Path;

use super::files::{PartialFile, read_bounded, read_text, refuse_overwriting, shown};
use super::{Outcome, load, pretty, read_source};
use crate::check::{
    Evidence, Grade, Verdict, Versioned, batch, check, check_derivation, counted, truth,
};
use crate::diagnostic::Diagnostic;
use crate::limits::{MAX_BATCH_BYTES, MAX_DERIVATION_BYTES};
use crate::render::report::latex_text;

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
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    format: CheckFormat,
}

/// The formats of a grade: `dsl` prints as `text` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum CheckFormat {
    Text,
    Latex,
    Dsl,
    Json,
}

/// Grades one answer, one derivation, or a batch; a batch's grades stream
/// to `stream` as they come when no output file is named.
pub(super) fn run(args: Args, stream: &mut dyn std::io::Write) -> Result<Outcome, Diagnostic> {
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
        let batch = batch::read_rows(&batch, &bytes)?;
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let json_lines =
            out.as_deref().is_some_and(|o| o.ends_with(".jsonl")) || format == CheckFormat::Json;
        // Grades are written as they come, in input order: into the output
        // file, put in its place once whole, or to standard output.
        let mut file = out
            .as_deref()
            .map(|o| PartialFile::create(Path::new(o)))
            .transpose()?;
        let mut failed: Option<Diagnostic> = None;
        let mut reader_left = false;
        let mut put = |text: &str| {
            if failed.is_some() || reader_left {
                return;
            }
            match &mut file {
                Some(file) => failed = file.write(text.as_bytes()).err(),
                None => match stream
                    .write_all(text.as_bytes())
                    .and_then(|()| stream.flush())
                {
                    Ok(()) => {}
                    // A reader that stops early ends the output quietly.
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => reader_left = true,
                    Err(e) => {
                        failed = Some(Diagnostic::unlocated(format!(
                            "cannot write the output: {e}"
                        )))
                    }
                },
            }
        };
        put(&batch::grades_header(&batch.carried, json_lines));
        let sources = [network_source];
        let grades = batch::grade_rows(&sources, &batch.rows, workers, |grade| {
            put(&batch::grade_line(grade, json_lines));
        })?;
        if let Some(error) = failed {
            return Err(error);
        }
        let all_right = grades.iter().all(|g| g.verdict.is_right());
        let report = match (file, out) {
            (Some(file), Some(path)) => {
                file.finish()?;
                let right = grades.iter().filter(|g| g.verdict.is_right()).count();
                format!(
                    "graded {}, {right} right; wrote {}\n",
                    counted(grades.len(), "answer"),
                    shown(&path)
                )
            }
            _ => String::new(),
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
            CheckFormat::Json => pretty(&Versioned::new(&graded)),
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
        CheckFormat::Json => pretty(&Versioned::new(&GradeJson {
            grade: &graded,
            feedback: graded.feedback(),
            result: truth.result_latex(&network),
        })),
        CheckFormat::Latex => grade_latex(&graded, &truth.result_latex(&network)),
        CheckFormat::Text | CheckFormat::Dsl => grade_text(&graded),
    };
    Ok(Outcome::judged(graded.verdict.is_right(), report))
}

/// A grade as JSON: with the feedback it gives and the result it is
/// checked against.
#[derive(serde::Serialize)]
struct GradeJson<'a> {
    #[serde(flatten)]
    grade: &'a Grade,
    /// What the grade tells the student.
    feedback: String,
    /// The right result, as a LaTeX equation.
    result: String,
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

/// A grade as a LaTeX feedback block for a student: the verdict, the
/// answer as read, the feedback and the right result.
fn grade_latex(grade: &Grade, result: &str) -> String {
    let mut out = String::from("\\begin{description}\n");
    out.push_str(&format!("\\item[Verdict] {}\n", grade.verdict));
    if let Some(read) = &grade.answer_latex {
        out.push_str(&format!("\\item[Your answer, as read] ${read}$\n"));
    }
    out.push_str(&format!("\\item[Feedback] {}\n", feedback_latex(grade)));
    out.push_str(&format!("\\item[The result] ${result}$\n"));
    out.push_str("\\end{description}\n");
    out
}

/// A grade's feedback in LaTeX. Formulas in it (between `$`) are the
/// engine's own renderings, kept as math; the words are escaped. Feedback
/// on reading quotes what the student wrote, so all of it is escaped.
fn feedback_latex(grade: &Grade) -> String {
    let feedback = grade.feedback();
    let quotes_the_answer = grade.evidence == Evidence::Reading
        || matches!(grade.verdict, Verdict::Unreadable | Verdict::TooLarge);
    if quotes_the_answer {
        return latex_text(&feedback);
    }
    feedback
        .split('$')
        .enumerate()
        .map(|(at, part)| {
            if at % 2 == 1 {
                format!("${part}$")
            } else {
                latex_text(part)
            }
        })
        .collect()
}

//! `chainrule grade HOMEWORK.toml --answers A.csv`: grading a homework for
//! a class, into a row an answer, a row a student and a summary a question.

use std::path::{Path, PathBuf};

use super::files::{PartialFile, read_bounded, read_text, refuse_overwriting, shown};
use super::{Outcome, pretty};
use crate::check::gradebook::{read_answers, tabulate};
use crate::check::homework::Homework;
use crate::check::{Versioned, batch};
use crate::diagnostic::{Diagnostic, Source};
use crate::limits::{MAX_BATCH_BYTES, MAX_INPUT_BYTES};

/// The files a graded homework is written to, in the output directory.
const ANSWERS_FILE: &str = "answers.csv";
const GRADEBOOK_FILE: &str = "gradebook.csv";
const SUMMARY_FILE: &str = "summary.txt";

/// The arguments of `grade`.
#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// The homework file (TOML): its questions, points and credit
    homework: String,
    /// The answers: CSV with a row a student and a column a question
    #[arg(long)]
    answers: String,
    /// The directory to write answers.csv, gradebook.csv and summary.txt in
    #[arg(long, default_value = "grades")]
    out: String,
    /// What to print: the summary (text) or the whole gradebook (json)
    #[arg(long, value_enum, default_value_t = GradeFormat::Text)]
    format: GradeFormat,
}

/// What `grade` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum GradeFormat {
    Text,
    Json,
}

/// Grades every answer of the class and writes the three tables.
pub(super) fn run(args: Args) -> Result<Outcome, Diagnostic> {
    let text = read_text(&args.homework, MAX_INPUT_BYTES, "the homework file")?;
    let homework_source = Source::new(args.homework.clone(), text);
    // Network files are named relative to the homework; `./` keeps a
    // network named `-` a file, never standard input.
    let beside = match Path::new(&args.homework).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut network_files: Vec<String> = Vec::new();
    let homework = Homework::parse(&homework_source, |name| {
        let path = beside.join(name).to_string_lossy().into_owned();
        // One file under two spellings (`a.nn`, `./a.nn`) is one network.
        let path =
            std::fs::canonicalize(&path).map_or(path, |real| real.to_string_lossy().into_owned());
        let text = read_text(&path, MAX_INPUT_BYTES, "the network file")?;
        network_files.push(path.clone());
        Ok(Source::new(path, text))
    })?;
    let mut inputs: Vec<&str> = vec![&args.homework, &args.answers];
    inputs.extend(network_files.iter().map(String::as_str));
    let out = PathBuf::from(&args.out);
    let targets = [ANSWERS_FILE, GRADEBOOK_FILE, SUMMARY_FILE].map(|file| out.join(file));
    for target in &targets {
        refuse_overwriting(target, &inputs)?;
    }
    let bytes = read_bounded(&args.answers, MAX_BATCH_BYTES, "the answers file")?;
    let answers = read_answers(&homework, &args.answers, &bytes)?;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let grades = batch::grade_rows(&homework.networks, &answers.rows, workers, |_| {})?;
    let gradebook = tabulate(&homework, &answers, grades);
    std::fs::create_dir_all(&out).map_err(|e| {
        Diagnostic::unlocated(format!(
            "cannot make the directory {}: {e}",
            shown(&args.out)
        ))
    })?;
    let summary = gradebook.summary();
    let contents = [
        gradebook.answers_csv(&homework.student_column, &answers.carried),
        gradebook.students_csv(&homework.student_column, &answers.carried),
        summary.clone(),
    ];
    // The three files are one result: each is written beside its place
    // first, and none replaces an older one until all are whole.
    let mut files = Vec::new();
    for target in &targets {
        files.push(PartialFile::create(target)?);
    }
    for (file, content) in files.iter_mut().zip(&contents) {
        file.write(content.as_bytes())?;
    }
    for file in files {
        file.finish()?;
    }
    let report = match args.format {
        GradeFormat::Json => pretty(&Versioned::new(&gradebook)),
        GradeFormat::Text => {
            let written: Vec<String> = targets
                .iter()
                .map(|t| shown(&t.to_string_lossy()))
                .collect();
            format!("{summary}\nwrote {}\n", written.join(", "))
        }
    };
    Ok(Outcome::success(report))
}

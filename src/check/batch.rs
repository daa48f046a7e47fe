//! Grading answers by the hundred: rows of `id,query,answer` (CSV, or JSON
//! Lines), graded in parallel over the machine's cores, one verdict a row.
//! A bad row gets its own verdict and never stops the batch.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use crate::Network;
use crate::check::{self, Evidence, Verdict};
use crate::diagnostic::{Diagnostic, Source, Span};

/// One answer to grade.
#[derive(Clone, Debug, Deserialize)]
pub struct Row {
    /// The row's identifier (a student, a question).
    pub id: String,
    /// The query answered, such as `dE/da[j]`.
    pub query: String,
    /// The answer, in LaTeX or in the language.
    pub answer: String,
}

/// The verdict of one row.
#[derive(Clone, Debug, Serialize)]
pub struct RowGrade {
    /// The row's identifier.
    pub id: String,
    /// The verdict.
    pub verdict: Verdict,
    /// What the verdict rests on.
    pub evidence: Evidence,
    /// What is wrong, in words.
    pub diagnosis: String,
    /// The repaired answer, in LaTeX, when a repair was found.
    pub repaired: String,
    /// The simplified form, for a right but unsimplified answer.
    pub simplified: String,
}

/// Reads rows from CSV (with a header `id,query,answer`) or JSON Lines.
pub fn read_rows(name: &str, text: &str) -> Result<Vec<Row>, Diagnostic> {
    let json_lines = name.ends_with(".jsonl") || text.trim_start().starts_with('{');
    if json_lines {
        let mut rows = Vec::new();
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let row: Row = serde_json::from_str(line).map_err(|e| {
                let source = Source::new(name, text);
                let offset: usize = text.lines().take(number).map(|l| l.len() + 1).sum();
                source.error(
                    Span::new(offset, offset + 1),
                    format!("found a row that is not `{{\"id\", \"query\", \"answer\"}}`: {e}"),
                )
            })?;
            rows.push(row);
        }
        return Ok(rows);
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| Diagnostic::unlocated(format!("`{name}`: {e}")))?
        .clone();
    if headers.iter().collect::<Vec<_>>() != ["id", "query", "answer"] {
        return Err(Source::new(name, text).error(
            Span::new(0, text.find('\n').unwrap_or(text.len())),
            "found a header other than `id,query,answer`, expected exactly that",
        ));
    }
    let mut rows = Vec::new();
    for record in reader.deserialize::<Row>() {
        let row = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            Diagnostic::unlocated(format!("{name}:{line}: {e}"))
        })?;
        rows.push(row);
    }
    Ok(rows)
}

/// Grades every row against the network in `source`, on `workers` threads.
pub fn grade_rows(
    source: &Source,
    rows: &[Row],
    workers: usize,
) -> Result<Vec<RowGrade>, Diagnostic> {
    // Load once here so that an unusable network is reported before any row.
    Network::load(source.clone())?;
    let workers = workers.clamp(1, rows.len().max(1));
    let done = AtomicUsize::new(0);
    let show_progress = std::io::stderr().is_terminal() && rows.len() > 1;
    let mut results: Vec<Option<RowGrade>> = vec![None; rows.len()];
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for worker in 0..workers {
            let done = &done;
            handles.push(scope.spawn(move || {
                let mut network = Network::load(source.clone()).expect("loaded once before");
                let mut truths: HashMap<String, Result<check::Truth, String>> = HashMap::new();
                let mut graded = Vec::new();
                for at in (worker..rows.len()).step_by(workers) {
                    graded.push((at, grade_row(&mut network, &mut truths, &rows[at])));
                    let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if show_progress && (finished.is_multiple_of(50) || finished == rows.len()) {
                        eprint!("\rgraded {finished}/{}", rows.len());
                    }
                }
                graded
            }));
        }
        for handle in handles {
            for (at, grade) in handle.join().expect("a grading thread finishes") {
                results[at] = Some(grade);
            }
        }
    });
    if show_progress {
        eprintln!();
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every row graded"))
        .collect())
}

fn grade_row(
    network: &mut Network,
    truths: &mut HashMap<String, Result<check::Truth, String>>,
    row: &Row,
) -> RowGrade {
    let truth = truths.entry(row.query.clone()).or_insert_with(|| {
        network
            .query(&row.query)
            .and_then(|query| check::truth(network, &query))
            .map_err(|e| e.message)
    });
    let grade = match truth {
        Ok(truth) => check::check(network, truth, &row.answer),
        Err(message) => {
            return RowGrade {
                id: row.id.clone(),
                verdict: Verdict::Unreadable,
                evidence: Evidence::Nothing,
                diagnosis: format!("the query `{}` is not usable: {message}", row.query),
                repaired: String::new(),
                simplified: String::new(),
            };
        }
    };
    RowGrade {
        id: row.id.clone(),
        verdict: grade.verdict,
        evidence: grade.evidence,
        diagnosis: grade
            .diagnosis
            .as_ref()
            .map(|d| d.words.clone())
            .unwrap_or_default(),
        repaired: grade.diagnosis.and_then(|d| d.latex).unwrap_or_default(),
        simplified: grade.simplified.unwrap_or_default(),
    }
}

/// The grades as CSV with a header, or as JSON Lines.
pub fn write_grades(grades: &[RowGrade], json_lines: bool) -> String {
    if json_lines {
        return grades
            .iter()
            .map(|g| format!("{}\n", serde_json::to_string(g).expect("grades serialize")))
            .collect();
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    for grade in grades {
        writer.serialize(grade).expect("grades serialize");
    }
    String::from_utf8(writer.into_inner().expect("the buffer flushes")).expect("CSV of UTF-8 text")
}

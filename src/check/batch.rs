//! Grading answers by the hundred: rows of `id,query,answer` (CSV, or JSON
//! Lines), graded in parallel over the machine's cores, one verdict a row.
//! A bad row gets its own verdict and never stops the batch.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use crate::Network;
use crate::check::{self, Evidence, Verdict};
use crate::diagnostic::{Diagnostic, Source, Span, escape_controls};

/// One answer to grade.
#[derive(Clone, Debug, Deserialize)]
pub struct Row {
    /// The row's identifier (a student, a question).
    pub id: String,
    /// The query answered, such as `dE/da[j]`.
    pub query: String,
    /// The answer, in LaTeX or in the language.
    pub answer: String,
    /// Why the row could not be read, with its line: it is graded
    /// `unreadable`, and the batch goes on.
    #[serde(skip)]
    pub unreadable: Option<String>,
}

impl Row {
    /// A row that could not be read, at `line` of its file.
    fn unreadable(id: String, line: usize, why: impl std::fmt::Display) -> Row {
        Row {
            id,
            query: String::new(),
            answer: String::new(),
            unreadable: Some(format!("line {line}: {why}")),
        }
    }
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

/// The columns of a grades CSV, in order.
const GRADE_COLUMNS: [&str; 6] = [
    "id",
    "verdict",
    "evidence",
    "diagnosis",
    "repaired",
    "simplified",
];

/// Reads rows from CSV (with a header `id,query,answer`) or JSON Lines. A
/// row that cannot be read (a wrong number of fields, bytes that are not
/// UTF-8, JSON that is not an object of three strings) becomes an
/// unreadable row naming its line; only a file without the header is
/// refused whole.
pub fn read_rows(name: &str, bytes: &[u8]) -> Result<Vec<Row>, Diagnostic> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let json_lines = name.ends_with(".jsonl") || start.is_some_and(|at| bytes[at] == b'{');
    if json_lines {
        Ok(json_rows(bytes))
    } else {
        csv_rows(name, bytes)
    }
}

/// Rows of JSON Lines, a line each (a carriage return before the new line
/// is dropped).
fn json_rows(bytes: &[u8]) -> Vec<Row> {
    let mut rows = Vec::new();
    for (number, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let number = number + 1;
        let Ok(text) = std::str::from_utf8(line) else {
            rows.push(Row::unreadable(
                String::new(),
                number,
                "found bytes that are not UTF-8 text",
            ));
            continue;
        };
        match serde_json::from_str::<Row>(text) {
            Ok(row) => rows.push(row),
            Err(error) => {
                // Name the row by its id when that much can be read.
                let id = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v.get("id")?.as_str().map(str::to_string))
                    .unwrap_or_default();
                rows.push(Row::unreadable(
                    id,
                    number,
                    format!("found a row that is not {{\"id\", \"query\", \"answer\"}}, each a string once: {error}"),
                ));
            }
        }
    }
    rows
}

/// Rows of CSV under the header `id,query,answer`.
fn csv_rows(name: &str, bytes: &[u8]) -> Result<Vec<Row>, Diagnostic> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader
        .byte_headers()
        .map_err(|e| Diagnostic::unlocated(format!("`{name}`: {e}")))?
        .clone();
    if headers.iter().collect::<Vec<_>>() != [&b"id"[..], b"query", b"answer"] {
        let header_end = bytes
            .iter()
            .position(|b| *b == b'\n')
            .unwrap_or(bytes.len());
        let header = String::from_utf8_lossy(&bytes[..header_end]).into_owned();
        return Err(Source::new(name, header.clone()).error(
            Span::new(0, header.len()),
            "found a header other than `id,query,answer`, expected exactly that",
        ));
    }
    let mut records = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line() as usize;
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let at = record
                    .position()
                    .map_or((line, 0), |p| (p.line() as usize, p.byte() as usize));
                records.push((at, Ok(record.clone())));
            }
            Err(error) => records.push(((line, usize::MAX), Err(error.to_string()))),
        }
    }
    // A quote that is never closed swallows the rest of the file into the
    // record it opens in: the last record that starts before it.
    let swallowing = unclosed_quote(bytes)
        .and_then(|quote| records.iter().rposition(|((_, start), _)| *start <= quote));
    let rows = records
        .into_iter()
        .enumerate()
        .map(|(index, ((line, _), record))| {
            let record = match record {
                Ok(record) => record,
                Err(error) => return Row::unreadable(String::new(), line, error),
            };
            let fields: Vec<Option<&str>> = record.iter().map(|f| std::str::from_utf8(f).ok()).collect();
            let id = fields.first().copied().flatten().unwrap_or("").to_string();
            if swallowing == Some(index) {
                return Row::unreadable(
                    id,
                    line,
                    "a quote opened in this row is never closed, so every line after it was read into it",
                );
            }
            match fields.as_slice() {
                [Some(id), Some(query), Some(answer)] => Row {
                    id: id.to_string(),
                    query: query.to_string(),
                    answer: answer.to_string(),
                    unreadable: None,
                },
                [_, _, _] => Row::unreadable(id, line, "found bytes that are not UTF-8 text"),
                other => Row::unreadable(
                    id,
                    line,
                    format!("found {} fields, expected 3 (id,query,answer)", other.len()),
                ),
            }
        })
        .collect();
    Ok(rows)
}

/// Where a quote that is never closed opens, if one does: CSV then reads
/// the rest of the file as one field. A quote opens a quoted field only at
/// the start of a field (a row ends at `\n` or `\r`, as CSV reads it);
/// inside one, `""` is a quote and the field goes on.
fn unclosed_quote(bytes: &[u8]) -> Option<usize> {
    #[derive(Clone, Copy)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted(usize),
        QuoteInQuoted(usize),
    }
    let mut state = State::FieldStart;
    for (at, byte) in bytes.iter().enumerate() {
        state = match (state, byte) {
            (State::FieldStart, b'"') => State::Quoted(at),
            (State::Quoted(open), b'"') => State::QuoteInQuoted(open),
            (State::Quoted(open), _) => State::Quoted(open),
            (State::QuoteInQuoted(open), b'"') => State::Quoted(open),
            (
                State::FieldStart | State::Unquoted | State::QuoteInQuoted(_),
                b',' | b'\n' | b'\r',
            ) => State::FieldStart,
            (State::FieldStart | State::Unquoted | State::QuoteInQuoted(_), _) => State::Unquoted,
        };
    }
    match state {
        State::Quoted(open) => Some(open),
        _ => None,
    }
}

/// Grades every row against the network in `source`, on `workers` threads,
/// and hands each grade to `emit` in input order as soon as it and every
/// row before it are graded, so that results stream out while the batch
/// runs. Idle threads take the next row not yet taken, so a slow row holds
/// up only its own thread.
pub fn grade_rows(
    source: &Source,
    rows: &[Row],
    workers: usize,
    mut emit: impl FnMut(&RowGrade),
) -> Result<Vec<RowGrade>, Diagnostic> {
    // Load once here so that an unusable network is reported before any row.
    Network::load(source.clone())?;
    let workers = workers.clamp(1, rows.len().max(1));
    let next = AtomicUsize::new(0);
    let show_progress = std::io::stderr().is_terminal() && rows.len() > 1;
    let mut results: Vec<Option<RowGrade>> = vec![None; rows.len()];
    let (sender, receiver) = std::sync::mpsc::channel::<(usize, RowGrade)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (next, sender) = (&next, sender.clone());
            scope.spawn(move || {
                let mut network = Network::load(source.clone()).expect("loaded once before");
                let mut truths: HashMap<String, Result<check::Truth, String>> = HashMap::new();
                loop {
                    let at = next.fetch_add(1, Ordering::Relaxed);
                    let Some(row) = rows.get(at) else { break };
                    let grade = grade_row(&mut network, &mut truths, row);
                    if sender.send((at, grade)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        // Grades arrive as rows finish; they leave in input order.
        let mut emitted = 0;
        let mut finished = 0;
        for (at, grade) in receiver {
            results[at] = Some(grade);
            finished += 1;
            while let Some(Some(ready)) = results.get(emitted) {
                emit(ready);
                emitted += 1;
            }
            if show_progress && (finished % 50 == 0 || finished == rows.len()) {
                eprint!("\rgraded {finished}/{}", rows.len());
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
    if let Some(why) = &row.unreadable {
        return RowGrade {
            id: row.id.clone(),
            verdict: Verdict::Unreadable,
            evidence: Evidence::Reading,
            diagnosis: why.clone(),
            repaired: String::new(),
            simplified: String::new(),
        };
    }
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

/// The grades as CSV with a header (even for no rows), or as JSON Lines.
/// A CSV cell that a spreadsheet would take for a formula (one starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return) starts with `'`, as
/// OWASP advises, and control characters show as their pictures.
pub fn write_grades(grades: &[RowGrade], json_lines: bool) -> String {
    let mut out = grades_header(json_lines);
    for grade in grades {
        out.push_str(&grade_line(grade, json_lines));
    }
    out
}

/// What a grades file starts with: the CSV header, or nothing.
pub fn grades_header(json_lines: bool) -> String {
    if json_lines {
        String::new()
    } else {
        format!("{}\n", GRADE_COLUMNS.join(","))
    }
}

/// One grade as a line of CSV or of JSON Lines, as [`write_grades`] writes it.
pub fn grade_line(grade: &RowGrade, json_lines: bool) -> String {
    if json_lines {
        return format!(
            "{}\n",
            serde_json::to_string(grade).expect("grades serialize")
        );
    }
    let cells = [
        grade.id.clone(),
        grade.verdict.to_string(),
        grade.evidence.to_string(),
        grade.diagnosis.clone(),
        grade.repaired.clone(),
        grade.simplified.clone(),
    ];
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    writer
        .write_record(cells.iter().map(|cell| spreadsheet_safe(cell)))
        .expect("a row writes");
    String::from_utf8(writer.into_inner().expect("the buffer flushes")).expect("CSV of UTF-8 text")
}

/// A cell as a spreadsheet may open it safely.
fn spreadsheet_safe(cell: &str) -> String {
    let starts_a_formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let cell = if starts_a_formula {
        format!("'{cell}")
    } else {
        cell.to_string()
    };
    escape_controls(&cell)
}

//! Grading answers by the hundred: rows of `id`, `query` and `answer`
//! (CSV with those columns in any order, other columns carried through; or
//! JSON Lines), graded in parallel over the machine's cores, one verdict a
//! row. A bad row gets its own verdict and never stops the batch. An answer
//! of several lines is graded as a derivation, line by line.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize, Serializer};

use crate::Network;
use crate::check::{self, Evidence, Verdict, Versioned};
use crate::diagnostic::{Diagnostic, Source, Span, escape_controls};

/// One answer to grade.
#[derive(Clone, Debug, Deserialize)]
pub struct Row {
    /// The row's identifier (a student, a question).
    pub id: String,
    /// Which of the networks graded against it answers (0 for one).
    #[serde(skip)]
    pub network: usize,
    /// The query answered, such as `dE/da[j]`.
    pub query: String,
    /// The answer, in LaTeX or in the language.
    pub answer: String,
    /// Columns of the input carried through to the grade, with their names.
    #[serde(skip)]
    pub carried: Columns,
    /// Why the row could not be read, with its line: it is graded
    /// `unreadable`, and the batch goes on.
    #[serde(skip)]
    pub unreadable: Option<String>,
}

/// Named cells carried from an input row to its grade, in input order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns(pub Vec<(String, String)>);

impl Serialize for Columns {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(name, value)| (name, value)))
    }
}

impl Row {
    /// A row answering `query` on the first network.
    pub fn new(id: impl Into<String>, query: impl Into<String>, answer: impl Into<String>) -> Row {
        Row {
            id: id.into(),
            network: 0,
            query: query.into(),
            answer: answer.into(),
            carried: Columns::default(),
            unreadable: None,
        }
    }

    /// A row that could not be read, at `line` of its file.
    pub fn unreadable(id: String, line: usize, why: impl std::fmt::Display) -> Row {
        Row {
            unreadable: Some(format!("line {line}: {why}")),
            ..Row::new(id, "", "")
        }
    }
}

/// The verdict of one row.
#[derive(Clone, Debug, Serialize)]
pub struct RowGrade {
    /// The row's identifier.
    pub id: String,
    /// The input's other columns, carried through.
    pub columns: Columns,
    /// The query answered.
    pub query: String,
    /// The answer as written.
    pub answer: String,
    /// The answer as read, re-rendered in LaTeX (its last line, for a
    /// derivation); empty when it could not be read.
    pub read_as: String,
    /// The verdict.
    pub verdict: Verdict,
    /// What the verdict rests on.
    pub evidence: Evidence,
    /// What the grade tells the student.
    pub feedback: String,
    /// What is wrong, in words.
    pub diagnosis: String,
    /// The repaired answer, in LaTeX, when a repair was found.
    pub repaired: String,
    /// The simplified form, for a right but unsimplified answer.
    pub simplified: String,
    /// For a derivation, its first line that is not true (0 when none is).
    pub first_wrong_line: usize,
}

/// The columns of a grades CSV after the carried ones, in order.
const GRADE_COLUMNS: [&str; 10] = [
    "query",
    "answer",
    "read_as",
    "verdict",
    "evidence",
    "feedback",
    "diagnosis",
    "repaired",
    "simplified",
    "first_wrong_line",
];

/// Rows read from a batch file, and the names of the columns carried.
pub struct Batch {
    /// The names of the input's columns other than `id`, `query` and
    /// `answer`, in input order.
    pub carried: Vec<String>,
    /// The rows.
    pub rows: Vec<Row>,
}

/// Reads rows from CSV (with a header naming `id`, `query` and `answer`, in
/// any order, and any other columns, carried through) or JSON Lines. A row
/// that cannot be read (a wrong number of fields, bytes that are not UTF-8,
/// JSON that is not an object of three strings) becomes an unreadable row
/// naming its line; only a file whose header lacks a column is refused
/// whole.
pub fn read_rows(name: &str, bytes: &[u8]) -> Result<Batch, Diagnostic> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let json_lines = name.ends_with(".jsonl") || start.is_some_and(|at| bytes[at] == b'{');
    if json_lines {
        Ok(Batch {
            carried: Vec::new(),
            rows: json_rows(bytes),
        })
    } else {
        let table = read_table(name, bytes, &["id", "query", "answer"])?;
        let rows = table
            .records
            .into_iter()
            .map(|record| match record.cells {
                Ok(cells) => {
                    let mut cells = cells.into_iter();
                    let mut take = || cells.next().unwrap_or_default();
                    let (id, query, answer) = (take(), take(), take());
                    Row {
                        carried: Columns(table.carried.iter().cloned().zip(cells).collect()),
                        ..Row::new(id, query, answer)
                    }
                }
                Err(why) => Row::unreadable(record.id, record.line, why),
            })
            .collect();
        Ok(Batch {
            carried: table.carried,
            rows,
        })
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

/// A CSV table read by its header: the cells of the columns asked for, in
/// the order asked, then every other column's.
pub struct Table {
    /// The names of the columns not asked for, in input order.
    pub carried: Vec<String>,
    /// The rows under the header.
    pub records: Vec<Record>,
}

/// One row of a [`Table`].
pub struct Record {
    /// The row's first line in the file.
    pub line: usize,
    /// The row's first cell asked for, when it could be read, to name the
    /// row by.
    pub id: String,
    /// The cells, the asked-for columns first; or why the row cannot be read.
    pub cells: Result<Vec<String>, String>,
}

/// Reads a CSV file whose header names every column of `wanted` (in any
/// order, each once) and maybe others. A file whose header lacks one, or
/// names one twice, is refused; a row that cannot be read says why.
pub fn read_table(name: &str, bytes: &[u8], wanted: &[&str]) -> Result<Table, Diagnostic> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader
        .byte_headers()
        .map_err(|e| Diagnostic::unlocated(format!("`{name}`: {e}")))?
        .clone();
    let header_end = bytes
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(bytes.len());
    let header_text = String::from_utf8_lossy(&bytes[..header_end]).into_owned();
    let refuse = |message: String| {
        Source::new(name, header_text.clone())
            .error(Span::new(0, header_text.trim_end().len()), message)
    };
    let names: Vec<String> = headers
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
        .collect();
    let mut seen = std::collections::HashSet::new();
    for column in &names {
        if !seen.insert(column) {
            return Err(refuse(format!(
                "found the column `{}` twice in the header, expected each column once",
                escape_controls(column)
            )));
        }
    }
    let position: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(at, name)| (name.as_str(), at))
        .collect();
    let missing: Vec<String> = wanted
        .iter()
        .filter(|w| !position.contains_key(*w))
        .map(|w| format!("`{w}`"))
        .collect();
    if !missing.is_empty() {
        return Err(refuse(format!(
            "found a header without the {} {}, expected a header naming {}",
            if missing.len() == 1 {
                "column"
            } else {
                "columns"
            },
            missing.join(", "),
            wanted
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_help("the first line of the file names its columns, in any order"));
    }
    let mut order: Vec<usize> = wanted.iter().map(|w| position[w]).collect();
    let asked: std::collections::HashSet<usize> = order.iter().copied().collect();
    let carried_at: Vec<usize> = (0..names.len()).filter(|i| !asked.contains(i)).collect();
    let carried = carried_at.iter().map(|i| names[*i].clone()).collect();
    order.extend(carried_at);
    let mut raw = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line() as usize;
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let at = record
                    .position()
                    .map_or((line, 0), |p| (p.line() as usize, p.byte() as usize));
                raw.push((at, Ok(record.clone())));
            }
            Err(error) => raw.push(((line, usize::MAX), Err(error.to_string()))),
        }
    }
    // A quote that is never closed swallows the rest of the file into the
    // record it opens in: the last record that starts before it.
    let swallowing = unclosed_quote(bytes)
        .and_then(|quote| raw.iter().rposition(|((_, start), _)| *start <= quote));
    let records = raw
        .into_iter()
        .enumerate()
        .map(|(index, ((line, _), record))| {
            let record = match record {
                Ok(record) => record,
                Err(error) => {
                    return Record {
                        line,
                        id: String::new(),
                        cells: Err(error),
                    };
                }
            };
            let fields: Vec<Option<&str>> =
                record.iter().map(|f| std::str::from_utf8(f).ok()).collect();
            let id = fields
                .get(order[0])
                .copied()
                .flatten()
                .unwrap_or("")
                .to_string();
            let cells = if swallowing == Some(index) {
                Err("a quote opened in this row is never closed, so every line after it was read into it".to_string())
            } else if fields.len() != names.len() {
                Err(format!(
                    "found {}, expected {} ({})",
                    super::counted(fields.len(), "field"),
                    names.len(),
                    names.join(",")
                ))
            } else {
                order
                    .iter()
                    .map(|at| fields[*at].map(str::to_string))
                    .collect::<Option<Vec<String>>>()
                    .ok_or_else(|| "found bytes that are not UTF-8 text".to_string())
            };
            Record { line, id, cells }
        })
        .collect();
    Ok(Table { carried, records })
}

/// Where a quote that is never closed opens, if one does: CSV then reads
/// the rest of the file as one field. A quote opens a quoted field only at
/// the start of a field (a row ends at `\n` or `\r`, as CSV reads it);
/// inside one, `""` is a quote and the field goes on.
pub(super) fn unclosed_quote(bytes: &[u8]) -> Option<usize> {
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

/// Grades every row against the network of `sources` it names, on
/// `workers` threads, and hands each grade to `emit` in input order as soon
/// as it and every row before it are graded, so that results stream out
/// while the batch runs. Idle threads take the next row not yet taken, so a
/// slow row holds up only its own thread.
pub fn grade_rows(
    sources: &[Source],
    rows: &[Row],
    workers: usize,
    mut emit: impl FnMut(&RowGrade),
) -> Result<Vec<RowGrade>, Diagnostic> {
    // Load each once here so that an unusable network is reported before
    // any row.
    for source in sources {
        Network::load(source.clone())?;
    }
    let workers = workers.clamp(1, rows.len().max(1));
    let next = AtomicUsize::new(0);
    let show_progress = std::io::stderr().is_terminal() && rows.len() > 1;
    let mut results: Vec<Option<RowGrade>> = vec![None; rows.len()];
    let (sender, receiver) = std::sync::mpsc::channel::<(usize, RowGrade)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (next, sender) = (&next, sender.clone());
            scope.spawn(move || {
                let mut grader = Grader {
                    sources,
                    networks: sources.iter().map(|_| None).collect(),
                    truths: HashMap::new(),
                };
                loop {
                    let at = next.fetch_add(1, Ordering::Relaxed);
                    let Some(row) = rows.get(at) else { break };
                    let grade = grader.grade(row);
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

/// One thread's grading: its own copy of each network, loaded when first
/// needed, and the truth of each query it has met.
struct Grader<'a> {
    sources: &'a [Source],
    networks: Vec<Option<Network>>,
    truths: HashMap<(usize, String), Result<check::Truth, String>>,
}

impl Grader<'_> {
    fn grade(&mut self, row: &Row) -> RowGrade {
        let base = RowGrade {
            id: row.id.clone(),
            columns: row.carried.clone(),
            query: row.query.clone(),
            answer: row.answer.clone(),
            read_as: String::new(),
            verdict: Verdict::Unreadable,
            evidence: Evidence::Reading,
            feedback: String::new(),
            diagnosis: String::new(),
            repaired: String::new(),
            simplified: String::new(),
            first_wrong_line: 0,
        };
        if let Some(why) = &row.unreadable {
            return RowGrade {
                feedback: format!("The row could not be read: {why}."),
                diagnosis: why.clone(),
                ..base
            };
        }
        let Some(source) = self.sources.get(row.network) else {
            return RowGrade {
                diagnosis: format!("no network {} to grade against", row.network),
                ..base
            };
        };
        let network = self.networks[row.network]
            .get_or_insert_with(|| Network::load(source.clone()).expect("loaded once before"));
        let truth = self
            .truths
            .entry((row.network, row.query.clone()))
            .or_insert_with(|| {
                network
                    .query(&row.query)
                    .and_then(|query| check::truth(network, &query))
                    .map_err(|e| e.message)
            });
        let truth = match truth {
            Ok(truth) => truth,
            Err(message) => {
                let why = format!("the query `{}` is not usable: {message}", row.query);
                return RowGrade {
                    evidence: Evidence::Nothing,
                    feedback: format!("{why}."),
                    diagnosis: why,
                    ..base
                };
            }
        };
        let (grade, first_wrong_line, wrong_line) = if check::is_derivation(&row.answer) {
            let graded = check::check_derivation(network, truth, &row.answer);
            let wrong = graded
                .lines
                .iter()
                .find(|line| line.line == graded.first_wrong_line)
                .map(|line| {
                    format!(
                        "line {} is {}{}",
                        line.line,
                        line.verdict,
                        line.message
                            .as_ref()
                            .map(|m| format!(": {m}"))
                            .unwrap_or_default()
                    )
                });
            let mut result = graded.result;
            result.verdict = graded.verdict;
            (result, graded.first_wrong_line, wrong)
        } else {
            (check::check(network, truth, &row.answer), 0, None)
        };
        let read_as = grade.answer_latex.clone().unwrap_or_default();
        let mut feedback = grade.feedback();
        if let Some(wrong) = &wrong_line
            && !grade.verdict.is_right()
        {
            feedback = format!("In the derivation, {wrong}. {feedback}");
        }
        let diagnosis = match (&wrong_line, &grade.diagnosis) {
            (Some(wrong), _) if !grade.verdict.is_right() => wrong.clone(),
            (_, Some(diagnosis)) => diagnosis.words.clone(),
            _ => String::new(),
        };
        RowGrade {
            read_as,
            verdict: grade.verdict,
            evidence: grade.evidence,
            feedback,
            diagnosis,
            repaired: grade.diagnosis.and_then(|d| d.latex).unwrap_or_default(),
            simplified: grade.simplified.unwrap_or_default(),
            first_wrong_line,
            ..base
        }
    }
}

/// The grades as CSV with a header (even for no rows), or as JSON Lines;
/// `carried` names the input's columns carried through.
pub fn write_grades(grades: &[RowGrade], carried: &[String], json_lines: bool) -> String {
    let mut out = grades_header(carried, json_lines);
    for grade in grades {
        out.push_str(&grade_line(grade, json_lines));
    }
    out
}

/// What a grades file starts with: the CSV header, or nothing.
pub fn grades_header(carried: &[String], json_lines: bool) -> String {
    if json_lines {
        return String::new();
    }
    let names = std::iter::once("id")
        .chain(carried.iter().map(String::as_str))
        .chain(GRADE_COLUMNS);
    csv_line(names)
}

/// One grade as a line of CSV or of JSON Lines, as [`write_grades`] writes it.
pub fn grade_line(grade: &RowGrade, json_lines: bool) -> String {
    if json_lines {
        return format!(
            "{}\n",
            serde_json::to_string(&Versioned::new(grade)).expect("grades serialize")
        );
    }
    let first_wrong_line = match grade.first_wrong_line {
        0 => String::new(),
        line => line.to_string(),
    };
    let evidence = grade.evidence.to_string();
    let cells = std::iter::once(grade.id.as_str())
        .chain(grade.columns.0.iter().map(|(_, value)| value.as_str()))
        .chain([
            grade.query.as_str(),
            grade.answer.as_str(),
            grade.read_as.as_str(),
            grade.verdict.name(),
            &evidence,
            &grade.feedback,
            &grade.diagnosis,
            &grade.repaired,
            &grade.simplified,
            &first_wrong_line,
        ]);
    csv_line(cells)
}

/// One line of CSV, each cell made safe to open in a spreadsheet.
pub fn csv_line<'a>(cells: impl IntoIterator<Item = &'a str>) -> String {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    writer
        .write_record(cells.into_iter().map(spreadsheet_safe))
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

//! A homework file: the questions of an assignment, each a query on a
//! network with its points and the credit its partial verdicts earn.
//!
//! ```toml
//! title = "Backpropagation"
//! student-column = "student"
//!
//! [[question]]
//! id = "q1"
//! network = "bishop-5.3.nn"
//! query = "dE/da[j]"
//! points = 4
//! credit = { correct-unsimplified = 1.0, incomplete = 0.25 }
//! ```

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::Network;
use crate::diagnostic::{Diagnostic, Source, Span, escape_controls};
use crate::limits::{MAX_POINTS, MAX_QUESTIONS};

use super::Verdict;

/// A homework, read and checked: every network loads and every query is one
/// the engine derives.
#[derive(Clone, Debug)]
pub struct Homework {
    /// The assignment's title.
    pub title: String,
    /// The column of the answers file that names each student.
    pub student_column: String,
    /// The questions, in the file's order.
    pub questions: Vec<Question>,
    /// The networks the questions are asked on, each once.
    pub networks: Vec<Source>,
}

/// One question of a homework.
#[derive(Clone, Debug)]
pub struct Question {
    /// Its name, which is also the column of its answers.
    pub id: String,
    /// Which of the homework's networks it is asked on.
    pub network: usize,
    /// The network file, as the homework names it.
    pub network_file: String,
    /// The query, such as `dE/da[j]`.
    pub query: String,
    /// What a right answer earns.
    pub points: f64,
    /// The share of the points each partial verdict earns.
    pub credit: Credit,
}

/// The share of a question's points that a verdict short of `correct`
/// earns; every other verdict earns nothing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Credit {
    /// For a right answer that is not simplified.
    pub correct_unsimplified: f64,
    /// For a true answer with a derivative still to take.
    pub incomplete: f64,
}

impl Credit {
    /// Unless a homework says otherwise: a right answer is right, simplified
    /// or not, and an unfinished one earns nothing.
    pub const DEFAULT: Credit = Credit {
        correct_unsimplified: 1.0,
        incomplete: 0.0,
    };

    /// The share of the points `verdict` earns.
    pub fn share(&self, verdict: Verdict) -> f64 {
        match verdict {
            Verdict::Correct => 1.0,
            Verdict::CorrectUnsimplified => self.correct_unsimplified,
            Verdict::Incomplete => self.incomplete,
            _ => 0.0,
        }
    }
}

impl Question {
    /// The points an answer with `verdict` earns.
    pub fn points_for(&self, verdict: Verdict) -> f64 {
        self.points * self.credit.share(verdict)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct HomeworkFile {
    title: Option<String>,
    student_column: Option<Spanned<String>>,
    credit: Option<CreditFile>,
    #[serde(rename = "question", default)]
    questions: Vec<QuestionFile>,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a table of shares, such as { correct-unsimplified = 1, incomplete = 0.5 }"
)]
struct CreditFile {
    correct_unsimplified: Option<Spanned<Number>>,
    incomplete: Option<Spanned<Number>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct QuestionFile {
    id: Spanned<String>,
    network: Spanned<String>,
    query: Spanned<String>,
    points: Spanned<Number>,
    credit: Option<CreditFile>,
}

/// A number as TOML writes it, with or without a decimal point.
#[derive(Clone, Copy, Deserialize)]
#[serde(untagged, expecting = "a number, such as 4 or 2.5")]
enum Number {
    Integer(i64),
    Float(f64),
}

impl Number {
    fn value(self) -> f64 {
        match self {
            Number::Integer(n) => n as f64,
            // `-0.0` is 0 points, never a negative zero in a gradebook.
            Number::Float(x) => x + 0.0,
        }
    }
}

impl Homework {
    /// Reads the homework in `source`; `read_network` reads a network file
    /// named by the homework (relative to it) as a source. Every error names
    /// its place in the homework file.
    pub fn parse(
        source: &Source,
        mut read_network: impl FnMut(&str) -> Result<Source, Diagnostic>,
    ) -> Result<Homework, Diagnostic> {
        let at = |range: Range<usize>, message: String| {
            source.error(Span::new(range.start, range.end), message)
        };
        let file: HomeworkFile = toml::from_str(&source.text).map_err(|error| {
            let range = error.span().unwrap_or(0..0);
            at(
                range,
                format!(
                    "cannot read the homework: {}",
                    error.message().trim_end_matches('\n')
                ),
            )
        })?;
        if file.questions.is_empty() {
            return Err(at(
                0..0,
                "found a homework without questions, expected at least one `[[question]]`"
                    .to_string(),
            )
            .with_help("a question has an `id`, a `network` file, a `query` and its `points`"));
        }
        if file.questions.len() > MAX_QUESTIONS {
            return Err(at(
                file.questions[MAX_QUESTIONS].id.span(),
                format!("found more than {MAX_QUESTIONS} questions, the most a homework may have"),
            ));
        }
        let student_column = match &file.student_column {
            Some(column) => {
                let name = column.get_ref().trim();
                if name.is_empty() {
                    return Err(at(
                        column.span(),
                        "found an empty `student-column`, expected the name of a column"
                            .to_string(),
                    ));
                }
                let writes_it = super::gradebook::ANSWER_COLUMNS.contains(&name)
                    || name == super::gradebook::TOTAL_COLUMN;
                if writes_it {
                    return Err(at(
                        column.span(),
                        format!(
                            "found the student column `{name}`, which the grades write themselves, expected another name"
                        ),
                    ));
                }
                name.to_string()
            }
            None => "student".to_string(),
        };
        let default_credit = credit(&file.credit, Credit::DEFAULT, &at)?;
        let mut homework = Homework {
            title: file.title.unwrap_or_else(|| "Homework".to_string()),
            student_column,
            questions: Vec::new(),
            networks: Vec::new(),
        };
        // Each network file as the homework spells it, and its network.
        let mut spellings: Vec<(String, usize)> = Vec::new();
        let mut loaded: Vec<Network> = Vec::new();
        for question in &file.questions {
            let id = question.id.get_ref().trim().to_string();
            if id.is_empty() || id.chars().any(char::is_control) {
                return Err(at(
                    question.id.span(),
                    "found a question `id` that is empty or holds control characters, expected a column name such as `q1`".to_string(),
                ));
            }
            if id == homework.student_column || id == super::gradebook::TOTAL_COLUMN {
                return Err(at(
                    question.id.span(),
                    format!(
                        "found the question id `{}`, which names another column of the gradebook, expected another name",
                        escape_controls(&id)
                    ),
                ));
            }
            if homework.questions.iter().any(|q| q.id == id) {
                return Err(at(
                    question.id.span(),
                    format!(
                        "found the question id `{}` twice, expected each question once",
                        escape_controls(&id)
                    ),
                ));
            }
            let points = question.points.get_ref().value();
            if !(0.0..=MAX_POINTS).contains(&points) {
                return Err(at(
                    question.points.span(),
                    format!("found {points} points, expected a number from 0 to {MAX_POINTS}"),
                ));
            }
            let file_name = question.network.get_ref().clone();
            let network = match spellings.iter().find(|(f, _)| *f == file_name) {
                Some((_, known)) => *known,
                None => {
                    let network_source = read_network(&file_name).map_err(|error| {
                        at(
                            question.network.span(),
                            format!("the network cannot be used: {}", error.message),
                        )
                    })?;
                    // Two spellings of one file read as one source.
                    let network = match homework
                        .networks
                        .iter()
                        .position(|known| known.name == network_source.name)
                    {
                        Some(known) => known,
                        None => {
                            loaded.push(Network::load(network_source.clone())?);
                            homework.networks.push(network_source);
                            homework.networks.len() - 1
                        }
                    };
                    spellings.push((file_name.clone(), network));
                    network
                }
            };
            let query = question.query.get_ref().trim().to_string();
            loaded[network]
                .query(&query)
                .and_then(|parsed| super::truth(&mut loaded[network], &parsed))
                .map_err(|error| {
                    at(
                        question.query.span(),
                        format!(
                            "the query `{}` cannot be asked of `{}`: {}",
                            escape_controls(&query),
                            escape_controls(&file_name),
                            error.message
                        ),
                    )
                })?;
            homework.questions.push(Question {
                id,
                network,
                network_file: file_name,
                query,
                points,
                credit: credit(&question.credit, default_credit, &at)?,
            });
        }
        Ok(homework)
    }

    /// The most points the homework gives.
    pub fn total_points(&self) -> f64 {
        self.questions.iter().map(|q| q.points).sum()
    }
}

/// The credit a `[credit]` table gives, each share not given taken from
/// `otherwise`; a share must be from 0 to 1.
fn credit(
    table: &Option<CreditFile>,
    otherwise: Credit,
    at: &impl Fn(Range<usize>, String) -> Diagnostic,
) -> Result<Credit, Diagnostic> {
    let Some(table) = table else {
        return Ok(otherwise);
    };
    let share = |given: &Option<Spanned<Number>>, fallback: f64| match given {
        None => Ok(fallback),
        Some(number) => {
            let value = number.get_ref().value();
            if (0.0..=1.0).contains(&value) {
                Ok(value)
            } else {
                Err(at(
                    number.span(),
                    format!("found the credit {value}, expected a share of the points from 0 to 1"),
                ))
            }
        }
    };
    Ok(Credit {
        correct_unsimplified: share(&table.correct_unsimplified, otherwise.correct_unsimplified)?,
        incomplete: share(&table.incomplete, otherwise.incomplete)?,
    })
}

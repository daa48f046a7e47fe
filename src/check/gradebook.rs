//! A homework graded for a class: the answers file (a row a student, a
//! column a question), graded in one batch, then tabulated three ways: a row
//! an answer, a row a student (for a learning platform's gradebook), and a
//! summary a question (for the instructor).

use std::collections::HashMap;

use serde::Serialize;

use super::batch::{Columns, Row, RowGrade, csv_line, read_table, unclosed_quote};
use super::homework::Homework;
use super::{Verdict, counted};
use crate::diagnostic::{Diagnostic, Source, Span, escape_controls};
use crate::limits::MAX_GRADEBOOK_ANSWERS;

/// The column of the per-student table that adds up each student's points.
pub const TOTAL_COLUMN: &str = "total";
/// The columns of the per-answer table after the student's own.
pub const ANSWER_COLUMNS: [&str; 11] = [
    "question",
    "query",
    "answer",
    "read_as",
    "verdict",
    "points",
    "out_of",
    "feedback",
    "diagnosis",
    "repaired",
    "evidence",
];
/// How many of a question's most frequent mistakes the text summary lists.
const MISTAKES_SHOWN: usize = 8;
/// How many students a mistake's summary names.
const STUDENTS_NAMED: usize = 6;

/// The students of an answers file, and one row to grade for each of their
/// answers (student by student, question by question).
pub struct Answers {
    /// The students, in the file's order.
    pub students: Vec<Student>,
    /// The names of the file's columns carried through (name, email).
    pub carried: Vec<String>,
    /// One row a student and question, in that order.
    pub rows: Vec<Row>,
}

/// A student of the answers file.
#[derive(Clone, Debug, Serialize)]
pub struct Student {
    /// The student, as the student column names them.
    pub student: String,
    /// The file's other columns for this student.
    pub columns: Columns,
}

/// Reads an answers file for `homework`: CSV whose header names the
/// student column and a column for every question, in any order, and maybe
/// other columns, carried through. A row that cannot be read grades each of
/// its answers `unreadable`, naming its line; a row without a student, or a
/// student on two rows, is refused.
pub fn read_answers(homework: &Homework, name: &str, bytes: &[u8]) -> Result<Answers, Diagnostic> {
    let mut wanted = vec![homework.student_column.as_str()];
    wanted.extend(homework.questions.iter().map(|q| q.id.as_str()));
    if let Some(quote) = unclosed_quote(bytes) {
        let text = String::from_utf8_lossy(bytes).into_owned();
        return Err(Source::new(name, text).error(
            Span::new(quote, quote + 1),
            "found a quote that is never closed, expected a closing `\"`: every line after it would be read into one cell",
        ));
    }
    let table = read_table(name, bytes, &wanted)?;
    // A carried column may not pose as one that grading writes.
    if let Some(clash) = table
        .carried
        .iter()
        .find(|c| ANSWER_COLUMNS.contains(&c.as_str()) || c.as_str() == TOTAL_COLUMN)
    {
        let header_end = bytes
            .iter()
            .position(|b| *b == b'\n')
            .unwrap_or(bytes.len());
        let header = String::from_utf8_lossy(&bytes[..header_end]).into_owned();
        let at = header.find(clash.as_str()).unwrap_or(0);
        return Err(Source::new(name, header).error(
            Span::new(at, at + clash.len()),
            format!(
                "found the column `{}`, which the grades write themselves, expected another name for it",
                escape_controls(clash)
            ),
        )
        .with_help("rename the column, or leave it out of the answers file"));
    }
    let text = String::from_utf8_lossy(bytes);
    let line_start = |line: usize| {
        text.split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum::<usize>()
    };
    let refuse = |line: usize, message: String| {
        let start = line_start(line);
        let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
        Source::new(name, text.clone().into_owned()).error(Span::new(start, end), message)
    };
    let mut answers = Answers {
        students: Vec::new(),
        carried: table.carried.clone(),
        rows: Vec::new(),
    };
    // Where each student's row starts, to find one named twice.
    let mut first_lines: HashMap<String, usize> = HashMap::new();
    for record in table.records {
        let student = record.id.trim().to_string();
        if student.is_empty() {
            return Err(refuse(
                record.line,
                format!(
                    "found a row without a student, expected a name in the column `{}`",
                    escape_controls(&homework.student_column)
                ),
            ));
        }
        if let Some(first) = first_lines.get(&student) {
            return Err(refuse(
                record.line,
                format!(
                    "found the student `{}` again, first on line {first}; expected one row a student",
                    escape_controls(&student),
                ),
            ));
        }
        first_lines.insert(student.clone(), record.line);
        let (columns, cells) = match record.cells {
            Ok(cells) => {
                let carried = Columns(
                    table
                        .carried
                        .iter()
                        .cloned()
                        .zip(cells[wanted.len()..].iter().cloned())
                        .collect(),
                );
                (carried, Ok(cells))
            }
            Err(why) => (
                Columns(
                    table
                        .carried
                        .iter()
                        .map(|c| (c.clone(), String::new()))
                        .collect(),
                ),
                Err(why),
            ),
        };
        if answers.rows.len() + homework.questions.len() > MAX_GRADEBOOK_ANSWERS {
            return Err(refuse(
                record.line,
                format!(
                    "found more than {MAX_GRADEBOOK_ANSWERS} answers ({} questions a student), the most one grading reads",
                    homework.questions.len()
                ),
            )
            .with_help("split the class into several answers files"));
        }
        for (at, question) in homework.questions.iter().enumerate() {
            let mut row = match &cells {
                Ok(cells) => Row::new(
                    student.clone(),
                    question.query.clone(),
                    cells[at + 1].clone(),
                ),
                Err(why) => Row::unreadable(student.clone(), record.line, why),
            };
            row.network = question.network;
            row.query = question.query.clone();
            row.carried = columns.clone();
            answers.rows.push(row);
        }
        answers.students.push(Student { student, columns });
    }
    Ok(answers)
}

/// A graded homework: every answer, every student's points, every
/// question's summary.
#[derive(Serialize)]
pub struct Gradebook {
    /// The homework's title.
    pub title: String,
    /// The most points the homework gives.
    pub out_of: f64,
    /// A summary of each question, in the homework's order.
    pub questions: Vec<QuestionSummary>,
    /// Each student's points, in the answers file's order.
    pub students: Vec<StudentPoints>,
    /// Every answer's grade, student by student, question by question.
    pub answers: Vec<AnswerGrade>,
}

/// One answer's grade and the points it earns.
#[derive(Clone, Debug, Serialize)]
pub struct AnswerGrade {
    /// The question answered.
    pub question: String,
    /// The points the answer earns.
    pub points: f64,
    /// The points the question is worth.
    pub out_of: f64,
    /// The grade (its `id` is the student).
    #[serde(flatten)]
    pub grade: RowGrade,
}

/// One student's points.
#[derive(Clone, Debug, Serialize)]
pub struct StudentPoints {
    /// The student and their carried columns.
    #[serde(flatten)]
    pub student: Student,
    /// The points of each question, in the homework's order.
    pub points: Vec<f64>,
    /// Their sum.
    pub total: f64,
}

/// What a class did with one question.
#[derive(Clone, Debug, Serialize)]
pub struct QuestionSummary {
    /// The question's id.
    pub id: String,
    /// Its query.
    pub query: String,
    /// The network it is asked on.
    pub network: String,
    /// The points it is worth.
    pub out_of: f64,
    /// The mean of the points earned.
    pub mean: f64,
    /// How many answers got each verdict, every verdict listed.
    pub verdicts: Vec<VerdictCount>,
    /// Every mistake made, most frequent first.
    pub mistakes: Vec<Mistake>,
}

/// How many answers got a verdict.
#[derive(Clone, Debug, Serialize)]
pub struct VerdictCount {
    /// The verdict.
    pub verdict: Verdict,
    /// How many answers got it.
    pub count: usize,
}

/// A mistake several answers share.
#[derive(Clone, Debug, Serialize)]
pub struct Mistake {
    /// The mistake: its diagnosis, or the wrong answer itself when no
    /// diagnosis explains it.
    pub what: String,
    /// How many answers make it.
    pub count: usize,
    /// The students who make it, in the answers file's order.
    pub students: Vec<String>,
}

/// Tabulates the grades of `answers` (as [`read_answers`] ordered them).
pub fn tabulate(homework: &Homework, answers: &Answers, grades: Vec<RowGrade>) -> Gradebook {
    let questions = homework.questions.len();
    let graded: Vec<AnswerGrade> = grades
        .into_iter()
        .enumerate()
        .map(|(at, grade)| {
            let question = &homework.questions[at % questions];
            AnswerGrade {
                question: question.id.clone(),
                points: rounded(question.points_for(grade.verdict)),
                out_of: question.points,
                grade,
            }
        })
        .collect();
    let students = answers
        .students
        .iter()
        .zip(graded.chunks(questions))
        .map(|(student, grades)| {
            let points: Vec<f64> = grades.iter().map(|g| g.points).collect();
            // The total of the points as shown, so that a row adds up.
            StudentPoints {
                student: student.clone(),
                total: rounded(points.iter().sum()),
                points,
            }
        })
        .collect();
    let summaries = homework
        .questions
        .iter()
        .enumerate()
        .map(|(at, question)| {
            let of_question: Vec<&AnswerGrade> =
                graded.iter().skip(at).step_by(questions).collect();
            let verdicts = Verdict::ALL
                .iter()
                .map(|verdict| VerdictCount {
                    verdict: *verdict,
                    count: of_question
                        .iter()
                        .filter(|g| g.grade.verdict == *verdict)
                        .count(),
                })
                .collect();
            let mean = if of_question.is_empty() {
                0.0
            } else {
                of_question.iter().map(|g| g.points).sum::<f64>() / of_question.len() as f64
            };
            QuestionSummary {
                id: question.id.clone(),
                query: question.query.clone(),
                network: question.network_file.clone(),
                out_of: question.points,
                mean,
                verdicts,
                mistakes: mistakes(&of_question),
            }
        })
        .collect();
    Gradebook {
        title: homework.title.clone(),
        out_of: homework.total_points(),
        questions: summaries,
        students,
        answers: graded,
    }
}

/// The mistakes of wrong and unfinished answers, grouped by diagnosis (or,
/// without one, by the answer as read), most frequent first.
fn mistakes(grades: &[&AnswerGrade]) -> Vec<Mistake> {
    let mut found: Vec<Mistake> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for grade in grades {
        let grade = &grade.grade;
        if !matches!(grade.verdict, Verdict::Incorrect | Verdict::Incomplete) {
            continue;
        }
        let explained = !grade.diagnosis.is_empty()
            && !grade
                .diagnosis
                .contains("no single common mistake explains it");
        let what = if explained {
            // One mistake at different places of different answers is one.
            without_column(&grade.diagnosis).to_string()
        } else if grade.read_as.is_empty() {
            "a wrong answer".to_string()
        } else {
            format!("the answer ${}$", grade.read_as)
        };
        match index.get(&what) {
            Some(&at) => {
                found[at].count += 1;
                found[at].students.push(grade.id.clone());
            }
            None => {
                index.insert(what.clone(), found.len());
                found.push(Mistake {
                    what,
                    count: 1,
                    students: vec![grade.id.clone()],
                });
            }
        }
    }
    // A stable sort keeps mistakes of equal count in order of appearance.
    found.sort_by_key(|m| std::cmp::Reverse(m.count));
    found
}

/// A message without the place it starts with (`at column 15: `).
fn without_column(message: &str) -> &str {
    message
        .strip_prefix("at column ")
        .and_then(|rest| rest.split_once(": "))
        .filter(|(digits, _)| digits.chars().all(|c| c.is_ascii_digit()))
        .map_or(message, |(_, rest)| rest)
}

impl Gradebook {
    /// A row an answer: the student (under the homework's student column),
    /// their carried columns, the question,
    /// the answer as written and as read, the verdict, the points, the
    /// feedback, the diagnosis and the evidence.
    pub fn answers_csv(&self, student_column: &str, carried: &[String]) -> String {
        let mut out = csv_line(
            [student_column]
                .into_iter()
                .chain(carried.iter().map(String::as_str))
                .chain(ANSWER_COLUMNS),
        );
        for answer in &self.answers {
            let grade = &answer.grade;
            let (points, out_of) = (points_text(answer.points), points_text(answer.out_of));
            let evidence = grade.evidence.to_string();
            out.push_str(&csv_line(
                [grade.id.as_str()]
                    .into_iter()
                    .chain(grade.columns.0.iter().map(|(_, v)| v.as_str()))
                    .chain([
                        answer.question.as_str(),
                        &grade.query,
                        &grade.answer,
                        &grade.read_as,
                        grade.verdict.name(),
                        &points,
                        &out_of,
                        &grade.feedback,
                        &grade.diagnosis,
                        &grade.repaired,
                        &evidence,
                    ]),
            ));
        }
        out
    }

    /// A row a student, as a gradebook import reads it: the student, their
    /// carried columns, a column of points a question, and the total.
    pub fn students_csv(&self, student_column: &str, carried: &[String]) -> String {
        let ids: Vec<&str> = self.questions.iter().map(|q| q.id.as_str()).collect();
        let mut out = csv_line(
            [student_column]
                .into_iter()
                .chain(carried.iter().map(String::as_str))
                .chain(ids.iter().copied())
                .chain([TOTAL_COLUMN]),
        );
        for student in &self.students {
            let points: Vec<String> = student.points.iter().map(|p| points_text(*p)).collect();
            let total = points_text(student.total);
            out.push_str(&csv_line(
                [student.student.student.as_str()]
                    .into_iter()
                    .chain(student.student.columns.0.iter().map(|(_, v)| v.as_str()))
                    .chain(points.iter().map(String::as_str))
                    .chain([total.as_str()]),
            ));
        }
        out
    }

    /// What the class did, question by question, for the instructor: how
    /// many answers got each verdict, the mean, and the most frequent
    /// mistakes with who made them.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{}: {}, {}, {}\n",
            escape_controls(&self.title),
            counted(self.students.len(), "student"),
            counted(self.questions.len(), "question"),
            points_words(self.out_of)
        );
        if !self.students.is_empty() {
            let mean =
                self.students.iter().map(|s| s.total).sum::<f64>() / self.students.len() as f64;
            out.push_str(&format!(
                "mean total {} of {}\n",
                points_text(mean),
                points_text(self.out_of)
            ));
        }
        for question in &self.questions {
            out.push_str(&format!(
                "\n{}: {} on {} ({})\n",
                escape_controls(&question.id),
                escape_controls(&question.query),
                escape_controls(&question.network),
                points_words(question.out_of)
            ));
            out.push_str(&format!(
                "  mean {} of {}\n",
                points_text(question.mean),
                points_words(question.out_of)
            ));
            let counts: Vec<String> = question
                .verdicts
                .iter()
                .filter(|v| v.count > 0)
                .map(|v| format!("{} {}", v.count, v.verdict))
                .collect();
            if !counts.is_empty() {
                out.push_str(&format!("  {}\n", counts.join(", ")));
            }
            if question.mistakes.is_empty() {
                continue;
            }
            out.push_str("  most frequent mistakes:\n");
            for mistake in question.mistakes.iter().take(MISTAKES_SHOWN) {
                let mut named: Vec<String> = mistake
                    .students
                    .iter()
                    .take(STUDENTS_NAMED)
                    .map(|s| escape_controls(s))
                    .collect();
                if mistake.students.len() > STUDENTS_NAMED {
                    named.push(format!("{} more", mistake.students.len() - STUDENTS_NAMED));
                }
                out.push_str(&format!(
                    "  {:>4}  {} ({})\n",
                    mistake.count,
                    escape_controls(&mistake.what),
                    named.join(", ")
                ));
            }
            let rest = &question.mistakes[question.mistakes.len().min(MISTAKES_SHOWN)..];
            if !rest.is_empty() {
                let answers: usize = rest.iter().map(|m| m.count).sum();
                out.push_str(&format!(
                    "        and {} in {} (answers.csv lists them)\n",
                    counted(rest.len(), "other mistake"),
                    counted(answers, "answer")
                ));
            }
        }
        out
    }
}

/// `1 point`, `2.5 points`.
fn points_words(points: f64) -> String {
    match points_text(points).as_str() {
        "1" => "1 point".to_string(),
        shown => format!("{shown} points"),
    }
}

/// Points to the hundredth, as they are shown.
fn rounded(points: f64) -> f64 {
    (points * 100.0).round() / 100.0 + 0.0
}

/// Points as a gradebook reads them: at most two decimals, no trailing
/// zeros (`4`, `2.5`, `0.33`), and never `-0`.
pub fn points_text(points: f64) -> String {
    let text = format!("{:.2}", rounded(points));
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() || text == "-" || text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

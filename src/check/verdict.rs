//! What a grade says: a verdict, the evidence it rests on, and for a wrong
//! answer what is wrong. Verdicts and evidence are values, compared as
//! values; they become words only when printed.

use std::fmt;

use serde::{Serialize, Serializer};

/// The version of the JSON that `check` and `grade` write, described by
/// `schema/grades.schema.json`; it changes when a field changes meaning or
/// goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// A value as JSON with the version of its schema first.
#[derive(Serialize)]
pub struct Versioned<'a, T: Serialize> {
    schema_version: u32,
    #[serde(flatten)]
    body: &'a T,
}

impl<'a, T: Serialize> Versioned<'a, T> {
    /// `body`, marked with [`SCHEMA_VERSION`].
    pub fn new(body: &'a T) -> Versioned<'a, T> {
        Versioned {
            schema_version: SCHEMA_VERSION,
            body,
        }
    }
}

/// How an answer is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Right, and as simple as the engine's result.
    Correct,
    /// Right, but not simplified.
    CorrectUnsimplified,
    /// True, but a derivative in it is still to be taken.
    Incomplete,
    /// Wrong.
    Incorrect,
    /// Could not be read.
    Unreadable,
    /// Over a size or depth limit.
    TooLarge,
    /// Nothing was written.
    Unanswered,
}

impl Verdict {
    /// The verdict's name.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Correct => "correct",
            Verdict::CorrectUnsimplified => "correct-unsimplified",
            Verdict::Incomplete => "incomplete",
            Verdict::Incorrect => "incorrect",
            Verdict::Unreadable => "unreadable",
            Verdict::TooLarge => "too-large",
            Verdict::Unanswered => "unanswered",
        }
    }

    /// Every verdict, in the order a summary lists them.
    pub const ALL: [Verdict; 7] = [
        Verdict::Correct,
        Verdict::CorrectUnsimplified,
        Verdict::Incomplete,
        Verdict::Incorrect,
        Verdict::Unreadable,
        Verdict::TooLarge,
        Verdict::Unanswered,
    ];

    /// True for the verdicts that accept the answer.
    pub fn is_right(self) -> bool {
        matches!(self, Verdict::Correct | Verdict::CorrectUnsimplified)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a verdict rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// Reading the answer: it could not be read, or was over a limit.
    Reading,
    /// Its free indices are not the query's.
    FreeIndices,
    /// It holds the derivative asked for, so it restates the question.
    Restatement,
    /// It has the result's canonical form; `simplified` when only after
    /// simplifying it.
    SymbolicIdentity {
        /// True when the answer needed simplifying to meet the result.
        simplified: bool,
    },
    /// It agrees with the result at every comparison.
    Numeric {
        /// How many values were compared.
        comparisons: usize,
        /// At how many points.
        points: usize,
    },
    /// A comparison where it differs from the result.
    Counterexample {
        /// How many values were compared before the difference.
        comparisons: usize,
    },
    /// Evaluating by numbers, which the network is too large for.
    Evaluation,
    /// The query itself could not be derived.
    Nothing,
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Reading => f.write_str("reading the answer"),
            Evidence::FreeIndices => f.write_str("free indices"),
            Evidence::Restatement => f.write_str("the derivative asked for, in the answer"),
            Evidence::SymbolicIdentity { simplified: false } => f.write_str("symbolic identity"),
            Evidence::SymbolicIdentity { simplified: true } => {
                f.write_str("symbolic identity after simplification")
            }
            Evidence::Numeric {
                comparisons,
                points,
            } => write!(
                f,
                "{} at {}",
                counted(*comparisons, "numeric comparison"),
                counted(*points, "point")
            ),
            Evidence::Counterexample { comparisons } => write!(
                f,
                "a counterexample among {}",
                counted((*comparisons).max(1), "numeric comparison")
            ),
            Evidence::Evaluation => f.write_str("too large to evaluate by numbers"),
            Evidence::Nothing => f.write_str("none"),
        }
    }
}

/// `1 point`, `8 points`.
pub fn counted(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The likely mistake, in words and as the repaired expression.
#[derive(Clone, Debug, Serialize)]
pub struct Diagnosis {
    /// What is wrong, for a person.
    pub words: String,
    /// The answer repaired, in LaTeX.
    pub latex: Option<String>,
}

/// The outcome of checking one answer.
#[derive(Clone, Debug, Serialize)]
pub struct Grade {
    /// The verdict.
    pub verdict: Verdict,
    /// What the verdict rests on.
    pub evidence: Evidence,
    /// What is wrong, for an incorrect or unreadable answer.
    pub diagnosis: Option<Diagnosis>,
    /// The simplified form, for a right but unsimplified answer.
    pub simplified: Option<String>,
    /// A point where the answer and the truth differ.
    pub counterexample: Option<String>,
    /// The answer as read, in LaTeX.
    pub answer_latex: Option<String>,
    /// The answer as read, in the language.
    pub answer_dsl: Option<String>,
}

impl Grade {
    /// A grade given on reading alone, with what was found.
    pub fn on_reading(verdict: Verdict, words: String) -> Grade {
        Grade {
            verdict,
            evidence: Evidence::Reading,
            diagnosis: Some(Diagnosis { words, latex: None }),
            simplified: None,
            counterexample: None,
            answer_latex: None,
            answer_dsl: None,
        }
    }

    /// What the grade tells the student, in a sentence or two: why the
    /// answer is not right, or how it simplifies.
    pub fn feedback(&self) -> String {
        let words = self.diagnosis.as_ref().map(|d| d.words.as_str());
        match self.verdict {
            Verdict::Correct => "Right.".to_string(),
            Verdict::CorrectUnsimplified => match &self.simplified {
                Some(simplified) => format!("Right; it simplifies to ${simplified}$."),
                None => "Right, but not simplified.".to_string(),
            },
            Verdict::Unanswered => "No answer was given.".to_string(),
            _ => {
                let mut out = capitalised(words.unwrap_or("The answer is not the result"));
                if let Some(at) = &self.counterexample
                    && words.is_none_or(|w| w.contains("no single common mistake"))
                {
                    out.push_str(&format!("; {at}"));
                }
                if !out.ends_with('.') {
                    out.push('.');
                }
                out
            }
        }
    }

    /// This grade, of side `side` (counted from 1) of a chain of `sides`
    /// equal expressions, as the grade of the whole chain: a side that is
    /// wrong, or unfinished at the end, is the chain's verdict.
    pub fn within_chain(mut self, side: usize, sides: usize) -> Grade {
        let what = match self.verdict {
            Verdict::Incomplete => "is unfinished".to_string(),
            Verdict::Incorrect => "is not equal to the result".to_string(),
            verdict => format!("is {verdict}"),
        };
        let words = self
            .diagnosis
            .as_ref()
            .map(|d| format!(": {}", d.words))
            .unwrap_or_default();
        let latex = self.diagnosis.and_then(|d| d.latex);
        self.diagnosis = Some(Diagnosis {
            words: format!("side {side} of the {sides} sides of the chain {what}{words}"),
            latex,
        });
        self
    }
}

/// `text` with its first letter in capitals.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The grade of one line of a derivation.
#[derive(Clone, Debug, Serialize)]
pub struct LineGrade {
    /// The line, counted from 1.
    pub line: usize,
    /// `correct` when the line is a true equation, else why not.
    pub verdict: Verdict,
    /// What is wrong with the line, if anything.
    pub message: Option<String>,
}

/// The grade of a whole derivation.
#[derive(Clone, Debug, Serialize)]
pub struct DerivationGrade {
    /// The verdict of the derivation as a whole.
    pub verdict: Verdict,
    /// Every line's grade.
    pub lines: Vec<LineGrade>,
    /// The first line that is not true (counted from 1), 0 when all are.
    pub first_wrong_line: usize,
    /// The grade of the derivation's final expression against the result.
    pub result: Grade,
}

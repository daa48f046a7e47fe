//! Every bound on size and work, in one place. Whatever can grow (a file,
//! an expression, multiplying out, an expanded derivative, a derivative of
//! a derivative, a numeric evaluation) is measured against one of these
//! and stops early with a clear message instead of running on.

use std::fmt;

/// Largest network file read, in bytes (counted as read, so a special
/// file such as `/dev/zero` stops there too).
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;
/// Largest batch of answers read, in bytes.
pub const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;
/// Longest time, in seconds, that compiling a document to PDF may take.
pub const MAX_TEX_SECONDS: u64 = 60;
/// Largest derivation file (`--answer-file`) read, in bytes.
pub const MAX_DERIVATION_BYTES: usize = 1024 * 1024;
/// Deepest nesting of brackets a source may have.
pub const MAX_BRACKET_DEPTH: usize = 256;
/// Deepest expression tree a source may build (brackets, operators, calls).
pub const MAX_EXPRESSION_DEPTH: usize = 2_000;
/// Largest decimal exponent a number literal may have.
pub const MAX_LITERAL_EXPONENT: u32 = 400;
/// Most significant digits a number literal may have (about
/// [`MAX_NUMBER_BITS`] bits).
pub const MAX_LITERAL_DIGITS: usize = 1_234;

/// Largest expression, written out as a tree, that a result may be.
pub const MAX_RESULT_SIZE: usize = 200_000;
/// Largest numerator or denominator, in bits, that a result may hold.
pub const MAX_NUMBER_BITS: u64 = 4_096;
/// Most terms that multiplying out one product may create; a product that
/// would create more stays factored.
pub const MAX_EXPANDED_TERMS: usize = 256;
/// Largest tree that simplification also tries to multiply out.
pub const MAX_EXPAND_SIZE: usize = 4_000;
/// Most nodes that one pass of simplification over one expression may add
/// to the store.
pub const MAX_SIMPLIFY_GROWTH: usize = 4_000_000;
/// Most steps (a part visited or a rule applied) that one pass of
/// simplification over one expression may take; a file whose assumptions
/// rewrite without end meets this bound.
pub const MAX_SIMPLIFY_STEPS: usize = 20_000_000;
/// Most nodes that one sweep of the chain rule (backward or forward over
/// the families a query or a gradient needs) may add to the store, all its
/// simplifications included.
pub const MAX_DERIVE_GROWTH: usize = 20_000_000;
/// Most links a step-by-step derivation (with its lemmas and deltas) may
/// have.
pub const MAX_DERIVATION_LINKS: usize = 2_000;
/// Most derivations a derivation may hold inside one another (a unit that
/// feeds several others derives each of their deltas apart).
pub const MAX_DERIVATION_DEPTH: usize = 24;
/// Most primes on a built-in function: its n-th derivative, written out, is
/// a polynomial of degree about n in the function's value, and takes work
/// growing as a power of n, so a larger order is refused before any work.
pub const MAX_BUILTIN_ORDER: u32 = 100;
/// Most steps that matching one formula against an expression may take;
/// beyond it the formula is taken not to match.
pub const MAX_MATCH_STEPS: usize = 10_000;
/// Deepest formula that simplification uses as a forward quantity or an
/// assumption.
pub const MAX_PATTERN_DEPTH: usize = 64;
/// Most arithmetic operations that evaluating a network and a result at one
/// point may take.
pub const MAX_EVALUATION_WORK: u64 = 50_000_000;
/// Most arithmetic operations that grading one answer may spend evaluating,
/// over every comparison and repair it tries; beyond them it is
/// `too-large`, and a batch goes on to the next row.
pub const MAX_GRADE_WORK: u64 = 50_000_000;

/// Largest answer read, in bytes.
pub const MAX_ANSWER_BYTES: usize = 20_000;
/// Deepest nesting of brackets an answer may have.
pub const MAX_ANSWER_DEPTH: usize = 60;
/// Most parts of an answer read, trials of a reading included (the range
/// of a summed name that no index line declares is found by trying).
pub const MAX_RESOLVE_STEPS: usize = 200_000;
/// Largest answer, written out as a tree, that is graded.
pub const MAX_ANSWER_SIZE: usize = 20_000;
/// Largest power an answer may raise to.
pub const MAX_ANSWER_POWER: i64 = 1_000;

/// An operation that stopped because it outgrew its bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooLarge {
    /// What grew, as the end of a sentence: "the expression grows beyond
    /// 200000 nodes".
    pub what: String,
}

impl TooLarge {
    /// A stop because `what`.
    pub fn new(what: impl Into<String>) -> TooLarge {
        TooLarge { what: what.into() }
    }
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

/// Most questions a homework may have.
pub const MAX_QUESTIONS: usize = 1_000;
/// Most points one question may be worth.
pub const MAX_POINTS: f64 = 1e6;
/// Most answers (students times questions) one grading of a homework reads.
pub const MAX_GRADEBOOK_ANSWERS: usize = 1_000_000;

//! Hostile inputs made by mutating good ones: the seeds are the shipped
//! examples and the hand-graded answers, and each mutation is one a hostile
//! or careless user makes (a byte flipped, a piece repeated, cut or spliced
//! from elsewhere, a bracket opened, a special character put in).

/// A small, seeded generator (xorshift), so that a finding can be replayed.
pub struct Mutator {
    state: u64,
}

/// Pieces that break parsers and TeX when put in the right place.
const PIECES: [&str; 24] = [
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "^",
    "_",
    "'",
    "\\",
    "^^5c",
    "\\sum_k ",
    "\\sigma[",
    "\\frac{",
    "sum(i, ",
    "tanh(",
    "1e400",
    "/0",
    "\u{1b}[2J",
    "\u{0}",
    "\r",
    "\"",
    ",",
    "\u{3c9}",
];

impl Mutator {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Mutator {
        Mutator {
            state: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
        }
    }

    /// A number below `n` (at least 1).
    pub fn below(&mut self, n: usize) -> usize {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        (self.state % n.max(1) as u64) as usize
    }

    /// `text` changed by one to four mutations; `other` lends pieces to splice in.
    pub fn mutate(&mut self, text: &str, other: &str) -> String {
        let mut out: Vec<char> = text.chars().collect();
        let donor: Vec<char> = other.chars().collect();
        for _ in 0..1 + self.below(4) {
            let at = self.below(out.len() + 1);
            match self.below(6) {
                0 if !out.is_empty() => {
                    let end = (at + 1 + self.below(16)).min(out.len());
                    out.drain(at.min(end)..end);
                }
                1 => {
                    let piece = PIECES[self.below(PIECES.len())];
                    let times = if self.below(4) == 0 {
                        1 + self.below(64)
                    } else {
                        1
                    };
                    let inserted: Vec<char> = piece.repeat(times).chars().collect();
                    out.splice(at..at, inserted);
                }
                2 if !out.is_empty() => {
                    let start = at.min(out.len() - 1);
                    let end = (start + 1 + self.below(40)).min(out.len());
                    let copy: Vec<char> = out[start..end].to_vec();
                    let times = 1 + self.below(8);
                    for _ in 0..times {
                        out.splice(end..end, copy.iter().copied());
                    }
                }
                3 if !donor.is_empty() => {
                    let start = self.below(donor.len());
                    let end = (start + 1 + self.below(60)).min(donor.len());
                    out.splice(at..at, donor[start..end].iter().copied());
                }
                4 if !out.is_empty() => {
                    let at = at.min(out.len() - 1);
                    out[at] = char::from_u32(self.below(0x80) as u32).unwrap_or('?');
                }
                _ => {
                    let digits: Vec<char> = "9".repeat(1 + self.below(30)).chars().collect();
                    out.splice(at..at, digits);
                }
            }
        }
        out.into_iter().collect()
    }
}

/// The shipped examples' texts.
pub fn example_texts(root: &str) -> Vec<(String, String)> {
    let mut texts: Vec<(String, String)> = std::fs::read_dir(format!("{root}/examples"))
        .expect("the examples")
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_name()?.to_string_lossy().into_owned();
            name.ends_with(".nn").then(|| {
                (
                    name,
                    std::fs::read_to_string(&path).expect("an example reads"),
                )
            })
        })
        .collect();
    texts.sort();
    texts
}

/// The hand-graded answers: (example, query, answer).
pub fn corpus_answers(root: &str) -> Vec<(String, String, String)> {
    std::fs::read_to_string(format!("{root}/tests/corpus/answers.tsv"))
        .expect("the corpus")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let fields: Vec<&str> = l.split('\t').collect();
            (fields.len() >= 5).then(|| {
                (
                    fields[0].to_string(),
                    fields[1].to_string(),
                    fields[4].to_string(),
                )
            })
        })
        .collect()
}

//! A fuzzer for the command line: hostile inputs made by mutating the
//! examples, the hand-graded answers and batches of them, each run as its
//! own `chainrule` process with a memory limit and a time limit. A finding
//! is a panic, an exit status other than 0, 1 or 2, a run over its time, or
//! a run killed for its memory; each is saved under `target/fuzz-findings`.
//!
//! Run with `cargo bench --bench fuzz -- SECONDS` (60 by default); it
//! prints how many inputs each target ran and what it found.

#[path = "common/hostile.rs"]
mod hostile;

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hostile::{Mutator, corpus_answers, example_texts};

/// Longest a run may take.
const TIME_LIMIT: Duration = Duration::from_secs(20);
/// Most memory a run may map.
const MEMORY_LIMIT: u64 = 4 << 30;

/// How one run ended.
enum Ending {
    Status(i32),
    Panicked,
    TooSlow,
    Killed,
}

fn main() {
    let seconds: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(60);
    let root = env!("CARGO_MANIFEST_DIR");
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_chainrule"));
    let findings = Path::new(root).join("target/fuzz-findings");
    std::fs::create_dir_all(&findings).expect("a directory for findings");
    let scratch = std::env::temp_dir().join(format!("chainrule-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    let examples = example_texts(root);
    let answers = corpus_answers(root);
    let mut mutator = Mutator::new(Instant::now().elapsed().as_nanos() as u64 ^ 0x5eed);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let targets = ["network", "answer", "batch"];
    let mut runs = [0usize; 3];
    let mut statuses = [[0usize; 3]; 3];
    let mut found = 0usize;
    while Instant::now() < deadline {
        let target = mutator.below(targets.len());
        let (args, stdin, input) = match target {
            0 => {
                let (_, text) = &examples[mutator.below(examples.len())];
                let (_, donor) = &examples[mutator.below(examples.len())];
                let mutated = mutator.mutate(text, donor);
                let query = text
                    .lines()
                    .find_map(|l| l.strip_prefix("derive "))
                    .unwrap_or("dE/dx")
                    .to_string();
                let command = match mutator.below(3) {
                    0 => vec!["derive".to_string(), "-".into(), query, "--steps".into()],
                    1 => vec![
                        "grad".to_string(),
                        "-".into(),
                        "--format".into(),
                        "latex".into(),
                    ],
                    _ => vec![
                        "derive".to_string(),
                        "-".into(),
                        query,
                        "--form".into(),
                        "expanded".into(),
                    ],
                };
                (command, mutated.clone().into_bytes(), mutated)
            }
            1 => {
                let (example, query, answer) = &answers[mutator.below(answers.len())];
                let (_, _, donor) = &answers[mutator.below(answers.len())];
                // An argument cannot hold a NUL byte.
                let mutated = mutator.mutate(answer, donor).replace('\0', "");
                let args = vec![
                    "check".to_string(),
                    format!("{root}/examples/{example}"),
                    query.clone(),
                    "--answer".into(),
                    mutated.clone(),
                ];
                (args, Vec::new(), mutated)
            }
            _ => {
                let rows: Vec<String> = (0..1 + mutator.below(8))
                    .map(|n| {
                        let (_, query, answer) = &answers[mutator.below(answers.len())];
                        format!("s{n},{query},\"{}\"", answer.replace('"', "\"\""))
                    })
                    .collect();
                let csv = format!("id,query,answer\n{}\n", rows.join("\n"));
                let mutated = mutator.mutate(&csv, &csv);
                let path = scratch.join("batch.csv");
                std::fs::write(&path, &mutated).expect("a batch writes");
                let args = vec![
                    "check".to_string(),
                    format!("{root}/examples/bishop-5.3.nn"),
                    "--batch".into(),
                    path.to_string_lossy().into_owned(),
                ];
                (args, Vec::new(), mutated)
            }
        };
        runs[target] += 1;
        let ending = run(&binary, &args, &stdin, &scratch);
        let problem = match ending {
            Ending::Status(status @ 0..=2) => {
                statuses[target][status as usize] += 1;
                None
            }
            Ending::Status(other) => Some(format!("exit status {other}")),
            Ending::Panicked => Some("a panic".to_string()),
            Ending::TooSlow => Some(format!("over {} s", TIME_LIMIT.as_secs())),
            Ending::Killed => Some("killed (memory)".to_string()),
        };
        if let Some(problem) = problem {
            found += 1;
            let file = findings.join(format!("{}-{}.txt", targets[target], runs[target]));
            let record = format!("{problem}\nargs: {args:?}\n--- input ---\n{input}");
            std::fs::write(&file, record).expect("a finding is saved");
            println!(
                "{}: {problem}: saved as {}",
                targets[target],
                file.display()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    println!(
        "{:<8} {:>8} {:>8} {:>8} {:>8}",
        "target", "runs", "exit 0", "exit 1", "exit 2"
    );
    for (at, name) in targets.iter().enumerate() {
        let [zero, one, two] = statuses[at];
        println!("{name:<8} {:>8} {zero:>8} {one:>8} {two:>8}", runs[at]);
    }
    println!("findings: {found} in {seconds} s");
}

/// Runs one input, bounded in time and memory.
fn run(binary: &Path, args: &[String], stdin: &[u8], directory: &Path) -> Ending {
    let mut command = Command::new(binary);
    command
        .args(args)
        .current_dir(directory)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: between fork and exec the child only sets its own limit.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: MEMORY_LIMIT,
                rlim_max: MEMORY_LIMIT,
            };
            libc::setrlimit(libc::RLIMIT_AS, &limit);
            Ok(())
        });
    }
    let mut child = command.spawn().expect("the binary runs");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut text).ok();
        text
    });
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin)
        .ok();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            child.kill().ok();
            child.wait().ok();
            reader.join().ok();
            return Ending::TooSlow;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stderr = reader.join().unwrap_or_default();
    if String::from_utf8_lossy(&stderr).contains("panicked") {
        return Ending::Panicked;
    }
    match status.code() {
        Some(code) => Ending::Status(code),
        None => Ending::Killed,
    }
}

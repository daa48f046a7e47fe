//! How the engine's cost grows with its input, on the workloads that show
//! it: unrolled MLPs of growing width (the gradient), a tanh chain of
//! growing depth (backprop and written-out forms), a deep indexed MLP
//! (written out), and every command on Bishop's network.
//!
//! Each workload reports its output size, the median time of the command
//! run in this process, the median time this process spends reading,
//! parsing and lowering the file, and their ratio, which does not depend
//! on the machine; then the median time of the whole `chainrule` process,
//! its peak memory, and the command's time per forward operation. With `CHAINRULE_BASELINE=/path/to/chainrule` the
//! same commands also run on that binary, side by side (each run stopped
//! after 120 s or 4 GiB).
//!
//! Run with `cargo bench --bench engine`; `cargo bench --bench engine --
//! quick` runs each command once.

#[path = "common/workloads.rs"]
mod workloads;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use workloads::{Workload, indexed_mlp, tanh_chain, unrolled_mlp};

/// One command on one file.
struct Case {
    /// What the row is called.
    name: String,
    /// The command line after `chainrule`, the file as `{}`.
    args: Vec<String>,
    /// The file.
    file: PathBuf,
    /// Forward operations of the network, when counted.
    operations: Option<usize>,
}

/// What one process run measured.
struct ProcessRun {
    elapsed: Duration,
    peak_kib: i64,
    finished: bool,
}

/// What was measured of one case.
struct Row {
    output_bytes: usize,
    command: Duration,
    load: Duration,
    process: Duration,
    peak_kib: i64,
    baseline: Option<ProcessRun>,
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let runs = if quick { 1 } else { 5 };
    let directory = std::env::temp_dir().join("chainrule-bench");
    std::fs::create_dir_all(&directory).expect("a scratch directory");
    let baseline = std::env::var_os("CHAINRULE_BASELINE").map(PathBuf::from);
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_chainrule"));
    let cases = cases(&directory);
    let arguments: Vec<Vec<String>> = cases
        .iter()
        .map(|case| {
            case.args
                .iter()
                .map(|a| a.replace("{}", &case.file.to_string_lossy()))
                .collect()
        })
        .collect();
    // Whole processes first, while this process is small: a child forked
    // from a large process would count its parent's memory as its own.
    let mut processes = Vec::new();
    for args in &arguments {
        let runs: Vec<ProcessRun> = (0..runs)
            .map(|_| run_process(&binary, args, Duration::from_secs(600)))
            .collect();
        let before = baseline
            .as_ref()
            .map(|b| run_process(b, args, Duration::from_secs(120)));
        processes.push((runs, before));
    }
    let mut rows = Vec::new();
    for ((case, args), (runs_of_process, before)) in cases.iter().zip(&arguments).zip(processes) {
        let mut command_times = Vec::new();
        let mut output_bytes = 0;
        for _ in 0..runs {
            let start = Instant::now();
            let outcome = chainrule::cli::execute(
                std::iter::once("chainrule".to_string()).chain(args.iter().cloned()),
            );
            command_times.push(start.elapsed());
            output_bytes = outcome.stdout.len() + outcome.stderr.len();
        }
        let mut load_times = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            let network = chainrule::cli::load(&case.file.to_string_lossy()).expect("loads");
            load_times.push(start.elapsed());
            drop(network);
        }
        rows.push(Row {
            output_bytes,
            command: median(&command_times),
            load: median(&load_times),
            process: median(
                &runs_of_process
                    .iter()
                    .map(|r| r.elapsed)
                    .collect::<Vec<_>>(),
            ),
            peak_kib: runs_of_process
                .iter()
                .map(|r| r.peak_kib)
                .max()
                .unwrap_or(0),
            baseline: before,
        });
    }
    println!(
        "{:<38} {:>9} {:>10} {:>9} {:>8} {:>7} {:>9} {:>7} {:>7}{}",
        "workload",
        "ops",
        "out bytes",
        "cmd ms",
        "load ms",
        "ratio",
        "proc ms",
        "peak MB",
        "µs/op",
        if baseline.is_some() {
            format!(" {:>11} {:>8}", "before ms", "peak MB")
        } else {
            String::new()
        }
    );
    for (case, row) in cases.iter().zip(rows) {
        let per_op = case
            .operations
            .map(|ops| format!("{:.2}", row.command.as_secs_f64() * 1e6 / ops as f64))
            .unwrap_or_default();
        let mut line = format!(
            "{:<38} {:>9} {:>10} {:>9.1} {:>8.1} {:>7.2} {:>9.1} {:>7.1} {:>7}",
            case.name,
            case.operations.map(|o| o.to_string()).unwrap_or_default(),
            row.output_bytes,
            ms(row.command),
            ms(row.load),
            row.command.as_secs_f64() / row.load.as_secs_f64().max(1e-9),
            ms(row.process),
            row.peak_kib as f64 / 1024.0,
            per_op
        );
        if let Some(run) = &row.baseline {
            line.push_str(&if run.finished {
                format!(
                    " {:>11.1} {:>8.1}",
                    ms(run.elapsed),
                    run.peak_kib as f64 / 1024.0
                )
            } else {
                format!(" {:>11} {:>8.1}", "> limit", run.peak_kib as f64 / 1024.0)
            });
        }
        println!("{line}");
    }
}

/// Every workload and command.
fn cases(directory: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let write = |name: &str, workload: &Workload| -> (PathBuf, usize) {
        let file = directory.join(format!("{name}.nn"));
        std::fs::write(&file, &workload.text).expect("the workload is written");
        (file, workload.operations)
    };
    for (d, w, l, k) in [
        (16, 16, 2, 8),
        (32, 32, 3, 8),
        (64, 64, 3, 16),
        (96, 96, 6, 16),
        (128, 128, 6, 16),
    ] {
        let (file, operations) = write(&format!("mlp-{d}-{w}-{l}-{k}"), &unrolled_mlp(d, w, l, k));
        let formats: &[&str] = if w == 96 {
            &["dsl", "text", "latex", "json"]
        } else {
            &["dsl"]
        };
        for format in formats {
            cases.push(Case {
                name: format!("mlp {d},{w},{l},{k} grad {format}"),
                args: vec![
                    "grad".into(),
                    "{}".into(),
                    "--format".into(),
                    format.to_string(),
                ],
                file: file.clone(),
                operations: Some(operations),
            });
        }
    }
    for depth in [10, 100, 1_000, 10_000] {
        let (file, operations) = write(&format!("chain-deltas-{depth}"), &tanh_chain(depth, true));
        cases.push(Case {
            name: format!("tanh chain {depth} backprop"),
            args: vec![
                "derive".into(),
                "{}".into(),
                "dE/dw".into(),
                "--format".into(),
                "dsl".into(),
            ],
            file,
            operations: Some(operations),
        });
    }
    for depth in [10, 16, 100, 1_000] {
        let (file, operations) = write(&format!("chain-{depth}"), &tanh_chain(depth, false));
        cases.push(Case {
            name: format!("tanh chain {depth} expanded"),
            args: vec![
                "derive".into(),
                "{}".into(),
                "dE/dw".into(),
                "--form".into(),
                "expanded".into(),
                "--format".into(),
                "dsl".into(),
            ],
            file,
            operations: Some(operations),
        });
    }
    let (file, _) = write("indexed-mlp-30", &indexed_mlp(30));
    cases.push(Case {
        name: "indexed mlp 30 layers expanded".into(),
        args: vec![
            "derive".into(),
            "{}".into(),
            "dE/dw1[j,i]".into(),
            "--form".into(),
            "expanded".into(),
            "--format".into(),
            "dsl".into(),
        ],
        file,
        operations: None,
    });
    let bishop = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bishop-5.3.nn");
    let document = directory.join("bishop.tex");
    for (name, args) in [
        ("bishop derive", vec!["derive", "{}", "dE/da[j]"]),
        (
            "bishop derive --steps",
            vec!["derive", "{}", "dE/da[j]", "--steps"],
        ),
        (
            "bishop derive json",
            vec!["derive", "{}", "dE/da[j]", "--format", "json"],
        ),
        ("bishop verify", vec!["verify", "{}"]),
        (
            "bishop doc",
            vec!["doc", "{}", "-o", document.to_str().expect("a UTF-8 path")],
        ),
        (
            "bishop check",
            vec![
                "check",
                "{}",
                "dE/da[j]",
                "--answer",
                "h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k",
            ],
        ),
    ] {
        cases.push(Case {
            name: name.into(),
            args: args.into_iter().map(String::from).collect(),
            file: bishop.clone(),
            operations: None,
        });
    }
    cases
}

/// Runs a binary to its end (or until `limit`, and never beyond 4 GiB of
/// address space) and measures its time and peak memory.
fn run_process(binary: &Path, args: &[String], limit: Duration) -> ProcessRun {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(binary);
    command
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setrlimit is async-signal-safe; it only limits the child.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 4 << 30,
                rlim_max: 4 << 30,
            };
            libc::setrlimit(libc::RLIMIT_AS, &limit);
            Ok(())
        });
    }
    let start = Instant::now();
    let child = command.spawn().expect("the binary starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut finished = true;
    loop {
        // SAFETY: the child is ours and not yet waited for.
        let done = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if done == pid {
            break;
        }
        if start.elapsed() > limit {
            finished = false;
            // SAFETY: as above; then the killed child is reaped.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::wait4(pid, &mut status, 0, &mut usage);
            }
            break;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    std::mem::forget(child);
    ProcessRun {
        elapsed: start.elapsed(),
        peak_kib: usage.ru_maxrss,
        finished: finished && libc::WIFEXITED(status),
    }
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

//! Hostile input: what a user trying to break chainrule would write. Every
//! case ends with a clear answer: a located error and exit 2, a verdict, or
//! a result; never a panic, a hang, a TeX command run, or a lost file.

mod common;
#[path = "../benches/common/hostile.rs"]
mod mutations;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{random_network, run, run_with_input};
use proptest::prelude::*;

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chainrule-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// True when pdflatex can be run; under CI it must be.
fn have_pdflatex() -> bool {
    let found = Command::new("pdflatex").arg("--version").output().is_ok();
    assert!(
        found || std::env::var_os("CI").is_none(),
        "CI is set but pdflatex is not installed"
    );
    found
}

/// Runs the binary in `directory` with `path` searched first for programs.
fn run_in(directory: &Path, args: &[&str], path_first: Option<&Path>) -> common::Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chainrule"));
    command
        .args(args)
        .current_dir(directory)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(first) = path_first {
        let path = std::env::var("PATH").unwrap_or_default();
        command.env("PATH", format!("{}:{path}", first.display()));
    }
    let output = command.output().expect("the binary runs");
    common::Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        status: output.status.code().unwrap_or(-1),
    }
}

/// Runs `script` with bash in `directory`, `chainrule` naming the binary.
fn shell(directory: &Path, script: &str) -> std::process::Output {
    let binary = Path::new(env!("CARGO_BIN_EXE_chainrule"));
    let path = std::env::var("PATH").unwrap_or_default();
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(directory)
        .env(
            "PATH",
            format!("{}:{path}", binary.parent().unwrap().display()),
        )
        .output()
        .unwrap()
}

/// Bishop's network with one more line.
fn bishop_with(line: &str) -> String {
    format!("{}\n{line}\n", common::example_text("bishop-5.3.nn"))
}

// ---------------------------------------------------------------------
// 1. TeX never runs anything a user wrote.

#[test]
fn notation_that_tex_would_read_as_commands_is_refused() {
    for (notation, column, message) in [
        (
            "^^5cinput{secret.txt}",
            10,
            "a `^` needs a symbol before it",
        ),
        (
            "w^^5cinput{secret.txt}",
            12,
            "a superscript needs something to set, found `^`",
        ),
        (
            "^^5cimmediate^^5copenout15 pwned.txt",
            10,
            "a `^` needs a symbol before it",
        ),
        ("^^5cwrite18{touch x}", 10, "a `^` needs a symbol before it"),
        (
            "^^5cloop^^5ciftrue^^5crepeat",
            10,
            "a `^` needs a symbol before it",
        ),
        (
            "w_",
            12,
            "a subscript needs something to set, found the end of the string",
        ),
        (
            "w^",
            12,
            "a superscript needs something to set, found the end of the string",
        ),
        ("^", 10, "a `^` needs a symbol before it"),
        ("_", 10, "a `_` needs a symbol before it"),
        ("''", 10, "a prime `'` needs a symbol before it"),
        (
            "\\hat",
            14,
            "a `\\hat` needs something to set, found the end of the string",
        ),
        (
            "\\mathrm",
            17,
            "a `\\mathrm` needs something to set, found the end of the string",
        ),
        ("w^{(1)}^{2}", 17, "a second superscript on one symbol"),
        (
            "\\catcode",
            10,
            "the command `\\catcode` is not allowed in notation",
        ),
        ("a~b", 11, "the character `~` is not allowed in notation"),
    ] {
        let text = bishop_with(&format!("latex x \"{notation}\""));
        let out = run_with_input(&["derive", "-", "dE/da[j]"], text.as_bytes());
        assert_eq!(out.status, 2, "{notation}: {}", out.stderr);
        let line = text.lines().count();
        let wanted = format!("<stdin>:{line}:{column}: error: {message}");
        assert!(
            out.stderr.starts_with(&wanted),
            "{notation}:\n{}\nwanted {wanted}",
            out.stderr
        );
    }
}

/// Writes a stand-in for pdflatex into `directory`: a shell script that
/// records its arguments, environment and working directory, then does
/// what `body` says.
fn fake_pdflatex(directory: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = directory.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let record = directory.join("record.txt");
    let script = format!(
        "#!/bin/sh\n{{ echo \"args: $*\"; echo \"cwd: $(pwd)\"; echo \"openin_any=$openin_any openout_any=$openout_any\"; }} >> '{}'\n{body}\n",
        record.display()
    );
    let path = bin.join("pdflatex");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn pdflatex_runs_sandboxed_under_a_fixed_name_in_a_directory_of_its_own() {
    let dir = scratch("sandbox");
    let bin = fake_pdflatex(&dir, "printf '%%PDF-1.5 fake' > document.pdf; exit 0");
    let example = format!("{}/examples/bishop-5.3.nn", env!("CARGO_MANIFEST_DIR"));
    let out = run_in(
        &dir,
        &["doc", &example, "-o", "\\typeout{X}\\stop.tex", "--pdf"],
        Some(&bin),
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let record = std::fs::read_to_string(dir.join("record.txt")).unwrap();
    assert_eq!(
        record.matches("args: ").count(),
        2,
        "run twice, for references:\n{record}"
    );
    for line in record.lines().filter(|l| l.starts_with("args: ")) {
        assert_eq!(
            line,
            "args: -no-shell-escape -interaction=nonstopmode -halt-on-error -jobname=document document.tex"
        );
    }
    assert!(record.contains("openin_any=p openout_any=p"), "{record}");
    let cwd = record
        .lines()
        .find_map(|l| l.strip_prefix("cwd: "))
        .unwrap();
    assert_ne!(Path::new(cwd), dir.as_path(), "compiled elsewhere");
    assert!(!Path::new(cwd).exists(), "the scratch directory is removed");
    // On Unix a backslash is an ordinary character of a file name.
    let pdf_name = String::from("\\typeout{X}\\stop.pdf");
    assert_eq!(std::fs::read(dir.join(pdf_name)).unwrap(), b"%PDF-1.5 fake");
    assert!(
        out.stdout.ends_with("wrote `\\typeout{X}\\stop.pdf`\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_failed_compilation_names_the_first_tex_error_and_exits_1() {
    let dir = scratch("failed");
    let bin = fake_pdflatex(
        &dir,
        "printf 'This is pdfTeX\\n! Undefined control sequence.\\nl.12 \\\\oops\\n' > document.log; exit 1",
    );
    let example = format!("{}/examples/bishop-5.3.nn", env!("CARGO_MANIFEST_DIR"));
    let out = run_in(
        &dir,
        &["doc", &example, "-o", "out.tex", "--pdf"],
        Some(&bin),
    );
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert_eq!(out.stdout, "wrote `out.tex`\n");
    assert_eq!(
        out.stderr,
        "error: pdflatex could not compile the document: ! Undefined control sequence.\nl.12 \\oops\n"
    );
    assert!(!dir.join("out.pdf").exists());
    // A run that ends well but writes no PDF is a failure too.
    let empty = scratch("no-pdf");
    let bin = fake_pdflatex(&empty, "exit 0");
    let out = run_in(
        &empty,
        &["doc", &example, "-o", "out.tex", "--pdf"],
        Some(&bin),
    );
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("ended without writing a PDF"),
        "{}",
        out.stderr
    );
}

#[test]
fn awkward_output_and_input_names_compile() {
    if !have_pdflatex() {
        return;
    }
    let dir = scratch("names");
    let example = common::example_text("sigmoid-bce.nn");
    let input = format!("\u{3c9}\u{1b}[31m{}.nn", "%~{}");
    std::fs::write(dir.join(&input), example).unwrap();
    for output in [
        "\\typeout{X}\\stop.tex",
        "a%b.tex",
        "a~b.tex",
        "{}.tex",
        ".tex",
    ] {
        let out = run_in(&dir, &["doc", &input, "-o", output, "--pdf"], None);
        assert_eq!(out.status, 0, "{output}: {}", out.stderr);
        let pdf = dir.join(Path::new(output).with_extension("pdf"));
        assert!(pdf.exists(), "{output}: {}", pdf.display());
        assert!(!out.stdout.contains('\u{1b}'), "{:?}", out.stdout);
    }
    // Nothing but the outputs is left beside them.
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".aux") || n.ends_with(".log") || n.contains("partial"))
        .collect();
    left.sort();
    assert!(left.is_empty(), "{left:?}");
}

/// A notation string made by the grammar the notation check accepts.
fn notation() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        "[a-zA-Z0-9]",
        "[,.+\\-*/|=<>]",
        prop::sample::select(vec![
            "\\alpha", "\\delta", "\\Omega", "\\ell", "\\star", "\\prime"
        ])
        .prop_map(str::to_string),
    ];
    let leaf = atom.clone();
    let sequence = leaf.prop_recursive(3, 12, 3, move |inner| {
        // A group of one accent with scripts, scripted again, is a double
        // script to TeX and refused: a group made here to stand as a base
        // holds two items or more.
        let group = prop::collection::vec(inner.clone(), 1..3)
            .prop_map(|items| format!("{{{}}}", items.join(" ")));
        let base_group = prop::collection::vec(inner.clone(), 2..4)
            .prop_map(|items| format!("{{{}}}", items.join(" ")));
        let command = (
            prop::sample::select(vec![
                "\\mathrm",
                "\\mathbf",
                "\\hat",
                "\\tilde",
                "\\boldsymbol",
                "\\operatorname",
            ]),
            base_group.clone(),
        )
            .prop_map(|(c, g)| format!("{c}{g}"));
        let bracketed = (prop::collection::vec(inner.clone(), 1..3), any::<bool>()).prop_map(
            |(items, round)| {
                let (open, close) = if round { ("(", ")") } else { ("[", "]") };
                format!("{open}{}{close}", items.join(" "))
            },
        );
        let base = prop_oneof![atom.clone(), base_group, command, bracketed];
        let operand = prop_oneof![atom.clone(), group];
        (
            base,
            0..3usize,
            prop::option::of(operand.clone()),
            prop::option::of(operand),
            any::<bool>(),
        )
            .prop_map(|(base, primes, sup, sub, sub_first)| {
                let sup = sup.map(|s| format!("^{s}")).unwrap_or_default();
                let sub = sub.map(|s| format!("_{s}")).unwrap_or_default();
                // TeX joins primes with a superscript only right after them.
                let scripts = if sub_first && primes == 0 {
                    format!("{sub}{sup}")
                } else {
                    format!("{sup}{sub}")
                };
                format!("{base}{}{scripts}", "'".repeat(primes))
            })
    });
    prop::collection::vec(sequence, 1..3).prop_map(|items| items.join(" "))
}

/// A random network with a generated notation for each of its families.
fn noted_network(seed: u64, notations: &[String]) -> String {
    let text = random_network(seed);
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|line| {
            let line = line
                .trim_start_matches("input ")
                .trim_start_matches("param ")
                .trim_start_matches("target ");
            let name: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let rest = &line[name.len()..];
            (!name.is_empty()
                && (rest.is_empty() || rest.starts_with('[') || rest.starts_with(" =")))
            .then_some(name)
        })
        .collect();
    names.sort();
    names.dedup();
    let mut out = text;
    for (name, tex) in names.iter().zip(notations.iter().cycle()) {
        out.push_str(&format!("latex {name} \"{tex}\"\n"));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every string the grammar makes is accepted, and each network's
    /// every result prints in LaTeX.
    #[test]
    fn generated_notation_is_accepted(seed in any::<u64>(), notations in prop::collection::vec(notation(), 4)) {
        let text = noted_network(seed, &notations);
        let out = run_with_input(&["grad", "-", "--objective", "E", "--format", "latex"], text.as_bytes());
        prop_assert!(out.status == 0 || out.stderr.contains("too large"), "{text}\n{}", out.stderr);
    }
}

proptest! {
    // Each case compiles a document twice with pdflatex: a bounded number.
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// Every accepted network's document compiles.
    #[test]
    fn documents_with_generated_notation_compile(seed in any::<u64>(), notations in prop::collection::vec(notation(), 4)) {
        if !have_pdflatex() {
            return Ok(());
        }
        let dir = scratch(&format!("compile-{seed}"));
        let text = noted_network(seed, &notations);
        std::fs::write(dir.join("net.nn"), &text).unwrap();
        let out = run_in(&dir, &["doc", "net.nn", "-o", "net.tex", "--pdf"], None);
        prop_assert_eq!(out.status, 0, "{}\n{}", text, out.stderr);
        prop_assert!(dir.join("net.pdf").exists());
    }
}

#[test]
fn an_output_never_overwrites_an_input() {
    let dir = scratch("overwrite");
    let example = common::example_text("bishop-5.3.nn");
    std::fs::write(dir.join("x.nn"), &example).unwrap();
    let out = run_in(&dir, &["doc", "x.nn", "-o", "./x.nn"], None);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr
            .starts_with("error: the output `./x.nn` is the input `x.nn`"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(dir.join("x.nn")).unwrap(), example);
    std::fs::write(dir.join("batch.csv"), "id,query,answer\ns1,dE/da[j],0\n").unwrap();
    for target in ["batch.csv", "x.nn"] {
        let out = run_in(
            &dir,
            &["check", "x.nn", "--batch", "batch.csv", "--out", target],
            None,
        );
        assert_eq!(out.status, 2, "{target}");
        assert!(
            out.stderr.contains("chainrule never writes over its input"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(std::fs::read_to_string(dir.join("x.nn")).unwrap(), example);
    assert_eq!(
        std::fs::read_to_string(dir.join("batch.csv")).unwrap(),
        "id,query,answer\ns1,dE/da[j],0\n"
    );
}

#[test]
fn reads_stop_at_their_limit_on_special_files() {
    // `/dev/zero` reports no length; the read stops at the limit anyway.
    let out = run(&["derive", "/dev/zero", "dE/dx"]);
    assert_eq!(out.status, 2);
    assert_eq!(
        out.stderr,
        "error: the network file `/dev/zero` is larger than 16 MiB, the most chainrule reads\n"
    );
    let out = run(&["check", "examples/bishop-5.3.nn", "--batch", "/dev/zero"]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr
            .contains("the batch file `/dev/zero` is larger than 64 MiB"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_named_pipe_without_a_writer_reads_as_empty() {
    let dir = scratch("fifo");
    let fifo = dir.join("pipe.nn");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let out = run(&["derive", fifo.to_str().unwrap(), "dE/dx"]);
    assert_eq!(out.status, 2, "{}", out.stderr);
}

/// Strings of TeX tokens drawn at random, most of them malformed: those the
/// notation check accepts are set in documents that must compile.
#[test]
fn random_token_strings_are_refused_or_compile() {
    const TOKENS: [&str; 20] = [
        "a", "x", "1", "{", "}", "{", "}", "^", "_", "'", "\\hat", "\\mathrm", "\\alpha", "(", ")",
        "[", "]", " ", "\\,", "+",
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below as u64) as usize
    };
    let mut accepted = Vec::new();
    let mut tried = 0;
    while accepted.len() < 18 && tried < 200_000 {
        tried += 1;
        let length = 1 + next(10);
        let tex: String = (0..length).map(|_| TOKENS[next(TOKENS.len())]).collect();
        let text = format!("input x\nE = x*x\nlatex x \"{tex}\"\n");
        if chainrule::Network::load(chainrule::Source::new("t.nn", text)).is_ok()
            && tex.contains(['^', '_', '\''])
            && !accepted.contains(&tex)
        {
            accepted.push(tex);
        }
    }
    assert_eq!(accepted.len(), 18, "after {tried} strings");
    if !have_pdflatex() {
        return;
    }
    for (n, notations) in accepted.chunks(9).enumerate() {
        let mut text = String::from("input x\nparam w\n");
        let mut previous = "x".to_string();
        for (k, tex) in notations.iter().enumerate() {
            text.push_str(&format!(
                "u{k} = tanh(w*{previous})^2\nlatex u{k} \"{tex}\"\n"
            ));
            previous = format!("u{k}");
        }
        text.push_str(&format!("E = {previous}^2\nderive dE/dw\n"));
        let dir = scratch(&format!("tokens-{n}"));
        std::fs::write(dir.join("net.nn"), &text).unwrap();
        let out = run_in(&dir, &["doc", "net.nn", "-o", "net.tex", "--pdf"], None);
        assert_eq!(out.status, 0, "{text}\n{}", out.stderr);
    }
}

// ---------------------------------------------------------------------
// 2. No panics, no aborts.

#[test]
fn an_argument_that_is_not_utf8_is_an_error() {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"a\xffb.nn");
    for args in [
        vec![
            std::ffi::OsStr::new("derive"),
            bad,
            std::ffi::OsStr::new("dE/dx"),
        ],
        vec![
            std::ffi::OsStr::new("check"),
            std::ffi::OsStr::new("examples/bishop-5.3.nn"),
            std::ffi::OsStr::new("dE/da[j]"),
            std::ffi::OsStr::new("--answer"),
            bad,
        ],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_chainrule"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("is not UTF-8 text: `a\u{fffd}b.nn`"),
            "{stderr}"
        );
    }
}

#[test]
fn a_full_device_is_an_error_and_a_closed_pipe_is_not() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(["grad", "examples/bishop-5.3.nn"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: cannot write the output: No space left on device (os error 28)\n"
    );
    // `check --batch … | head -c 1`: the reader leaves after one byte.
    let dir = scratch("pipe");
    let rows: String = (0..200)
        .map(|n| format!("s{n},dE/da[j],h'(a_j)\\sum_k w^{{(2)}}_{{kj}}\\delta_k\n"))
        .collect();
    std::fs::write(dir.join("batch.csv"), format!("id,query,answer\n{rows}")).unwrap();
    let example = format!("{}/examples/bishop-5.3.nn", env!("CARGO_MANIFEST_DIR"));
    let output = shell(
        &dir,
        &format!(
            "chainrule check '{example}' --batch batch.csv | head -c 1 >/dev/null; echo \"${{PIPESTATUS[0]}}\""
        ),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "{stderr}");
    let status = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert!(status == "0" || status == "1", "exit {status}");
}

#[test]
fn huge_ranges_are_refused_where_numbers_are_needed() {
    for size in ["1000000", "18446744073709551615"] {
        let text = common::example_text("bishop-5.3.nn").replacen(
            "index i in D",
            &format!("index i in D\nrange D = {size}"),
            1,
        );
        let out = run_with_input(&["verify", "-"], text.as_bytes());
        assert_eq!(out.status, 2, "{size}: {}", out.stdout);
        assert!(
            out.stderr.starts_with("<stdin>:3:7: error: with the sizes given, evaluating the network by numbers takes more than 50000000 operations"),
            "{size}: {}",
            out.stderr
        );
        // A derivation does not need numbers.
        let derived = run_with_input(&["derive", "-", "dE/da[j]"], text.as_bytes());
        assert_eq!(derived.status, 0, "{}", derived.stderr);
        // Beyond the budget a wrong answer is too large, never incorrect
        // without a counterexample.
        if size == "1000000" {
            continue;
        }
        let graded = run_with_input(
            &[
                "check",
                "-",
                "dE/da[j]",
                "--answer",
                "h'(a_j) \\sum_k w^{(2)}_{kj}",
            ],
            text.as_bytes(),
        );
        assert_eq!(graded.status, 1);
        assert!(
            graded
                .stdout
                .starts_with("too-large (too large to evaluate by numbers)"),
            "{size}: {}",
            graded.stdout
        );
    }
}

#[test]
fn primes_are_bounded() {
    let primes = "'".repeat(12);
    let text = format!("input x\nE = sigmoid{primes}(x)\n");
    let out = run_with_input(&["derive", "-", "dE/dx"], text.as_bytes());
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.len() < 10_000, "{} bytes", out.stdout.len());
    let out = run(&["diff", &format!("sigmoid{}(x)", "'".repeat(14)), "x"]);
    assert_eq!(out.status, 0);
    assert!(out.stdout.len() < 10_000, "{} bytes", out.stdout.len());
    let out = run(&["diff", &format!("sigmoid{}(x)", "'".repeat(101)), "x"]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("`sigmoid` is differentiated 101 times, more than the 100 times a built-in function is written out"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------
// 4. Every batch row gets a verdict; nothing is swallowed.
// 5. Output that is safe to open.

/// The header of a grades CSV without carried columns.
const GRADES_HEADER: &str = "id,query,answer,read_as,verdict,evidence,feedback,diagnosis,repaired,simplified,first_wrong_line";

/// The cells of one line of CSV.
fn cells(line: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    let record = reader.records().next().expect("a row").expect("CSV");
    record.iter().map(str::to_string).collect()
}

/// Grades `batch` (named `name`) against Bishop's network; the CSV or JSON
/// Lines it prints, line by line.
fn grade_batch(name: &str, batch: &[u8]) -> Vec<String> {
    let dir = scratch(&format!("batch-{name}"));
    std::fs::write(dir.join(name), batch).unwrap();
    let example = format!("{}/examples/bishop-5.3.nn", env!("CARGO_MANIFEST_DIR"));
    let out = run_in(&dir, &["check", &example, "--batch", name], None);
    assert!(out.status == 0 || out.status == 1, "{name}: {}", out.stderr);
    out.stdout.lines().map(str::to_string).collect()
}

#[test]
fn every_csv_row_gets_its_own_verdict() {
    let batch = b"id,query,answer\ns1,dE/da[j],h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k\ns2,dE/da[j]\ns3,dE/da[j],x,y\ns4,dE/da[j],\xff\ns5,dE/da[j],\"h(a_j\ns6,dE/da[j],0\n";
    let lines = grade_batch("rows.csv", batch);
    assert_eq!(
        lines,
        [
            GRADES_HEADER,
            "s1,dE/da[j],h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k,h'(a_{j}) \\sum_{k} w^{(2)}_{kj} \\delta_{k},correct,symbolic identity,Right.,,,,",
            "s2,,,,unreadable,reading the answer,\"The row could not be read: line 3: found 2 fields, expected 3 (id,query,answer).\",\"line 3: found 2 fields, expected 3 (id,query,answer)\",,,",
            "s3,,,,unreadable,reading the answer,\"The row could not be read: line 4: found 4 fields, expected 3 (id,query,answer).\",\"line 4: found 4 fields, expected 3 (id,query,answer)\",,,",
            "s4,,,,unreadable,reading the answer,The row could not be read: line 5: found bytes that are not UTF-8 text.,line 5: found bytes that are not UTF-8 text,,,",
            "s5,,,,unreadable,reading the answer,\"The row could not be read: line 6: a quote opened in this row is never closed, so every line after it was read into it.\",\"line 6: a quote opened in this row is never closed, so every line after it was read into it\",,,",
        ]
    );
    // A quote inside an unquoted field opens nothing.
    let stray = grade_batch(
        "stray.csv",
        b"id,query,answer\ns1,dE/da[j],say \"hi\ns2,dE/da[j],h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k\n",
    );
    let (first, second) = (cells(&stray[1]), cells(&stray[2]));
    assert!(
        first[0] == "s1" && first[4] == "unreadable" && !stray[1].contains("never closed"),
        "{}",
        stray[1]
    );
    assert_eq!((second[0].as_str(), second[4].as_str()), ("s2", "correct"));
    // A file with only its header gets a file with only a header.
    assert_eq!(
        grade_batch("empty.csv", b"id,query,answer\n"),
        [GRADES_HEADER]
    );
}

#[test]
fn every_json_lines_row_gets_its_own_verdict_at_its_line() {
    let good = r#"{"id":"a","query":"dE/da[j]","answer":"h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k"}"#;
    let rows = [
        good.to_string(),
        good.replace("\"a\"", "\"b\""),
        r#"{"id":"c","query":1,"answer":"0"}"#.to_string(),
        r#"{"id":"d","id":"e","query":"dE/da[j]","answer":"0"}"#.to_string(),
        r#"{"id":"f","query":"dE/da[j]"}"#.to_string(),
        r#"{"id":"g","query":"dE/da[j]","answer":null}"#.to_string(),
        r#"{"id":"h","query":"dE/da[j]","answer":"\ud800"}"#.to_string(),
        "not json".to_string(),
    ];
    let batch = rows.join("\r\n") + "\r\n";
    let lines = grade_batch("rows.jsonl", batch.as_bytes());
    // The header, then a verdict for each of the eight lines, in order.
    assert_eq!(lines.len(), 9, "{lines:#?}");
    for (line, id) in [(1, "a"), (2, "b")] {
        let row = cells(&lines[line]);
        assert_eq!(
            (row[0].as_str(), row[4].as_str()),
            (id, "correct"),
            "{row:?}"
        );
    }
    for (line, text) in lines.iter().enumerate().skip(3) {
        assert!(text.contains(",unreadable,"), "{text}");
        assert!(text.contains(&format!("line {line}: ")), "{text}");
    }
    assert!(
        lines[3].contains("invalid type: integer `1`"),
        "{}",
        lines[3]
    );
    assert!(lines[4].contains("duplicate field `id`"), "{}", lines[4]);
    assert!(lines[5].contains("missing field `answer`"), "{}", lines[5]);
    assert!(lines[6].contains("invalid type: null"), "{}", lines[6]);
    assert!(
        lines[7].contains("hex escape"),
        "a lone surrogate: {}",
        lines[7]
    );
}

#[test]
fn grades_csv_cells_cannot_start_a_formula_or_move_the_cursor() {
    let batch = "id,query,answer\n=HYPERLINK(\"http://x\"),dE/da[j],0\n+1,dE/da[j],0\n-2,dE/da[j],0\n@SUM(A1),dE/da[j],0\n\"\tt\",dE/da[j],0\n\"\rr\",dE/da[j],0\nesc\u{1b}[2J,dE/da[j],0\n";
    let lines = grade_batch("formulas.csv", batch.as_bytes());
    let ids: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(",dE/da[j],").next().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "\"'=HYPERLINK(\"\"http://x\"\")\"",
            "'+1",
            "'-2",
            "'@SUM(A1)",
            "' t",
            "'\u{240d}r",
            "esc\u{241b}[2J",
        ]
    );
}

// ---------------------------------------------------------------------
// 3. Grading is bounded; a slow row never stalls a batch.

/// Runs the binary on `args`, killing it after `seconds`.
fn run_bounded(args: &[&str], seconds: u64) -> common::Run {
    common::run_within(args, b"", seconds)
}

#[test]
fn unclosed_calls_are_read_without_backtracking() {
    // Each of these took time exponential in its depth.
    for opening in [
        "\\sigma[",
        "\\sigma(",
        "\\tanh\\left(",
        "\\operatorname{f}(",
        "\\mathrm{sigmoid}{",
    ] {
        let answer = format!("{}a_j", opening.repeat(40));
        let out = check_bishop_within(&answer, 30);
        assert_eq!(out.status, 1, "{opening}: {}", out.stderr);
        assert!(
            out.stdout.starts_with("unreadable"),
            "{opening}: {}",
            out.stdout
        );
    }
    // A function name without a call still reads as a symbol.
    let out = check_bishop("\\sigma_k");
    assert!(
        out.stdout.contains("unknown symbol `\\sigma`"),
        "read as a symbol: {}",
        out.stdout
    );
}

#[test]
fn deeply_nested_sums_are_too_large_not_endless() {
    let answer = format!("{}w^{{(2)}}_{{kj}}", "\\sum_k ".repeat(30));
    let out = check_bishop_within(&answer, 60);
    assert_eq!(out.status, 1);
    assert!(
        out.stdout
            .starts_with("too-large (too large to evaluate by numbers)"),
        "{}",
        out.stdout
    );
}

#[test]
fn nested_sums_over_an_undeclared_index_are_read_once() {
    // Found by the fuzzer: each `\sum_k` over an index no line declares
    // read its body once per trial and once more, doubling at every level.
    let answer = format!("\\frac{{1}}{{1 + {}e^{{-a}}}} - t", "\\sum_k ".repeat(62));
    let out = run_bounded(
        &[
            "check",
            "examples/sigmoid-bce.nn",
            "dE/da",
            "--answer",
            &answer,
        ],
        60,
    );
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("too-large") || out.stdout.starts_with("incorrect"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_sum_before_an_unclosed_bracket_is_read_once() {
    // Found by the fuzzer: the product around a sum tried again the factors
    // the sum could not take, doubling the work at every level.
    let answer = format!(
        "\\left( {}\\sum_k w^{{(2)}}_{{kj}} \\delta_k \\right) h'(a_j)",
        "\\sum_k wft( ".repeat(40)
    );
    let out = check_bishop_within(&answer, 30);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stdout.starts_with("unreadable"), "{}", out.stdout);
    // A sum still reaches to the end of its product.
    let out = check_bishop("h'(a_j) \\sum_k w^{(2)}_{kj} \\delta_k");
    assert!(out.stdout.starts_with("correct"), "{}", out.stdout);
}

#[test]
fn a_row_over_its_budget_is_too_large_and_the_batch_goes_on() {
    let dir = scratch("budget");
    let nested = format!("{}w^{{(2)}}_{{kj}}", "\\\\sum_k ".repeat(30)).replace("\\\\", "\\");
    let unclosed = "\\sigma[".repeat(40);
    let batch = format!(
        "id,query,answer\ns1,dE/da[j],h'(a_j)\\sum_k w^{{(2)}}_{{kj}}\\delta_k\ns2,dE/da[j],{nested}\ns3,dE/da[j],{unclosed}\ns4,dE/da[j],h'(a_j) \\sum_k w^{{(2)}}_{{kj}} \\delta_k\n"
    );
    std::fs::write(dir.join("batch.csv"), batch).unwrap();
    let example = format!("{}/examples/bishop-5.3.nn", env!("CARGO_MANIFEST_DIR"));
    let batch_path = dir.join("batch.csv");
    let out = run_bounded(
        &["check", &example, "--batch", batch_path.to_str().unwrap()],
        120,
    );
    let verdicts: Vec<String> = out
        .stdout
        .lines()
        .skip(1)
        .map(|l| cells(l)[4].clone())
        .collect();
    assert_eq!(
        verdicts,
        ["correct", "too-large", "unreadable", "correct"],
        "{}",
        out.stdout
    );
}

// ---------------------------------------------------------------------
// 8. Messages that mean what they say.

/// [`check_bishop`], killed after `seconds`.
fn check_bishop_within(answer: &str, seconds: u64) -> common::Run {
    run_bounded(
        &[
            "check",
            "examples/bishop-5.3.nn",
            "dE/da[j]",
            "--answer",
            answer,
        ],
        seconds,
    )
}

/// `check` of an answer for δ_j on Bishop's network.
fn check_bishop(answer: &str) -> common::Run {
    run(&[
        "check",
        "examples/bishop-5.3.nn",
        "dE/da[j]",
        "--answer",
        answer,
    ])
}

#[test]
fn a_known_symbol_without_its_indices_is_named_as_such() {
    let out = check_bishop("a");
    assert_eq!(
        out.stdout,
        "unreadable (reading the answer)\ndiagnosis: at column 1: `a` is written with its indices, as `a_{j}` or `a_{k}`\n"
    );
    // Spacing inside a subscript separates nothing.
    let spaced = "h'(a_j) \\sum_k w^{(2)}_{k\\,j} \\delta_k";
    let out = check_bishop(spaced);
    assert!(
        out.stdout.starts_with("correct (symbolic identity)"),
        "{}",
        out.stdout
    );
    // Text an answer holds is quoted as written, never as a placeholder.
    let out = check_bishop("w^{(2)}_{k\\j}");
    assert!(!out.stdout.contains("this symbol"), "{}", out.stdout);
}

#[test]
fn a_file_without_parameters_has_no_gradient() {
    let out = run_with_input(&["grad", "-"], b"input x\nE = x*x\n");
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.starts_with(
            "error: standard input declares no `param`, so there is no gradient to take"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn division_by_zero_is_an_error() {
    for (text, wanted) in [
        (
            "input x\nparam w\nE = w*x/0\n",
            "<stdin>:3:9: error: this divides by zero",
        ),
        (
            "input x\nparam w\nE = w*0^(-1)\n",
            "<stdin>:3:10: error: a negative power of zero divides by zero",
        ),
        (
            "input x\nparam w\nE = w*x/(1-1)\n",
            "<stdin>:3:1: error: the definition of `E` divides by zero",
        ),
    ] {
        let out = run_with_input(&["grad", "-"], text.as_bytes());
        assert_eq!(out.status, 2, "{text}");
        assert!(out.stderr.starts_with(wanted), "{text}: {}", out.stderr);
    }
    let out = run(&["diff", "x/(2-2)", "x"]);
    assert_eq!(out.status, 2);
    assert_eq!(
        out.stderr,
        "error: `x/(2-2)` divides by zero once its numbers are worked out\n"
    );
    let out = run(&["diff", "x/0", "x"]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr
            .starts_with("<expression>:1:3: error: this divides by zero"),
        "{}",
        out.stderr
    );
}

#[test]
fn notation_given_twice_and_contradictory_assumptions_are_errors() {
    let out = run_with_input(
        &["grad", "-"],
        b"input x\nparam w\nE = w*x\nlatex w \"a\"\nlatex w \"b\"\n",
    );
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.starts_with(
            "<stdin>:5:7: error: a second `latex` line for `w`; line 4 gives its notation already"
        ),
        "{}",
        out.stderr
    );
    // One `latex` and one `delta` line for a family are two notations.
    let out = run_with_input(
        &["grad", "-"],
        b"input x\nparam w\nu = w*x\nE = u*u\nlatex u \"a\"\ndelta u \"\\delta\"\n",
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let out = run_with_input(
        &["grad", "-"],
        b"input x\nparam w\nassume x = 1\nassume x = 2\nE = w*x\n",
    );
    assert_eq!(out.status, 2);
    assert!(
        out.stderr
            .starts_with("<stdin>:4:8: error: this assumption contradicts the one on line 3"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------
// 7. No superlinear cost below the limits.

#[test]
fn huge_numbers_are_refused_as_they_are_read() {
    let literal = format!("input x\nE = x*{}\n", "7".repeat(1_000_000));
    let out = run_with_input(&["derive", "-", "dE/dx"], literal.as_bytes());
    assert_eq!(out.status, 2);
    assert!(
        out.stderr
            .starts_with("<stdin>:2:7: error: a number literal of 1000000 digits is too long"),
        "{}",
        &out.stderr[..out.stderr.len().min(300)]
    );
    assert!(
        out.stderr.len() < 2_000,
        "{} bytes of message",
        out.stderr.len()
    );
    let product = format!("input x\nE = x*{}\n", vec!["1e400"; 300].join("*"));
    let out = run_with_input(&["derive", "-", "dE/dx"], product.as_bytes());
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.starts_with(
            "<stdin>:2:5: error: the numbers of this product have more than 4096 bits together"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_huge_unknown_name_is_reported_briefly() {
    let mut text = String::from("input x\n");
    for n in 0..2_000 {
        text.push_str(&format!("u{n} = x*{}\n", n + 1));
    }
    text.push_str(&format!("E = {} + u1\n", "q".repeat(100_000)));
    let out = common::run_within(&["derive", "-", "dE/dx"], text.as_bytes(), 60);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("error: unknown name `qqq"),
        "{}",
        &out.stderr[..200]
    );
    assert!(
        out.stderr.len() < 2_000,
        "{} bytes of message",
        out.stderr.len()
    );
}

#[test]
fn documents_with_formulas_too_wide_for_a_page_still_compile() {
    if !have_pdflatex() {
        return;
    }
    let dir = scratch("wide");
    let nested = format!(
        "input x\nparam w\nE = {}w*x{}\nderive dE/dw\n",
        "tanh(".repeat(120),
        ")".repeat(120)
    );
    let terms: Vec<String> = (0..3_000)
        .map(|i| format!("{}*w^{}*x^{}", i + 1, i % 7 + 1, i % 5))
        .collect();
    let polynomial = format!(
        "input x\nparam w\nE = {}\nderive dE/dw\n",
        terms.join(" + ")
    );
    let long_name = "w".repeat(50_000);
    let identifier =
        format!("input x\nparam {long_name}\nE = {long_name}*x\nderive dE/d{long_name}\n");
    for (name, text) in [
        ("nested", nested),
        ("polynomial", polynomial),
        ("identifier", identifier),
    ] {
        std::fs::write(dir.join(format!("{name}.nn")), text).unwrap();
        let out = run_in(
            &dir,
            &[
                "doc",
                &format!("{name}.nn"),
                "-o",
                &format!("{name}.tex"),
                "--pdf",
            ],
            None,
        );
        assert_eq!(out.status, 0, "{name}: {}", out.stderr);
        assert!(dir.join(format!("{name}.pdf")).exists(), "{name}");
    }
}

#[test]
fn batch_grades_stream_out_in_input_order() {
    use std::io::BufRead;
    let dir = scratch("stream");
    // Rows after the first take a while: eight nested sums to evaluate.
    let slow = format!("{}w^{{(2)}}_{{kj}}", "\\sum_k ".repeat(8));
    let mut batch =
        String::from("id,query,answer\nfirst,dE/da[j],h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k\n");
    for n in 0..6 {
        batch.push_str(&format!("slow{n},dE/da[j],{slow}\n"));
    }
    std::fs::write(dir.join("batch.csv"), batch).unwrap();
    let example = format!("{}/examples/bishop-5.3.nn", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(["check", &example, "--batch", "batch.csv"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), GRADES_HEADER);
    let first = cells(&lines.next().unwrap().unwrap());
    assert_eq!((first[0].as_str(), first[4].as_str()), ("first", "correct"));
    // The first grade arrived while the slow rows were still being graded.
    assert!(
        child.try_wait().unwrap().is_none(),
        "the batch had already ended"
    );
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let ids: Vec<&str> = rest.iter().map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(ids, ["slow0", "slow1", "slow2", "slow3", "slow4", "slow5"]);
    child.wait().unwrap();
}

// ---------------------------------------------------------------------
// 9. What the fuzzer does (`cargo bench --bench fuzz`), a bounded number
// of times in the ordinary suite.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A mutated example or answer gets a documented exit status in bounded
    /// time, never a panic.
    #[test]
    fn mutated_inputs_get_a_documented_answer(seed in any::<u64>()) {
        let root = env!("CARGO_MANIFEST_DIR");
        let examples = mutations::example_texts(root);
        let answers = mutations::corpus_answers(root);
        let mut mutator = mutations::Mutator::new(seed);
        let (_, text) = &examples[mutator.below(examples.len())];
        let (_, donor) = &examples[mutator.below(examples.len())];
        let network = mutator.mutate(text, donor);
        let out = common::run_within(&["grad", "-", "--format", "latex"], network.as_bytes(), 60);
        prop_assert!((0..=2).contains(&out.status), "{network}\n{}", out.stderr);
        prop_assert!(!out.stderr.contains("panicked"), "{network}\n{}", out.stderr);
        let (example, query, answer) = &answers[mutator.below(answers.len())];
        let answer = mutator.mutate(answer, "").replace('\0', "");
        let file = format!("examples/{example}");
        let out = common::run_within(&["check", &file, query, "--answer", &answer], b"", 60);
        prop_assert!((0..=2).contains(&out.status), "{answer}\n{}", out.stderr);
        prop_assert!(!out.stderr.contains("panicked"), "{answer}\n{}", out.stderr);
    }
}

#[test]
fn a_derivation_too_long_to_show_leaves_a_document_that_says_so() {
    let dir = scratch("long-chain");
    let mut text = String::from("input x\nparam w\n");
    for n in 1..=300 {
        let previous = if n == 1 {
            "x".to_string()
        } else {
            format!("u{}", n - 1)
        };
        text.push_str(&format!("u{n} = tanh(w*{previous})\n"));
    }
    text.push_str("E = u300^2\nderive dE/dw\n");
    std::fs::write(dir.join("chain.nn"), text).unwrap();
    let out = run_in(&dir, &["doc", "chain.nn", "-o", "chain.tex"], None);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let tex = std::fs::read_to_string(dir.join("chain.tex")).unwrap();
    assert!(
        tex.contains("The derivation is not shown step by step: the derivation grows beyond 2000 links. To see it, give the intermediate families `delta` lines"),
        "the section says why"
    );
    assert!(tex.contains("\\boxed{"), "the result is still given");
}

#[test]
fn accent_groups_take_indices_and_powers_and_compile() {
    // TeX takes a group holding one accent apart again, scripts and all.
    let text = "index k in K\ninput x[k]\nparam w[k]\ny[k] = w[k]*x[k]\nu[k] = y[k]^2\nv[k] = u[k]^2\nG = sum(k, v[k])\nE = G^2\nlatex y \"{\\hat{y}_n}\"\nlatex u \"\\mathrm{\\hat{u}_n}\"\nlatex v \"{\\hat{v}'}\"\nlatex G \"{\\hat{G}^2}\"\nderive dE/dw[k]\n";
    let out = run_with_input(&["grad", "-", "--format", "latex"], text.as_bytes());
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("{{\\hat{y}_n}{}}_{k}"),
        "{}",
        out.stdout
    );
    if !have_pdflatex() {
        return;
    }
    let dir = scratch("accents");
    std::fs::write(dir.join("net.nn"), text).unwrap();
    let out = run_in(&dir, &["doc", "net.nn", "-o", "net.tex", "--pdf"], None);
    assert_eq!(out.status, 0, "{}", out.stderr);
}

#[test]
fn standard_input_is_an_input_too() {
    let dir = scratch("stdin-overwrite");
    let example = common::example_text("bishop-5.3.nn");
    std::fs::write(dir.join("net.nn"), &example).unwrap();
    let output = shell(&dir, "chainrule doc - -o net.nn < net.nn; echo \"exit $?\"");
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.ends_with("exit 2\n"), "{said}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("is the input standard input"));
    assert_eq!(
        std::fs::read_to_string(dir.join("net.nn")).unwrap(),
        example
    );
}

#[test]
fn outputs_through_links_and_to_devices_are_written_where_they_point() {
    use std::os::unix::fs::FileTypeExt;
    let dir = scratch("links");
    let example = format!("{}/examples/bishop-5.3.nn", env!("CARGO_MANIFEST_DIR"));
    std::fs::write(
        dir.join("batch.csv"),
        "id,query,answer\ns1,dE/da[j],h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("real.csv", dir.join("link.csv")).unwrap();
    for out_path in ["link.csv", "/dev/null"] {
        let args = ["check", &example, "--batch", "batch.csv", "--out", out_path];
        let out = run_in(&dir, &args, None);
        assert_eq!(out.status, 0, "{out_path}: {}", out.stderr);
    }
    let link = std::fs::symlink_metadata(dir.join("link.csv")).unwrap();
    assert!(link.file_type().is_symlink(), "the link stays a link");
    let written = std::fs::read_to_string(dir.join("real.csv")).unwrap();
    assert!(
        written.starts_with(GRADES_HEADER) && written.contains(",correct,"),
        "{written}"
    );
    let device = std::fs::metadata("/dev/null").unwrap();
    assert!(
        device.file_type().is_char_device(),
        "/dev/null stays a device"
    );
}

#[test]
fn rows_ending_in_bare_carriage_returns_are_read_as_csv_reads_them() {
    let lines = grade_batch(
        "cr.csv",
        b"id,query,answer\r\"a,\",dE/da[j],h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k\r2,dE/da[j],h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k\r",
    );
    assert!(lines[1].starts_with("\"a,\",dE/da[j],"), "{lines:?}");
    assert_eq!(cells(&lines[1])[4], "correct", "{lines:?}");
    assert!(
        !lines.iter().any(|l| l.contains("never closed")),
        "{lines:?}"
    );
    let lines = grade_batch(
        "cr-open.csv",
        b"id,query,answer\n1,dE/da[j],x\r\"2,dE/da[j],y\n3,dE/da[j],z\n",
    );
    assert!(lines.last().unwrap().contains("never closed"), "{lines:?}");
}

#[test]
fn ones_in_a_product_add_no_size() {
    let text = format!("input x\nparam w\nE = w*x{}\n", "*1".repeat(3_000));
    let out = run_with_input(&["grad", "-"], text.as_bytes());
    assert_eq!(out.status, 0, "{}", out.stderr);
}

//! Bad input gets a located message and exit status 2, never a panic.
//! Each case names what is wrong, where, and what was expected.

mod common;

use common::{run, run_with_input};

/// Runs `derive - QUERY` on `text` and returns (status, stderr).
fn derive_stdin(text: &str, query: &str) -> (i32, String) {
    let out = run_with_input(&["derive", "-", query], text.as_bytes());
    (out.status, out.stderr)
}

fn assert_error(text: &str, query: &str, location: &str, message: &str) {
    let (status, stderr) = derive_stdin(text, query);
    assert_eq!(status, 2, "{stderr}");
    assert!(
        stderr.starts_with(&format!("{location}: error: {message}")),
        "got:\n{stderr}\nwanted {location}: {message}"
    );
    assert!(stderr.contains('^'), "shows a caret:\n{stderr}");
}

#[test]
fn syntax_errors() {
    assert_error(
        "input x\nE = x +\n",
        "dE/dx",
        "<stdin>:2:8",
        "found the end of the line, expected",
    );
    assert_error(
        "input x\nE = (x\n",
        "dE/dx",
        "<stdin>:3:1",
        "found the end of the input, expected",
    );
    assert_error(
        "input x\nE == x\n",
        "dE/dx",
        "<stdin>:2:4",
        "found `=`, expected",
    );
}

#[test]
fn unknown_names_suggest_the_closest() {
    let (_, stderr) = derive_stdin("input w1, w2\nE = w3 * w1\n", "dE/dw1");
    assert!(
        stderr.starts_with("<stdin>:2:5: error: unknown name `w3`"),
        "{stderr}"
    );
    assert!(stderr.contains("help: did you mean `w1`?"), "{stderr}");
    let (_, stderr) = derive_stdin("input x\nE = tanhh(x)\n", "dE/dx");
    assert!(
        stderr.contains("unknown function `tanhh`") && stderr.contains("did you mean `tanh`?"),
        "{stderr}"
    );
}

#[test]
fn arity_and_indices() {
    let net = "index i in D\ninput x[i]\n";
    assert_error(
        &format!("{net}E = x\n"),
        "dE/dx[i]",
        "<stdin>:3:5",
        "`x` takes 1 index but 0 are given",
    );
    assert_error(
        &format!("{net}E = sum(i, x[i, i])\n"),
        "dE/dx[i]",
        "<stdin>:3:12",
        "`x` takes 1 index but 2 are given",
    );
    assert_error(
        &format!("{net}E = sum(i, x[q])\n"),
        "dE/dx[i]",
        "<stdin>:3:14",
        "undeclared index `q`",
    );
    assert_error(
        &format!("{net}E = x[i]\n"),
        "dE/dx[i]",
        "<stdin>:3:7",
        "index `i` is free on the right but not on the left of `E`",
    );
    assert_error(
        &format!("{net}a[i] = sum(i, x[i])\nE = sum(i, a[i])\n"),
        "dE/dx[i]",
        "<stdin>:3:12",
        "summed index `i` is free where the sum stands",
    );
}

#[test]
fn index_ranges_must_match_positions() {
    let text = "index i in D\nindex j in M\ninput x[i]\nparam w1[j,i]\na[j] = sum(i, w1[i,j] * x[i])\nE = sum(j, a[j])\n";
    assert_error(
        text,
        "dE/dx[i]",
        "<stdin>:5:18",
        "index `i` ranges over D but position 1 of `w1` ranges over M",
    );
}

#[test]
fn each_name_is_defined_once_and_keywords_are_reserved() {
    assert_error(
        "input x\nE = x\nE = 2*x\n",
        "dE/dx",
        "<stdin>:3:1",
        "`E` is defined twice (first on line 2)",
    );
    assert_error(
        "input sum\n",
        "dE/dx",
        "<stdin>:1:7",
        "`sum` is a reserved word and cannot name a family",
    );
    assert_error(
        "input x\ntanh = x\n",
        "dE/dx",
        "<stdin>:2:1",
        "`tanh` is a reserved word",
    );
    assert_error(
        "index i in D\ninput i\n",
        "dE/di",
        "<stdin>:2:7",
        "`i` is already declared as an index on line 1",
    );
}

#[test]
fn cycles_name_every_family_in_order() {
    assert_error(
        "input x\na = b + x\nb = c\nc = a\nE = a\n",
        "dE/dx",
        "<stdin>:2:1",
        "definitions form a cycle: `a` uses `b` uses `c` uses `a`",
    );
}

#[test]
fn bad_queries_are_located_in_the_query() {
    let (status, stderr) = derive_stdin("input x\nE = x\n", "dE/dy");
    assert_eq!(status, 2);
    assert!(
        stderr.starts_with("<query>:1:5: error: unknown family `y` in the query"),
        "{stderr}"
    );
    let (_, stderr) = derive_stdin("input x\nE = x\n", "E/x");
    assert!(
        stderr.starts_with("<query>:1:1: error: found `E`, expected a query"),
        "{stderr}"
    );
    let (_, stderr) = derive_stdin("index i in D\ninput x[i]\nE = sum(i, x[i])\n", "dE/dx");
    assert!(
        stderr.contains("`x` takes 1 index but the query gives 0"),
        "{stderr}"
    );
}

#[test]
fn hostile_input_is_refused_or_answered_never_crashes() {
    let deep = format!(
        "input x\nE = {}x{}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let (status, stderr) = derive_stdin(&deep, "dE/dx");
    assert_eq!(status, 2);
    assert!(stderr.contains("brackets nested too deeply"), "{stderr}");

    let long_sum = format!("input x\nE = x{}\n", " + x".repeat(100_000));
    let out = run_with_input(
        &["derive", "-", "dE/dx", "--format", "dsl"],
        long_sum.as_bytes(),
    );
    assert_eq!((out.status, out.stdout.as_str()), (0, "100001\n"));

    let out = run_with_input(&["derive", "-", "dE/dx"], b"input x\nE = x\xff\n");
    assert_eq!(out.status, 2);
    assert!(
        out.stderr
            .starts_with("<stdin>:2:6: error: found a byte that is not UTF-8 text"),
        "{}",
        out.stderr
    );

    let (status, stderr) = derive_stdin("", "dE/dx");
    assert_eq!(status, 2);
    assert!(stderr.contains("unknown family `E`"), "{stderr}");

    let mut big = String::from("input x0\n");
    for n in 1..250_000 {
        big.push_str(&format!("x{n} = x{} * 2\n", n - 1));
    }
    assert!(big.len() > 3_000_000);
    let out = run_with_input(
        &["derive", "-", "dx249999/dx0", "--format", "dsl"],
        big.as_bytes(),
    );
    assert_eq!(out.status, 2, "{}", out.stdout);
    assert!(
        out.stderr.contains("grows beyond 4096 bits"),
        "{}",
        out.stderr
    );
}

#[test]
fn files_over_the_size_limit_are_refused_at_once() {
    let path = std::env::temp_dir().join("chainrule-too-big.nn");
    let line = "# padding padding padding padding padding padding padding padding\n";
    std::fs::write(&path, line.repeat(17 * 1024 * 1024 / line.len() + 1)).unwrap();
    let out = run(&["derive", path.to_str().unwrap(), "dE/dx"]);
    std::fs::remove_file(&path).ok();
    assert_eq!(out.status, 2);
    assert!(out.stderr.contains("larger than 16 MiB"), "{}", out.stderr);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["derive", "examples/bishop-5.3.nn"]).status, 2);
    assert_eq!(
        run(&[
            "derive",
            "examples/bishop-5.3.nn",
            "dE/da[j]",
            "--form",
            "sideways"
        ])
        .status,
        2
    );
    let missing = run(&["derive", "no-such-file.nn", "dE/dx"]);
    assert_eq!(missing.status, 2);
    assert!(
        missing
            .stderr
            .starts_with("error: cannot read the network file `no-such-file.nn`"),
        "{}",
        missing.stderr
    );
    let objective = run_with_input(&["grad", "-"], b"input x\nparam w\nA = w*x\nB = w\n");
    assert_eq!(objective.status, 2);
    assert!(
        objective
            .stderr
            .contains("several possible objectives: `A`, `B`"),
        "{}",
        objective.stderr
    );
}

#[test]
fn a_failed_verification_exits_1() {
    // An assumption that drawn data cannot be made to meet is reported, not ignored.
    let text = "index k in K\ninput a[k]\nassume sum(k, a[k] * a[k]) = 1\nE = sum(k, a[k])\nderive dE/da[k]\n";
    let out = run_with_input(&["verify", "-"], text.as_bytes());
    assert_eq!(out.status, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.starts_with("FAIL  dE/da[k]"), "{}", out.stdout);
    assert!(
        out.stdout.contains("does not hold for drawn data"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_reader_that_stops_early_ends_the_output_quietly() {
    // As in `chainrule grad big.nn | head`: the pipe is closed before the
    // binary writes, so its first write fails.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(["grad", "examples/bishop-5.3.nn"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("the binary finishes");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn notation_strings_are_checked_before_they_reach_latex() {
    assert_error(
        "input x\nE = x\nlatex x \"\\input{/etc/passwd}\"\n",
        "dE/dx",
        "<stdin>:3:10",
        "the command `\\input` is not allowed in notation",
    );
    assert_error(
        "input x\nE = x\ndelta x \"\\delta^{(1)\"\n",
        "dE/dx",
        "<stdin>:3:17",
        "a `{` is never closed",
    );
}

#[test]
fn functions_take_the_arguments_they_take() {
    assert_error(
        "input x\nE = max(x)\n",
        "dE/dx",
        "<stdin>:2:5",
        "`max` takes two arguments, not 1",
    );
    assert_error(
        "input x, y\nE = tanh(x, y)\n",
        "dE/dx",
        "<stdin>:2:5",
        "`tanh` takes one argument, not 2",
    );
    assert_error(
        "input x, y\nE = min'(x, y)\n",
        "dE/dx",
        "<stdin>:2:5",
        "`min` is not written with primes",
    );
    assert_error(
        "index i in D\ninput x[i]\nE = sum(i, pi[i] * x[i])\n",
        "dE/dx[i]",
        "<stdin>:3:15",
        "`pi` is the constant π and takes no index",
    );
}

#[test]
fn pi_is_the_constant_unless_a_file_declares_it() {
    let constant = b"param w\nE = pi*w^2\n";
    let out = run_with_input(&["derive", "-", "dE/dw", "--format", "dsl"], constant);
    assert_eq!(out.stdout, "2*pi*w\n", "{}", out.stderr);
    // The constant is no quantity to differentiate by, and verify knows
    // its value.
    let out = run_with_input(&["derive", "-", "dE/dpi"], constant);
    assert_eq!(out.status, 2, "{}", out.stdout);
    let out = run_with_input(&["verify", "-"], constant);
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    // Declared, the name is a quantity like any other.
    let declared = b"input w, pi\nE = pi*w^2\n";
    let out = run_with_input(&["derive", "-", "dE/dpi", "--format", "dsl"], declared);
    assert_eq!(out.stdout, "w^2\n", "{}", out.stderr);
}

#[test]
fn index_arithmetic_is_located_where_it_does_not_belong() {
    let conv = "index i in N\nindex p in P\ninput x[i]\nparam w[p]\n";
    assert_error(
        &format!("{conv}a[i+1] = sum(p, w[p] * x[i+p-1])\nE = sum(i, a[i])\n"),
        "dE/dx[i]",
        "<stdin>:5:3",
        "a definition's left side names its indices: this is an expression",
    );
    assert_error(
        &format!("{conv}a[i] = sum(p, w[p] * x[i+p-1])\nE = sum(i, a[i])\n"),
        "dE/dx[i-1]",
        "<query>:1:7",
        "a query names its indices: this is an expression",
    );
    assert_error(
        &format!("{conv}a[i] = sum(p, w[p] * x[i+q-1])\nE = sum(i, a[i])\n"),
        "dE/dx[i]",
        "<stdin>:5:26",
        "undeclared index `q`",
    );
    assert_error(
        &format!("{conv}a[i] = sum(p, w[p] * x[i+2000000])\nE = sum(i, a[i])\n"),
        "dE/dx[i]",
        "<stdin>:5:26",
        "`2000000` is too large for an index",
    );
}

//! How results grow with their input, and what happens where they would
//! grow without bound. Sizes are counted, never timed: time is measured by
//! `cargo bench --bench engine`.

#[path = "../benches/common/workloads.rs"]
mod workloads;

mod common;

use chainrule::{Form, Network, Source};
use common::run;
use workloads::{indexed_mlp, tanh_chain, unrolled_mlp};

/// A derivative printed in the language, with its size as a tree.
fn derive_text(text: &str, query: &str, form: Form) -> Result<(String, usize), String> {
    let mut network = Network::load(Source::new("w.nn", text)).map_err(|e| e.message)?;
    let query = network.query(query).map_err(|e| e.message)?;
    let derived = network
        .engine()
        .derive(&query, form)
        .map_err(|e| e.message)?;
    let size = network.model.store.tree_size(derived.result);
    Ok((network.print(derived.result, chainrule::Format::Dsl), size))
}

/// The bytes of the whole gradient in the language.
fn gradient_bytes(text: &str) -> usize {
    let mut network = Network::load(Source::new("w.nn", text)).unwrap();
    let objective = network.graph.objectives(&network.model)[0];
    let gradient = network.engine().gradient(objective).unwrap();
    let mut printer = chainrule::Printer::new(&network.model, chainrule::Format::Dsl);
    let mut bytes = 0;
    for equation in &gradient.equations {
        let lhs = chainrule::Lhs::Delta(equation.family, equation.indices.clone());
        bytes += printer.equation(&lhs, equation.rhs).len();
    }
    for (_, result) in &gradient.parameters {
        bytes += printer.expr(*result).len();
    }
    bytes
}

#[test]
fn a_gradient_is_at_most_four_times_the_forward_network() {
    for (d, w, l, k) in [(4, 4, 2, 2), (8, 8, 2, 4), (16, 16, 3, 4)] {
        let network = unrolled_mlp(d, w, l, k);
        let forward: usize = network
            .text
            .lines()
            .filter(|line| line.contains(" = "))
            .map(str::len)
            .sum();
        let ratio = gradient_bytes(&network.text) as f64 / forward as f64;
        assert!(
            ratio < 4.0,
            "{d},{w},{l},{k}: output is {ratio:.2} times the network"
        );
    }
}

#[test]
fn the_gradient_grows_linearly_with_the_network() {
    let small = unrolled_mlp(8, 8, 2, 4);
    let large = unrolled_mlp(16, 16, 2, 4);
    let per_operation =
        |w: &workloads::Workload| gradient_bytes(&w.text) as f64 / w.operations as f64;
    let (a, b) = (per_operation(&small), per_operation(&large));
    assert!(
        b < 1.25 * a,
        "{a:.1} bytes an operation at 8 wide, {b:.1} at 16"
    );
}

#[test]
fn a_deep_chain_written_out_keeps_its_nesting() {
    // dE/dw through a chain that shares one weight: written out backward,
    // its size grows as the square of the depth; forward it stays nested.
    let sizes: Vec<usize> = [50, 100, 200]
        .iter()
        .map(|depth| {
            derive_text(&tanh_chain(*depth, false).text, "dE/dw", Form::Expanded)
                .expect("the chain is written out")
                .1
        })
        .collect();
    assert!(sizes[1] <= 2 * sizes[0] + 10, "{sizes:?}");
    assert!(sizes[2] <= 2 * sizes[1] + 10, "{sizes:?}");
    // At depth 3 written out exactly:
    let (depth_3, _) = derive_text(&tanh_chain(3, false).text, "dE/dw", Form::Expanded).unwrap();
    // (u3 - t) (1 - u3^2) (u2 + w (1 - u2^2) (u1 + w (1 - u1^2) x)), with
    // the inner bracket multiplied out: at this depth that is no longer.
    assert_eq!(
        depth_3,
        "(1 - u3^2)*(u2 + (1 - u2^2)*(1 - u1^2)*x*w^2 + (1 - u2^2)*w*u1)*(u3 - t)"
    );
}

#[test]
fn a_deep_chain_in_backprop_form_is_one_line_a_unit() {
    let result = run_derive(&tanh_chain(300, true).text, "dE/dw");
    let lines = result.lines().count();
    // The query's line and one delta a unit.
    assert_eq!(lines, 301, "{result}");
    assert!(result.len() < 300 * 80, "{} bytes", result.len());
}

fn run_derive(text: &str, query: &str) -> String {
    let path = std::env::temp_dir().join(format!("chainrule-growth-{}.nn", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let out = run(&["derive", path.to_str().unwrap(), query, "--format", "dsl"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    out.stdout
}

#[test]
fn an_indexed_mlp_written_out_grows_linearly_in_its_layers() {
    let sizes: Vec<usize> = [5, 10, 20]
        .iter()
        .map(|layers| {
            derive_text(&indexed_mlp(*layers).text, "dE/dw1[j,i]", Form::Expanded)
                .unwrap()
                .1
        })
        .collect();
    assert!(sizes[1] < 2 * sizes[0] + 100, "{sizes:?}");
    assert!(sizes[2] < 2 * sizes[1] + 100, "{sizes:?}");
}

#[test]
fn a_product_that_multiplying_out_would_blow_up_stays_factored() {
    let factors: Vec<String> = (1..=20).map(|i| format!("(x + {i})")).collect();
    let out = run(&["diff", &factors.join("*"), "x"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    // The product rule gives 20 terms, each a product of 19 binomials.
    assert!(
        out.stdout.len() < 20 * 19 * 12,
        "{} bytes",
        out.stdout.len()
    );
}

#[test]
fn a_derivative_of_nested_functions_stays_nested() {
    let nested = format!("{}x{}", "tanh(".repeat(20), ")".repeat(20));
    let out = run(&["diff", &nested, "x"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    // One outer derivative for each level: (1 - tanh(...)^2) twenty times.
    assert_eq!(out.stdout.matches("(1 - tanh(").count(), 20);
}

#[test]
fn what_would_grow_without_bound_is_refused_with_a_message() {
    // A power tower's derivative written out grows as the square of its height.
    let tower = format!("x{}", "^x".repeat(1_000));
    let out = run(&["diff", &tower, "x"]);
    assert_eq!(out.status, 2);
    assert!(out.stderr.contains("grows beyond"), "{}", out.stderr);
    // Many primes on a built-in.
    let primes = format!("input x\nE = tanh{}(x)\n", "'".repeat(400));
    let out = common::run_with_input(&["derive", "-", "dE/dx"], primes.as_bytes());
    assert_eq!(out.status, 2, "{}", out.stdout);
    assert!(out.stderr.contains("<stdin>:2:5"), "{}", out.stderr);
    // A range too large to evaluate by numbers.
    let huge =
        "index i in D\nrange D = 1000000000\ninput x[i]\nE = sum(i, x[i]^2)\nderive dE/dx[i]\n";
    let out = common::run_with_input(&["verify", "-"], huge.as_bytes());
    assert_eq!(out.status, 2, "{}", out.stdout);
    assert!(
        out.stderr.starts_with("<stdin>:2:7: error: with the sizes given, evaluating the network by numbers takes more than"),
        "{}",
        out.stderr
    );
    // An assumption that rewrites without end.
    let endless = "input x\nparam w\nassume x = x + x\nE = w*x\n";
    let out = common::run_with_input(&["derive", "-", "dE/dw"], endless.as_bytes());
    assert_eq!(out.status, 2, "{}", out.stdout);
    assert!(
        out.stderr.contains("cannot be simplified"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_answer_that_multiplying_out_would_blow_up_gets_a_verdict() {
    let factors: Vec<String> = (1..=20).map(|i| format!("(y - t + {i})")).collect();
    let answer = factors.join(" ");
    let out = run(&[
        "check",
        "examples/sigmoid-bce.nn",
        "dE/da",
        "--answer",
        &answer,
    ]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stdout.starts_with("incorrect"), "{}", out.stdout);
}

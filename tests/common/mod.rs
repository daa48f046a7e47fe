//! Helpers shared by the integration tests: one way to run the binary,
//! one way to load an example, one way to compare values numerically.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

use chainrule::chain::{Derivative, Form};
use chainrule::expr::{ExprId, IndexVar};
use chainrule::numeric::{Draws, Instance, assignments};
use chainrule::{Network, Source};

/// What a run of the binary printed and how it ended.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

/// Runs `chainrule` with `args`, feeding `stdin`.
pub fn run_with_input(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin)
        .ok();
    let output = child.wait_with_output().expect("the binary finishes");
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        status: output.status.code().unwrap_or(-1),
    }
}

/// Runs `chainrule` with `args`.
pub fn run(args: &[&str]) -> Run {
    run_with_input(args, b"")
}

/// The text of an example file.
pub fn example_text(name: &str) -> String {
    let path = format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every shipped example's file name.
pub fn example_names() -> Vec<String> {
    let dir = format!("{}/examples", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("examples/ exists")
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".nn"))
        .collect();
    names.sort();
    names
}

/// Loads a network from text.
pub fn network(text: &str) -> Network {
    Network::load(Source::new("test.nn", text)).unwrap_or_else(|e| panic!("{e}"))
}

/// Derives `query` in `form` and prints the result in the language.
pub fn derive_dsl(network: &mut Network, query: &str, form: Form) -> String {
    let query = network.query(query).unwrap_or_else(|e| panic!("{e}"));
    let derived = network
        .engine()
        .derive(&query, form)
        .unwrap_or_else(|e| panic!("{e}"));
    network.print(derived.result, chainrule::render::Format::Dsl)
}

/// Derives `query` in `form`.
pub fn derive(network: &mut Network, query: &str, form: Form) -> Derivative {
    let query = network.query(query).unwrap_or_else(|e| panic!("{e}"));
    network
        .engine()
        .derive(&query, form)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The largest difference between two expressions over every assignment
/// of their free indices, at `points` random points of the network.
pub fn largest_difference(
    network: &Network,
    a: ExprId,
    b: ExprId,
    points: usize,
    seed: u64,
) -> f64 {
    let model = &network.model;
    let mut draws = Draws::new(seed);
    let mut instance = Instance::new(model, &network.graph, &mut draws);
    let mut free: Vec<IndexVar> = model.store.free_vars(a).to_vec();
    free.extend(model.store.free_vars(b));
    free.sort_unstable();
    free.dedup();
    let dims: Vec<usize> = free
        .iter()
        .map(|v| instance.sizes[model.store.var(*v).range.0 as usize])
        .collect();
    let mut largest: f64 = 0.0;
    let mut used = 0;
    for attempt in 0..points * 10 {
        if used == points {
            break;
        }
        if instance.draw_point(&mut draws, attempt % 2 == 0).is_err() {
            continue;
        }
        used += 1;
        for at in assignments(&dims) {
            let mut env: HashMap<IndexVar, usize> = free.iter().copied().zip(at).collect();
            let (x, y) = (instance.eval(a, &mut env), instance.eval(b, &mut env));
            if x.is_finite() || y.is_finite() {
                largest = largest.max((x - y).abs() / x.abs().max(1.0));
            }
        }
    }
    assert!(used > 0, "no usable point");
    largest
}

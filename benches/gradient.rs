//! The gradient of a whole network must cost time and output size linear in
//! the network, as reverse-mode differentiation does. This benchmark
//! generates unrolled scalar networks of growing size (every unit named by
//! a `delta` line, so every intermediate derivative is shared), derives the
//! gradient with respect to every parameter in backprop form, and reports
//! the time and the size of the result as a multiple of the forward
//! network's size.
//!
//! Run with `cargo bench --bench gradient`.

use std::hint::black_box;
use std::time::Duration;

use chainrule::{Format, Lhs, Printer};
use chainrule::{Network, Source};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// Parameters the units share, round robin.
const PARAMETERS: usize = 64;

/// An unrolled scalar network of `units` neurons, three operations each, as
/// Bishop writes them: a pre-activation `a_n = w u_{n-1} + u_{n-3}` and an
/// activation `u_n = tanh(a_n)` (or another function), with a delta line
/// for every unit of both kinds.
fn unrolled_network(units: usize) -> String {
    let mut text = String::from("input x0, x1, x2\ntarget t\n");
    let names: Vec<String> = (0..PARAMETERS).map(|p| format!("w{p}")).collect();
    text.push_str(&format!("param {}\n", names.join(", ")));
    let unit = |n: usize| {
        if n < 3 {
            format!("x{n}")
        } else {
            format!("u{n}")
        }
    };
    let functions = ["tanh", "sigmoid", "sin", "softplus"];
    for n in 3..units + 3 {
        let w = n % PARAMETERS;
        let f = functions[n % functions.len()];
        text.push_str(&format!(
            "a{n} = w{w} * {} + {}\n",
            unit(n - 1),
            unit(n - 3)
        ));
        text.push_str(&format!("u{n} = {f}(a{n})\n"));
        text.push_str(&format!("delta a{n} \"\\delta_{{{n}}}\"\n"));
        text.push_str(&format!("delta u{n} \"\\varepsilon_{{{n}}}\"\n"));
    }
    text.push_str(&format!("E = 1/2 * ({} - t)^2\n", unit(units + 2)));
    text
}

/// Nodes of the forward definitions and of the gradient system, as trees.
fn sizes(network: &mut Network) -> (usize, usize, usize) {
    let model = &network.model;
    let forward: usize = model
        .families
        .iter()
        .filter_map(|f| f.definition)
        .map(|d| model.store.tree_size(d, usize::MAX))
        .sum();
    let objective = network.graph.objectives(&network.model)[0];
    let gradient = network
        .engine()
        .gradient(objective)
        .expect("the gradient derives");
    let model = &network.model;
    let mut output = 0;
    let mut printer = Printer::new(model, Format::Dsl);
    let mut characters = 0;
    for equation in &gradient.equations {
        output += model.store.tree_size(equation.rhs, usize::MAX) + 1;
        let lhs = Lhs::Delta(equation.family, equation.indices.clone());
        characters += printer.equation(&lhs, equation.rhs).len();
    }
    for (_, result) in &gradient.parameters {
        output += model.store.tree_size(*result, usize::MAX) + 1;
    }
    (forward, output, characters)
}

fn gradient(c: &mut Criterion) {
    let mut group = c.benchmark_group("gradient");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for units in [3_300, 33_000] {
        let text = unrolled_network(units);
        let mut network =
            Network::load(Source::new("unrolled.nn", text.as_str())).expect("the network loads");
        let (forward, output, characters) = sizes(&mut network);
        println!(
            "{units} units: forward {forward} nodes ({} bytes of source); gradient {output} nodes, {characters} characters; \
             output / forward = {:.2}",
            text.len(),
            output as f64 / forward as f64
        );
        group.bench_with_input(BenchmarkId::from_parameter(forward), &text, |b, text| {
            b.iter(|| {
                let mut network =
                    Network::load(Source::new("unrolled.nn", text.as_str())).expect("loads");
                let objective = network.graph.objectives(&network.model)[0];
                black_box(network.engine().gradient(objective).expect("derives"));
            })
        });
    }
    group.finish();
}

criterion_group!(benches, gradient);
criterion_main!(benches);

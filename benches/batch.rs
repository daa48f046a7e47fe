//! Throughput of batch grading: 10,000 different answers to Bishop's
//! network (right, unsimplified, wrong in each common way, unreadable),
//! graded in parallel over the machine's cores. Target: under 10 seconds on
//! two cores.
//!
//! Run with `cargo bench --bench batch`.

use std::time::Instant;

use chainrule::Source;
use chainrule::{Row, grade_rows};

/// Answer templates; `N` is replaced by a number that differs row by row.
const TEMPLATES: [(&str, &str); 10] = [
    (
        "dE/da[j]",
        "\\frac{N}{N} h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k",
    ),
    ("dE/da[j]", "N\\sum_k w^{(2)}_{kj}\\delta_k"),
    ("dE/da[j]", "h'(a_j)\\sum_k w^{(2)}_{jk}\\delta_k + N"),
    ("dE/da[j]", "-N h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k"),
    (
        "dE/da[j]",
        "h'(a_j)\\sum_k w^{(2)}_{kj}(y_k - t_k) + 0 \\cdot N",
    ),
    ("dE/db[k]", "y_k - t_k + N - N"),
    ("dE/db[k]", "N(y_k - t_k)"),
    ("dE/dw1[j,i]", "\\delta_j x_i \\frac{N}{N}"),
    ("dE/dw2[k,j]", "\\delta_k z_j + N z_j - N z_j"),
    ("dE/da[j]", "h'(a_j)\\sum_k w^{(2)}_{kj} + N"),
];

fn main() {
    let path = format!("{}/examples/bishop-5.3.nn", env!("CARGO_MANIFEST_DIR"));
    let source = Source::new(
        path.clone(),
        std::fs::read_to_string(&path).expect("the example exists"),
    );
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Two sizes, to see that the cost grows linearly with the batch.
    for size in [2_500, 10_000] {
        let rows: Vec<Row> = (0..size)
            .map(|n| {
                let (query, template) = TEMPLATES[n % TEMPLATES.len()];
                Row::new(
                    format!("s{n}"),
                    query,
                    template.replace('N', &(n / TEMPLATES.len() + 2).to_string()),
                )
            })
            .collect();
        let start = Instant::now();
        let grades = grade_rows(std::slice::from_ref(&source), &rows, workers, |_| {})
            .expect("the network loads");
        let elapsed = start.elapsed();
        let right = grades.iter().filter(|g| g.verdict.is_right()).count();
        println!(
            "graded {} answers ({right} right) on {workers} threads in {:.2} s: {:.0} answers a second, {:.0} µs an answer",
            grades.len(),
            elapsed.as_secs_f64(),
            grades.len() as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64() * 1e6 / grades.len() as f64
        );
    }
}

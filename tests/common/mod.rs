//! Helpers shared by the integration tests: one way to run the binary,
//! one way to load an example, one way to compare values numerically.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

use chainrule::{Derivative, Form};
use chainrule::{Draws, Flow, Plan, WorkMeter, sample};
use chainrule::{ExprId, IndexVar};

use chainrule::{Network, Source};

/// What a run of the binary printed and how it ended.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

/// Runs `chainrule` with `args`, feeding `stdin`; a run that has not
/// finished after ten minutes is a hang, and fails the test.
pub fn run_with_input(args: &[&str], stdin: &[u8]) -> Run {
    run_within(args, stdin, 600)
}

/// Runs `chainrule` with `args`, feeding `stdin`, killing it after
/// `seconds`: a hang fails the test instead of stalling the suite.
pub fn run_within(args: &[&str], stdin: &[u8], seconds: u64) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // A reader thread each, so that a full pipe never stops the binary.
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out = std::thread::spawn(move || {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut text).ok();
        text
    });
    let err = std::thread::spawn(move || {
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
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let status = loop {
        if let Some(status) = child.try_wait().expect("the binary can be waited for") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().ok();
            panic!(
                "`chainrule {}` did not finish in {seconds} s",
                args.join(" ")
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    Run {
        stdout: String::from_utf8_lossy(&out.join().expect("stdout is read")).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().expect("stderr is read")).into_owned(),
        status: status.code().unwrap_or(-1),
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
    network.print(derived.result, chainrule::Format::Dsl)
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
    let mut free: Vec<IndexVar> = model.store.free_vars(a).to_vec();
    free.extend(model.store.free_vars(b));
    free.sort_unstable();
    free.dedup();
    let mut largest: f64 = 0.0;
    let meter = WorkMeter::unlimited();
    let plan = Plan {
        seed,
        points,
        meter: &meter,
    };
    let sampling = sample(model, &network.graph, &[], &free, plan, |instance, env| {
        let (x, y) = (instance.eval(a, env), instance.eval(b, env));
        if x.is_finite() || y.is_finite() {
            largest = largest.max((x - y).abs() / x.abs().max(1.0));
        }
        Flow::Continue
    });
    assert!(sampling.points > 0, "no usable point");
    largest
}

// Random networks for the property tests.

/// One declared family: its name and the ranges of its positions.
struct FamilySketch {
    name: String,
    ranges: Vec<usize>,
}

struct Generator {
    draws: Draws,
    ranges: usize,
    fresh: usize,
}

impl Generator {
    fn below(&mut self, n: usize) -> usize {
        (self.draws.unit() * n as f64) as usize % n.max(1)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.draws.unit() < p
    }

    fn index_names(range: usize) -> [String; 2] {
        [format!("i{range}"), format!("j{range}")]
    }

    fn shape(&mut self, max_positions: usize) -> Vec<usize> {
        if self.ranges == 0 {
            return Vec::new();
        }
        let count = self.below(max_positions + 1);
        (0..count).map(|_| self.below(self.ranges)).collect()
    }

    /// A reference to `family` inside a scope where `in_scope` names are
    /// usable, summing over any position that no name in scope fits.
    fn reference(
        &mut self,
        family: &FamilySketch,
        in_scope: &[(String, usize)],
        taken: &mut Vec<String>,
    ) -> String {
        let mut indices = Vec::new();
        let mut sums = Vec::new();
        for range in &family.ranges {
            let usable: Vec<&String> = in_scope
                .iter()
                .filter(|(_, r)| r == range)
                .map(|(n, _)| n)
                .collect();
            if !usable.is_empty() && self.chance(0.75) {
                let pick = self.below(usable.len());
                let name = usable[pick].clone();
                // Sometimes a shifted element (zero outside the range), or
                // a window that a declared index of any range slides over.
                let window = Generator::index_names(self.below(self.ranges))
                    .into_iter()
                    .find(|n| !taken.contains(n));
                match (self.below(10), window) {
                    (0, _) => indices.push(format!("{name}+1")),
                    (1, _) => indices.push(format!("{name}-1")),
                    (2, Some(window)) => {
                        taken.push(window.clone());
                        indices.push(format!("{name}+{window}-1"));
                        sums.push(window);
                    }
                    _ => indices.push(name),
                }
            } else {
                let declared = Generator::index_names(*range);
                let name = declared
                    .into_iter()
                    .find(|n| !taken.contains(n))
                    .unwrap_or_else(|| {
                        self.fresh += 1;
                        format!("s{}", self.fresh)
                    });
                taken.push(name.clone());
                indices.push(name.clone());
                sums.push(name);
            }
        }
        let mut text = if indices.is_empty() {
            family.name.clone()
        } else {
            format!("{}[{}]", family.name, indices.join(","))
        };
        if !sums.is_empty() {
            text = format!("sum({}, {text})", sums.join(", "));
        }
        text
    }

    fn expression(
        &mut self,
        depth: usize,
        available: &[FamilySketch],
        in_scope: &[(String, usize)],
        taken: &mut Vec<String>,
    ) -> String {
        if depth == 0 || self.chance(0.25) {
            if self.chance(0.1) {
                return ["0.5", "2", "3", "1e-1"][self.below(4)].to_string();
            }
            let family = &available[self.below(available.len())];
            let mut scope_taken = taken.clone();
            let text = self.reference(family, in_scope, &mut scope_taken);
            return text;
        }
        let a = self.expression(depth - 1, available, in_scope, taken);
        match self.below(23) {
            0 | 1 => format!(
                "{a} + {}",
                self.expression(depth - 1, available, in_scope, taken)
            ),
            2 => format!(
                "{a} - {}",
                self.expression(depth - 1, available, in_scope, taken)
            ),
            3 | 4 => format!(
                "({a}) * ({})",
                self.expression(depth - 1, available, in_scope, taken)
            ),
            5 => format!(
                "({a}) / (1 + ({})^2)",
                self.expression(depth - 1, available, in_scope, taken)
            ),
            6 => format!("exp(sin({a}))"),
            7 => format!("log(1 + ({a})^2)"),
            8 => format!("sqrt(1 + ({a})^2)"),
            9 => format!("sin({a})"),
            10 => format!("cos({a})"),
            11 => format!("sinh(cos({a}))"),
            12 => format!("cosh(tanh({a}))"),
            13 => format!("tanh({a})"),
            14 => format!("sigmoid({a})"),
            15 => format!("softplus({a})"),
            16 => ["relu", "abs", "step", "sign"][self.below(4)].to_string() + &format!("({a})"),
            17 => format!("h({a})"),
            18 => format!("h'({a})"),
            19 => format!("tanh({a})^{}", 2 + self.below(2)),
            20 => format!("2^(sin({a}))"),
            // Arguments kept inside each function's domain, away from tan's poles.
            21 => match self.below(8) {
                0 => format!("tan(sin({a}))"),
                1 => format!("atan({a})"),
                2 => format!("asin(tanh({a})/2)"),
                3 => format!("acos(tanh({a})/2)"),
                4 => format!("erf({a})"),
                5 => format!("gelu({a})"),
                6 => format!("silu({a})"),
                _ => format!("swish({a})*pi"),
            },
            _ => format!(
                "(1 + ({a})^2)^(sigmoid({}))",
                self.expression(depth - 1, available, in_scope, taken)
            ),
        }
    }
}

/// A random network with its derive lines.
pub fn random_network(seed: u64) -> String {
    let mut g = Generator {
        draws: Draws::new(seed),
        ranges: 0,
        fresh: 0,
    };
    g.ranges = g.below(4);
    let mut text = String::new();
    for range in 0..g.ranges {
        let [i, j] = Generator::index_names(range);
        text.push_str(&format!("index {i}, {j} in R{range}\n"));
    }
    text.push_str("function h\n");
    let mut families: Vec<FamilySketch> = Vec::new();
    let declare = |text: &mut String, kind: &str, family: &FamilySketch| {
        let names: Vec<String> = family
            .ranges
            .iter()
            .map(|r| Generator::index_names(*r)[0].clone())
            .collect();
        // Two positions over one range need two names.
        let names: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(at, n)| {
                if names[..at].contains(n) {
                    Generator::index_names(family.ranges[at])[1].clone()
                } else {
                    n.clone()
                }
            })
            .collect();
        let positions_fit =
            names.iter().collect::<std::collections::HashSet<_>>().len() == names.len();
        assert!(positions_fit);
        if names.is_empty() {
            text.push_str(&format!("{kind} {}\n", family.name));
        } else {
            text.push_str(&format!("{kind} {}[{}]\n", family.name, names.join(",")));
        }
    };
    let shape = g.shape(2);
    let x = FamilySketch {
        name: "x".into(),
        ranges: fit_two_per_range(shape),
    };
    declare(&mut text, "input", &x);
    families.push(x);
    let parameter_count = 1 + g.below(3);
    let mut parameters = Vec::new();
    for n in 0..parameter_count {
        let shape = g.shape(2);
        let p = FamilySketch {
            name: format!("w{n}"),
            ranges: fit_two_per_range(shape),
        };
        declare(&mut text, "param", &p);
        parameters.push(p.name.clone());
        families.push(p);
    }
    let layer_count = 2 + g.below(3);
    let mut layers = Vec::new();
    for n in 0..layer_count {
        let ranges = fit_two_per_range(g.shape(2));
        let lhs_names: Vec<String> = ranges
            .iter()
            .enumerate()
            .map(|(at, r)| {
                let [i, j] = Generator::index_names(*r);
                if ranges[..at].contains(r) { j } else { i }
            })
            .collect();
        let in_scope: Vec<(String, usize)> = lhs_names
            .iter()
            .cloned()
            .zip(ranges.iter().copied())
            .collect();
        let mut taken = lhs_names.clone();
        let mut body = g.expression(3, &families, &in_scope, &mut taken);
        // Every left index must appear free on the right: add what is missing.
        for (name, range) in &in_scope {
            let owner = families
                .iter()
                .find(|f| f.ranges.len() == 1 && f.ranges[0] == *range)
                .map(|f| f.name.clone());
            match owner {
                Some(owner) => body = format!("{body} + 0.5 * {owner}[{name}]"),
                None => {
                    // A broadcast is allowed: the index need not appear.
                }
            }
        }
        let name = format!("L{n}");
        let lhs = if lhs_names.is_empty() {
            name.clone()
        } else {
            format!("{name}[{}]", lhs_names.join(","))
        };
        text.push_str(&format!("{lhs} = {body}\n"));
        if g.chance(0.5) {
            text.push_str(&format!("delta {name} \"\\delta^{{[{n}]}}\"\n"));
        }
        layers.push((name.clone(), lhs_names.clone()));
        families.push(FamilySketch { name, ranges });
    }
    // The objective: a sum of squares over the last layer, plus a skip term.
    let last = families.last().expect("layers exist");
    let mut taken = Vec::new();
    let last_ref = g.reference(
        &FamilySketch {
            name: last.name.clone(),
            ranges: last.ranges.clone(),
        },
        &[],
        &mut taken,
    );
    let first_layer = &families[1 + parameter_count];
    let mut taken = Vec::new();
    let skip = g.reference(
        &FamilySketch {
            name: first_layer.name.clone(),
            ranges: first_layer.ranges.clone(),
        },
        &[],
        &mut taken,
    );
    text.push_str(&format!("E = 1/2 * ({last_ref})^2 + 0.1 * {skip}\n"));
    // Jacobians of the last layer, whose numerator has indices of its own.
    let with_indices = |f: &FamilySketch| {
        let names = slot_names(&f.ranges);
        if names.is_empty() {
            f.name.clone()
        } else {
            format!("{}[{}]", f.name, names.join(","))
        }
    };
    let last = families.last().expect("layers exist");
    for denominator in [&families[0], &families[1]] {
        text.push_str(&format!(
            "derive d{}/d{}\n",
            with_indices(last),
            with_indices(denominator)
        ));
    }
    for p in &families {
        if p.name == "x" {
            continue;
        }
        let names = slot_names(&p.ranges);
        if names.is_empty() {
            text.push_str(&format!("derive dE/d{}\n", p.name));
        } else {
            text.push_str(&format!("derive dE/d{}[{}]\n", p.name, names.join(",")));
        }
    }
    text
}

/// Positions of a family: at most two over any one range.
fn fit_two_per_range(ranges: Vec<usize>) -> Vec<usize> {
    let mut kept = Vec::new();
    for r in ranges {
        if kept.iter().filter(|k| **k == r).count() < 2 {
            kept.push(r);
        }
    }
    kept
}

fn slot_names(ranges: &[usize]) -> Vec<String> {
    ranges
        .iter()
        .enumerate()
        .map(|(at, r)| {
            let [i, j] = Generator::index_names(*r);
            if ranges[..at].contains(r) { j } else { i }
        })
        .collect()
}

/// Fails unless `value` is valid under the definition `definition` of
/// `schema/grades.schema.json`, and under the schema as a whole.
pub fn assert_valid_grades_json(definition: &str, value: &serde_json::Value) {
    let path = format!("{}/schema/grades.schema.json", env!("CARGO_MANIFEST_DIR"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the schema exists"))
            .expect("the schema is JSON");
    let mut part = serde_json::json!({
        "$schema": schema["$schema"],
        "$ref": format!("#/$defs/{definition}"),
    });
    part["$defs"] = schema["$defs"].clone();
    for (what, schema) in [(definition, &part), ("the whole schema", &schema)] {
        let validator = jsonschema::validator_for(schema).expect("the schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "not valid as {what}: {errors:#?}\n{value:#}"
        );
    }
}

/// True when `program` can be run. Under CI, where `.ci/run` installs what
/// the tests need, a missing program fails the test instead of skipping it.
pub fn have_tool(program: &str) -> bool {
    let found = Command::new(program).arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but {program} is not installed"
        );
        eprintln!("skipping what needs {program}: it is not installed");
    }
    found
}

/// Notation strings a lecturer might write: scripted symbols, primes,
/// accents, Greek, upright names, and a symbol that carries a subscript of
/// its own, each of which the network's indices and powers are added to.
const NOTATIONS: [&str; 14] = [
    "w^{(1)}",
    "\\hat{y}",
    "z'",
    "a''",
    "\\tilde{a}",
    "\\alpha",
    "\\beta'",
    "\\mathrm{loss}",
    "u^{[2]}",
    "\\theta_{0}",
    "\\bar{h}^{\\star}",
    "\\mathbf{W}",
    "v^{\\prime}",
    "\\hat{\\sigma}_{out}",
];

/// A random network (as the property tests draw them) given random
/// notation for its families, and sometimes a Kronecker symbol of its own.
pub fn with_random_notation(seed: u64) -> String {
    let mut text = random_network(seed);
    let mut draws = chainrule::Draws::new(seed ^ 0x5eed);
    let mut pick = |n: usize| (draws.unit() * n as f64) as usize;
    let mut families: Vec<String> = vec!["x".into(), "E".into()];
    for line in text.lines() {
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if let Some(declared) = line.strip_prefix("param ") {
            families.extend(
                declared
                    .split(", ")
                    .map(|f| f.split('[').next().unwrap().to_string()),
            );
        } else if name.starts_with('L') && line.contains(" = ") {
            families.push(name);
        }
    }
    for family in families {
        if pick(4) > 0 {
            let notation = NOTATIONS[pick(NOTATIONS.len())];
            text.push_str(&format!("latex {family} \"{notation}\"\n"));
        }
    }
    if pick(3) == 0 {
        text.push_str("kronecker \"\\mathbb{1}\"\n");
    }
    text
}

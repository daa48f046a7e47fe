//! Property tests over random networks: every derivative the engine prints,
//! in both forms, agrees with finite differences of the forward
//! computation, and every expanded result printed in the language parses
//! back to the same values.
//!
//! Networks are drawn from a seed: random ranges and index names, leaves of
//! random shapes, layers defined by random expressions over every earlier
//! family (so skip connections and shared parameters occur), every built-in
//! function and an opaque one, sums over one or several indices, and
//! `delta` lines on a random subset of layers. Functions that grow without
//! bound get bounded arguments, so that the forward values stay in the range
//! where finite differences can be trusted.

mod common;

use chainrule::chain::Form;
use chainrule::numeric::{self, Draws};
use chainrule::render::Format;
use chainrule::{Network, Source};
use common::largest_difference;
use proptest::prelude::*;

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
                indices.push(usable[pick].clone());
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
        match self.below(22) {
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
            _ => format!(
                "(1 + ({a})^2)^(sigmoid({}))",
                self.expression(depth - 1, available, in_scope, taken)
            ),
        }
    }
}

/// A random network with its derive lines.
fn random_network(seed: u64) -> String {
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

fn check_network(seed: u64) -> Result<(), String> {
    let text = random_network(seed);
    let mut network = Network::load(Source::new("random.nn", text.as_str()))
        .map_err(|e| format!("{e}\n{text}"))?;
    for query in network.model.queries.clone() {
        for form in [Form::Expanded, Form::Backprop] {
            let derived = match network.engine().derive(&query, form) {
                Ok(derived) => derived,
                Err(error) if form == Form::Expanded && error.message.contains("grows beyond") => {
                    continue;
                }
                Err(error) => return Err(format!("{}: {error}\n{text}", query.text)),
            };
            let verdict =
                numeric::verify(&network.model, &network.graph, &derived, 2, seed ^ 0x5eed);
            let undefined = verdict.problem.as_deref()
                == Some("found no point where the network is defined and smooth");
            if !verdict.passed() && !undefined {
                let printed = network.print(derived.result, Format::Dsl);
                return Err(format!(
                    "{} ({form:?}) = {printed}\n{verdict:?}\n{text}",
                    query.text
                ));
            }
            if form == Form::Expanded && !undefined {
                let printed = network.print(derived.result, Format::Dsl);
                let reparsed = network
                    .expression(&printed)
                    .map_err(|e| format!("{printed}: {e}\n{text}"))?;
                let difference = largest_difference(&network, derived.result, reparsed, 2, seed);
                if difference > 1e-9 {
                    return Err(format!(
                        "{printed} parses back differently ({difference})\n{text}"
                    ));
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_networks_agree_with_finite_differences(seed in any::<u64>()) {
        if let Err(report) = check_network(seed) {
            prop_assert!(false, "seed {seed}: {report}");
        }
    }
}

#[test]
fn the_generator_covers_what_it_promises() {
    let texts: Vec<String> = (0..200).map(random_network).collect();
    let all = texts.join("\n");
    for feature in [
        "sum(",
        "exp(",
        "log(",
        "sqrt(",
        "sin(",
        "cos(",
        "sinh(",
        "cosh(",
        "tanh(",
        "sigmoid(",
        "softplus(",
        "relu(",
        "abs(",
        "step(",
        "sign(",
        "h(",
        "h'(",
        "delta L",
        "index i2, j2 in R2",
    ] {
        assert!(all.contains(feature), "no random network uses {feature}");
    }
    assert!(
        texts
            .iter()
            .any(|t| t.contains("sum(i0, j0,") || t.contains("sum(j0, s") || t.contains(", s")),
        "sums over several indices"
    );
    assert!(
        texts.iter().any(|t| !t.contains("index")),
        "scalar networks"
    );
}

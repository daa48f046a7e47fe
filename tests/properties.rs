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

use chainrule::Form;
use chainrule::Format;
use chainrule::verify;
use chainrule::{Network, Source};
use common::{largest_difference, random_network};
use proptest::prelude::*;

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
            let verdict = verify(&network.model, &network.graph, &derived, 2, seed ^ 0x5eed);
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

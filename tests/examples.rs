//! Every shipped example, through the binary and the library: it verifies
//! numerically, prints in every format, and its results in the language
//! parse back to the same values.

mod common;

use chainrule::FamilyKind;
use chainrule::Format;
use chainrule::LeafKind;
use chainrule::verify;
use chainrule::{Derivative, Form};
use common::{example_names, example_text, largest_difference, network, run};

fn derive_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("derive "))
        .map(|rest| rest.split('#').next().unwrap_or("").trim().to_string())
        .collect()
}

#[test]
fn every_example_verifies_against_finite_differences() {
    for name in example_names() {
        let path = format!("examples/{name}");
        let out = run(&["verify", &path]);
        assert_eq!(out.status, 0, "{name}: {}{}", out.stdout, out.stderr);
        let queries = derive_lines(&example_text(&name));
        assert!(!queries.is_empty(), "{name} has derive lines");
        assert_eq!(
            out.stdout.lines().filter(|l| l.starts_with("PASS")).count(),
            queries.len(),
            "{name}"
        );
    }
}

#[test]
fn every_example_prints_in_every_format_and_form() {
    for name in example_names() {
        let path = format!("examples/{name}");
        for query in derive_lines(&example_text(&name)) {
            for form in ["backprop", "expanded"] {
                for format in ["text", "latex", "dsl", "json"] {
                    let out = run(&["derive", &path, &query, "--form", form, "--format", format]);
                    assert_eq!(
                        out.status, 0,
                        "{name} {query} {form} {format}: {}",
                        out.stderr
                    );
                    assert!(!out.stdout.trim().is_empty());
                    if format == "json" {
                        let value: serde_json::Value =
                            serde_json::from_str(&out.stdout).expect("valid JSON");
                        for key in ["query", "free_indices", "expanded", "backprop", "note"] {
                            assert!(value.get(key).is_some(), "{name} {query}: JSON lacks {key}");
                        }
                        for part in ["text", "latex", "dsl"] {
                            assert!(value["backprop"]["rhs"][part].is_string());
                            assert!(value["expanded"]["rhs"][part].is_string());
                        }
                    }
                    if format == "dsl" && form == "expanded" {
                        assert_eq!(out.stdout.lines().count(), 1, "{name} {query}: one line");
                    }
                }
            }
        }
    }
}

#[test]
fn expanded_results_in_the_language_parse_back_to_the_same_values() {
    for name in example_names() {
        let text = example_text(&name);
        let mut net = network(&text);
        for query in derive_lines(&text) {
            let query = net.query(&query).unwrap();
            let derived = net.engine().derive(&query, Form::Expanded).unwrap();
            let printed = net.print(derived.result, Format::Dsl);
            let reparsed = net
                .expression(&printed)
                .unwrap_or_else(|e| panic!("{name}: {printed}: {e}"));
            let difference = largest_difference(&net, derived.result, reparsed, 3, 11);
            assert!(
                difference < 1e-12,
                "{name}: {printed} differs by {difference}"
            );
        }
    }
}

#[test]
fn the_whole_gradient_of_every_example_agrees_with_finite_differences() {
    for name in example_names() {
        let mut net = network(&example_text(&name));
        let objectives = net.graph.objectives(&net.model);
        let [objective] = objectives.as_slice() else {
            continue; // a Jacobian example has no scalar objective
        };
        let objective = *objective;
        let gradient = net.engine().gradient(objective).unwrap();
        let objective_name = net.model.family(objective).name.clone();
        for (parameter, result) in &gradient.parameters {
            let info = net.model.family(*parameter);
            assert_eq!(info.kind, FamilyKind::Leaf(LeafKind::Param));
            let names: Vec<String> = info
                .slots
                .iter()
                .map(|v| net.model.store.var(*v).name.clone())
                .collect();
            let query_text = if names.is_empty() {
                format!("d{objective_name}/d{}", info.name)
            } else {
                format!("d{objective_name}/d{}[{}]", info.name, names.join(","))
            };
            let query = net.query(&query_text).unwrap();
            assert_eq!(
                query,
                chainrule::Query::delta(&net.model, objective, *parameter)
            );
            let derivative = Derivative {
                query,
                form: Form::Backprop,
                result: *result,
                equations: gradient.equations.clone(),
                note: None,
            };
            let verdict = verify(&net.model, &net.graph, &derivative, 3, 5);
            assert!(verdict.passed(), "{name} {query_text}: {verdict:?}");
        }
    }
}

#[test]
fn grad_names_a_delta_for_every_computed_family() {
    let out = run(&["grad", "examples/bishop-5.3.nn", "--format", "dsl"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "delta_y[k] = y[k] - t[k]\n\
         delta_b[k] = delta_y[k]\n\
         delta_z[j] = sum(k, w2[k,j]*delta_b[k])\n\
         delta_a[j] = h'(a[j])*delta_z[j]\n\
         dE/dw1[j,i] = delta_a[j]*x[i]\n\
         dE/dw2[k,j] = delta_b[k]*z[j]\n"
    );
}

#[test]
fn graph_draws_every_dependency() {
    let out = run(&["graph", "examples/bishop-5.3.nn"]);
    assert_eq!(out.status, 0);
    for edge in [
        "\"x\" -> \"a\"",
        "\"w1\" -> \"a\"",
        "\"a\" -> \"z\"",
        "\"z\" -> \"b\"",
        "\"y\" -> \"E\"",
    ] {
        assert!(out.stdout.contains(edge), "missing {edge}");
    }
    assert!(out.stdout.contains("\"w1\" [shape=box]"));
}

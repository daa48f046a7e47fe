//! Presentation MathML: every result `--format mathml` prints, and every
//! formula of the JSON outputs, is a well-formed `math` element whose
//! scripts, fractions and sums each hold exactly the parts MathML gives
//! them, on every example and on random networks with random notation.

mod common;

use chainrule::cli::execute;
use std::sync::atomic::{AtomicUsize, Ordering};

use roxmltree::{Document, Node};

const MATHML: &str = "http://www.w3.org/1998/Math/MathML";

/// Runs a command in-process, `-` in its arguments standing for a scratch
/// file that holds `input`.
fn run(args: &[&str], input: &str) -> chainrule::cli::Outcome {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let path =
        std::env::temp_dir().join(format!("chainrule-mathml-{}-{run}.nn", std::process::id()));
    std::fs::write(&path, input).expect("the network is written");
    let path = path.to_string_lossy().to_string();
    let args = args.iter().map(|a| {
        if *a == "-" {
            path.clone()
        } else {
            a.to_string()
        }
    });
    let outcome = execute(std::iter::once("chainrule".to_string()).chain(args));
    std::fs::remove_file(&path).ok();
    outcome
}

/// How many element children each element takes: `None` for any number.
fn arity(name: &str) -> Option<usize> {
    match name {
        "msup" | "msub" | "mfrac" | "munder" | "mover" => Some(2),
        "msubsup" => Some(3),
        "math" | "mrow" | "mtable" | "mtr" | "mtd" | "msqrt" => None,
        "mi" | "mn" | "mo" | "mspace" => Some(0),
        other => panic!("`{other}` is not an element the printer writes"),
    }
}

/// Checks one `math` element whole, with `what` naming it in a failure.
fn assert_well_formed(mathml: &str, what: &str) {
    let document = Document::parse(mathml)
        .unwrap_or_else(|e| panic!("{what}: not well-formed XML ({e}):\n{mathml}"));
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "math", "{what}");
    assert_eq!(root.tag_name().namespace(), Some(MATHML), "{what}");
    let mut stack: Vec<Node> = vec![root];
    while let Some(node) = stack.pop() {
        let name = node.tag_name().name();
        let children: Vec<Node> = node.children().filter(Node::is_element).collect();
        if let Some(wanted) = arity(name) {
            assert_eq!(
                children.len(),
                wanted,
                "{what}: `{name}` holds {} parts, not {wanted}:\n{mathml}",
                children.len()
            );
        }
        let text: String = node
            .children()
            .filter(Node::is_text)
            .filter_map(|t| t.text())
            .collect();
        match name {
            "mn" => assert!(
                !text.is_empty() && text.chars().all(|c| c.is_ascii_digit()),
                "{what}: a number `{text}`"
            ),
            "mi" | "mo" => assert!(!text.is_empty(), "{what}: an empty `{name}`"),
            _ => assert!(
                text.trim().is_empty(),
                "{what}: `{name}` holds loose text `{text}`"
            ),
        }
        stack.extend(children);
    }
}

/// Every MathML string in a JSON value.
fn mathml_fields(value: &serde_json::Value, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("mathml", serde_json::Value::String(s)) => found.push(s.clone()),
                    _ => mathml_fields(inner, found),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| mathml_fields(i, found)),
        _ => {}
    }
}

/// Checks every MathML output of a network: each `derive` line in both
/// forms, the gradient, and the formulas of the JSON outputs.
fn assert_network_mathml(text: &str, name: &str) {
    let queries: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("derive "))
        .map(|q| q.split('#').next().unwrap().trim())
        .collect();
    let mut checked = 0;
    for query in &queries {
        for form in ["backprop", "expanded"] {
            let out = run(
                &["derive", "-", query, "--form", form, "--format", "mathml"],
                text,
            );
            if out.status != 0 {
                continue;
            }
            let what = format!("{name} {query} {form}");
            assert_well_formed(out.stdout.trim_end(), &what);
            checked += 1;
        }
        for args in [
            vec!["derive", "-", query, "--format", "json"],
            vec!["derive", "-", query, "--steps", "--format", "json"],
        ] {
            let out = run(&args, text);
            assert_eq!(out.status, 0, "{name} {query}: {}", out.stderr);
            let value: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
            let mut found = Vec::new();
            mathml_fields(&value, &mut found);
            assert!(!found.is_empty(), "{name} {query}: JSON without MathML");
            for mathml in found {
                assert_well_formed(&mathml, &format!("{name} {query} JSON"));
            }
        }
    }
    let out = run(&["grad", "-", "--format", "mathml"], text);
    if out.status == 0 {
        assert_well_formed(out.stdout.trim_end(), &format!("{name} grad"));
    }
    assert!(checked > 0 || queries.is_empty(), "{name}: nothing derived");
}

#[test]
fn every_example_prints_well_formed_mathml() {
    for name in common::example_names() {
        assert_network_mathml(&common::example_text(&name), &name);
    }
}

#[test]
fn random_networks_with_random_notation_print_well_formed_mathml() {
    for seed in 0..24 {
        let text = common::with_random_notation(seed);
        assert_network_mathml(&text, &format!("seed {seed}"));
    }
}

#[test]
fn bishop_delta_in_mathml_reads_as_eq_5_56() {
    // δ_j = h′(a_j) Σ_k w^{(2)}_{kj} δ_k and δ_k = y_k − t_k, as a table
    // aligned on the equals signs.
    let out = run(
        &["derive", "-", "dE/da[j]", "--format", "mathml"],
        &common::example_text("bishop-5.3.nn"),
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let symbol = |name: &str, index: &str| {
        format!("<msub><mi>{name}</mi><mrow><mi>{index}</mi></mrow></msub>")
    };
    let row = |lhs: String, rhs: String| {
        format!(
            "<mtr><mtd columnalign=\"right\">{lhs}</mtd><mtd columnalign=\"left\"><mo>=</mo>{rhs}</mtd></mtr>"
        )
    };
    let first = format!(
        "<msup><mi>h</mi><mo>′</mo></msup><mo>&#x2061;</mo><mrow><mo>(</mo>{}<mo>)</mo></mrow>\
         <mo>&#x2062;</mo><munder><mo>∑</mo><mrow><mi>k</mi></mrow></munder><mrow>\
         <msubsup><mi>w</mi><mrow><mi>k</mi><mi>j</mi></mrow><mrow><mo>(</mo><mn>2</mn><mo>)</mo></mrow></msubsup>\
         <mo>&#x2062;</mo>{}</mrow>",
        symbol("a", "j"),
        symbol("δ", "k")
    );
    let second = format!("{}<mo>−</mo>{}", symbol("y", "k"), symbol("t", "k"));
    assert_eq!(
        out.stdout,
        format!(
            "<math xmlns=\"{MATHML}\" display=\"block\"><mtable>{}{}</mtable></math>\n",
            row(symbol("δ", "j"), first),
            row(symbol("δ", "k"), second)
        )
    );
}

#[test]
fn diff_prints_mathml_and_steps_refuse_it_with_a_pointer() {
    let out = execute(["chainrule", "diff", "x^2/3", "x", "--format", "mathml"].map(String::from));
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        format!(
            "<math xmlns=\"{MATHML}\" display=\"block\"><mfrac><mrow><mn>2</mn><mo>&#x2062;</mo><mi>x</mi></mrow><mrow><mn>3</mn></mrow></mfrac></math>\n"
        )
    );
    let out = run(
        &["derive", "-", "dE/da[j]", "--steps", "--format", "mathml"],
        &common::example_text("bishop-5.3.nn"),
    );
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("--steps --format json"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_gradients_json_leaves_mathml_to_its_own_format() {
    let text = common::example_text("bishop-5.3.nn");
    let out = run(&["grad", "-", "--format", "json"], &text);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let mut found = Vec::new();
    mathml_fields(&value, &mut found);
    assert!(found.is_empty(), "MathML in a gradient's JSON");
    let first = &value["parameters"][0]["rhs"];
    for format in ["text", "latex", "dsl"] {
        assert!(first[format].is_string(), "{format} missing: {first}");
    }
    let mathml = run(&["grad", "-", "--format", "mathml"], &text);
    assert_well_formed(mathml.stdout.trim_end(), "bishop grad");
}

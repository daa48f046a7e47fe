//! Step-by-step derivations: every link of every derivation is a true
//! equation (checked numerically, a derivative not yet taken evaluated by
//! finite differences), and Bishop's derivation has the shape of the book.

mod common;

use chainrule::Equation;
use chainrule::IndexVar;
use chainrule::Network;
use chainrule::{Derivation, Verbosity, derive_steps};
use chainrule::{Flow, Plan, WorkMeter, sample};
use common::{example_names, example_text, network, run};

/// The largest relative disagreement between consecutive links of a
/// derivation (and of its lemmas), at a few random points.
fn largest_link_error(
    net: &Network,
    derivation: &Derivation,
    equations: &[Equation],
    seed: u64,
) -> f64 {
    let model = &net.model;
    let mut links = vec![derivation.lhs];
    links.extend(derivation.steps.iter().map(|s| s.expr));
    let mut free: Vec<IndexVar> = links
        .iter()
        .flat_map(|l| model.store.free_vars(*l).to_vec())
        .collect();
    free.sort_unstable();
    free.dedup();
    let mut largest: f64 = 0.0;
    let meter = WorkMeter::unlimited();
    let plan = Plan {
        seed,
        points: 2,
        meter: &meter,
    };
    let sampling = sample(
        model,
        &net.graph,
        equations,
        &free,
        plan,
        |instance, env| {
            let values: Vec<f64> = links.iter().map(|l| instance.eval(*l, env)).collect();
            for pair in values.windows(2) {
                let error = (pair[0] - pair[1]).abs() / pair[0].abs().max(1.0);
                largest = largest.max(if error.is_nan() { f64::INFINITY } else { error });
            }
            Flow::Continue
        },
    );
    assert!(sampling.points > 0, "no usable point");
    for step in &derivation.steps {
        for lemma in &step.lemmas {
            largest = largest.max(largest_link_error(net, lemma, equations, seed));
        }
    }
    largest
}

fn check_every_link(text: &str, verbosity: Verbosity) {
    let mut net = network(text);
    for query in net.model.queries.clone() {
        let report = derive_steps(&mut net.engine(), &query, verbosity).unwrap();
        let equations = report.equations.clone();
        let error = largest_link_error(&net, &report.main, &equations, 3);
        assert!(error < 1e-5, "{}: a link is off by {error}", query.text);
        for (_, _, derivation) in &report.deltas {
            let error = largest_link_error(&net, derivation, &equations, 4);
            assert!(
                error < 1e-5,
                "{}: a delta's link is off by {error}",
                query.text
            );
        }
    }
}

#[test]
fn every_link_of_every_example_is_a_true_equation() {
    for name in example_names() {
        check_every_link(&example_text(&name), Verbosity::Textbook);
        check_every_link(&example_text(&name), Verbosity::Full);
    }
}

#[test]
fn every_link_on_random_networks_is_a_true_equation() {
    let mut checked = 0;
    for seed in 0..40u64 {
        let text = common::random_network(seed);
        check_every_link(
            &text,
            if seed % 2 == 0 {
                Verbosity::Textbook
            } else {
                Verbosity::Full
            },
        );
        checked += 1;
    }
    assert_eq!(checked, 40);
}

#[test]
fn bishop_hidden_delta_goes_as_the_book_goes() {
    let mut net = network(&example_text("bishop-5.3.nn"));
    let query = net.query("dE/da[j]").unwrap();
    let report = derive_steps(&mut net.engine(), &query, Verbosity::Textbook).unwrap();
    let rules: Vec<Vec<&str>> = report
        .main
        .steps
        .iter()
        .map(|s| s.rules.iter().map(|r| r.id).collect())
        .collect();
    assert_eq!(
        rules,
        [
            vec!["chain-rule-successors"],
            vec!["delta-definition"],
            vec!["substitution"],
            vec!["sum-constant-out"]
        ]
    );
    let lemma = &report.main.steps[2].lemmas[0];
    let lemma_rules: Vec<Vec<&str>> = lemma
        .steps
        .iter()
        .map(|s| s.rules.iter().map(|r| r.id).collect())
        .collect();
    assert_eq!(
        lemma_rules,
        [
            vec!["definition", "sum-derivative", "constant-factor"],
            vec!["definition", "activation-derivative", "kronecker-delta"],
            vec!["kronecker-collapse"],
        ]
    );
    let out = run(&["derive", "examples/bishop-5.3.nn", "dE/da[j]", "--steps"]);
    let expected_lines = [
        "∂Eₙ/∂aⱼ",
        "(1) = Σₖ ∂Eₙ/∂aₖ ∂aₖ/∂aⱼ",
        "      chain-rule-successors: aⱼ reaches Eₙ only through zⱼ, which feeds aₖ for every k, so the sum runs over all k",
        "(2) = Σₖ δₖ ∂aₖ/∂aⱼ",
        "        ∂aₖ/∂aⱼ",
        // The bound index takes the next free letter, l (k is taken), and
        // the Kronecker delta is I, since a `delta` line uses \delta.
        "        (1) = Σₗ w⁽²⁾ₖₗ ∂zₗ/∂aⱼ",
        "        (2) = Σₗ h′(aₗ) w⁽²⁾ₖₗ Iⱼₗ",
        "        (3) = h′(aⱼ) w⁽²⁾ₖⱼ",
        "(4) = h′(aⱼ) Σₖ w⁽²⁾ₖⱼ δₖ",
        "so δⱼ = h′(aⱼ) Σₖ w⁽²⁾ₖⱼ δₖ",
        "where δₖ:",
        // The power rule's 2 meets the 1/2 outside the sum at once.
        "(1) = 1/2 Σₗ 2 (yₗ − tₗ) ∂yₗ/∂aₖ",
        "(2) = Σₗ (yₗ − tₗ) ∂yₗ/∂aₖ",
        "      sum-constant-out: the number inside the sum leaves it and multiplies the one outside",
        "(3) = Σₗ (yₗ − tₗ) Iₖₗ",
        "(4) = yₖ − tₖ",
    ];
    for line in expected_lines {
        assert!(
            out.stdout.lines().any(|l| l == line),
            "missing line {line:?} in\n{}",
            out.stdout
        );
    }
}

#[test]
fn the_output_delta_is_derived_from_the_error_function() {
    let out = run(&["derive", "examples/bishop-5.3.nn", "dE/db[k]", "--steps"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("Eₙ = 1/2 Σₗ (yₗ − tₗ)²"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.ends_with("so δₖ = yₖ − tₖ\n"), "{}", out.stdout);
}

#[test]
fn a_unit_feeding_several_others_names_each_in_the_first_step() {
    let out = run(&["derive", "examples/scalar-fanout.nn", "dE/du", "--steps"]);
    let first = out.stdout.lines().nth(1).unwrap();
    assert_eq!(
        first,
        "(1) = ∂E/∂p⁽¹⁾ ∂p⁽¹⁾/∂u + ∂E/∂p⁽²⁾ ∂p⁽²⁾/∂u + ∂E/∂p⁽³⁾ ∂p⁽³⁾/∂u"
    );
    assert!(
        out.stdout
            .contains("u feeds directly p⁽¹⁾, p⁽²⁾ and p⁽³⁾, one term each")
    );
}

#[test]
fn full_verbosity_shows_every_rule_on_its_own() {
    let mut net = network(&example_text("bishop-5.3.nn"));
    let query = net.query("dE/da[j]").unwrap();
    let textbook = derive_steps(&mut net.engine(), &query, Verbosity::Textbook).unwrap();
    let full = derive_steps(&mut net.engine(), &query, Verbosity::Full).unwrap();
    let lemma_steps = |d: &Derivation| d.steps[2].lemmas[0].steps.len();
    assert!(lemma_steps(&full.main) > lemma_steps(&textbook.main));
    assert!(
        full.main.steps[2].lemmas[0]
            .steps
            .iter()
            .all(|s| s.rules.len() == 1),
        "one rule a link"
    );
}

#[test]
fn steps_in_latex_and_json() {
    let latex = run(&[
        "derive",
        "examples/bishop-5.3.nn",
        "dE/da[j]",
        "--steps",
        "--format",
        "latex",
    ]);
    assert!(
        latex.stdout.starts_with(
            "\\begin{align*}\n\\frac{\\partial E_n}{\\partial a_{j}} &= \\sum_{k} \\frac{\\partial E_n}{\\partial a_{k}} \\frac{\\partial a_{k}}{\\partial a_{j}} \\tag*{(1)}"
        ),
        "{}",
        latex.stdout
    );
    // The reason stands directly below its link, its rule a small label.
    assert!(
        latex.stdout.contains(
            "\\tag*{(1)} \\\\\n\\intertext{{\\footnotesize\\textsf{chain-rule-successors}\\enspace $a_{j}$ reaches $E_n$ only through $z_{j}$, which feeds $a_{k}$ for every $k$"
        ),
        "{}",
        latex.stdout
    );
    let json = run(&[
        "derive",
        "examples/bishop-5.3.nn",
        "dE/da[j]",
        "--steps",
        "--format",
        "json",
    ]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let first = &value["derivation"]["steps"][0];
    assert_eq!(first["rules"][0], "chain-rule-successors");
    assert_eq!(first["rhs"]["dsl"], "sum(k, dE/db[k]*db[k]/da[j])");
    assert!(
        first["reason"]["latex"]
            .as_str()
            .unwrap()
            .contains("$a_{j}$")
    );
    assert_eq!(value["deltas"][0]["delta_of"], "b");
}

#[test]
fn the_softmax_derivation_names_its_assumption() {
    let mut net = network(&example_text("softmax-ce.nn"));
    let query = net.query("dE/da[k]").unwrap();
    let report = derive_steps(&mut net.engine(), &query, Verbosity::Textbook).unwrap();
    // Multiplied out, the sum over l collapses on delta(k, l) to t_k; then,
    // in a link of its own, y_k sum(l, t_l) is y_k by the assumption.
    let steps = &report.main.steps;
    let ids = |at: usize| -> Vec<&str> { steps[at].rules.iter().map(|r| r.id).collect() };
    let (expanded, assumed) = (steps.len() - 2, steps.len() - 1);
    for rule in ["multiply-out", "kronecker-collapse"] {
        assert!(ids(expanded).contains(&rule), "{:?}", ids(expanded));
    }
    assert_eq!(ids(assumed), ["assumption"]);
    assert_eq!(
        net.print(steps[expanded].expr, chainrule::Format::Dsl),
        "y[k]*sum(l, t[l]) - t[k]"
    );
    assert!(
        report
            .main
            .steps
            .iter()
            .any(|s| s.rules.iter().any(|r| r.id == "forward-quantity"))
    );
    assert_eq!(
        net.print(report.main.result(), chainrule::Format::Dsl),
        "y[k] - t[k]"
    );
}

#[test]
fn a_weight_feeding_one_unit_is_not_summed_over_as_bishop_5_50() {
    let out = run(&["derive", "examples/bishop-5.3.nn", "dE/dw1[j,i]", "--steps"]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    // Eₙ depends on w_ji only through a_j: no sum, no Kronecker delta.
    assert_eq!(lines[1], "(1) = ∂Eₙ/∂aⱼ ∂aⱼ/∂w⁽¹⁾ⱼᵢ", "{}", out.stdout);
    assert_eq!(
        lines[2],
        "      chain-rule-successors: Eₙ depends on w⁽¹⁾ⱼᵢ only through aⱼ, the only element it feeds"
    );
    assert!(
        out.stdout.contains("so δⱼ xᵢ") || out.stdout.contains("= δⱼ xᵢ"),
        "{}",
        out.stdout
    );
}

#[test]
fn chain_rule_reasons_say_what_the_graph_says() {
    // In the residual block x feeds every a directly and r at its own
    // index (r[i] = x[i] + ...), and a reaches E through z alone; the sum
    // runs over i2, as the reason says.
    let reason = |query: &str| {
        let out = run(&["derive", "examples/residual.nn", query, "--steps"]);
        assert_eq!(out.status, 0, "{}", out.stderr);
        out.stdout.lines().nth(2).unwrap().trim().to_string()
    };
    assert_eq!(
        reason("dE/dx[i]"),
        "chain-rule-successors: xᵢ feeds directly a[i2] for every i2, and rᵢ, one term each, so the sum runs over all i2; (∂rᵢ/∂xᵢ)ₐ holds every a[i2] fixed"
    );
    assert_eq!(
        reason("dE/da[i]"),
        "chain-rule-successors: aᵢ reaches E only through zᵢ, which feeds r[i2] for every i2, so the sum runs over all i2"
    );
    // Tied weights: w feeds a and b, each at its own row.
    let out = run(&[
        "derive",
        "examples/shared-weights.nn",
        "dE/dw[i,j]",
        "--steps",
    ]);
    assert!(
        out.stdout.contains(
            "E depends on wᵢⱼ only through aᵢ and bᵢ, the only elements it feeds, one term each"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn the_first_sum_over_successors_says_why_in_the_networks_names() {
    let out = run(&["derive", "examples/bishop-5.3.nn", "dE/da[j]", "--steps"]);
    let why = out.stdout.lines().nth(3).unwrap().trim();
    assert_eq!(
        why,
        "Why a sum: when aⱼ changes, so does every unit the sum runs over, and Eₙ changes through each of them. The multivariate chain rule adds up these contributions, one term for each unit (Bishop's eq. 5.55): ∂Eₙ/∂aⱼ = Σₖ ∂Eₙ/∂aₖ ∂aₖ/∂aⱼ"
    );
    assert_eq!(out.stdout.matches("Why a sum").count(), 1);
    // A weight's derivative, which sums over nothing, does not ask.
    let weight = run(&["derive", "examples/bishop-5.3.nn", "dE/dw1[j,i]", "--steps"]);
    assert!(!weight.stdout.contains("Why a sum"), "{}", weight.stdout);
    // A document says it once, in the first section that sums.
    let doc = run(&["doc", "examples/bishop-5.3.nn", "-o", "-"]);
    assert_eq!(doc.stdout.matches("Why a sum").count(), 1);
    let sections: Vec<usize> = doc
        .stdout
        .match_indices("\\subsection{")
        .map(|(at, _)| at)
        .collect();
    let why = doc.stdout.find("Why a sum").unwrap();
    assert!(
        sections[0] < why && why < sections[1],
        "in the first section"
    );
}

/// The family a reason's formula names, when it is an element of one.
fn family_of(net: &Network, formula: chainrule::ExprId) -> Option<chainrule::FamilyId> {
    match net.model.store.node(formula) {
        chainrule::Node::Ref(family, _) => Some(*family),
        _ => None,
    }
}

/// Checks what a chain-rule reason says of the graph: every unit it names
/// lies between the unit and the objective; what it says a unit feeds
/// directly, the unit feeds in the graph; what it says a unit reaches the
/// objective only through, is that unit's one successor on the way.
fn check_chain_reason(net: &Network, derivation: &Derivation, checked: &mut [usize; 3]) {
    use chainrule::ReasonPart::{Formula, Words};
    let graph = &net.graph;
    let Some(first) = derivation.steps.first() else {
        return;
    };
    if !first.rules.iter().any(|r| r.id == "chain-rule-successors") {
        return;
    }
    let chainrule::Node::Derivative(numerator, wrt) = net.model.store.node(derivation.lhs) else {
        panic!("a derivation derives a derivative");
    };
    let numerator = family_of(net, *numerator).expect("the numerator is a family");
    let unit = wrt.family;
    let downstream = graph.downstream_of(&[unit]);
    let upstream = graph.upstream_of(numerator);
    let parts = &first.reason;
    for part in parts {
        if let Formula(formula) = part
            && let Some(family) = family_of(net, *formula)
            && family != unit
            && family != numerator
        {
            assert!(
                downstream[family.index()] && upstream[family.index()],
                "a reason names a unit off the way from the unit to the objective"
            );
        }
    }
    let words = |at: usize| match parts.get(at) {
        Some(Words(w)) => w.as_str(),
        _ => "",
    };
    // "u feeds directly A for every k, B and C": each is a successor of u.
    if words(1) == " feeds directly " {
        for part in parts[2..].iter().take_while(|part| {
            !matches!(part, Words(w) if w.starts_with(", one term") || w.starts_with(", so"))
        }) {
            if let Formula(formula) = part {
                let family = family_of(net, *formula).expect("a unit");
                assert!(graph.successors(unit).contains(&family), "fed directly");
            }
        }
        checked[0] += 1;
    }
    // "u reaches E only through z, which feeds A": z is u's one successor
    // on the way, and it feeds A.
    if let Some(through_at) = (0..parts.len()).find(|at| words(*at) == " only through ")
        && words(through_at + 2) == ", which feeds "
    {
        let Some(Formula(through)) = parts.get(through_at + 1) else {
            panic!("a unit after `only through`");
        };
        let through = family_of(net, *through).expect("a unit");
        let on_the_way: Vec<_> = graph
            .successors(unit)
            .iter()
            .filter(|s| upstream[s.index()])
            .collect();
        assert_eq!(on_the_way, [&through], "the one successor on the way");
        // Up to the clause on what a local derivative holds fixed.
        for part in parts[through_at + 3..]
            .iter()
            .take_while(|part| !matches!(part, Words(w) if w.starts_with("; ")))
        {
            if let Formula(formula) = part {
                let family = family_of(net, *formula).expect("a unit");
                assert!(graph.successors(through).contains(&family), "fed by it");
            }
        }
        checked[1] += 1;
    }
    // "E depends on w only through a, the only element it feeds".
    if words(1) == " depends on " {
        let Some(Formula(unit_fed)) = parts.get(4) else {
            panic!("a unit after `only through`");
        };
        let family = family_of(net, *unit_fed).expect("a unit");
        assert!(graph.successors(unit).contains(&family));
        checked[2] += 1;
    }
}

#[test]
fn chain_rule_reasons_agree_with_the_graph_on_random_networks() {
    // How many reasons of each form were checked: fed directly, through
    // one successor, through one element.
    let mut checked = [0; 3];
    for seed in 0..40u64 {
        let mut net = network(&common::random_network(seed));
        for query in net.model.queries.clone() {
            let report = derive_steps(&mut net.engine(), &query, Verbosity::Textbook).unwrap();
            check_chain_reason(&net, &report.main, &mut checked);
            for (_, _, derivation) in &report.deltas {
                check_chain_reason(&net, derivation, &mut checked);
            }
        }
    }
    for name in example_names() {
        let mut net = network(&example_text(&name));
        for query in net.model.queries.clone() {
            let report = derive_steps(&mut net.engine(), &query, Verbosity::Textbook).unwrap();
            check_chain_reason(&net, &report.main, &mut checked);
        }
    }
    // Each form of reason was met.
    assert!(checked.iter().all(|n| *n > 0), "checked {checked:?}");
}

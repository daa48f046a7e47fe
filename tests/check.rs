//! Homework checking, against a corpus of answers whose verdicts and
//! diagnoses were written by hand (`tests/corpus/answers.tsv`), whole
//! derivations with a known first wrong line, the identities that fool
//! random-point checkers, and batches.

mod common;

use std::collections::HashMap;

use chainrule::Network;
use chainrule::{check_answer, check_derivation};
use common::{example_text, network, run};

fn corpus() -> Vec<(String, String, String, String, String)> {
    let text = std::fs::read_to_string(format!(
        "{}/tests/corpus/answers.tsv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let parts: Vec<&str> = line.splitn(5, '\t').collect();
            assert_eq!(parts.len(), 5, "five columns: {line}");
            (
                parts[0].into(),
                parts[1].into(),
                parts[2].into(),
                parts[3].into(),
                parts[4].into(),
            )
        })
        .collect()
}

#[test]
fn the_corpus_is_graded_as_written_by_hand() {
    let rows = corpus();
    assert!(
        rows.len() >= 80,
        "at least 80 answers, found {}",
        rows.len()
    );
    let mut networks: HashMap<String, Network> = HashMap::new();
    let mut failures = Vec::new();
    for (example, query, verdict, phrase, answer) in &rows {
        let net = networks
            .entry(example.clone())
            .or_insert_with(|| network(&example_text(example)));
        let query_value = net.query(query).unwrap();
        let truth = chainrule::truth(net, &query_value).unwrap();
        let grade = check_answer(net, &truth, answer);
        let words = grade
            .diagnosis
            .as_ref()
            .map(|d| d.words.clone())
            .unwrap_or_default();
        let verdict_ok = grade.verdict.name() == verdict;
        let phrase_ok = phrase == "-" || words.contains(phrase.as_str());
        if !verdict_ok || !phrase_ok {
            failures.push(format!(
                "{example} {query} `{answer}`: wanted {verdict} / {phrase}, got {} / {words}",
                grade.verdict.name()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} answers graded otherwise:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn identities_that_fool_random_point_checkers_are_correct_every_time() {
    let mut tanh = network(&example_text("tanh-hidden.nn"));
    let mut sigmoid = network(&example_text("sigmoid-squared.nn"));
    for seed in 0..50 {
        let query = tanh.query("dE/da[j]").unwrap();
        let truth = chainrule::truth(&mut tanh, &query).unwrap().with_seed(seed);
        for answer in [
            "(1 - \\tanh^2 (a_j))\\sum_k w^{(2)}_{kj}\\delta_k",
            "\\frac{1}{\\cosh^2(a_j)}\\sum_k w^{(2)}_{kj}\\delta_k",
        ] {
            assert!(
                check_answer(&mut tanh, &truth, answer).verdict.is_right(),
                "{answer}"
            );
        }
        let query = sigmoid.query("dE/da").unwrap();
        let truth = chainrule::truth(&mut sigmoid, &query)
            .unwrap()
            .with_seed(seed);
        for answer in [
            "(y-t)\\sigma(a)(1-\\sigma(a))",
            "(y-t)\\frac{e^{-a}}{(1+e^{-a})^2}",
            "(y-t) y (1-y)",
        ] {
            assert!(
                check_answer(&mut sigmoid, &truth, answer)
                    .verdict
                    .is_right(),
                "{answer}"
            );
        }
    }
}

/// Derivations with the first wrong line known by hand (0: none is wrong).
const DERIVATIONS: [(&str, &str, &str, usize); 10] = [
    (
        "bishop-5.3.nn",
        "dE/da[j]",
        "\\delta_j = \\frac{\\partial E_n}{\\partial a_j} \\\\ &= \\sum_k \\frac{\\partial E_n}{\\partial a_k}\\frac{\\partial a_k}{\\partial a_j} \\\\ &= \\sum_k \\delta_k w^{(2)}_{kj} h'(a_j)",
        0,
    ),
    (
        "bishop-5.3.nn",
        "dE/da[j]",
        "\\delta_j = \\sum_k \\delta_k \\frac{\\partial a_k}{\\partial a_j} \\\\ &= \\sum_k \\delta_k w^{(2)}_{kj} \\\\ &= h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k",
        2,
    ),
    (
        "bishop-5.3.nn",
        "dE/da[j]",
        "\\delta_j = \\sum_k \\delta_k \\frac{\\partial a_k}{\\partial a_j} \\\\ &= h'(a_j)\\sum_k w^{(2)}_{jk}\\delta_k",
        2,
    ),
    (
        "bishop-5.3.nn",
        "dE/da[j]",
        "\\frac{\\partial a_k}{\\partial a_j} = w^{(2)}_{kj} h'(a_j) \\\\ \\delta_j = h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k",
        0,
    ),
    (
        "bishop-5.3.nn",
        "dE/da[j]",
        "\\frac{\\partial a_k}{\\partial a_j} = w^{(2)}_{kj} \\\\ \\delta_j = h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k",
        1,
    ),
    (
        "bishop-5.3.nn",
        "dE/db[k]",
        "\\delta_k = \\frac{\\partial E_n}{\\partial a_k} \\\\ &= y_k - t_k",
        0,
    ),
    (
        "bishop-5.3.nn",
        "dE/db[k]",
        "\\delta_k = \\frac{\\partial E_n}{\\partial a_k} \\\\ &= 2(y_k - t_k) \\\\ &= y_k - t_k",
        2,
    ),
    (
        "bishop-5.3.nn",
        "dE/dw1[j,i]",
        "\\frac{\\partial E_n}{\\partial w^{(1)}_{ji}} = \\frac{\\partial E_n}{\\partial a_j}\\frac{\\partial a_j}{\\partial w^{(1)}_{ji}} \\\\ &= \\delta_j x_i",
        0,
    ),
    (
        "bishop-5.3.nn",
        "dE/dw1[j,i]",
        "\\frac{\\partial E_n}{\\partial w^{(1)}_{ji}} = \\delta_j x_i \\\\ &= \\delta_j z_i",
        2,
    ),
    (
        "sigmoid-squared.nn",
        "dE/da",
        "\\delta = \\frac{\\partial E}{\\partial y}\\frac{\\partial y}{\\partial a} \\\\ &= (y - t) y (1 - y) \\\\ &= y - t",
        3,
    ),
];

#[test]
fn derivations_are_checked_line_by_line() {
    for (example, query, text, first_wrong) in DERIVATIONS {
        let mut net = network(&example_text(example));
        let query_value = net.query(query).unwrap();
        let truth = chainrule::truth(&mut net, &query_value).unwrap();
        let graded = check_derivation(&mut net, &truth, text);
        assert_eq!(
            graded.first_wrong_line, first_wrong,
            "{example} {query}: {text}\n{:#?}",
            graded.lines
        );
        assert_eq!(graded.verdict.is_right(), first_wrong == 0, "{text}");
    }
}

#[test]
fn the_binary_grades_one_answer_with_an_exit_status() {
    let right = run(&[
        "check",
        "examples/bishop-5.3.nn",
        "dE/da[j]",
        "--answer",
        "h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k",
    ]);
    assert_eq!(
        (right.status, right.stdout.lines().next()),
        (0, Some("correct (symbolic identity)"))
    );
    let wrong = run(&[
        "check",
        "examples/bishop-5.3.nn",
        "dE/da[j]",
        "--answer",
        "-h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k",
        "--format",
        "json",
    ]);
    assert_eq!(wrong.status, 1);
    let value: serde_json::Value = serde_json::from_str(&wrong.stdout).unwrap();
    assert_eq!(value["verdict"], "incorrect");
    for key in [
        "evidence",
        "diagnosis",
        "simplified",
        "counterexample",
        "answer_latex",
        "answer_dsl",
    ] {
        assert!(value.get(key).is_some(), "{key}");
    }
    assert_eq!(
        value["diagnosis"]["latex"],
        "h'(a_{j}) \\sum_{k} w^{(2)}_{kj} \\delta_{k}"
    );
    let unusable = run(&[
        "check",
        "examples/bishop-5.3.nn",
        "dE/dq[j]",
        "--answer",
        "x",
    ]);
    assert_eq!(unusable.status, 2);
}

#[test]
fn a_batch_grades_every_row_and_survives_bad_ones() {
    let dir = std::env::temp_dir().join(format!("chainrule-batch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("answers.csv");
    std::fs::write(
        &csv,
        "id,query,answer\n\
         s1,dE/da[j],\"h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k\"\n\
         s2,dE/da[j],\"\\sum_k w^{(2)}_{kj}\\delta_k\"\n\
         s3,dE/dnothing[j],x\n\
         s4,dE/db[k],y_k - t_k\n\
         s5,dE/da[j],\"h'(a_j\"\n",
    )
    .unwrap();
    let out = dir.join("grades.jsonl");
    let run_out = run(&[
        "check",
        "examples/bishop-5.3.nn",
        "--batch",
        csv.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run_out.status, 1, "{}", run_out.stderr);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let verdicts: Vec<&str> = lines
        .iter()
        .map(|v| v["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(
        verdicts,
        [
            "correct",
            "incorrect",
            "unreadable",
            "correct",
            "unreadable"
        ]
    );
    assert_eq!(lines[0]["id"], "s1");
    let bad_file = dir.join("bad.csv");
    std::fs::write(&bad_file, "name,answer\nx,y\n").unwrap();
    assert_eq!(
        run(&[
            "check",
            "examples/bishop-5.3.nn",
            "--batch",
            bad_file.to_str().unwrap()
        ])
        .status,
        2
    );
    let all_right = dir.join("right.jsonl");
    std::fs::write(
        &all_right,
        "{\"id\": \"a\", \"query\": \"dE/db[k]\", \"answer\": \"y_k - t_k\"}\n",
    )
    .unwrap();
    let csv_out = run(&[
        "check",
        "examples/bishop-5.3.nn",
        "--batch",
        all_right.to_str().unwrap(),
    ]);
    assert_eq!(csv_out.status, 0, "{}", csv_out.stderr);
    assert!(
        csv_out
            .stdout
            .starts_with(
                "id,query,answer,read_as,verdict,evidence,feedback,diagnosis,repaired,simplified,first_wrong_line\na,dE/db[k],y_k - t_k,y_{k} - t_{k},correct,"
            ),
        "{}",
        csv_out.stdout
    );
}

#[test]
fn hostile_answers_get_a_verdict_and_are_never_echoed_raw() {
    let mut net = network(&example_text("bishop-5.3.nn"));
    let query = net.query("dE/da[j]").unwrap();
    let truth = chainrule::truth(&mut net, &query).unwrap();
    let million = vec!["x_1"; 200_000].join(" + ");
    assert_eq!(
        check_answer(&mut net, &truth, &million).verdict.name(),
        "too-large"
    );
    let grade = check_answer(&mut net, &truth, "w^{(2)}_{\\input{/etc/passwd}}");
    let words = grade.diagnosis.unwrap().words;
    assert!(!words.contains("input"), "{words}");
}

/// For every query of every example, answers that restate the question
/// get no marks: the derivative asked for alone (as a partial derivative
/// and, where it has one, as its delta), as a tautology, on the right of
/// the result, inside a chain with a false side, or added and taken away.
/// The result itself, labelled with the question, is right, so the test
/// can fail both ways.
#[test]
fn answers_that_restate_the_question_get_no_marks() {
    use chainrule::{Form, Format, Lhs, Printer};
    let mut graded = 0;
    for name in common::example_names() {
        let text = example_text(&name);
        let mut net = network(&text);
        for line in text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("derive "))
        {
            let query = net.query(line.trim()).unwrap();
            let truth = chainrule::truth(&mut net, &query).unwrap();
            let result = net.engine().derive(&query, Form::Backprop).unwrap().result;
            let mut printer = Printer::new(&net.model, Format::Latex);
            let right = printer.expr(result);
            let mut labels = vec![printer.lhs(&Lhs::Derivative {
                numerator: query.numerator,
                numerator_indices: query.numerator_indices.clone(),
                denominator: query.denominator,
                denominator_indices: query.denominator_indices.clone(),
            })];
            if let Lhs::Delta(family, indices) = Lhs::of_query(&net.model, &query, Form::Backprop) {
                labels.push(printer.lhs(&Lhs::Delta(family, indices)));
            }
            for label in &labels {
                let labelled = format!("{label} = {right}");
                let grade = check_answer(&mut net, &truth, &labelled);
                assert!(
                    grade.verdict.is_right(),
                    "{name} {line}: `{labelled}` is right, got {}",
                    grade.verdict
                );
                for restated in [
                    label.clone(),
                    format!("{label} = {label}"),
                    format!("{right} = {label}"),
                    format!("{label} = 0 = {right}"),
                    format!("{right} + {label} - {label}"),
                ] {
                    let grade = check_answer(&mut net, &truth, &restated);
                    assert!(
                        !grade.verdict.is_right(),
                        "{name} {line}: `{restated}` restates the question, yet is {}",
                        grade.verdict
                    );
                    graded += 1;
                }
            }
        }
    }
    assert!(graded >= 100, "{graded} restatements graded");
}

/// A symbol written without its layer mark is read through the ranges of
/// its indices; when two families fit, the answer is not guessed at but
/// reported as ambiguous, naming both.
#[test]
fn a_symbol_without_its_layer_mark_that_two_families_fit_is_ambiguous() {
    let text = "index i, j, k in M\ninput x[i]\nparam w1[j,i], w2[k,j]\ntarget t[k]\n\
                a[j] = sum(i, w1[j,i] * x[i])\nz[j] = tanh(a[j])\n\
                y[k] = sum(j, w2[k,j] * z[j])\nE = 1/2 * sum(k, (y[k] - t[k])^2)\n\
                delta y \"\\delta\"\n";
    let mut net = network(text);
    let query = net.query("dE/dz[j]").unwrap();
    let truth = chainrule::truth(&mut net, &query).unwrap();
    let grade = check_answer(&mut net, &truth, "\\sum_k w_{kj}\\delta_k");
    let words = grade.diagnosis.map(|d| d.words).unwrap_or_default();
    assert_eq!(grade.verdict.name(), "unreadable", "{words}");
    assert!(
        words.contains("ambiguous") && words.contains("`w1`") && words.contains("`w2`"),
        "{words}"
    );
    let marked = check_answer(&mut net, &truth, "\\sum_k w^{(2)}_{kj}\\delta_k");
    assert!(marked.verdict.is_right(), "{}", marked.verdict);
}

/// A diagnosis names only a cause that exists in the problem: no square
/// in cross-entropy, and no missing sum where the answer is of another
/// quantity altogether.
#[test]
fn diagnoses_name_no_cause_the_problem_lacks() {
    for (example, query, answer, absent) in [
        ("softmax-ce.nn", "dE/da[k]", "2(y_k - t_k)", "square"),
        ("bishop-5.3.nn", "dE/dw1[j,i]", "\\delta_k z_j", "sum over"),
    ] {
        let mut net = network(&example_text(example));
        let query_value = net.query(query).unwrap();
        let truth = chainrule::truth(&mut net, &query_value).unwrap();
        let grade = check_answer(&mut net, &truth, answer);
        let words = grade.diagnosis.map(|d| d.words).unwrap_or_default();
        assert_eq!(grade.verdict.name(), "incorrect", "{example} {answer}");
        assert!(!words.is_empty(), "{example} {answer}: a diagnosis");
        assert!(!words.contains(absent), "{example} {answer}: {words}");
    }
}

#[test]
fn a_counterexample_without_a_diagnosis_names_simple_values() {
    // sigmoid-bce: a = sum(i, w[i] x[i]) + b0, y = sigmoid(a), dE/da = y - t.
    let out = run(&[
        "check",
        "examples/sigmoid-bce.nn",
        "dE/da",
        "--answer",
        "(y - t) y (1 - y)",
        "--format",
        "json",
    ]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    let grade: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let counterexample = grade["counterexample"].as_str().unwrap();
    // At D = 2, x_i = i, w_i = 1/2, b0 = 1/2 and t = 1, worked by hand:
    // a = 1/2 + 1 + 1/2 = 2, y = 1/(1 + e^-2), the result y - t, the
    // answer (y - t) y (1 - y).
    let y = 1.0 / (1.0 + (-2.0f64).exp());
    let (result, answer) = (y - 1.0, (y - 1.0) * y * (1.0 - y));
    for named in [
        "$D = 2$",
        "$x_{i} = i$",
        "$w_{i} = 1/2$",
        "$b^{(0)} = 1/2$",
        "$t = 1$",
    ] {
        assert!(
            counterexample.contains(named),
            "{named} in {counterexample}"
        );
    }
    assert!(
        counterexample.ends_with(&format!(
            "the answer is {answer:.4} but the result is {result:.4}"
        )),
        "{counterexample}"
    );
    assert!(grade["feedback"].as_str().unwrap().contains(counterexample));
    // A network with a function of its own cannot be named at a simple
    // point: its counterexample stays a drawn one.
    let out = run(&[
        "check",
        "examples/bishop-5.3.nn",
        "dE/da[j]",
        "--answer",
        "h'(a_j)\\sum_k w_{kj}\\delta_k + 1",
        "--format",
        "json",
    ]);
    let grade: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        grade["counterexample"]
            .as_str()
            .unwrap()
            .starts_with("at j = ")
    );
}

#[test]
fn answers_name_every_built_in_as_latex_writes_it() {
    let mut net = network(
        "input x\nparam w\ntarget t\na = w*x\n\
         y = tan(a) + atan(a) + asin(a/(1 + a^2)) + acos(a/(2 + a^2)) + erf(a) + gelu(a) + silu(a) + pi*max(a, 0) - min(a, 1)\n\
         E = 1/2*(y - t)^2\n",
    );
    let query = net.query("dE/dt").unwrap();
    let truth = chainrule::truth(&mut net, &query).unwrap();
    let written = "-\\left(\\tan(a) + \\arctan(a) + \\arcsin\\left(\\frac{a}{1 + a^2}\\right) \
                   + \\arccos\\left(\\frac{a}{2 + a^2}\\right) + \\operatorname{erf}(a) \
                   + \\operatorname{GELU}(a) + \\mathrm{SiLU}(a) + \\pi \\max(a, 0) - \\min(a, 1) - t\\right)";
    let grade = check_answer(&mut net, &truth, written);
    assert!(grade.verdict.is_right(), "{grade:#?}");
    // One function for another is a mistake, not a near miss.
    let wrong = written.replace("\\arctan", "\\tan");
    assert!(!check_answer(&mut net, &truth, &wrong).verdict.is_right());
    let wrong = written.replace("\\max(a, 0)", "\\min(a, 0)");
    assert!(!check_answer(&mut net, &truth, &wrong).verdict.is_right());
}

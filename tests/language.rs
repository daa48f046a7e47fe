//! The language of LANGUAGE.md, rule by rule: each test takes a rule's own
//! example and checks what it must mean.

mod common;

use chainrule::Form;
use chainrule::Format;
use common::{derive_dsl, largest_difference, network, run, run_with_input};

#[test]
fn comments_semicolons_and_newlines_inside_brackets() {
    let mut net = network(
        "input x; param w   # two statements on one line\n\
         E = (w *\n  x   # a comment inside brackets\n  + x)\n",
    );
    assert_eq!(derive_dsl(&mut net, "dE/dw", Form::Expanded), "x");
}

#[test]
fn numbers_are_exact_rationals() {
    let mut net = network("input a\nE = a/2/3 + 0.1*a + 1e-3*a\n");
    // 1/6 + 1/10 + 1/1000 = 803/3000, exactly.
    assert_eq!(derive_dsl(&mut net, "dE/da", Form::Expanded), "803/3000");
}

#[test]
fn power_binds_tighter_than_unary_minus_and_takes_signed_exponents() {
    let mut net = network("input x\nE = -x^2 + x^-1\n");
    assert_eq!(
        derive_dsl(&mut net, "dE/dx", Form::Expanded),
        "-1/x^2 - 2*x"
    );
}

#[test]
fn declarations_of_every_kind() {
    let text = "range K = 3\nindex k, l in K\nindex n\n\
                input u[n]\ntarget t[k]\nparam b0\nconst lambda, c[k]\nfunction g\n\
                y[k] = g(b0 * c[k]) + lambda * sum(n, u[n])\nE = sum(k, (y[k] - t[k])^2)\n";
    let mut net = network(text);
    assert_eq!(
        net.model
            .ranges
            .iter()
            .find(|r| r.name == "K")
            .and_then(|r| r.size),
        Some(3)
    );
    assert_eq!(
        derive_dsl(&mut net, "dE/db0", Form::Expanded),
        "2*sum(k, c[k]*g'(c[k]*b0)*(y[k] - t[k]))"
    );
    let latex = run_with_input(
        &[
            "derive", "-", "dE/du[n]", "--format", "latex", "--form", "expanded",
        ],
        text.as_bytes(),
    );
    assert_eq!(
        latex.stdout,
        "\\frac{\\partial E}{\\partial u_{n}} = 2 \\lambda \\sum_{k} (y_{k} - t_{k})\n"
    );
}

#[test]
fn primes_are_derivatives_even_of_built_ins() {
    let mut net =
        network("input x\nfunction h\nA = tanh'(x)\nB = 1 - tanh(x)^2\nC = h''(x)\nE = A + C\n");
    let a = net.expression("A").unwrap();
    let b = net.expression("B").unwrap();
    assert!(largest_difference(&net, a, b, 3, 1) < 1e-12);
    // d/dx (1 - tanh(x)^2) = -2 tanh(x) (1 - tanh(x)^2), multiplied out.
    assert_eq!(
        derive_dsl(&mut net, "dE/dx", Form::Expanded),
        "h'''(x) + 2*tanh(x)^3 - 2*tanh(x)"
    );
}

#[test]
fn the_kronecker_delta_in_expressions() {
    let mut net = network(
        "index k, l in K\ninput a[k]\ny[k] = sum(l, delta(k, l) * a[l])\nE = sum(k, y[k]^2)\n",
    );
    assert_eq!(derive_dsl(&mut net, "dE/da[k]", Form::Expanded), "2*y[k]");
}

#[test]
fn summed_names_may_be_fresh_and_take_their_range_from_use() {
    let mut net = network("index k in K\ninput a[k]\nE = sum(k2, a[k2])^2\n");
    assert_eq!(
        derive_dsl(&mut net, "dE/da[k]", Form::Expanded),
        "2*sum(k2, a[k2])"
    );
}

#[test]
fn queries_allow_spaces_the_partial_sign_and_one_leading_d() {
    let text = "index j in M\ninput x[j]\ndx = sum(j, x[j])\nE = dx^2\n";
    for query in ["dE/dx[j]", "d E / d x [ j ]", "∂E/∂x[j]"] {
        let out = run_with_input(&["derive", "-", query, "--format", "dsl"], text.as_bytes());
        assert_eq!(out.stdout, "2*dx\n", "{query}: {}", out.stderr);
    }
    let out = run_with_input(
        &["derive", "-", "ddx/dx[j]", "--format", "dsl"],
        text.as_bytes(),
    );
    assert_eq!(out.stdout, "1\n");
}

/// The softmax Jacobian, whose result keeps a Kronecker delta.
const SOFTMAX_JACOBIAN: &str =
    "index k, l in K\ninput a[k]\ny[k] = exp(a[k]) / sum(l, exp(a[l]))\n";

#[test]
fn the_kronecker_notation_line_and_its_default() {
    let latex = |text: &str| {
        let out = run_with_input(
            &["derive", "-", "dy[k]/da[l]", "--format", "latex"],
            text.as_bytes(),
        );
        assert_eq!(out.status, 0, "{}", out.stderr);
        out.stdout
    };
    // Without a `delta` line using \delta, the default is \delta.
    assert_eq!(
        latex(SOFTMAX_JACOBIAN),
        "\\frac{\\partial y_{k}}{\\partial a_{l}} = y_{k} (\\delta_{kl} - y_{l})\n"
    );
    // A `delta` line that uses \delta makes it I, as Bishop's eq. 4.106.
    let with_delta_line = format!("{SOFTMAX_JACOBIAN}delta a \"\\delta\"\n");
    assert_eq!(
        latex(&with_delta_line),
        "\\frac{\\partial y_{k}}{\\partial a_{l}} = y_{k} (I_{kl} - y_{l})\n"
    );
    // A `delta` line with another symbol leaves it \delta.
    let other = format!("{SOFTMAX_JACOBIAN}delta a \"\\varepsilon\"\n");
    assert!(latex(&other).contains("\\delta_{kl}"));
    // The `kronecker` line chooses, in LaTeX and in text.
    let chosen = format!("{SOFTMAX_JACOBIAN}kronecker \"\\mathbb{{1}}\"\n");
    assert!(latex(&chosen).contains("(\\mathbb{1}_{kl} - y_{l})"));
    let text = run_with_input(
        &["derive", "-", "dy[k]/da[l]"],
        format!("{SOFTMAX_JACOBIAN}kronecker \"I\"\n").as_bytes(),
    );
    assert_eq!(text.stdout, "∂yₖ/∂aₗ = yₖ (Iₖₗ − yₗ)\n");
}

#[test]
fn answers_read_the_kronecker_delta_as_the_notation_prints_it() {
    let file = format!("{SOFTMAX_JACOBIAN}kronecker \"I\"\n");
    for answer in ["y_k (I_{kl} - y_l)", "y_k (\\delta_{kl} - y_l)"] {
        let out = run_with_input(
            &["check", "-", "dy[k]/da[l]", "--answer", answer],
            file.as_bytes(),
        );
        assert_eq!(out.status, 0, "{answer}: {}", out.stdout);
        assert!(
            out.stdout.starts_with("correct"),
            "{answer}: {}",
            out.stdout
        );
    }
    let wrong = run_with_input(
        &[
            "check",
            "-",
            "dy[k]/da[l]",
            "--answer",
            "y_k (I_{kk} - y_l)",
        ],
        file.as_bytes(),
    );
    assert_eq!(wrong.status, 1, "{}", wrong.stdout);
}

#[test]
fn a_kronecker_line_is_checked_and_given_once() {
    let refused = |text: &str, message: &str| {
        let out = run_with_input(&["derive", "-", "dy[k]/da[l]"], text.as_bytes());
        assert_eq!(out.status, 2, "{text}");
        assert!(out.stderr.contains(message), "{text}: {}", out.stderr);
    };
    refused(
        &format!("{SOFTMAX_JACOBIAN}kronecker \"I\"\nkronecker \"J\"\n"),
        "<stdin>:5:12: error: a second `kronecker` line; line 4 gives its notation already",
    );
    refused(
        &format!("{SOFTMAX_JACOBIAN}kronecker \"\\input{{x}}\"\n"),
        "<stdin>:4:",
    );
    refused(
        "index k in K\ninput kronecker[k]\n",
        "`kronecker` is a reserved word",
    );
}

#[test]
fn default_notation_from_names() {
    let text = "index j in M\nindex k in K\ninput lambda\nparam w2[k,j]\ninput loss_in[j]\n\
                E = lambda * sum(k, sum(j, w2[k,j] * loss_in[j]))\n";
    let out = run_with_input(
        &["derive", "-", "dE/dw2[k,j]", "--format", "latex"],
        text.as_bytes(),
    );
    assert_eq!(
        out.stdout,
        "\\frac{\\partial E}{\\partial w^{(2)}_{kj}} = \\lambda \\mathrm{loss\\_in}_{j}\n"
    );
    let text_out = run_with_input(&["derive", "-", "dE/dw2[k,j]"], text.as_bytes());
    assert_eq!(text_out.stdout, "∂E/∂w⁽²⁾ₖⱼ = λ loss_inⱼ\n");
}

#[test]
fn multi_letter_indices_are_separated_by_commas() {
    let text = "index j in M\nindex k2 in M\nparam w[j,k2]\nE = sum(j, k2, w[j,k2])\n";
    let out = run_with_input(
        &["derive", "-", "dE/dw[j,k2]", "--format", "latex"],
        text.as_bytes(),
    );
    assert_eq!(out.stdout, "\\frac{\\partial E}{\\partial w_{j,k2}} = 1\n");
}

#[test]
fn the_whole_example_of_language_md_works_as_written() {
    for form in ["backprop", "expanded"] {
        for query in ["dE/da[j]", "dE/dw1[j,i]"] {
            let out = run(&["derive", "examples/bishop-5.3.nn", query, "--form", form]);
            assert_eq!(out.status, 0, "{}", out.stderr);
        }
    }
}

#[test]
fn dsl_results_parse_back_through_the_same_grammar() {
    let mut net = network(&common::example_text("softmax-ce.nn"));
    let derived = common::derive(&mut net, "dy[k]/da[l]", Form::Expanded);
    let printed = net.print(derived.result, Format::Dsl);
    let reparsed = net.expression(&printed).unwrap();
    assert!(largest_difference(&net, derived.result, reparsed, 3, 2) < 1e-12);
}

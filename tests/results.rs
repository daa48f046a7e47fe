//! The results a textbook gives, checked against the engine. Every expected
//! string here was worked out by hand from the example's definitions (and
//! agrees with finite differences, which `examples.rs` checks).

mod common;

use chainrule::Form;
use common::{derive_dsl, example_text, network, run};

fn dsl(example: &str, query: &str, form: Form) -> String {
    derive_dsl(&mut network(&example_text(example)), query, form)
}

#[test]
fn bishop_hidden_delta_is_eq_5_56() {
    let out = run(&["derive", "examples/bishop-5.3.nn", "dE/da[j]"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "δⱼ = h′(aⱼ) Σₖ w⁽²⁾ₖⱼ δₖ\nδₖ = yₖ − tₖ\n");
}

#[test]
fn bishop_expanded_form() {
    assert_eq!(
        dsl("bishop-5.3.nn", "dE/da[j]", Form::Expanded),
        "h'(a[j])*sum(k, w2[k,j]*(y[k] - t[k]))"
    );
}

#[test]
fn bishop_weight_derivative_is_eq_5_53() {
    let out = run(&["derive", "examples/bishop-5.3.nn", "dE/dw1[j,i]"]);
    assert_eq!(out.stdout.lines().next(), Some("∂Eₙ/∂w⁽¹⁾ⱼᵢ = δⱼ xᵢ"));
    assert_eq!(
        dsl("bishop-5.3.nn", "dE/dw1[j,i]", Form::Backprop),
        "delta_a[j]*x[i]"
    );
}

#[test]
fn bishop_latex_uses_the_files_notation() {
    let out = run(&[
        "derive",
        "examples/bishop-5.3.nn",
        "dE/da[j]",
        "--format",
        "latex",
    ]);
    assert_eq!(
        out.stdout,
        "\\begin{aligned}\n\\delta_{j} &= h'(a_{j}) \\sum_{k} w^{(2)}_{kj} \\delta_{k} \\\\\n\\delta_{k} &= y_{k} - t_{k}\n\\end{aligned}\n"
    );
    let expanded = run(&[
        "derive",
        "examples/bishop-5.3.nn",
        "dE/da[j]",
        "--format",
        "latex",
        "--form",
        "expanded",
    ]);
    assert_eq!(
        expanded.stdout,
        "\\frac{\\partial E_n}{\\partial a_{j}} = h'(a_{j}) \\sum_{k} w^{(2)}_{kj} (y_{k} - t_{k})\n"
    );
}

#[test]
fn tanh_derivative_is_written_through_the_hidden_outputs() {
    let result = dsl("tanh-hidden.nn", "dE/da[j]", Form::Expanded);
    assert_eq!(result, "(1 - z[j]^2)*sum(k, w2[k,j]*(y[k] - t[k]))");
    assert!(!result.contains("tanh"));
}

#[test]
fn softmax_cross_entropy_with_the_assumption_is_y_minus_t() {
    assert_eq!(
        dsl("softmax-ce.nn", "dE/da[k]", Form::Expanded),
        "y[k] - t[k]"
    );
}

#[test]
fn softmax_cross_entropy_without_the_assumption_does_not_pretend() {
    let text = example_text("softmax-ce.nn").replace("assume sum(k, t[k]) = 1", "");
    let result = derive_dsl(&mut network(&text), "dE/da[k]", Form::Expanded);
    assert_eq!(result, "y[k]*sum(l, t[l]) - t[k]");
}

#[test]
fn sigmoid_with_binary_cross_entropy_is_y_minus_t() {
    assert_eq!(dsl("sigmoid-bce.nn", "dE/da", Form::Expanded), "y - t");
}

#[test]
fn softmax_jacobian_keeps_its_kronecker_delta() {
    assert_eq!(
        dsl("softmax-ce.nn", "dy[k]/da[l]", Form::Expanded),
        "y[k]*(delta(k, l) - y[l])"
    );
}

#[test]
fn network_jacobian_chains_both_layers() {
    assert_eq!(
        dsl("jacobian.nn", "dy[k]/dx[i]", Form::Expanded),
        "y[k]*(1 - y[k])*sum(j, h'(a[j])*w2[k,j]*w1[j,i])"
    );
}

#[test]
fn a_unit_feeding_three_others_gets_one_term_from_each() {
    assert_eq!(
        dsl("scalar-fanout.nn", "dE/du", Form::Expanded),
        "(v1 + cos(v2*u)*v2*p3 + v3*p2*p3)*(y - t)"
    );
}

#[test]
fn a_skip_connection_adds_the_direct_path() {
    let out = run(&[
        "derive",
        "examples/residual.nn",
        "dE/dx[i]",
        "--format",
        "dsl",
    ]);
    assert_eq!(
        out.stdout,
        "dE/dx[i] = sum(i2, w1[i2,i]*delta_a[i2]) + delta_r[i]\n\
         delta_a[i] = h'(a[i])*sum(i2, w2[i2,i]*delta_r[i2])\n\
         delta_r[i] = r[i] - t[i]\n"
    );
}

#[test]
fn a_shared_weight_collects_both_uses() {
    assert_eq!(
        dsl("shared-weights.nn", "dE/dw[i,j]", Form::Backprop),
        "delta_a[i]*x[j] + delta_b[i]*z[j]"
    );
}

#[test]
fn a_diagonal_query_is_bishops_eq_5_50() {
    assert_eq!(
        dsl("bishop-5.3.nn", "da[j]/dw1[j,i]", Form::Expanded),
        "x[i]"
    );
    // Off the diagonal the Kronecker delta is the answer.
    let text = example_text("bishop-5.3.nn") + "index p in M\n";
    let off_diagonal = derive_dsl(&mut network(&text), "da[j]/dw1[p,i]", Form::Expanded);
    assert_eq!(off_diagonal, "x[i]*delta(j, p)");
}

#[test]
fn a_family_that_does_not_reach_the_numerator_gives_zero_with_a_note() {
    let out = run(&["derive", "examples/bishop-5.3.nn", "da[j]/dw2[k,j]"]);
    assert_eq!(out.status, 0);
    assert_eq!(
        out.stdout,
        "∂aⱼ/∂w⁽²⁾ₖⱼ = 0\nnote: `a` does not depend on `w2`, so the derivative is 0\n"
    );
}

#[test]
fn quick_questions_need_no_file() {
    let out = run(&["diff", "tanh(w*x + b)", "w"]);
    assert_eq!(out.stdout, "(1 - tanh(w*x + b)^2)*x\n");
    let latex = run(&["diff", "tanh(w*x + b)", "w", "--format", "latex"]);
    assert_eq!(latex.stdout, "(1 - \\tanh^{2}(w x + b)) x\n");
    assert_eq!(run(&["diff", "x^3 + 1/x", "x"]).stdout, "3*x^2 - 1/x^2\n");
    assert_eq!(
        run(&["diff", "h(g(x))", "x", "--function", "h", "--function", "g"]).stdout,
        "h'(g(x))*g'(x)\n"
    );
    // Without a file to declare it in, a name that is no built-in is most
    // likely one misspelt.
    let out = run(&["diff", "tanhh(x)", "x"]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("unknown function `tanhh`")
            && out.stderr.contains("did you mean `tanh`? Otherwise declare a function of your own with `--function tanhh`"),
        "{}",
        out.stderr
    );
    // The new built-ins, each checked by hand.
    assert_eq!(run(&["diff", "atan(x)", "x"]).stdout, "1/(1 + x^2)\n");
    assert_eq!(
        run(&["diff", "erf(x)", "x"]).stdout,
        "2*exp(-x^2)/sqrt(pi)\n"
    );
    assert_eq!(run(&["diff", "max(x, y)", "x"]).stdout, "step(x - y)\n");
    assert_eq!(run(&["diff", "min(x, y)", "x"]).stdout, "step(y - x)\n");
    assert_eq!(
        run(&["diff", "silu(x)", "x"]).stdout,
        "sigmoid(x)*(1 + (1 - sigmoid(x))*x)\n"
    );
    assert_eq!(run(&["diff", "sin(x)", "y"]).stdout, "0\n");
}

#[test]
fn a_logarithm_of_a_symbol_is_set_as_bishop_sets_it() {
    let latex = |expression: &str, variable: &str| {
        run(&["diff", expression, variable, "--format", "latex"]).stdout
    };
    // Bare after what it multiplies; bracketed around anything larger
    // than a symbol, and as a base of a power.
    assert_eq!(latex("t*log(y)", "t"), "\\ln y\n");
    assert_eq!(latex("log(1 - y)", "t"), "0\n");
    assert_eq!(latex("t*log(1 - y)", "t"), "\\ln(1 - y)\n");
    assert_eq!(latex("t*log(y)^2", "t"), "\\ln^{2}(y)\n");
    assert_eq!(latex("y*log(x)^2", "x"), "\\frac{2 y \\ln x}{x}\n");
    // Standing before another factor, where `\ln x \ln y` could be misread,
    // the bare logarithm is bracketed whole.
    assert_eq!(latex("z*log(x)*log(y)", "z"), "(\\ln x) \\ln y\n");
    // Text keeps its brackets.
    assert_eq!(run(&["diff", "t*log(y)", "t"]).stdout, "log(y)\n");
}

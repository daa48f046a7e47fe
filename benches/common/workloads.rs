//! Networks that grow along one dimension, for the benchmarks and for the
//! tests that check how results grow. Each generator says how many forward
//! operations its network has, counted as the issue of record counts them:
//! a unit with fan-in F costs F multiplications and F - 1 additions, an
//! activation one operation, and each squared error term three.

/// A generated network: its text and its number of forward operations.
pub struct Workload {
    /// The `.nn` text.
    pub text: String,
    /// Forward operations.
    pub operations: usize,
}

/// An unrolled scalar MLP: `inputs` inputs, `layers` hidden tanh layers of
/// `width` units, `outputs` linear outputs, squared error, one `param` per
/// weight and a `delta` line per unit.
pub fn unrolled_mlp(inputs: usize, width: usize, layers: usize, outputs: usize) -> Workload {
    let mut params = Vec::new();
    let mut body = Vec::new();
    let mut operations = 0;
    let mut previous: Vec<String> = (0..inputs).map(|i| format!("x{i}")).collect();
    for layer in 1..=layers {
        let mut current = Vec::new();
        for unit in 0..width {
            let terms: Vec<String> = previous
                .iter()
                .enumerate()
                .map(|(i, input)| {
                    let weight = format!("w{layer}_{unit}_{i}");
                    let term = format!("{weight}*{input}");
                    params.push(weight);
                    term
                })
                .collect();
            operations += 2 * terms.len() - 1 + 1;
            body.push(format!("a{layer}_{unit} = {}", terms.join(" + ")));
            body.push(format!("z{layer}_{unit} = tanh(a{layer}_{unit})"));
            body.push(format!("delta a{layer}_{unit} \"\\delta\""));
            current.push(format!("z{layer}_{unit}"));
        }
        previous = current;
    }
    for output in 0..outputs {
        let terms: Vec<String> = previous
            .iter()
            .enumerate()
            .map(|(i, input)| {
                let weight = format!("v_{output}_{i}");
                let term = format!("{weight}*{input}");
                params.push(weight);
                term
            })
            .collect();
        operations += 2 * terms.len() - 1;
        body.push(format!("y{output} = {}", terms.join(" + ")));
        body.push(format!("delta y{output} \"\\delta\""));
    }
    let errors: Vec<String> = (0..outputs).map(|k| format!("(y{k} - t{k})^2")).collect();
    operations += 3 * outputs;
    body.push(format!("E = 1/2*({})", errors.join(" + ")));
    let inputs: Vec<String> = (0..inputs).map(|i| format!("x{i}")).collect();
    let targets: Vec<String> = (0..outputs).map(|k| format!("t{k}")).collect();
    let text = format!(
        "input {}\ntarget {}\nparam {}\n{}\n",
        inputs.join(", "),
        targets.join(", "),
        params.join(", "),
        body.join("\n")
    );
    Workload { text, operations }
}

/// `u1 = tanh(w*x); u2 = tanh(w*u1); ...; E = 1/2*(u_depth - t)^2`: one
/// weight shared along a deep chain, with a `delta` line per unit when
/// `deltas` is set.
pub fn tanh_chain(depth: usize, deltas: bool) -> Workload {
    let mut lines = vec![
        "input x".to_string(),
        "param w".to_string(),
        "target t".to_string(),
        "u1 = tanh(w*x)".to_string(),
    ];
    for unit in 2..=depth {
        lines.push(format!("u{unit} = tanh(w*u{})", unit - 1));
    }
    lines.push(format!("E = 1/2*(u{depth} - t)^2"));
    if deltas {
        for unit in 1..=depth {
            lines.push(format!("delta u{unit} \"\\delta_{{{unit}}}\""));
        }
    }
    Workload {
        text: lines.join("\n") + "\n",
        operations: 2 * depth + 3,
    }
}

/// An indexed tanh MLP with `layers` hidden layers over the ranges D, H, K,
/// squared error, and a `delta` line per layer.
pub fn indexed_mlp(layers: usize) -> Workload {
    let mut lines = vec![
        "index i in D".to_string(),
        "index j, m in H".to_string(),
        "index k in K".to_string(),
        "input x[i]".to_string(),
        "target t[k]".to_string(),
    ];
    let weights: Vec<String> = (2..=layers).map(|l| format!("w{l}[j,m]")).collect();
    lines.push(format!(
        "param w1[j,i], {}v[k,j]",
        weights.iter().map(|w| format!("{w}, ")).collect::<String>()
    ));
    lines.push("a1[j] = sum(i, w1[j,i]*x[i])".to_string());
    lines.push("z1[j] = tanh(a1[j])".to_string());
    lines.push("delta a1 \"\\delta^{(1)}\"".to_string());
    for layer in 2..=layers {
        lines.push(format!(
            "a{layer}[j] = sum(m, w{layer}[j,m]*z{}[m])",
            layer - 1
        ));
        lines.push(format!("z{layer}[j] = tanh(a{layer}[j])"));
        lines.push(format!("delta a{layer} \"\\delta^{{({layer})}}\""));
    }
    lines.push(format!("y[k] = sum(j, v[k,j]*z{layers}[j])"));
    lines.push("delta y \"\\delta\"".to_string());
    lines.push("E = 1/2*sum(k, (y[k] - t[k])^2)".to_string());
    Workload {
        text: lines.join("\n") + "\n",
        operations: 3 * layers + 4,
    }
}

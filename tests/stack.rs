//! No property of the engine depends on the size of the stack: every
//! command, called through the library on an ordinary thread with the
//! default 2 MiB stack, answers (or refuses with a message) the deepest
//! expressions the parser accepts. Batches grade on threads of their own,
//! with the default stack too.

use std::path::PathBuf;

use chainrule::cli::{Outcome, execute};

/// The stack of an ordinary thread.
const ORDINARY_STACK: usize = 2 * 1024 * 1024;

/// Runs a command on a thread with the ordinary stack.
fn run_on_ordinary_stack(args: Vec<String>) -> Outcome {
    std::thread::Builder::new()
        .stack_size(ORDINARY_STACK)
        .spawn(move || execute(std::iter::once("chainrule".to_string()).chain(args)))
        .expect("a thread starts")
        .join()
        .expect("the command returns instead of overflowing its stack")
}

fn scratch(name: &str, text: &str) -> PathBuf {
    let directory = std::env::temp_dir().join(format!("chainrule-stack-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("a scratch directory");
    let path = directory.join(name);
    std::fs::write(&path, text).expect("the file is written");
    path
}

/// The deepest expressions of each kind the parser accepts: a chain of
/// unary minus signs, a chain of powers (right-associative, so each one
/// nests), and calls nested as deep as brackets may go.
fn deep_networks() -> Vec<(&'static str, String)> {
    let minus = format!("input x\nE = {}x*x\n", "-".repeat(1_990));
    let powers = format!(
        "input x\nE = x{}\n",
        "^x".repeat(chainrule::limits::MAX_EXPRESSION_DEPTH - 2)
    );
    let calls = format!(
        "input x\nE = {}x{}\n",
        "tanh(".repeat(chainrule::limits::MAX_BRACKET_DEPTH - 1),
        ")".repeat(chainrule::limits::MAX_BRACKET_DEPTH - 1)
    );
    vec![("minus", minus), ("powers", powers), ("calls", calls)]
}

#[test]
fn every_command_handles_the_deepest_input_on_an_ordinary_stack() {
    for (name, text) in deep_networks() {
        let file = scratch(&format!("{name}.nn"), &text);
        let file = file.to_string_lossy().to_string();
        let expression = text
            .lines()
            .find_map(|l| l.strip_prefix("E = "))
            .expect("an objective")
            .to_string();
        let batch = scratch(
            &format!("{name}.csv"),
            "id,query,answer\na,dE/dx,2*x\nb,dE/dx,-2*x\n",
        );
        let document = scratch(&format!("{name}.tex"), "");
        let commands: Vec<Vec<String>> = vec![
            vec!["derive".into(), file.clone(), "dE/dx".into()],
            vec![
                "derive".into(),
                file.clone(),
                "dE/dx".into(),
                "--form".into(),
                "expanded".into(),
            ],
            vec![
                "derive".into(),
                file.clone(),
                "dE/dx".into(),
                "--steps".into(),
            ],
            vec![
                "derive".into(),
                file.clone(),
                "dE/dx".into(),
                "--format".into(),
                "json".into(),
            ],
            vec![
                "derive".into(),
                file.clone(),
                "dE/dx".into(),
                "--form".into(),
                "expanded".into(),
                "--format".into(),
                "mathml".into(),
            ],
            vec![
                "grad".into(),
                file.clone(),
                "--objective".into(),
                "E".into(),
            ],
            vec!["verify".into(), file.clone()],
            vec![
                "check".into(),
                file.clone(),
                "dE/dx".into(),
                "--answer".into(),
                "2*x".into(),
            ],
            vec![
                "check".into(),
                file.clone(),
                "--batch".into(),
                batch.to_string_lossy().to_string(),
            ],
            vec!["diff".into(), expression, "x".into()],
            vec![
                "doc".into(),
                file.clone(),
                "-o".into(),
                document.to_string_lossy().to_string(),
            ],
            vec!["graph".into(), file.clone()],
        ];
        for command in commands {
            let shown = command[0].clone();
            let outcome = run_on_ordinary_stack(command);
            assert!(
                outcome.status <= 2,
                "{name}: {shown} ended with {}",
                outcome.status
            );
            if outcome.status == 2 {
                assert!(
                    !outcome.stderr.is_empty(),
                    "{name}: {shown} failed without a message"
                );
            }
        }
    }
}

#[test]
fn the_deep_minus_chain_is_answered_not_refused() {
    let (_, text) = deep_networks().remove(0);
    let file = scratch("minus-answer.nn", &text);
    let outcome = run_on_ordinary_stack(vec![
        "derive".into(),
        file.to_string_lossy().to_string(),
        "dE/dx".into(),
        "--format".into(),
        "dsl".into(),
    ]);
    // 1,990 minus signs cancel in pairs: E = x*x and dE/dx = 2x.
    assert_eq!(outcome.status, 0, "{}", outcome.stderr);
    assert_eq!(outcome.stdout, "2*x\n");
}

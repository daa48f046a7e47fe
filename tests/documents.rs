//! Documents and figures: `doc` writes a complete LaTeX document for every
//! example, and the documents compile. A compile test fails, rather than
//! skips, when `CI` is set and no LaTeX engine is installed.

mod common;

use std::path::PathBuf;

use common::{example_names, run};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chainrule-docs-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn have_pdflatex() -> bool {
    common::have_tool("pdflatex")
}

#[test]
fn every_example_gets_a_complete_document() {
    let dir = scratch("tex");
    for name in example_names() {
        let out_path = dir.join(name.replace(".nn", ".tex"));
        let out = run(&[
            "doc",
            &format!("examples/{name}"),
            "-o",
            out_path.to_str().unwrap(),
        ]);
        assert_eq!(out.status, 0, "{name}: {}", out.stderr);
        let tex = std::fs::read_to_string(&out_path).unwrap();
        assert!(tex.starts_with("\\documentclass"), "{name}");
        assert!(tex.trim_end().ends_with("\\end{document}"), "{name}");
        let derive_lines = common::example_text(&name)
            .lines()
            .filter(|l| l.starts_with("derive "))
            .count();
        assert_eq!(
            tex.matches("\\boxed{").count(),
            derive_lines,
            "{name}: one boxed result a derive line"
        );
        assert!(
            tex.contains("\\begin{tikzpicture}"),
            "{name}: the dependency graph"
        );
        assert!(
            tex.contains("\\begin{equation}"),
            "{name}: the network as numbered equations"
        );
    }
}

#[test]
fn the_bishop_document_has_the_books_pieces() {
    let dir = scratch("bishop");
    let path = dir.join("bishop.tex");
    run(&[
        "doc",
        "examples/bishop-5.3.nn",
        "-o",
        path.to_str().unwrap(),
    ]);
    let tex = std::fs::read_to_string(&path).unwrap();
    assert!(
        tex.contains("\\boxed{\\delta_{j} = h'(a_{j}) \\sum_{k} w^{(2)}_{kj} \\delta_{k}}"),
        "eq. 5.56 boxed"
    );
    assert!(
        tex.contains("a_{j} = \\sum_{i} w^{(1)}_{ji} x_{i}"),
        "eq. 5.48 among the network's equations"
    );
    assert!(
        tex.contains("As Bishop's Figure 5.7"),
        "the figure of the hidden delta"
    );
    assert!(
        tex.contains("\\textbf{Backward recursion.}"),
        "the algorithm box"
    );
    assert!(
        tex.contains("The delta $\\delta_{j}$ is derived in Section~\\ref{sec:derivation1}"),
        "a delta is derived once"
    );
}

#[test]
fn every_example_document_compiles() {
    if !have_pdflatex() {
        return;
    }
    let dir = scratch("pdf");
    for name in example_names() {
        let out_path = dir.join(name.replace(".nn", ".tex"));
        let out = run(&[
            "doc",
            &format!("examples/{name}"),
            "-o",
            out_path.to_str().unwrap(),
            "--pdf",
        ]);
        assert_eq!(out.status, 0, "{name}: {}", out.stderr);
        assert!(out_path.with_extension("pdf").exists(), "{name}: a PDF");
    }
}

#[test]
fn a_file_name_reaches_the_document_escaped() {
    let dir = scratch("names");
    let hostile = dir.join("we$ird_#name%{}.nn");
    std::fs::copy(
        format!("{}/examples/sigmoid-bce.nn", env!("CARGO_MANIFEST_DIR")),
        &hostile,
    )
    .unwrap();
    let out_path = dir.join("hostile.tex");
    let out = run(&[
        "doc",
        hostile.to_str().unwrap(),
        "-o",
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let tex = std::fs::read_to_string(&out_path).unwrap();
    assert!(tex.contains("we\\$ird\\_\\#name\\%\\{\\}"), "escaped title");
    if have_pdflatex() {
        let compiled = run(&[
            "doc",
            hostile.to_str().unwrap(),
            "-o",
            out_path.to_str().unwrap(),
            "--pdf",
        ]);
        assert_eq!(compiled.status, 0, "{}", compiled.stderr);
    }
}

#[test]
fn graph_in_tikz_draws_every_family_and_edge() {
    let out = run(&["graph", "examples/bishop-5.3.nn", "--format", "tikz"]);
    assert_eq!(out.status, 0);
    assert!(out.stdout.starts_with("\\begin{tikzpicture}"));
    assert_eq!(
        out.stdout.matches("\\node[leaf]").count(),
        4,
        "x, w1, w2, t"
    );
    assert_eq!(
        out.stdout.matches("\\node[unit]").count(),
        5,
        "a, z, b, y, E"
    );
    assert_eq!(out.stdout.matches("\\draw[->]").count(), 8);
    assert!(out.stdout.contains("{$w^{(1)}_{ji}$}"));
}

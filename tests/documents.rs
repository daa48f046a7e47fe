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
    // Without its opening comment, the file is titled by its name.
    let text: String = common::example_text("sigmoid-bce.nn")
        .lines()
        .skip_while(|line| line.starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(&hostile, text).unwrap();
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

/// `doc`'s output for `args` written to standard output.
fn document_text(args: &[&str]) -> String {
    let mut all = vec!["doc"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "-"]);
    let out = run(&all);
    assert_eq!(out.status, 0, "{args:?}: {}", out.stderr);
    out.stdout
}

/// Compiles `tex` with pdflatex in a directory of its own, failing the
/// test with TeX's log when it does not compile.
fn assert_compiles(tex: &str, name: &str) {
    if have_pdflatex() {
        compiled(tex, name);
    }
}

/// Compiles `tex` as `doc.tex` in a directory of its own, twice (for its
/// references), and gives the directory.
fn compiled(tex: &str, name: &str) -> PathBuf {
    let dir = scratch(name);
    std::fs::write(dir.join("doc.tex"), tex).unwrap();
    for _ in 0..2 {
        let status = std::process::Command::new("pdflatex")
            .args(["-interaction=nonstopmode", "-halt-on-error", "doc.tex"])
            .current_dir(&dir)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        let log = std::fs::read_to_string(dir.join("doc.log")).unwrap_or_default();
        assert!(status.success(), "{name} does not compile:\n{log}");
    }
    dir
}

/// The equation numbers a document shows, in order, as TeX counts them:
/// each `equation` and each `\refstepcounter{equation}` takes the next
/// number, a link's `\tag*{(\theequation{}a)}` shows it with its letters,
/// and `\tag{\ref{L}}` shows the number labelled L. Gives the numbers
/// shown and the number of each label.
fn shown_numbers(tex: &str) -> (Vec<String>, std::collections::HashMap<String, String>) {
    let mut counter = 0;
    let mut shown = Vec::new();
    let mut labels = std::collections::HashMap::new();
    let mut in_numbered_equation = false;
    for line in tex.lines() {
        if line.starts_with("\\begin{equation}") {
            counter += 1;
            in_numbered_equation = true;
            shown.push(counter.to_string());
        }
        if line.starts_with("\\end{equation}") {
            in_numbered_equation = false;
        }
        if line.starts_with("\\refstepcounter{equation}") {
            counter += 1;
        }
        let mut rest = line;
        while let Some(at) = rest.find("\\label{") {
            let label: String = rest[at + 7..].chars().take_while(|c| *c != '}').collect();
            if in_numbered_equation || line.starts_with("\\refstepcounter") {
                labels.insert(label, counter.to_string());
            }
            rest = &rest[at + 7..];
        }
        let mut rest = line;
        while let Some(at) = rest.find("\\tag*{(") {
            rest = &rest[at + 7..];
            let tag: String = rest.chars().take_while(|c| *c != ')').collect();
            shown.push(match tag.strip_prefix("\\theequation{}") {
                Some(letters) => format!("{counter}{letters}"),
                // A number written out, which TeX's counter knows nothing of.
                None => tag,
            });
        }
        if let Some(at) = line.find("\\tag{\\ref{") {
            let label: String = line[at + 10..].chars().take_while(|c| *c != '}').collect();
            shown.push(labels[&label].clone());
        }
    }
    (shown, labels)
}

#[test]
fn every_example_document_numbers_each_equation_once_and_fits_its_page() {
    for name in example_names() {
        let tex = document_text(&[&format!("examples/{name}")]);
        let (shown, labels) = shown_numbers(&tex);
        let mut seen = std::collections::HashSet::new();
        for number in &shown {
            assert!(
                seen.insert(number),
                "{name}: ({number}) appears twice: {shown:?}"
            );
        }
        // Every result carries the number of the links that lead to it.
        for (label, number) in &labels {
            if label.starts_with("eq:result") && tex.contains(&format!("\\tag{{\\ref{{{label}}}}}"))
            {
                assert!(
                    shown.contains(&format!("{number}a")),
                    "{name}: {label} is ({number}) but no link is ({number}a)"
                );
            }
        }
        // TeX numbers them as counted here, and sets every line within
        // the page: no line overfull by more than 10 pt.
        if have_pdflatex() {
            let dir = compiled(&tex, "numbers");
            let log = std::fs::read_to_string(dir.join("doc.log")).unwrap();
            for overfull in log.split("Overfull \\hbox (").skip(1) {
                let points: f64 = overfull.split("pt").next().unwrap().parse().unwrap();
                assert!(points <= 10.0, "{name}: a line {points} pt too wide");
            }
            let aux = std::fs::read_to_string(dir.join("doc.aux")).unwrap();
            for (label, number) in &labels {
                assert!(
                    aux.contains(&format!("\\newlabel{{{label}}}{{{{{number}}}")),
                    "{name}: TeX numbers {label} otherwise than ({number})"
                );
            }
        }
    }
}

#[test]
fn a_document_goes_to_standard_output_with_dash() {
    let dir = scratch("stdout");
    let out = common::run_within(&["doc", "examples/bishop-5.3.nn", "-o", "-"], b"", 60);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("\\documentclass"));
    assert!(out.stdout.trim_end().ends_with("\\end{document}"));
    assert!(!dir.join("-").exists() && !std::path::Path::new("-").exists());
    let refused = run(&["doc", "examples/bishop-5.3.nn", "-o", "-", "--pdf"]);
    assert_eq!(refused.status, 2);
    assert!(
        refused
            .stderr
            .contains("`--pdf` needs the document written to a file")
    );
}

#[test]
fn the_title_comes_from_the_option_the_first_comment_or_the_name() {
    let tex = document_text(&["examples/bishop-5.3.nn"]);
    assert!(
        tex.contains("\\title{Two-layer network, sum-of-squares error, generic activation h}"),
        "the file's first comment, capitalised"
    );
    // A comment over two lines gives its first sentence, § set by TeX.
    let tex = document_text(&["examples/weight-decay.nn"]);
    assert!(tex.contains(
        "\\title{Linear regression over a batch of N examples: the mean squared error with weight decay (PRML \\S{}3.1.4, eq. 3.27)}"
    ), "{}", tex.lines().find(|l| l.starts_with("\\title")).unwrap_or(""));
    let hostile = "$\\input{/etc/passwd}% #&_^~ \\ end\nnext line";
    let tex = document_text(&["examples/bishop-5.3.nn", "--title", hostile]);
    assert!(tex.contains(
        "\\title{\\$\\textbackslash{}input\\{/etc/passwd\\}\\% \\#\\&\\_\\^{}\\~{} \\textbackslash{} end next line}"
    ));
    assert_compiles(&tex, "title");
    // A `#!` line and bare `#` lines are passed over; a formula is not
    // capitalised; accented letters pass, Greek and signs become TeX, and a
    // line break is a space.
    let opening = "#!/usr/bin/env chainrule\n#\n## sigma(a), the logistic. More.\ninput x\nparam w\ny = sigmoid(w*x)\n";
    let out = common::run_with_input(&["doc", "-", "-o", "-"], opening.as_bytes());
    assert!(
        out.stdout.contains("\\title{sigma(a), the logistic}"),
        "{}",
        out.stdout
    );
    let tex = document_text(&[
        "examples/bishop-5.3.nn",
        "--title",
        "Übung: Straße, été, Ω ≤ 1\nzwei",
    ]);
    assert!(tex.contains("\\title{Übung: Straße, été, $\\Omega$ $\\leq$ 1 zwei}"));
    assert_compiles(&tex, "accents");
    // An empty title is no title: the default stands.
    let tex = document_text(&["examples/bishop-5.3.nn", "--title", "  "]);
    assert!(tex.contains("\\title{Two-layer network"));
    // From standard input there is no name to show.
    let text = common::example_text("sigmoid-bce.nn");
    let without_comment: String = text
        .lines()
        .skip_while(|line| line.starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect();
    let out = common::run_with_input(&["doc", "-", "-o", "-"], without_comment.as_bytes());
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.contains("\\title{Backpropagation}"));
}

#[test]
fn a_fragment_is_the_body_and_names_the_packages_it_needs() {
    let tex = document_text(&["examples/softmax-ce.nn", "--fragment"]);
    assert!(!tex.contains("\\documentclass"));
    assert!(!tex.contains("\\begin{document}") && !tex.contains("\\end{document}"));
    assert!(tex.contains("\\section{The network}"));
    // The packages, listed in comments, make the preamble of a document
    // that \input's it.
    let preamble: String = tex
        .lines()
        .filter_map(|line| line.strip_prefix("% \\"))
        .map(|line| format!("\\{line}\n"))
        .collect();
    assert!(preamble.contains("\\usepackage{tikz}"), "{preamble}");
    let notes = format!(
        "\\documentclass{{article}}\n{preamble}\\begin{{document}}\n{tex}\n\\end{{document}}\n"
    );
    assert_compiles(&notes, "fragment");
    let refused = run(&[
        "doc",
        "examples/softmax-ce.nn",
        "-o",
        "x.tex",
        "--fragment",
        "--pdf",
    ]);
    assert_eq!(refused.status, 2);
    let with_class = run(&[
        "doc",
        "examples/softmax-ce.nn",
        "-o",
        "-",
        "--fragment",
        "--class",
        "book",
    ]);
    assert_eq!(with_class.status, 2);
    assert!(
        with_class
            .stderr
            .contains("a fragment has no document class"),
        "{}",
        with_class.stderr
    );
}

#[test]
fn only_derives_the_queries_asked_for() {
    let tex = document_text(&["examples/bishop-5.3.nn", "--only", "dE/dw1[j,i]"]);
    assert_eq!(tex.matches("\\subsection{").count(), 1);
    assert_eq!(tex.matches("\\boxed{").count(), 1);
    assert!(
        tex.contains("\\subsection{$\\frac{\\partial E_n}{\\partial w^{(1)}_{ji}}$}"),
        "{tex}"
    );
    let two = document_text(&[
        "examples/bishop-5.3.nn",
        "--only",
        "dE/dw1[j,i]",
        "--only",
        "dE/dw2[k,j]",
    ]);
    assert_eq!(two.matches("\\boxed{").count(), 2);
    // One query asked twice, however spaced, is derived once.
    let twice = document_text(&[
        "examples/bishop-5.3.nn",
        "--only",
        "dE/dw1[j,i]",
        "--only",
        "dE / dw1[ j, i ]",
    ]);
    assert_eq!(twice.matches("\\boxed{").count(), 1);
    let wrong = run(&[
        "doc",
        "examples/bishop-5.3.nn",
        "-o",
        "-",
        "--only",
        "dE/dq",
    ]);
    assert_eq!(wrong.status, 2);
    assert!(wrong.stderr.contains("`q`"), "{}", wrong.stderr);
}

#[test]
fn a_file_without_derive_lines_is_documented_through_its_gradient() {
    let text: String = common::example_text("bishop-5.3.nn")
        .lines()
        .filter(|line| !line.starts_with("derive "))
        .map(|line| format!("{line}\n"))
        .collect();
    let out = common::run_with_input(&["doc", "-", "-o", "-"], text.as_bytes());
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.contains("derives the\nwhole gradient"));
    // One section a parameter: w1 and w2.
    assert_eq!(out.stdout.matches("\\boxed{").count(), 2);
    assert!(
        out.stdout.contains("\\partial w^{(1)}_{ji}")
            && out.stdout.contains("\\partial w^{(2)}_{kj}")
    );
}

#[test]
fn every_document_class_offered_compiles() {
    for class in ["report", "book", "amsart", "scrartcl", "scrreprt"] {
        let tex = document_text(&["examples/sigmoid-bce.nn", "--class", class]);
        assert!(tex.starts_with(&format!("\\documentclass[11pt]{{{class}}}")));
        // Without chapters, sections and equations are numbered 1, 2, ...,
        // not 0.1, 0.2.
        let chaptered = ["report", "book", "scrreprt"].contains(&class);
        assert_eq!(
            tex.contains("\\renewcommand{\\thesection}{\\arabic{section}}"),
            chaptered,
            "{class}"
        );
        assert_compiles(&tex, class);
    }
    let wrong = run(&[
        "doc",
        "examples/sigmoid-bce.nn",
        "-o",
        "-",
        "--class",
        "x}\\input",
    ]);
    assert_eq!(wrong.status, 2);
}

#[test]
fn compiling_leaves_only_the_document_and_its_pdf() {
    if !have_pdflatex() {
        return;
    }
    let dir = scratch("clean");
    let out = run(&[
        "doc",
        "examples/sigmoid-bce.nn",
        "-o",
        dir.join("notes.tex").to_str().unwrap(),
        "--pdf",
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["notes.pdf", "notes.tex"]);
}

#[test]
fn documents_of_random_networks_with_random_notation_compile() {
    // Each document takes a second or two to compile: a bounded number.
    const DOCUMENTS: u64 = 8;
    for seed in 0..DOCUMENTS {
        let text = common::with_random_notation(seed);
        let out = common::run_with_input(&["doc", "-", "-o", "-"], text.as_bytes());
        assert_eq!(out.status, 0, "seed {seed}: {}\n{text}", out.stderr);
        // And every result as `derive --format latex` prints it, set in
        // one document.
        let mut results = String::new();
        for line in text.lines().filter_map(|l| l.strip_prefix("derive ")) {
            for form in ["backprop", "expanded"] {
                let derived = common::run_with_input(
                    &["derive", "-", line, "--format", "latex", "--form", form],
                    text.as_bytes(),
                );
                if derived.status == 0 {
                    results.push_str(&format!("\\[\n{}\n\\]\n", derived.stdout.trim_end()));
                }
            }
        }
        if !have_pdflatex() {
            continue;
        }
        compiled(&out.stdout, &format!("random-{seed}"));
        let standalone = format!(
            "\\documentclass{{article}}\n\\usepackage{{amsmath,amssymb}}\n\\begin{{document}}\n{results}\\end{{document}}\n"
        );
        compiled(&standalone, &format!("random-results-{seed}"));
    }
}

#[test]
fn a_unit_feeding_several_gets_the_figure_of_the_chain_rule_referred_to_from_the_text() {
    // u feeds p1, p2 and p3: each is drawn, with its connection's label.
    let tex = document_text(&["examples/scalar-fanout.nn"]);
    assert!(tex.contains("Figure~\\ref{fig:chain1} draws the units it sums over"));
    assert!(tex.contains("\\label{fig:chain1}"));
    for row in 0..3 {
        assert!(
            tex.contains(&format!("\\node[unit] (r{row})")),
            "successor {row} drawn"
        );
    }
    assert!(
        !tex.contains("\\node[unit] (r3)"),
        "u feeds three units, not four"
    );
    assert!(
        tex.contains("node[pos=0.3,below,sloped,font=\\small] {$v^{(1)}$}"),
        "{tex}"
    );
    // Bishop's hidden delta: delta_j from delta_k along w_kj.
    let tex = document_text(&["examples/bishop-5.3.nn"]);
    assert!(tex.contains("Figure~\\ref{fig:chain1}"));
    assert!(tex.contains("{$h'(a_{j}) w^{(2)}_{kj}$}"));
    // A weight feeds one unit and is summed over nothing: no figure.
    assert!(!tex.contains("\\label{fig:chain2}"));
}

/// The algorithm's list of output deltas, as a document writes it.
fn output_deltas(example: &str) -> String {
    let out = run(&["doc", &format!("examples/{example}"), "-o", "-"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let from = out.stdout.find("\\textbf{Output deltas.}").expect("step 2");
    let to = out
        .stdout
        .find("\\textbf{Backward recursion.}")
        .expect("step 3");
    out.stdout[from..to].to_string()
}

#[test]
fn output_deltas_are_those_of_the_output_units() {
    // Bishop's eq. 5.54: the output unit a_k reaches E through y_k = a_k.
    assert!(output_deltas("bishop-5.3.nn").contains("\\delta_{k} &= y_{k} - t_{k}"));
    // Through a softmax, and through a sigmoid.
    assert!(output_deltas("softmax-ce.nn").contains("\\delta_{k} &= y_{k} - t_{k}"));
    assert!(output_deltas("sigmoid-squared.nn").contains("\\delta &= y (1 - y) (y - t)"));
    // u feeds three units that y combines: a hidden unit, even though its
    // delta is written without another.
    assert!(
        output_deltas("scalar-fanout.nn")
            .contains("None: every unit with a delta is a hidden one.")
    );
}

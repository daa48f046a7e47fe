//! Grading a homework for a class: the shipped homework of 20 students, 4
//! questions and 2 networks graded end to end against verdicts and points
//! given by hand; every output checked (a row an answer, a row a student,
//! the summary, the JSON against its schema); homework and answers files
//! that cannot be used refused with their place; `check --batch` reading
//! its columns by name.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use common::{assert_valid_grades_json, run};

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("chainrule-gradebook-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One line of the hand-graded expectations.
struct Expected {
    student: String,
    question: String,
    verdict: String,
    points: f64,
    feedback_holds: String,
}

fn expected() -> Vec<Expected> {
    let path = format!(
        "{}/tests/corpus/homework-expected.tsv",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            assert_eq!(cells.len(), 5, "{line}");
            Expected {
                student: cells[0].to_string(),
                question: cells[1].to_string(),
                verdict: cells[2].to_string(),
                points: cells[3].parse().unwrap(),
                feedback_holds: cells[4].to_string(),
            }
        })
        .collect()
}

fn csv_records(path: &std::path::Path) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect();
    (headers, rows)
}

const QUESTIONS: [&str; 4] = ["q1", "q2", "q3", "q4"];

#[test]
fn a_homework_is_graded_as_graded_by_hand() {
    let dir = scratch("class");
    let out = run(&[
        "grade",
        "examples/homework/homework.toml",
        "--answers",
        "examples/homework/answers.csv",
        "--out",
        dir.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_valid_grades_json("gradebook", &json);
    let expected = expected();
    assert_eq!(expected.len(), 80, "20 students, 4 questions");

    // A row an answer, with the verdict, points and feedback given by hand.
    let (headers, answers) = csv_records(&dir.join("answers.csv"));
    assert_eq!(
        headers,
        [
            "student",
            "email",
            "name",
            "question",
            "query",
            "answer",
            "read_as",
            "verdict",
            "points",
            "out_of",
            "feedback",
            "diagnosis",
            "repaired",
            "evidence"
        ]
    );
    assert_eq!(answers.len(), expected.len());
    for (row, want) in answers.iter().zip(&expected) {
        let at = format!("{} {}", want.student, want.question);
        assert_eq!(row["student"], want.student, "{at}: in order");
        assert_eq!(row["question"], want.question, "{at}: in order");
        assert_eq!(row["verdict"], want.verdict, "{at}: {row:?}");
        assert_eq!(row["points"].parse::<f64>().unwrap(), want.points, "{at}");
        assert!(
            row["feedback"].contains(&want.feedback_holds),
            "{at}: feedback {:?} lacks {:?}",
            row["feedback"],
            want.feedback_holds
        );
        if want.verdict == "correct" {
            assert_eq!(row["feedback"], "Right.", "{at}");
        }
        // The reader refuses an index over the wrong range and a transposed
        // weight before the answer is whole.
        let refused_by_reader = ["takes indices over", "transposed weight indices"]
            .iter()
            .any(|words| want.feedback_holds.contains(words));
        let read =
            !matches!(want.verdict.as_str(), "unreadable" | "unanswered") && !refused_by_reader;
        assert_eq!(!row["read_as"].is_empty(), read, "{at}: the answer as read");
    }

    // The input's own columns are carried through, student by student.
    let (_, input) = csv_records(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/homework/answers.csv"
    )));
    for row in &answers {
        let student = input
            .iter()
            .find(|s| s["student"] == row["student"])
            .unwrap();
        assert_eq!(row["email"], student["email"]);
        assert_eq!(row["name"], student["name"]);
        let question = &row["question"];
        let written = &student[question];
        // A cell that a spreadsheet would take for a formula starts with `'`.
        let safe = if written.starts_with(['=', '+', '-', '@']) {
            format!("'{written}")
        } else {
            written.clone()
        };
        assert_eq!(row["answer"], safe, "the answer as written");
    }

    // A row a student: a column a question and the total, from the points
    // given by hand.
    let (headers, students) = csv_records(&dir.join("gradebook.csv"));
    assert_eq!(
        headers,
        ["student", "email", "name", "q1", "q2", "q3", "q4", "total"]
    );
    assert_eq!(students.len(), 20);
    for student in &students {
        let mine: Vec<&Expected> = expected
            .iter()
            .filter(|e| e.student == student["student"])
            .collect();
        for want in &mine {
            assert_eq!(
                student[&want.question].parse::<f64>().unwrap(),
                want.points,
                "{} {}",
                want.student,
                want.question
            );
        }
        let total: f64 = mine.iter().map(|e| e.points).sum();
        assert_eq!(student["total"].parse::<f64>().unwrap(), total);
    }

    // The summary: each question's verdicts counted and its mean, from the
    // grades given by hand, and every mistake's students among the wrong.
    let summary = std::fs::read_to_string(dir.join("summary.txt")).unwrap();
    assert!(
        out.stdout.len() > summary.len(),
        "JSON printed, summary written"
    );
    assert!(
        summary.starts_with("Homework 3: backpropagation: 20 students, 4 questions, 12 points\n")
    );
    for (at, question) in QUESTIONS.iter().enumerate() {
        let mine: Vec<&Expected> = expected
            .iter()
            .filter(|e| e.question == *question)
            .collect();
        let mut counts: Vec<String> = Vec::new();
        for verdict in [
            "correct",
            "correct-unsimplified",
            "incomplete",
            "incorrect",
            "unreadable",
            "too-large",
            "unanswered",
        ] {
            let n = mine.iter().filter(|e| e.verdict == verdict).count();
            if n > 0 {
                counts.push(format!("{n} {verdict}"));
            }
        }
        let counts = format!("  {}\n", counts.join(", "));
        assert!(
            summary.contains(&counts),
            "{question}: {counts:?} in\n{summary}"
        );
        let mean = mine.iter().map(|e| e.points).sum::<f64>() / mine.len() as f64;
        let summary_json = &json["questions"][at];
        assert!((summary_json["mean"].as_f64().unwrap() - mean).abs() < 1e-9);
        let wrong: Vec<&str> = mine
            .iter()
            .filter(|e| matches!(e.verdict.as_str(), "incorrect" | "incomplete"))
            .map(|e| e.student.as_str())
            .collect();
        let mut named = 0;
        for mistake in summary_json["mistakes"].as_array().unwrap() {
            let students = mistake["students"].as_array().unwrap();
            assert_eq!(mistake["count"].as_u64().unwrap() as usize, students.len());
            for student in students {
                assert!(
                    wrong.contains(&student.as_str().unwrap()),
                    "{question}: {student}"
                );
                named += 1;
            }
        }
        assert_eq!(
            named,
            wrong.len(),
            "{question}: every wrong answer in a mistake"
        );
    }
    // The shared mistake of s03 and s04 on q3 names what is wrong.
    assert!(summary.contains("the chain rule stops at `y`"));
    assert!(summary.contains("only the diagonal term"));
}

#[test]
fn the_gradebook_imports_where_a_student_is_named_by_any_column() {
    let dir = scratch("columns");
    std::fs::write(
        dir.join("hw.toml"),
        format!(
            "student-column = \"Email address\"\n\
             [[question]]\nid = \"delta\"\nnetwork = \"{}/examples/bishop-5.3.nn\"\nquery = \"dE/db[k]\"\npoints = 3\n",
            env!("CARGO_MANIFEST_DIR")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("a.csv"),
        "delta,Email address,ID\n\
         y_k - t_k,ann@example.edu,7\n\
         \"=HYPERLINK(\"\"x\"\")\",=cmd|' /C calc'!A0,8\n",
    )
    .unwrap();
    let out = grade_in(&dir);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let gradebook = std::fs::read_to_string(dir.join("out/gradebook.csv")).unwrap();
    assert_eq!(
        gradebook,
        "Email address,ID,delta,total\n\
         ann@example.edu,7,3,3\n\
         '=cmd|' /C calc'!A0,8,0,0\n",
        "a cell that would start a formula starts with a quote"
    );
    let answers = std::fs::read_to_string(dir.join("out/answers.csv")).unwrap();
    assert!(
        answers.contains(",\"'=HYPERLINK(\"\"x\"\")\","),
        "{answers}"
    );
}

/// Runs `grade` on `hw.toml` and `a.csv` in `dir`, writing into `dir/out`.
fn grade_in(dir: &std::path::Path) -> common::Run {
    run(&[
        "grade",
        dir.join("hw.toml").to_str().unwrap(),
        "--answers",
        dir.join("a.csv").to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ])
}

/// Runs `grade` on a homework and answers written into a scratch
/// directory, and returns its exit status and standard error.
fn grade_files(name: &str, homework: &str, answers: &str) -> (i32, String) {
    let dir = scratch(name);
    let network = format!("{}/examples/bishop-5.3.nn", env!("CARGO_MANIFEST_DIR"));
    std::fs::write(dir.join("hw.toml"), homework.replace("NET", &network)).unwrap();
    std::fs::write(dir.join("a.csv"), answers).unwrap();
    let out = grade_in(&dir);
    assert!(
        !dir.join("out").exists() || out.status == 0,
        "{name}: nothing written"
    );
    (out.status, out.stderr)
}

#[test]
fn homework_and_answers_that_cannot_be_used_are_refused_with_their_place() {
    let question =
        "[[question]]\nid = \"q1\"\nnetwork = \"NET\"\nquery = \"dE/da[j]\"\npoints = 4\n";
    let answers = "student,q1\ns1,\\delta_j\n";
    let cases: [(&str, String, &str, &str); 15] = [
        ("syntax", "[[question]\n".to_string(), answers, "hw.toml:1:"),
        (
            "unknown-key",
            question.replace("points", "pionts"),
            answers,
            "hw.toml:5:1",
        ),
        (
            "twice",
            format!("{question}{question}"),
            answers,
            "hw.toml:7:6: error: found the question id `q1` twice",
        ),
        (
            "negative",
            question.replace("= 4", "= -1"),
            answers,
            "hw.toml:5:10: error: found -1 points",
        ),
        (
            "credit",
            format!("{question}credit = {{ incomplete = 2 }}\n"),
            answers,
            "hw.toml:6:25: error: found the credit 2",
        ),
        (
            "query",
            question.replace("dE/da[j]", "dE/dnothing[j]"),
            answers,
            "hw.toml:4:9: error: the query `dE/dnothing[j]` cannot be asked",
        ),
        (
            "network",
            question.replace("NET", "missing.nn"),
            answers,
            "hw.toml:3:11: error: the network cannot be used",
        ),
        (
            "empty",
            "title = \"x\"\n".to_string(),
            answers,
            "without questions",
        ),
        (
            "column",
            question.to_string(),
            "student,q2\ns1,x\n",
            "a.csv:1:1: error: found a header without the column `q1`",
        ),
        (
            "student-twice",
            question.to_string(),
            "student,q1\ns1,x\ns2,y\ns1,z\n",
            "a.csv:4:1: error: found the student `s1` again, first on line 2",
        ),
        (
            "carried-total",
            question.to_string(),
            "student,q1,total\ns1,x,99\n",
            "a.csv:1:12: error: found the column `total`, which the grades write themselves",
        ),
        (
            "carried-verdict",
            question.to_string(),
            "verdict,student,q1\ncorrect,s1,x\n",
            "a.csv:1:1: error: found the column `verdict`, which the grades write themselves",
        ),
        (
            "student-column",
            format!("student-column = \"points\"\n{question}"),
            "points,q1\ns1,x\n",
            "hw.toml:1:18: error: found the student column `points`",
        ),
        (
            "unclosed-quote",
            question.to_string(),
            "student,q1\ns1,\"x\ns2,y\n",
            "a.csv:2:4: error: found a quote that is never closed",
        ),
        (
            "no-student",
            question.to_string(),
            "student,q1\n,x\n",
            "a.csv:2:1: error: found a row without a student",
        ),
    ];
    for (name, homework, answers, message) in cases {
        let (status, stderr) = grade_files(name, &homework, answers);
        assert_eq!(status, 2, "{name}: {stderr}");
        assert!(stderr.contains(message), "{name}: {message:?} in {stderr}");
    }
}

#[test]
fn a_batch_reads_its_columns_by_name_and_carries_the_others() {
    let dir = scratch("batch");
    std::fs::write(
        dir.join("a.csv"),
        "answer,name,id,query\n\
         y_k - t_k,Ann,s1,dE/db[k]\n\
         \"\\delta_j = \\frac{\\partial E_n}{\\partial a_j} \\\\ = h'(a_j)\\sum_k w_{kj}\\delta_k\",Bo,s2,dE/da[j]\n\
         \"\\delta_j = \\sum_k w_{kj}\\delta_k \\\\ = h'(a_j)\\sum_k w_{kj}\\delta_k\",Cy,s3,dE/da[j]\n",
    )
    .unwrap();
    let out = run(&[
        "check",
        "examples/bishop-5.3.nn",
        "--batch",
        dir.join("a.csv").to_str().unwrap(),
    ]);
    assert_eq!(out.status, 1, "{}", out.stderr);
    let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "id",
            "name",
            "query",
            "answer",
            "read_as",
            "verdict",
            "evidence",
            "feedback",
            "diagnosis",
            "repaired",
            "simplified",
            "first_wrong_line"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let cells = |row: usize, at: usize| rows[row][at].to_string();
    assert_eq!(cells(0, 0), "s1");
    assert_eq!(cells(0, 1), "Ann");
    assert_eq!(cells(0, 2), "dE/db[k]");
    assert_eq!(cells(0, 4), "y_{k} - t_{k}");
    assert_eq!(cells(0, 5), "correct");
    assert_eq!(
        cells(1, 5),
        "correct",
        "a derivation whose every line holds"
    );
    assert_eq!(cells(1, 11), "");
    assert_eq!(cells(2, 5), "incorrect", "a derivation with a false line");
    assert_eq!(cells(2, 11), "1");
    assert!(
        cells(2, 8).starts_with("line 1 is incorrect"),
        "{}",
        cells(2, 8)
    );

    let json = run(&[
        "check",
        "examples/bishop-5.3.nn",
        "--batch",
        dir.join("a.csv").to_str().unwrap(),
        "--format",
        "json",
    ]);
    let lines: Vec<serde_json::Value> = json
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for line in &lines {
        assert_valid_grades_json("batch_row", line);
    }
    assert_eq!(lines[0]["columns"]["name"], "Ann");
}

#[test]
fn every_json_grade_is_valid_under_the_schema() {
    let answers = [
        "h'(a_j)\\sum_k w_{kj}\\delta_k",
        "\\frac{2}{2} h'(a_j)\\sum_k w_{kj}\\delta_k",
        "\\sum_k w_{kj}\\delta_k",
        "\\delta_j",
        "\\frac{\\partial E_n}{\\partial z_j} h'(a_j)",
        "h'(a_j",
        "",
        "\\sum_{k_1}\\sum_{k_2} 1",
    ];
    for answer in answers {
        let out = run(&[
            "check",
            "examples/bishop-5.3.nn",
            "dE/da[j]",
            "--answer",
            answer,
            "--format",
            "json",
        ]);
        assert!(out.status <= 1, "{answer}: {}", out.stderr);
        let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_valid_grades_json("check", &value);
        assert_eq!(value["schema_version"], 1);
    }
    let dir = scratch("derivation");
    let file = dir.join("d.tex");
    std::fs::write(
        &file,
        "\\delta_j = \\frac{\\partial E_n}{\\partial a_j} \\\\\n= h'(a_j)\\sum_k w_{kj}\\delta_k\n",
    )
    .unwrap();
    let out = run(&[
        "check",
        "examples/bishop-5.3.nn",
        "dE/da[j]",
        "--answer-file",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_valid_grades_json("derivation", &value);
}

#[test]
fn a_schema_that_accepted_anything_would_fail_these_tests() {
    // The validator is not vacuous: a verdict the schema does not know, or
    // a missing field, is refused.
    let good = serde_json::json!({
        "schema_version": 1, "id": "a", "columns": {}, "query": "q", "answer": "x",
        "read_as": "x", "verdict": "correct", "evidence": "symbolic identity",
        "feedback": "Right.", "diagnosis": "", "repaired": "", "simplified": "",
        "first_wrong_line": 0
    });
    assert_valid_grades_json("batch_row", &good);
    let mut bad = good.clone();
    bad["verdict"] = "almost".into();
    assert!(std::panic::catch_unwind(|| assert_valid_grades_json("batch_row", &bad)).is_err());
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("feedback");
    assert!(std::panic::catch_unwind(|| assert_valid_grades_json("batch_row", &missing)).is_err());
}

/// An answer as CodeRunner's `e('py')` filter writes it inside a Python
/// string: backslashes, quotes and line ends escaped.
fn python_escaped(answer: &str) -> String {
    let mut out = String::new();
    for c in answer.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

#[test]
fn the_coderunner_template_grades_as_documented() {
    if !common::have_tool("python3") {
        return;
    }
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/coderunner.md"))
        .unwrap();
    let template = page
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the page holds the template");
    let dir = scratch("coderunner");
    std::fs::copy(env!("CARGO_BIN_EXE_chainrule"), dir.join("chainrule")).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples/bishop-5.3.nn"),
        dir.join("bishop-5.3.nn"),
    )
    .unwrap();
    let answers = [
        ("h'(a_j)\\sum_k w_{kj}\\delta_k", 1.0, "correct"),
        (
            "\\frac{2}{2} h'(a_j)\\sum_k w^{(2)}_{kj}\\delta_k",
            0.5,
            "correct-unsimplified",
        ),
        (
            "\\frac{\\partial E_n}{\\partial z_j} h'(a_j)",
            0.25,
            "incomplete",
        ),
        ("\\sum_k w_{kj}\\delta_k", 0.0, "\\(h&#x27;(a_{j})\\)"),
        ("\\delta_j", 0.0, "restates the question"),
        ("-h'(a_j)\\sum_k w_{kj}\\delta_k", 0.0, "wrong sign"),
        (
            "\"\"\"; import os; os.system('touch pwned') #",
            0.0,
            "unreadable",
        ),
        ("<script>alert(1)</script>", 0.0, "&lt;script&gt;"),
    ];
    for (answer, fraction, shows) in answers {
        let program = template.replace("{{ STUDENT_ANSWER | e('py') }}", &python_escaped(answer));
        let out = std::process::Command::new("python3")
            .arg("-c")
            .arg(&program)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{answer}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            result["fraction"].as_f64().unwrap(),
            fraction,
            "{answer}: {result}"
        );
        let feedback = result["prologuehtml"].as_str().unwrap();
        assert!(
            feedback.contains(shows),
            "{answer}: {shows:?} in {feedback}"
        );
        assert!(!feedback.contains("<script>"), "{feedback}");
    }
    assert!(!dir.join("pwned").exists(), "no answer runs a command");
}

#[test]
fn the_latex_feedback_block_compiles_whatever_was_written() {
    let answers = [
        "h'(a_j)\\sum_k w_{kj}\\delta_k",
        "\\frac{2}{2} h'(a_j)\\sum_k w_{kj}\\delta_k",
        "\\sum_k w_{kj}\\delta_k",
        "\\delta_j = 0 = h'(a_j)\\sum_k w_{kj}\\delta_k",
        "\\frac{\\partial E_n}{\\partial z_j} h'(a_j)",
        "$\\input{/etc/passwd}% #&^~_ \\",
        "^^5cinput{x} }{ \\csname",
        "",
    ];
    let mut body = String::new();
    for answer in answers {
        let out = run(&[
            "check",
            "examples/bishop-5.3.nn",
            "dE/da[j]",
            "--answer",
            answer,
            "--format",
            "latex",
        ]);
        assert!(out.status <= 1, "{answer}: {}", out.stderr);
        assert!(
            out.stdout
                .starts_with("\\begin{description}\n\\item[Verdict] ")
        );
        assert!(out.stdout.contains("\\item[The result] $\\delta_{j} = "));
        assert!(
            !out.stdout.contains("\\input") && !out.stdout.contains("^^5c"),
            "{}",
            out.stdout
        );
        body.push_str(&out.stdout);
    }
    if !common::have_tool("pdflatex") {
        return;
    }
    let dir = scratch("feedback-tex");
    std::fs::write(
        dir.join("feedback.tex"),
        format!("\\documentclass{{article}}\n\\usepackage{{amsmath}}\n\\begin{{document}}\n{body}\\end{{document}}\n"),
    )
    .unwrap();
    let compiled = std::process::Command::new("pdflatex")
        .args([
            "-no-shell-escape",
            "-halt-on-error",
            "-interaction=nonstopmode",
            "feedback.tex",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        compiled.status.success(),
        "{}",
        String::from_utf8_lossy(&compiled.stdout)
    );
}

#[test]
fn the_three_outputs_are_written_as_one_and_never_wait_on_a_pipe() {
    let dir = scratch("outputs");
    let out = dir.join("out");
    std::fs::create_dir_all(out.join("gradebook.csv")).unwrap();
    std::fs::write(out.join("answers.csv"), "OLD").unwrap();
    let args = |out: &std::path::Path| {
        [
            "grade".to_string(),
            "examples/homework/homework.toml".to_string(),
            "--answers".to_string(),
            "examples/homework/answers.csv".to_string(),
            "--out".to_string(),
            out.to_str().unwrap().to_string(),
        ]
    };
    let run_args = args(&out);
    let refs: Vec<&str> = run_args.iter().map(String::as_str).collect();
    let failed = run(&refs);
    assert_eq!(failed.status, 2, "{}", failed.stderr);
    assert_eq!(
        std::fs::read_to_string(out.join("answers.csv")).unwrap(),
        "OLD",
        "no output replaced while another cannot be written"
    );
    // A named pipe without a reader where an output goes is refused at once.
    let piped = dir.join("piped");
    std::fs::create_dir_all(&piped).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(piped.join("summary.txt"))
        .status()
        .unwrap();
    assert!(status.success());
    let run_args = args(&piped);
    let refs: Vec<&str> = run_args.iter().map(String::as_str).collect();
    let refused = common::run_within(&refs, b"", 60);
    assert_eq!(refused.status, 2, "{}", refused.stderr);
}

#[test]
fn a_students_points_add_up_to_the_total_shown() {
    let dir = scratch("thirds");
    let network = format!("{}/examples/bishop-5.3.nn", env!("CARGO_MANIFEST_DIR"));
    let mut homework = String::from("[credit]\nincomplete = 0.125\n");
    for (id, points) in [
        ("a", "0.3333333"),
        ("b", "0.3333333"),
        ("c", "0.3333333"),
        ("d", "3"),
        ("e", "-0.0"),
    ] {
        homework.push_str(&format!(
            "[[question]]\nid = \"{id}\"\nnetwork = \"{network}\"\nquery = \"dE/da[j]\"\npoints = {points}\n"
        ));
    }
    std::fs::write(dir.join("hw.toml"), homework).unwrap();
    let right = "h'(a_j)\\sum_k w_{kj}\\delta_k";
    let unfinished = "\\frac{\\partial E_n}{\\partial z_j} h'(a_j)";
    std::fs::write(
        dir.join("a.csv"),
        format!("student,a,b,c,d,e\ns1,{right},{right},{right},{unfinished},{right}\n"),
    )
    .unwrap();
    let out = grade_in(&dir);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let (_, rows) = csv_records(&dir.join("out/gradebook.csv"));
    let row = &rows[0];
    // Each third shows as 0.33, the unfinished answer earns 3/8 = 0.375,
    // shown as 0.38, and a question of -0 points is worth 0.
    assert_eq!(
        ["a", "b", "c", "d", "e"].map(|q| row[q].as_str()),
        ["0.33", "0.33", "0.33", "0.38", "0"]
    );
    assert_eq!(row["total"], "1.37", "the sum of the points shown");
}

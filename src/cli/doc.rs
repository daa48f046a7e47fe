//! `chainrule doc FILE -o OUT.tex`: a whole LaTeX document, and its PDF.
//!
//! TeX never sees a path or a name the user chose: the document is
//! compiled under a fixed name in a directory of its own, with shell
//! escape off, reading and writing files restricted to that directory
//! (`openin_any=p`, `openout_any=p`), and a time limit; only the finished
//! PDF is moved to its place.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Outcome;
use super::files::{refuse_overwriting, shown, write_atomically};
use super::load;
use crate::diagnostic::Diagnostic;
use crate::limits::MAX_TEX_SECONDS;
use crate::model::Query;
use crate::render::document::{DocumentOptions, document};

/// The arguments of `doc`.
#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// The network file (`-` for standard input)
    file: String,
    /// Where to write the document (`-` for standard output)
    #[arg(short, long)]
    output: String,
    /// Also compile it to PDF (needs pdflatex)
    #[arg(long)]
    pdf: bool,
    /// The title (by default, or when empty, the file's first comment, or its name)
    #[arg(long)]
    title: Option<String>,
    /// The LaTeX document class (article by default)
    #[arg(long, value_enum)]
    class: Option<Class>,
    /// The body only, to \input into notes; the packages it needs are listed in a comment
    #[arg(long)]
    fragment: bool,
    /// Derive this query instead of the file's `derive` lines (repeatable)
    #[arg(long = "only", value_name = "QUERY")]
    only: Vec<String>,
}

/// The document classes a document may be set in.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Class {
    Article,
    Report,
    Book,
    Amsart,
    Scrartcl,
    Scrreprt,
}

impl Class {
    /// The class's name in `\documentclass`.
    fn name(self) -> &'static str {
        match self {
            Class::Article => "article",
            Class::Report => "report",
            Class::Book => "book",
            Class::Amsart => "amsart",
            Class::Scrartcl => "scrartcl",
            Class::Scrreprt => "scrreprt",
        }
    }
}

/// The name a document is compiled under, whatever its file is called.
const JOB_NAME: &str = "document";

/// Writes the document, and compiles it when asked.
pub(super) fn run(args: Args) -> Result<Outcome, Diagnostic> {
    let Args {
        file,
        output,
        pdf,
        title,
        class,
        fragment,
        only,
    } = args;
    let to_standard_output = output == "-";
    if to_standard_output && pdf {
        return Err(
            Diagnostic::unlocated("`--pdf` needs the document written to a file")
                .with_help("name the document with `-o NAME.tex`"),
        );
    }
    if fragment && pdf {
        return Err(Diagnostic::unlocated(
            "a fragment has no preamble of its own, so it cannot be compiled alone",
        )
        .with_help("leave out `--pdf`, or `--fragment` to compile the whole document"));
    }
    if fragment && class.is_some() {
        return Err(Diagnostic::unlocated(
            "a fragment has no document class of its own: the notes it goes into choose one",
        )
        .with_help("leave out `--class`, or `--fragment` to write a whole document"));
    }
    let tex_path = PathBuf::from(&output);
    let pdf_path = tex_path.with_extension("pdf");
    if !to_standard_output {
        refuse_overwriting(&tex_path, &[&file])?;
    }
    if pdf {
        if pdf_path == tex_path {
            return Err(Diagnostic::unlocated(format!(
                "the document {} and its PDF would be one file",
                shown(&output)
            ))
            .with_help("name the document with `.tex`"));
        }
        refuse_overwriting(&pdf_path, &[&file])?;
    }
    let mut network = load(&file)?;
    let mut queries: Vec<Query> = Vec::new();
    for text in &only {
        let query = network.query(text)?;
        // The same query asked twice, however written, is derived once.
        let same = |other: &Query| {
            (
                other.numerator,
                &other.numerator_indices,
                other.denominator,
                &other.denominator_indices,
            ) == (
                query.numerator,
                &query.numerator_indices,
                query.denominator,
                &query.denominator_indices,
            )
        };
        if !queries.iter().any(same) {
            queries.push(query);
        }
    }
    let options = DocumentOptions {
        title,
        file_stem: (file != "-")
            .then(|| Path::new(&file).file_stem())
            .flatten()
            .map(|stem| stem.to_string_lossy().into_owned()),
        class: class.unwrap_or(Class::Article).name(),
        fragment,
        queries,
    };
    let text = document(&mut network, &options)?;
    if to_standard_output {
        return Ok(Outcome::success(text));
    }
    write_atomically(&tex_path, text.as_bytes())?;
    let mut said = format!("wrote {}\n", shown(&output));
    if !pdf {
        return Ok(Outcome::success(said));
    }
    match compile_pdf(&text)? {
        Compiled::Pdf(bytes) => {
            write_atomically(&pdf_path, &bytes)?;
            said.push_str(&format!("wrote {}\n", shown(&pdf_path.to_string_lossy())));
            Ok(Outcome::success(said))
        }
        Compiled::Failed(why) => Ok(Outcome {
            status: 1,
            stdout: said,
            stderr: format!("error: pdflatex could not compile the document: {why}\n"),
        }),
    }
}

/// What compiling a document came to.
enum Compiled {
    /// The PDF's bytes.
    Pdf(Vec<u8>),
    /// Why there is none: TeX's first error, or the time limit.
    Failed(String),
}

/// Compiles a document's text with pdflatex (twice, for its references) in
/// a directory of its own, which is removed afterwards.
fn compile_pdf(text: &str) -> Result<Compiled, Diagnostic> {
    let directory = Scratch::new()?;
    let tex = directory.0.join(format!("{JOB_NAME}.tex"));
    std::fs::write(&tex, text).map_err(|e| {
        Diagnostic::unlocated(format!("cannot write a scratch copy of the document: {e}"))
    })?;
    let deadline = Instant::now() + Duration::from_secs(MAX_TEX_SECONDS);
    for _ in 0..2 {
        let mut child = match Command::new("pdflatex")
            .arg("-no-shell-escape")
            .arg("-interaction=nonstopmode")
            .arg("-halt-on-error")
            .arg(format!("-jobname={JOB_NAME}"))
            .arg(format!("{JOB_NAME}.tex"))
            .current_dir(&directory.0)
            .env("openin_any", "p")
            .env("openout_any", "p")
            .env("shell_escape", "f")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(Diagnostic::unlocated("found no LaTeX engine to compile the document")
                    .with_help("install pdflatex with TikZ and the AMS packages (on Debian: apt-get install texlive-latex-base texlive-latex-recommended texlive-pictures), or compile the .tex yourself"));
            }
            Err(error) => {
                return Err(Diagnostic::unlocated(format!(
                    "cannot run pdflatex: {error}"
                )));
            }
        };
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Ok(Compiled::Failed(format!(
                        "it took more than {MAX_TEX_SECONDS} s, the most chainrule waits"
                    )));
                }
                Err(error) => {
                    return Err(Diagnostic::unlocated(format!(
                        "cannot wait for pdflatex: {error}"
                    )));
                }
            }
        };
        if !status.success() {
            let log =
                std::fs::read(directory.0.join(format!("{JOB_NAME}.log"))).unwrap_or_default();
            return Ok(Compiled::Failed(first_error(&String::from_utf8_lossy(
                &log,
            ))));
        }
    }
    match std::fs::read(directory.0.join(format!("{JOB_NAME}.pdf"))) {
        Ok(bytes) => Ok(Compiled::Pdf(bytes)),
        Err(_) => Ok(Compiled::Failed(
            "pdflatex ended without writing a PDF".to_string(),
        )),
    }
}

/// The first error of a TeX log: its `!` line and the lines that place it.
fn first_error(log: &str) -> String {
    let lines: Vec<&str> = log
        .lines()
        .skip_while(|l| !l.starts_with('!'))
        .take(4)
        .collect();
    if lines.is_empty() {
        "pdflatex stopped without naming an error".to_string()
    } else {
        lines.join("\n")
    }
}

/// A directory of its own for one compilation, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, Diagnostic> {
        let base = std::env::temp_dir();
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        for attempt in 0..100u32 {
            let path = base.join(format!(
                "chainrule-{}-{stamp}-{attempt}",
                std::process::id()
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(Scratch(path)),
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(error) => {
                    return Err(Diagnostic::unlocated(format!(
                        "cannot make a scratch directory to compile in: {error}"
                    )));
                }
            }
        }
        Err(Diagnostic::unlocated(
            "cannot make a scratch directory to compile in",
        ))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

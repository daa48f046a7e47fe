//! `chainrule doc FILE -o OUT.tex`: a whole LaTeX document, and its PDF.

use super::{Outcome, load};
use crate::diagnostic::Diagnostic;
use crate::render::document::document;

/// The arguments of `doc`.
#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// The network file (`-` for standard input)
    file: String,
    /// Where to write the document
    #[arg(short, long)]
    output: String,
    /// Also compile it to PDF (needs pdflatex)
    #[arg(long)]
    pdf: bool,
}

/// Writes the document, and compiles it when asked.
pub(super) fn run(args: Args) -> Result<Outcome, Diagnostic> {
    let Args { file, output, pdf } = args;
    let mut network = load(&file)?;
    let title = std::path::Path::new(&file).file_stem().map_or_else(
        || "the network".to_string(),
        |s| format!("`{}`", s.to_string_lossy()),
    );
    let text = document(&mut network, &title)?;
    std::fs::write(&output, text)
        .map_err(|e| Diagnostic::unlocated(format!("cannot write `{output}`: {e}")))?;
    let mut said = format!("wrote {output}\n");
    if pdf {
        said.push_str(&compile_pdf(&output)?);
    }
    Ok(Outcome::success(said))
}

/// Compiles a written document with pdflatex (twice, for its references).
/// The paths go to the program as arguments, never through a shell.
fn compile_pdf(tex_path: &str) -> Result<String, Diagnostic> {
    let path = std::path::Path::new(tex_path);
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    for _ in 0..2 {
        let run = std::process::Command::new("pdflatex")
            .arg("-interaction=nonstopmode")
            .arg("-halt-on-error")
            .arg("-output-directory")
            .arg(directory)
            .arg(path)
            .output();
        match run {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(Diagnostic::unlocated(format!("wrote {tex_path}, but found no LaTeX engine to compile it"))
                    .with_help("install pdflatex with TikZ and the AMS packages (on Debian: apt-get install texlive-latex-base texlive-latex-recommended texlive-pictures), or compile the .tex yourself"));
            }
            Err(error) => {
                return Err(Diagnostic::unlocated(format!(
                    "cannot run pdflatex: {error}"
                )));
            }
            Ok(output) if !output.status.success() => {
                let log = String::from_utf8_lossy(&output.stdout);
                let first_error: String = log
                    .lines()
                    .skip_while(|l| !l.starts_with('!'))
                    .take(6)
                    .collect::<Vec<_>>()
                    .join("\n");
                return Err(Diagnostic::unlocated(format!(
                    "pdflatex could not compile {tex_path}:\n{first_error}"
                )));
            }
            Ok(_) => {}
        }
    }
    Ok(format!("wrote {}\n", path.with_extension("pdf").display()))
}

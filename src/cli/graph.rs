//! `chainrule graph FILE`: the dependency graph, in DOT or TikZ.

use clap::ValueEnum;

use super::{Outcome, load};
use crate::diagnostic::Diagnostic;
use crate::render::data::dot;
use crate::render::document::graph_tikz;

/// The arguments of `graph`.
#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// The network file (`-` for standard input)
    file: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    format: GraphFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum GraphFormat {
    Dot,
    Tikz,
}

/// Prints the graph.
pub(super) fn run(args: Args) -> Result<Outcome, Diagnostic> {
    let network = load(&args.file)?;
    Ok(Outcome::success(match args.format {
        GraphFormat::Dot => dot(&network),
        GraphFormat::Tikz => graph_tikz(&network),
    }))
}

//! `chainrule graph FILE`: the dependency graph, in DOT or TikZ.

use clap::ValueEnum;

use super::{Outcome, load};
use crate::Network;
use crate::diagnostic::Diagnostic;
use crate::model::FamilyKind;
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

/// The dependency graph in Graphviz's DOT language: leaves as boxes,
/// computed families as ellipses, arrows in the direction of computation.
fn dot(network: &Network) -> String {
    let model = &network.model;
    let mut out = String::from("digraph network {\n  rankdir=LR;\n");
    for family in model.family_ids() {
        let info = model.family(family);
        let shape = match info.kind {
            FamilyKind::Leaf(_) => "box",
            FamilyKind::Defined => "ellipse",
        };
        out.push_str(&format!("  \"{}\" [shape={shape}];\n", info.name));
    }
    for (from, to) in network.graph.edges() {
        out.push_str(&format!(
            "  \"{}\" -> \"{}\";\n",
            model.family(from).name,
            model.family(to).name
        ));
    }
    out.push_str("}\n");
    out
}

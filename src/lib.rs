//! chainrule: a symbolic derivation engine for neural networks.
//!
//! A network is written as an expression graph in a small language (see
//! LANGUAGE.md); chainrule applies the multivariate chain rule over the
//! graph's dependencies, simplifies, and prints the result as Bishop's
//! *Pattern Recognition and Machine Learning* writes backpropagation.
//!
//! ```
//! use chainrule::{Network, Source, chain::Form, render::Format};
//!
//! let text = "
//! index j in M
//! index k in K
//! input z[j]
//! param w[k,j]
//! target t[k]
//! y[k] = sum(j, w[k,j] * z[j])
//! E = 1/2 * sum(k, (y[k] - t[k])^2)
//! ";
//! let mut network = Network::load(Source::new("net.nn", text)).unwrap();
//! let query = network.query("dE/dy[k]").unwrap();
//! let derived = network.engine().derive(&query, Form::Expanded).unwrap();
//! assert_eq!(network.print(derived.result, Format::Dsl), "y[k] - t[k]");
//! ```
#![warn(missing_docs)]

pub mod chain;
pub mod check;
pub mod cli;
pub mod derivation;
pub mod diagnostic;
pub mod differentiate;
pub mod document;
pub mod expr;
pub mod functions;
pub mod graph;
pub mod model;
pub mod notation;
pub mod numeric;
pub mod render;
pub mod report;
pub mod simplify;
pub mod syntax;

pub use diagnostic::{Diagnostic, Source};

use chain::Engine;
use expr::ExprId;
use graph::DependencyGraph;
use model::{Model, Query};
use render::{Format, Printer};

/// A network loaded from source: its model and its dependency graph.
pub struct Network {
    /// The checked model.
    pub model: Model,
    /// Who feeds whom.
    pub graph: DependencyGraph,
}

impl Network {
    /// Parses, checks and builds the graph of a `.nn` source.
    pub fn load(source: Source) -> Result<Network, Diagnostic> {
        let file = syntax::parse_file(&source)?;
        let model = Model::lower(source, &file)?;
        let graph = DependencyGraph::build(&model)?;
        Ok(Network { model, graph })
    }

    /// Resolves a query written as on the command line (`dE/da[j]`).
    pub fn query(&self, text: &str) -> Result<Query, Diagnostic> {
        let source = Source::new("<query>", text);
        let parsed = syntax::parse_query(&source)?;
        self.model.resolve_query(&source, &parsed)
    }

    /// Parses an expression over this network's names (`y[k] - t[k]`).
    pub fn expression(&mut self, text: &str) -> Result<ExprId, Diagnostic> {
        self.model.expression(&Source::new("<expression>", text))
    }

    /// An engine that derives results of this network.
    pub fn engine(&mut self) -> Engine<'_> {
        Engine::new(&mut self.model, &self.graph)
    }

    /// An expression of this network printed in one format.
    pub fn print(&self, expr: ExprId, format: Format) -> String {
        Printer::new(&self.model, format).expr(expr)
    }
}

//! chainrule: a symbolic derivation engine for neural networks.
//!
//! A network is written as an expression graph in a small language (see
//! LANGUAGE.md); chainrule applies the multivariate chain rule over the
//! graph's dependencies, simplifies, and prints the result as Bishop's
//! *Pattern Recognition and Machine Learning* writes backpropagation.
//!
//! ```
//! use chainrule::{Form, Format, Network, Source};
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
//!
//! The pipeline runs one way: `syntax` parses, `model` checks and lowers
//! into the expression store (`expr`), `graph` orders the families,
//! `calculus` differentiates (with `simplify`), `render` prints, `numeric`
//! checks by numbers, `check` grades answers, and `cli` is the command line.
#![warn(missing_docs)]

mod calculus;
mod check;
pub mod cli;
mod diagnostic;
mod expr;
mod graph;
pub mod limits;
mod model;
mod numeric;
mod render;
mod rules;
mod simplify;
mod syntax;

pub use calculus::chain::{Calculus, Engine};
pub use calculus::deltas::Naming;
pub use calculus::derivation::{Derivation, ReasonPart, Report, Step, Verbosity, derive_steps};
pub use calculus::{Derivative, Equation, Form, Gradient};
pub use check::batch::{Row, RowGrade, grade_rows, read_rows, write_grades};
pub use check::{
    DerivationGrade, Diagnosis, Evidence, Grade, LineGrade, Truth, Verdict, check as check_answer,
    check_derivation, truth,
};
pub use diagnostic::{Diagnostic, Location, Source, Span};
pub use expr::{Builtin, ExprId, FamilyId, IndexVar, Node, RangeId, Store, Wrt};
pub use graph::DependencyGraph;
pub use limits::TooLarge;
pub use model::{Family, FamilyKind, LeafKind, Model, Query};
pub use numeric::sample::{Agreement, Flow, Plan, Sampling, sample, verify};
pub use numeric::{Draws, Instance, WorkMeter};
pub use render::{Format, Lhs, Printer};
pub use rules::{Recorder, Rule, RuleSet, StepSink};

/// A network loaded from source: its model, its dependency graph, and what
/// the engine remembers of it between queries.
pub struct Network {
    /// The checked model.
    pub model: Model,
    /// Who feeds whom.
    pub graph: DependencyGraph,
    calculus: Calculus,
}

impl Network {
    /// Parses, checks and builds the graph of a `.nn` source.
    pub fn load(source: Source) -> Result<Network, Diagnostic> {
        let file = syntax::parse_file(&source)?;
        let mut model = Model::lower(source, &file)?;
        let graph = DependencyGraph::build(&model)?;
        let calculus = Calculus::new(&mut model)?;
        let mut network = Network {
            model,
            graph,
            calculus,
        };
        network.refuse_division_by_zero()?;
        Ok(network)
    }

    /// Refuses a definition that divides by zero once its numbers are
    /// worked out, as `x / (1 - 1)` does (`x / 0` is refused as it is read).
    fn refuse_division_by_zero(&mut self) -> Result<(), Diagnostic> {
        for family in self.model.family_ids() {
            let info = self.model.family(family);
            let (Some(definition), span, name) = (info.definition, info.span, info.name.clone())
            else {
                continue;
            };
            // Only a division, a negative power, can divide by zero.
            let store = &self.model.store;
            let divides = store.any_node(definition, |node| {
                matches!(node, Node::Pow(_, exponent)
                    if store.as_number(*exponent).is_some_and(num_traits::Signed::is_negative))
            });
            if !divides {
                continue;
            }
            let simplified = self.simplify_plain(definition)?;
            if self.model.store.divides_by_zero(simplified) {
                return Err(self
                    .model
                    .source
                    .error(span, format!("the definition of `{name}` divides by zero")));
            }
        }
        Ok(())
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
        Engine::new(&mut self.model, &self.graph, &mut self.calculus)
    }

    /// An expression simplified with the network's facts.
    pub fn simplify(&mut self, expr: ExprId) -> Result<ExprId, Diagnostic> {
        self.engine().simplify(expr, &mut ())
    }

    /// An expression simplified with the network's facts, each rule that
    /// fires told to `sink`.
    pub fn simplify_recording(
        &mut self,
        expr: ExprId,
        sink: &mut impl StepSink,
    ) -> Result<ExprId, Diagnostic> {
        self.engine().simplify(expr, sink)
    }

    /// An expression simplified without the network's facts: what any
    /// reader could simplify.
    pub fn simplify_plain(&mut self, expr: ExprId) -> Result<ExprId, Diagnostic> {
        self.engine().simplify_plain(expr)
    }

    /// An expression of this network printed in one format.
    pub fn print(&self, expr: ExprId, format: Format) -> String {
        Printer::new(&self.model, format).expr(expr)
    }
}

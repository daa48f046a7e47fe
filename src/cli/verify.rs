//! `chainrule verify FILE`: every derived result of a file checked against
//! finite differences of the forward computation.

use super::{Outcome, choose_objective, load};
use crate::calculus::Form;
use crate::diagnostic::Diagnostic;
use crate::model::{FamilyKind, LeafKind, Query};
use crate::numeric::sample::verify;
use crate::numeric::{check_evaluable, too_large_to_evaluate};

/// The arguments of `verify`.
#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// The network file (`-` for standard input)
    file: String,
    /// How many random points to compare at
    #[arg(long, default_value_t = 3)]
    points: usize,
    /// The seed of the random points
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Checks each `derive` line (or, without any, the whole gradient) in both
/// forms and says PASS or FAIL for each.
pub(super) fn run(args: Args) -> Result<Outcome, Diagnostic> {
    let (file, points, seed) = (args.file.as_str(), args.points.max(1), args.seed);
    let mut network = load(file)?;
    check_evaluable(&network.model)?;
    let mut queries = network.model.queries.clone();
    if queries.is_empty() {
        // Without derive lines, check the whole gradient.
        if let Ok(objective) = choose_objective(&network, None) {
            for parameter in network.model.family_ids() {
                if network.model.family(parameter).kind == FamilyKind::Leaf(LeafKind::Param) {
                    queries.push(Query::delta(&network.model, objective, parameter));
                }
            }
        }
    }
    if queries.is_empty() {
        return Err(Diagnostic::unlocated(format!(
            "`{file}` has no derive lines and no objective to check"
        )));
    }
    let mut report = String::new();
    let mut all_passed = true;
    for query in &queries {
        let mut line = String::new();
        let mut passed = true;
        for form in [Form::Expanded, Form::Backprop] {
            let name = form.name();
            let derivative = match network.engine().derive(query, form) {
                Ok(derivative) => derivative,
                Err(error) if form == Form::Expanded => {
                    line.push_str(&format!("  expanded: not checked ({})", error.message));
                    continue;
                }
                Err(error) => return Err(error),
            };
            let verdict = verify(&network.model, &network.graph, &derivative, points, seed);
            if verdict.too_large {
                return Err(too_large_to_evaluate(&network.model));
            }
            passed &= verdict.passed();
            match &verdict.problem {
                Some(problem) => line.push_str(&format!("  {name}: {problem}")),
                None => line.push_str(&format!(
                    "  {name} {:.1e} ({} comparisons{})",
                    verdict.largest_error,
                    verdict.comparisons,
                    if verdict.skipped > 0 {
                        format!(", {} skipped at kinks or undefined points", verdict.skipped)
                    } else {
                        String::new()
                    }
                )),
            }
        }
        all_passed &= passed;
        let status = if passed { "PASS" } else { "FAIL" };
        report.push_str(&format!(
            "{status}  {}  largest relative error:{line}\n",
            query.text
        ));
    }
    Ok(Outcome::judged(all_passed, report))
}

//! The dependency graph of a model: an edge runs from each family to every
//! family whose definition refers to it. Cycles are refused here.

use std::collections::HashSet;

use petgraph::Direction;
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

use crate::diagnostic::Diagnostic;
use crate::expr::FamilyId;
use crate::model::{FamilyKind, Model};

/// The families of a model and who feeds whom.
pub struct DependencyGraph {
    graph: DiGraph<FamilyId, ()>,
    order: Vec<FamilyId>,
    /// For each family, the families whose definitions refer to it, sorted.
    successors: Vec<Vec<FamilyId>>,
    /// For each family, the families its definition refers to, sorted.
    predecessors: Vec<Vec<FamilyId>>,
}

/// A topological order of an acyclic graph that keeps the order of
/// declaration where the graph leaves a choice (Kahn's algorithm with a
/// queue), so that units a file lists side by side stay in its order.
fn declaration_ordered(
    successors: &[Vec<FamilyId>],
    predecessors: &[Vec<FamilyId>],
) -> Vec<FamilyId> {
    let mut waiting: Vec<usize> = predecessors.iter().map(Vec::len).collect();
    let mut ready: std::collections::VecDeque<FamilyId> = (0..successors.len() as u32)
        .map(FamilyId)
        .filter(|f| waiting[f.index()] == 0)
        .collect();
    let mut order = Vec::with_capacity(successors.len());
    while let Some(next) = ready.pop_front() {
        order.push(next);
        for successor in &successors[next.index()] {
            waiting[successor.index()] -= 1;
            if waiting[successor.index()] == 0 {
                ready.push_back(*successor);
            }
        }
    }
    order
}

impl DependencyGraph {
    /// Builds the graph; a cycle is an error that names every family on it.
    pub fn build(model: &Model) -> Result<DependencyGraph, Diagnostic> {
        let mut graph = DiGraph::with_capacity(model.families.len(), model.families.len());
        for family in model.family_ids() {
            graph.add_node(family);
        }
        for family in model.family_ids() {
            if let Some(definition) = model.family(family).definition {
                for used in model.store.referenced_families(definition) {
                    graph.add_edge(node(used), node(family), ());
                }
            }
        }
        if toposort(&graph, None).is_err() {
            return Err(cycle_error(model, &graph));
        }
        let neighbours = |direction: Direction| -> Vec<Vec<FamilyId>> {
            model
                .family_ids()
                .map(|family| {
                    let mut found: Vec<FamilyId> = graph
                        .neighbors_directed(node(family), direction)
                        .map(|n| graph[n])
                        .collect();
                    found.sort_unstable();
                    found.dedup();
                    found
                })
                .collect()
        };
        let successors = neighbours(Direction::Outgoing);
        let predecessors = neighbours(Direction::Incoming);
        let order = declaration_ordered(&successors, &predecessors);
        Ok(DependencyGraph {
            graph,
            order,
            successors,
            predecessors,
        })
    }

    /// The families whose definitions refer to `family`, in declaration order.
    pub fn successors(&self, family: FamilyId) -> &[FamilyId] {
        &self.successors[family.index()]
    }

    /// The families that `family`'s definition refers to, in declaration order.
    pub fn predecessors(&self, family: FamilyId) -> &[FamilyId] {
        &self.predecessors[family.index()]
    }

    /// For each family, whether it is one of `sources` or depends on one:
    /// one sweep over the topological order, whatever their number.
    pub fn downstream_of(&self, sources: &[FamilyId]) -> Vec<bool> {
        let mut reached = vec![false; self.successors.len()];
        for source in sources {
            reached[source.index()] = true;
        }
        for family in &self.order {
            if self
                .predecessors(*family)
                .iter()
                .any(|p| reached[p.index()])
            {
                reached[family.index()] = true;
            }
        }
        reached
    }

    /// For each family, whether `to` depends on it (or it is `to`): one
    /// sweep over the topological order, backwards.
    pub fn upstream_of(&self, to: FamilyId) -> Vec<bool> {
        let mut reached = vec![false; self.successors.len()];
        reached[to.index()] = true;
        for family in self.order.iter().rev() {
            if self.successors(*family).iter().any(|s| reached[s.index()]) {
                reached[family.index()] = true;
            }
        }
        reached
    }

    /// Every family, each after all the families it depends on.
    pub fn topological_order(&self) -> &[FamilyId] {
        &self.order
    }

    /// The objective of a model: the one scalar definition that nothing uses.
    pub fn objectives(&self, model: &Model) -> Vec<FamilyId> {
        model
            .family_ids()
            .filter(|f| {
                let info = model.family(*f);
                info.kind == FamilyKind::Defined
                    && info.ranges.is_empty()
                    && self.successors(*f).is_empty()
            })
            .collect()
    }

    /// Each edge as (from, to), for drawing.
    pub fn edges(&self) -> Vec<(FamilyId, FamilyId)> {
        self.graph
            .edge_indices()
            .filter_map(|e| self.graph.edge_endpoints(e))
            .map(|(a, b)| (self.graph[a], self.graph[b]))
            .collect()
    }
}

fn node(family: FamilyId) -> NodeIndex {
    NodeIndex::new(family.0 as usize)
}

/// Names the families of one cycle in order, located at the first one.
fn cycle_error(model: &Model, graph: &DiGraph<FamilyId, ()>) -> Diagnostic {
    let component = tarjan_scc(graph)
        .into_iter()
        .find(|c| c.len() > 1 || graph.contains_edge(c[0], c[0]))
        .expect("toposort failed, so some component is cyclic");
    let members: HashSet<NodeIndex> = component.iter().copied().collect();
    let start = *component.iter().min().expect("a component is not empty");
    // The shortest walk from the start back to it, found breadth first.
    let mut parent = std::collections::HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut last = start;
    'search: while let Some(current) = queue.pop_front() {
        let mut next_nodes: Vec<NodeIndex> = graph
            .neighbors(current)
            .filter(|n| members.contains(n))
            .collect();
        next_nodes.sort_unstable();
        for next in next_nodes {
            if next == start {
                last = current;
                break 'search;
            }
            if next != start && !parent.contains_key(&next) {
                parent.insert(next, current);
                queue.push_back(next);
            }
        }
    }
    let mut path = vec![last];
    while let Some(previous) = parent.get(path.last().expect("the path is not empty")) {
        path.push(*previous);
    }
    path.reverse();
    // Edges run from a family to its users; the message reads the other
    // way, as the definitions do: each family uses the next.
    let mut names: Vec<String> = path
        .iter()
        .chain([&start])
        .map(|n| format!("`{}`", model.family(graph[*n]).name))
        .collect();
    names.reverse();
    model.source.error(
        model.family(graph[start]).span,
        format!("definitions form a cycle: {}", names.join(" uses ")),
    )
}

#[cfg(test)]
mod tests {
    use crate::{Network, Source};

    fn names(
        network: &Network,
        families: impl IntoIterator<Item = crate::expr::FamilyId>,
    ) -> Vec<String> {
        let mut names: Vec<String> = families
            .into_iter()
            .map(|f| network.model.family(f).name.clone())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn successors_ancestors_and_the_objective() {
        let text = "input x\nparam w\na = w * x\nb = a^2\nc = a + b\nE = c\n";
        let net = Network::load(Source::new("g.nn", text)).unwrap();
        let a = net.model.family_named("a").unwrap();
        assert_eq!(names(&net, net.graph.successors(a).to_vec()), ["b", "c"]);
        assert_eq!(names(&net, net.graph.predecessors(a).to_vec()), ["w", "x"]);
        let e = net.model.family_named("E").unwrap();
        let upstream = net.graph.upstream_of(e);
        assert_eq!(
            names(&net, net.model.family_ids().filter(|f| upstream[f.index()])),
            ["E", "a", "b", "c", "w", "x"]
        );
        let downstream = net.graph.downstream_of(&[a]);
        assert_eq!(
            names(
                &net,
                net.model.family_ids().filter(|f| downstream[f.index()])
            ),
            ["E", "a", "b", "c"]
        );
        assert_eq!(names(&net, net.graph.objectives(&net.model)), ["E"]);
        let order = net.graph.topological_order();
        let position = |name: &str| {
            order
                .iter()
                .position(|f| net.model.family(*f).name == name)
                .unwrap()
        };
        assert!(
            position("a") < position("b")
                && position("b") < position("c")
                && position("c") < position("E")
        );
    }

    #[test]
    fn a_self_reference_is_a_cycle_of_one() {
        let error = Network::load(Source::new("g.nn", "input x\na = a + x\n"))
            .err()
            .unwrap();
        assert_eq!(error.message, "definitions form a cycle: `a` uses `a`");
    }
}

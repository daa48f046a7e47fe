//! The dependency graph of a model: an edge runs from each family to every
//! family whose definition refers to it. Cycles are refused here.

use std::collections::HashSet;

use petgraph::Direction;
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

use crate::diagnostic::Diagnostic;
use crate::expr::{ExprId, FamilyId, Node, Store};
use crate::model::{FamilyKind, Model};

/// The families of a model and who feeds whom.
pub struct DependencyGraph {
    graph: DiGraph<FamilyId, ()>,
    order: Vec<FamilyId>,
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
                for used in referenced_families(&model.store, definition) {
                    graph.add_edge(node(used), node(family), ());
                }
            }
        }
        let order = match toposort(&graph, None) {
            Ok(order) => order.into_iter().map(|n| graph[n]).collect(),
            Err(_) => return Err(cycle_error(model, &graph)),
        };
        Ok(DependencyGraph { graph, order })
    }

    /// The families whose definitions refer to `family`, in declaration order.
    pub fn successors(&self, family: FamilyId) -> Vec<FamilyId> {
        self.neighbours(family, Direction::Outgoing)
    }

    /// The families that `family`'s definition refers to, in declaration order.
    pub fn predecessors(&self, family: FamilyId) -> Vec<FamilyId> {
        self.neighbours(family, Direction::Incoming)
    }

    fn neighbours(&self, family: FamilyId, direction: Direction) -> Vec<FamilyId> {
        let mut found: Vec<FamilyId> = self
            .graph
            .neighbors_directed(node(family), direction)
            .map(|n| self.graph[n])
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Every family, each after all the families it depends on.
    pub fn topological_order(&self) -> &[FamilyId] {
        &self.order
    }

    /// `from` and every family that depends on it, directly or not.
    pub fn descendants(&self, from: FamilyId) -> HashSet<FamilyId> {
        self.reach(&[from], Direction::Outgoing)
    }

    /// Every family in `from` and every family that depends on one of them,
    /// found in one walk.
    pub fn descendants_of_all(&self, from: &[FamilyId]) -> HashSet<FamilyId> {
        self.reach(from, Direction::Outgoing)
    }

    /// `from` and every family it depends on, directly or not.
    pub fn ancestors(&self, from: FamilyId) -> HashSet<FamilyId> {
        self.reach(&[from], Direction::Incoming)
    }

    fn reach(&self, from: &[FamilyId], direction: Direction) -> HashSet<FamilyId> {
        let mut seen: HashSet<FamilyId> = from.iter().copied().collect();
        let mut stack = from.to_vec();
        while let Some(next) = stack.pop() {
            for neighbour in self.graph.neighbors_directed(node(next), direction) {
                if seen.insert(self.graph[neighbour]) {
                    stack.push(self.graph[neighbour]);
                }
            }
        }
        seen
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

/// The families an expression refers to, each once.
pub fn referenced_families(store: &Store, expr: ExprId) -> Vec<FamilyId> {
    let mut seen = HashSet::new();
    let mut families = Vec::new();
    let mut stack = vec![expr];
    while let Some(next) = stack.pop() {
        if !seen.insert(next) {
            continue;
        }
        match store.node(next) {
            Node::Ref(family, _) => {
                if !families.contains(family) {
                    families.push(*family);
                }
            }
            _ => stack.extend(store.children(next)),
        }
    }
    families.sort_unstable();
    families
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
        assert_eq!(names(&net, net.graph.successors(a)), ["b", "c"]);
        assert_eq!(names(&net, net.graph.predecessors(a)), ["w", "x"]);
        let e = net.model.family_named("E").unwrap();
        assert_eq!(
            names(&net, net.graph.ancestors(e)),
            ["E", "a", "b", "c", "w", "x"]
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

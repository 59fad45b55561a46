//! The dependency graph between services: start order as waves of services
//! that may start in parallel, stop order as the same waves reversed.
//!
//! Edges come from `depends_on`, which the loader has already completed with
//! the implicit dependencies of `links`, `network_mode: service:X`,
//! `ipc`/`pid: service:X` and `volumes_from`.

use std::collections::BTreeMap;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

use crate::model::Project;

/// Services ordered for start and stop.
#[derive(Debug, Clone)]
pub struct DependencyGraph {
    graph: DiGraph<String, ()>,
    index: BTreeMap<String, NodeIndex>,
    waves: Vec<Vec<String>>,
}

/// A dependency cycle: every service on it, in dependency order, none that
/// is not on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dependency cycle between services: {}", .services.join(" -> "))]
pub struct CycleError {
    pub services: Vec<String>,
}

impl DependencyGraph {
    /// Builds the graph of the enabled services. Dependencies on services
    /// that are not in the project (disabled by a profile, optional) are left
    /// out: the loader has already reported the required ones.
    pub fn new(project: &Project) -> Result<DependencyGraph, Vec<CycleError>> {
        let mut graph = DiGraph::new();
        let mut index = BTreeMap::new();
        for name in project.services.keys() {
            index.insert(name.clone(), graph.add_node(name.clone()));
        }
        for (name, service) in &project.services {
            for dep in service.depends_on.keys() {
                if let (Some(&from), Some(&to)) = (index.get(name), index.get(dep)) {
                    // Edge dependency -> dependent: the dependency starts first.
                    graph.update_edge(to, from, ());
                }
            }
        }
        let cycles = find_cycles(&graph);
        if !cycles.is_empty() {
            return Err(cycles);
        }
        let waves = start_waves(&graph);
        Ok(DependencyGraph {
            graph,
            index,
            waves,
        })
    }

    /// Start order: each wave only depends on earlier waves; names in a wave
    /// are sorted.
    pub fn waves(&self) -> &[Vec<String>] {
        &self.waves
    }

    /// Stop order: dependents before their dependencies.
    pub fn stop_waves(&self) -> Vec<Vec<String>> {
        self.waves.iter().rev().cloned().collect()
    }

    /// Direct dependencies of a service, sorted.
    pub fn dependencies(&self, service: &str) -> Vec<String> {
        self.neighbours(service, Direction::Incoming)
    }

    /// Direct dependents of a service, sorted.
    pub fn dependents(&self, service: &str) -> Vec<String> {
        self.neighbours(service, Direction::Outgoing)
    }

    fn neighbours(&self, service: &str, direction: Direction) -> Vec<String> {
        let Some(&node) = self.index.get(service) else {
            return Vec::new();
        };
        let mut names: Vec<String> = self
            .graph
            .neighbors_directed(node, direction)
            .map(|n| self.graph[n].clone())
            .collect();
        names.sort();
        names
    }
}

/// Strongly connected components with more than one node, or a self-loop.
fn find_cycles(graph: &DiGraph<String, ()>) -> Vec<CycleError> {
    let mut cycles: Vec<CycleError> = tarjan_scc(graph)
        .into_iter()
        .filter(|scc| scc.len() > 1 || graph.contains_edge(scc[0], scc[0]))
        .map(|scc| CycleError {
            services: cycle_order(graph, &scc),
        })
        .collect();
    cycles.sort_by(|a, b| a.services.cmp(&b.services));
    cycles
}

/// Orders the members of a strongly connected component as a walk "service
/// -> what it depends on", starting at the smallest name, so the message
/// reads like the stack file.
fn cycle_order(graph: &DiGraph<String, ()>, scc: &[NodeIndex]) -> Vec<String> {
    let mut members: Vec<NodeIndex> = scc.to_vec();
    members.sort_by(|a, b| graph[*a].cmp(&graph[*b]));
    let start = members[0];
    let mut order = vec![graph[start].clone()];
    let mut current = start;
    let mut seen = vec![start];
    loop {
        // Follow "depends on" = incoming edges, within the component.
        let mut next: Vec<NodeIndex> = graph
            .neighbors_directed(current, Direction::Incoming)
            .filter(|n| members.contains(n))
            .collect();
        next.sort_by(|a, b| graph[*a].cmp(&graph[*b]));
        match next.iter().find(|n| !seen.contains(n)) {
            Some(&n) => {
                order.push(graph[n].clone());
                seen.push(n);
                current = n;
            }
            None => break,
        }
    }
    // Members not on this walk (a component with several loops) still belong.
    for m in members {
        if !seen.contains(&m) {
            order.push(graph[m].clone());
        }
    }
    order
}

/// Waves of the whole graph (cycles were rejected before).
fn start_waves(graph: &DiGraph<String, ()>) -> Vec<Vec<String>> {
    let prereqs: BTreeMap<String, Vec<String>> = graph
        .node_indices()
        .map(|n| {
            let before = graph
                .neighbors_directed(n, Direction::Incoming)
                .map(|m| graph[m].clone())
                .collect();
            (graph[n].clone(), before)
        })
        .collect();
    levels(&prereqs).waves()
}

/// The dependency level of each node of a graph: what starts together.
/// This is the one ordering used everywhere: start waves of a stack file,
/// the planner's waves, `down`'s stop order, the daemon's restart order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Levels<N> {
    /// 0 for a node with nothing before it, else one more than the deepest
    /// node before it.
    pub level: BTreeMap<N, usize>,
    /// Nodes on a cycle, or after one: no level can be given to them.
    pub unordered: Vec<N>,
}

impl<N: Ord + Clone> Levels<N> {
    /// Nodes grouped by level, in level order, sorted within a level.
    /// Unordered nodes are left out.
    pub fn waves(&self) -> Vec<Vec<N>> {
        let mut waves: Vec<Vec<N>> = Vec::new();
        for (node, &level) in &self.level {
            if waves.len() <= level {
                waves.resize_with(level + 1, Vec::new);
            }
            waves[level].push(node.clone());
        }
        waves
    }

    /// Every node's level, the unordered ones all in one level after the
    /// last: for orders that must still include everything (stopping a
    /// stack, restarting after a reboot) when a hand-edited label made a
    /// cycle.
    pub fn with_unordered_last(self) -> BTreeMap<N, usize> {
        let last = self.level.values().copied().max().map_or(0, |l| l + 1);
        let mut level = self.level;
        for node in self.unordered {
            level.insert(node, last);
        }
        level
    }
}

/// Levels of a graph given as `node -> nodes that must come before it`
/// (edges to nodes outside the map are ignored), by Kahn's algorithm.
pub fn levels<N: Ord + Clone>(prereqs: &BTreeMap<N, Vec<N>>) -> Levels<N> {
    let mut pending: BTreeMap<&N, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<&N, Vec<&N>> = BTreeMap::new();
    for (node, before) in prereqs {
        let mut count = 0;
        for p in before.iter().filter(|p| prereqs.contains_key(*p)) {
            let list = dependents.entry(p).or_default();
            if !list.contains(&node) {
                list.push(node);
                count += 1;
            }
        }
        pending.insert(node, count);
    }
    // A node's depth is final once it is ready.
    let mut depth: BTreeMap<&N, usize> = BTreeMap::new();
    let mut level: BTreeMap<N, usize> = BTreeMap::new();
    let mut ready: std::collections::VecDeque<&N> = pending
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(node, _)| *node)
        .collect();
    while let Some(done) = ready.pop_front() {
        let done_level = depth.get(done).copied().unwrap_or(0);
        level.insert(done.clone(), done_level);
        for &next in dependents.get(done).map(Vec::as_slice).unwrap_or_default() {
            let d = depth.entry(next).or_insert(0);
            *d = (*d).max(done_level + 1);
            if let Some(left) = pending.get_mut(next) {
                *left -= 1;
                if *left == 0 {
                    ready.push_back(next);
                }
            }
        }
    }
    let unordered = prereqs
        .keys()
        .filter(|node| !level.contains_key(*node))
        .cloned()
        .collect();
    Levels { level, unordered }
}

impl Project {
    /// The dependency graph of the enabled services.
    pub fn graph(&self) -> Result<DependencyGraph, Vec<CycleError>> {
        DependencyGraph::new(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dependency, DependencyCondition, Service};

    fn project(edges: &[(&str, &[&str])]) -> Project {
        let mut p = Project::default();
        for (name, deps) in edges {
            let mut s = Service {
                name: name.to_string(),
                ..Service::default()
            };
            for d in *deps {
                s.depends_on.insert(
                    d.to_string(),
                    Dependency {
                        condition: DependencyCondition::ServiceStarted,
                        restart: false,
                        required: true,
                        from_link: false,
                    },
                );
            }
            p.services.insert(name.to_string(), s);
        }
        p
    }

    #[test]
    fn waves_group_independent_services() {
        let p = project(&[
            ("web", &["api", "cache"]),
            ("api", &["db"]),
            ("cache", &[]),
            ("db", &[]),
            ("worker", &["db"]),
        ]);
        let g = p.graph().expect("no cycle");
        assert_eq!(
            g.waves(),
            &[
                vec!["cache".to_string(), "db".to_string()],
                vec!["api".to_string(), "worker".to_string()],
                vec!["web".to_string()],
            ]
        );
        assert_eq!(g.stop_waves()[0], vec!["web".to_string()]);
        assert_eq!(g.dependencies("web"), vec!["api", "cache"]);
        assert_eq!(g.dependents("db"), vec!["api", "worker"]);
    }

    #[test]
    fn cycle_names_exactly_its_members() {
        let p = project(&[
            ("a", &["b"]),
            ("b", &["c"]),
            ("c", &["a"]),
            ("d", &["a"]),
            ("e", &[]),
        ]);
        let cycles = p.graph().expect_err("cycle");
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].services, vec!["a", "b", "c"]);
    }

    #[test]
    fn levels_are_the_longest_path_and_cycles_stay_unordered() {
        let graph: BTreeMap<&str, Vec<&str>> = [
            ("web", vec!["api", "db", "db"]),
            ("api", vec!["db"]),
            ("db", vec!["outside"]),
            ("a", vec!["b"]),
            ("b", vec!["a"]),
            ("after_cycle", vec!["a"]),
        ]
        .into_iter()
        .collect();
        let found = levels(&graph);
        assert_eq!(found.waves(), vec![vec!["db"], vec!["api"], vec!["web"]]);
        assert_eq!(found.unordered, vec!["a", "after_cycle", "b"]);
        let all = found.with_unordered_last();
        assert_eq!((all["web"], all["a"], all["after_cycle"]), (2, 3, 3));
    }

    #[test]
    fn self_dependency_is_a_cycle() {
        let p = project(&[("a", &["a"])]);
        let cycles = p.graph().expect_err("cycle");
        assert_eq!(cycles[0].services, vec!["a"]);
    }
}

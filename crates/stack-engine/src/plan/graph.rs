//! The service graph the planner orders by: `depends_on` plus the implicit
//! edges of shared namespaces and `volumes_from`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::{DesiredProject, PlanError};

/// Services a service must come after.
fn prerequisites<'a>(project: &'a DesiredProject, service: &str) -> Vec<&'a str> {
    let Some(s) = project.services.get(service) else {
        return Vec::new();
    };
    let mut out: Vec<&str> = s.depends_on.iter().map(|d| d.service.as_str()).collect();
    out.extend(s.shares_with.iter().map(String::as_str));
    out.sort_unstable();
    out.dedup();
    out
}

/// The services to act on: the named ones (all if none) and, unless
/// `no_deps`, everything they depend on, transitively. Names not in the
/// project are an error; a dependency not in the project (an optional one
/// left out by a profile) is skipped.
pub fn select(
    project: &DesiredProject,
    named: &[String],
    no_deps: bool,
) -> Result<BTreeSet<String>, PlanError> {
    if named.is_empty() {
        return Ok(project.services.keys().cloned().collect());
    }
    let mut selected = BTreeSet::new();
    let mut queue: VecDeque<&str> = VecDeque::new();
    for name in named {
        if !project.services.contains_key(name) {
            return Err(PlanError::UnknownService(name.clone()));
        }
        queue.push_back(name);
    }
    while let Some(name) = queue.pop_front() {
        if !selected.insert(name.to_string()) || no_deps {
            continue;
        }
        for dep in prerequisites(project, name) {
            if project.services.contains_key(dep) {
                queue.push_back(dep);
            }
        }
    }
    Ok(selected)
}

/// Dependency level of each selected service: 0 for those with no selected
/// prerequisite, else one more than the deepest prerequisite. Services of
/// one level never depend on each other, so they start together.
pub fn levels(
    project: &DesiredProject,
    selected: &BTreeSet<String>,
) -> Result<BTreeMap<String, usize>, PlanError> {
    let prereqs: BTreeMap<&str, Vec<&str>> = selected
        .iter()
        .map(|name| {
            let before = prerequisites(project, name)
                .into_iter()
                .filter(|p| selected.contains(*p))
                .collect();
            (name.as_str(), before)
        })
        .collect();
    levels_of(&prereqs).map_err(PlanError::Cycle)
}

/// Levels of a graph given as `node -> nodes that must come before it`
/// (edges to nodes outside the map are ignored). On a cycle, the nodes that
/// could not be ordered.
pub fn levels_of(
    prereqs: &BTreeMap<&str, Vec<&str>>,
) -> Result<BTreeMap<String, usize>, Vec<String>> {
    let mut pending: BTreeMap<&str, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (&node, before) in prereqs {
        let mut count = 0;
        for &p in before.iter().filter(|p| prereqs.contains_key(*p)) {
            dependents.entry(p).or_default().push(node);
            count += 1;
        }
        pending.insert(node, count);
    }
    // Kahn's algorithm; a node's depth is final once it is ready.
    let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
    let mut level: BTreeMap<String, usize> = BTreeMap::new();
    let mut ready: VecDeque<&str> = pending
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(s, _)| *s)
        .collect();
    while let Some(done) = ready.pop_front() {
        let done_level = depth.get(done).copied().unwrap_or(0);
        level.insert(done.to_string(), done_level);
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
    if level.len() < prereqs.len() {
        return Err(prereqs
            .keys()
            .filter(|s| !level.contains_key(**s))
            .map(|s| s.to_string())
            .collect());
    }
    Ok(level)
}

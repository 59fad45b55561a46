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
    let found = stack_spec::levels(&prereqs);
    if !found.unordered.is_empty() {
        return Err(PlanError::Cycle(
            found.unordered.iter().map(|s| s.to_string()).collect(),
        ));
    }
    Ok(found
        .level
        .into_iter()
        .map(|(s, l)| (s.to_string(), l))
        .collect())
}

//! The plan of `stack down`: remove a project's containers in reverse
//! dependency order, then its networks, then (with `-v`) its volumes.
//!
//! It works from the observed state alone (each stored container remembers
//! the services it depends on), so `down` needs no stack file. A dependency
//! cycle in stored data (which the stack file loader would have refused)
//! cannot block a `down`: the services caught in it go last, together.

use std::collections::{BTreeMap, BTreeSet};

use super::{Action, ActionKind, ObservedContainer, ObservedProject, Plan, Reason};

/// The flags of `stack down`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownOptions {
    /// `-v`: also remove the project's named volumes (never external ones).
    pub remove_volumes: bool,
    /// `--remove-orphans`: also remove containers of services that are not
    /// in `file_services`.
    pub remove_orphans: bool,
    /// Services of the stack file, when there is one. `None`: every
    /// container of the project goes.
    pub file_services: Option<BTreeSet<String>>,
}

/// Plans taking `project` down.
pub fn plan_down(project: &str, observed: &ObservedProject, opts: &DownOptions) -> Plan {
    let mut warnings = Vec::new();
    let mut going: Vec<&ObservedContainer> = Vec::new();
    let mut orphans_kept = Vec::new();
    for c in &observed.containers {
        let in_file = opts
            .file_services
            .as_ref()
            .is_none_or(|services| services.contains(&c.service));
        let is_orphan = !in_file;
        if is_orphan && !opts.remove_orphans {
            orphans_kept.push(c.name.as_str());
        } else {
            going.push(c);
        }
    }
    if !orphans_kept.is_empty() {
        warnings.push(format!(
            "found orphan containers ({}) for this project; remove them with --remove-orphans",
            orphans_kept.join(", ")
        ));
    }

    let wave_of = stop_waves(&going);
    let last_service_wave = wave_of.values().copied().max().map_or(0, |w| w + 1);
    let mut actions: Vec<Action> = going
        .iter()
        .map(|c| Action {
            kind: ActionKind::RemoveContainer {
                service: c.service.clone(),
                replica: c.replica,
                name: c.name.clone(),
                id: c.id.clone(),
            },
            reason: if opts.file_services.is_some() && is_orphan_of(c, opts) {
                Reason::Orphan
            } else {
                Reason::Down
            },
            wave: wave_of.get(&c.service).copied().unwrap_or(0),
        })
        .collect();
    actions.sort_by_key(|a| (a.wave, a.object()));

    // Networks and volumes go once no container of the project is left,
    // so only when no orphan is kept.
    if orphans_kept.is_empty() {
        for (name, net) in &observed.networks {
            if !net.external {
                actions.push(Action {
                    kind: ActionKind::RemoveNetwork { name: name.clone() },
                    reason: Reason::Down,
                    wave: last_service_wave,
                });
            }
        }
        if opts.remove_volumes {
            for (name, vol) in &observed.volumes {
                if !vol.external {
                    actions.push(Action {
                        kind: ActionKind::RemoveVolume { name: name.clone() },
                        reason: Reason::Down,
                        wave: last_service_wave,
                    });
                }
            }
        }
    } else if !observed.networks.is_empty() {
        warnings.push("networks are kept while orphan containers use them".into());
    }
    Plan {
        project: project.to_string(),
        actions,
        unchanged: Vec::new(),
        warnings,
    }
}

fn is_orphan_of(c: &ObservedContainer, opts: &DownOptions) -> bool {
    opts.file_services
        .as_ref()
        .is_some_and(|services| !services.contains(&c.service))
}

/// Wave of each service: dependents stop before what they depend on.
fn stop_waves(containers: &[&ObservedContainer]) -> BTreeMap<String, usize> {
    // Reverse edges: a service must stop after every service depending on it.
    let mut after: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for c in containers {
        after.entry(&c.service).or_default();
        for dep in &c.depends_on {
            after.entry(dep.as_str()).or_default().insert(&c.service);
        }
    }
    let present: BTreeSet<&str> = containers.iter().map(|c| c.service.as_str()).collect();
    let graph: BTreeMap<&str, Vec<&str>> = after
        .into_iter()
        .filter(|(s, _)| present.contains(s))
        .map(|(s, deps)| (s, deps.into_iter().collect()))
        .collect();
    // What a cycle (only a hand-edited label makes one) holds up stops last.
    stack_spec::levels(&graph)
        .with_unordered_last()
        .into_iter()
        .map(|(s, l)| (s.to_string(), l))
        .collect()
}

#[cfg(test)]
#[path = "down_tests.rs"]
mod tests;

//! Which containers a project verb acts on, and in which order: the
//! project's containers by their labels, narrowed to the services named on
//! the command line, grouped in dependency waves.

use std::collections::{BTreeMap, BTreeSet};

use crate::containers::ContainerRecord;
use crate::labels;

use super::ProjectError;

/// A project's containers, by service, each service's replicas in number
/// order.
#[derive(Debug, Clone)]
pub struct Selection {
    pub project: String,
    pub by_service: BTreeMap<String, Vec<ContainerRecord>>,
}

/// Picks the containers of `project` (one-off containers of `stack run
/// SERVICE` left out) for `services` (all when empty). A requested service
/// must be known: declared in the stack file (`declared`) or having
/// containers; a project without any container is an error too, so a
/// typo in `-p` is never a silent success.
pub fn select(
    all: Vec<ContainerRecord>,
    project: &str,
    services: &[String],
    declared: &BTreeSet<String>,
) -> Result<Selection, ProjectError> {
    let mut by_service: BTreeMap<String, Vec<ContainerRecord>> = BTreeMap::new();
    for record in all {
        let Some(m) = labels::membership(&record.spec.labels) else {
            continue;
        };
        if m.project != project || m.oneoff {
            continue;
        }
        let service = m.service.to_string();
        by_service.entry(service).or_default().push(record);
    }
    let present: BTreeSet<String> = by_service.keys().cloned().collect();
    check_services(services, declared, &present)?;
    if by_service.is_empty() {
        return Err(ProjectError::NoContainers(project.to_string()));
    }
    if !services.is_empty() {
        by_service.retain(|s, _| services.contains(s));
    }
    for replicas in by_service.values_mut() {
        replicas.sort_by_key(|r| {
            labels::membership(&r.spec.labels)
                .and_then(|m| m.number)
                .unwrap_or(u32::MAX)
        });
    }
    Ok(Selection {
        project: project.to_string(),
        by_service,
    })
}

/// Every requested service must be declared or have containers.
pub fn check_services(
    requested: &[String],
    declared: &BTreeSet<String>,
    present: &BTreeSet<String>,
) -> Result<(), ProjectError> {
    match requested
        .iter()
        .find(|s| !declared.contains(*s) && !present.contains(*s))
    {
        Some(unknown) => Err(ProjectError::NoSuchService(unknown.clone())),
        None => Ok(()),
    }
}

/// Start order of the `present` services: the stack file's dependency
/// waves (empty without a file) restricted to them, then one last wave of
/// those the file does not know (orphans, or everything without a file).
pub fn start_order<'a>(
    waves: &[Vec<String>],
    present: impl IntoIterator<Item = &'a String>,
) -> Vec<Vec<String>> {
    let present: BTreeSet<&String> = present.into_iter().collect();
    let mut placed = BTreeSet::new();
    let mut order: Vec<Vec<String>> = Vec::new();
    for wave in waves {
        let kept: Vec<String> = wave
            .iter()
            .filter(|s| present.contains(s))
            .cloned()
            .collect();
        placed.extend(kept.iter().cloned());
        if !kept.is_empty() {
            order.push(kept);
        }
    }
    let rest: Vec<String> = present
        .into_iter()
        .filter(|s| !placed.contains(*s))
        .cloned()
        .collect();
    if !rest.is_empty() {
        order.push(rest);
    }
    order
}

/// Stop order: dependents first, services the file does not know before
/// everything else (nothing declared depends on them).
pub fn stop_order<'a>(
    waves: &[Vec<String>],
    present: impl IntoIterator<Item = &'a String>,
) -> Vec<Vec<String>> {
    let mut order = start_order(waves, present);
    order.reverse();
    order
}

impl Selection {
    /// The selected containers wave by wave, following `order` (service
    /// names, as [`start_order`] or [`stop_order`] give).
    pub fn in_waves(&self, order: &[Vec<String>]) -> Vec<Vec<&ContainerRecord>> {
        order
            .iter()
            .map(|wave| {
                wave.iter()
                    .filter_map(|s| self.by_service.get(s))
                    .flatten()
                    .collect::<Vec<_>>()
            })
            .filter(|w| !w.is_empty())
            .collect()
    }

    /// Start order of the selected services.
    pub fn start_waves(&self, waves: &[Vec<String>]) -> Vec<Vec<&ContainerRecord>> {
        self.in_waves(&start_order(waves, self.by_service.keys()))
    }

    /// Stop order of the selected services.
    pub fn stop_waves(&self, waves: &[Vec<String>]) -> Vec<Vec<&ContainerRecord>> {
        self.in_waves(&stop_order(waves, self.by_service.keys()))
    }

    /// Every selected container, by service then replica number.
    pub fn all(&self) -> impl Iterator<Item = &ContainerRecord> {
        self.by_service.values().flatten()
    }

    /// The replica `index` (1-based container number) of `service`.
    pub fn replica(&self, service: &str, index: u32) -> Result<&ContainerRecord, ProjectError> {
        let replicas = self
            .by_service
            .get(service)
            .ok_or_else(|| ProjectError::NotRunning(service.to_string()))?;
        replicas
            .iter()
            .find(|r| labels::membership(&r.spec.labels).and_then(|m| m.number) == Some(index))
            .ok_or_else(|| ProjectError::NoSuchIndex {
                service: service.to_string(),
                index,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn start_order_follows_the_file_and_puts_unknown_services_last() {
        let waves = vec![names(&["db"]), names(&["api", "cache"]), names(&["web"])];
        let present = names(&["web", "db", "orphan", "api"]);
        assert_eq!(
            start_order(&waves, &present),
            vec![
                names(&["db"]),
                names(&["api"]),
                names(&["web"]),
                names(&["orphan"])
            ]
        );
    }

    #[test]
    fn stop_order_is_the_reverse_and_unknown_services_go_first() {
        let waves = vec![names(&["db"]), names(&["web"])];
        let present = names(&["db", "web", "orphan"]);
        assert_eq!(
            stop_order(&waves, &present),
            vec![names(&["orphan"]), names(&["web"]), names(&["db"])]
        );
    }

    #[test]
    fn without_a_file_everything_is_one_wave() {
        let present = names(&["b", "a"]);
        assert_eq!(start_order(&[], &present), vec![names(&["a", "b"])]);
        assert!(start_order(&[], &Vec::<String>::new()).is_empty());
    }

    #[test]
    fn unknown_services_are_named() {
        let declared = set(&["web"]);
        let present = set(&["db"]);
        assert!(check_services(&names(&["web", "db"]), &declared, &present).is_ok());
        let err =
            check_services(&names(&["web", "x"]), &declared, &present).expect_err("x is unknown");
        assert_eq!(err.to_string(), "no such service: x");
    }
}

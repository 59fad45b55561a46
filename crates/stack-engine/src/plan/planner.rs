//! The planning rules: desired project + observed project + options -> Plan.
//!
//! Waves, in order: pulls; removals (orphans, scale-down, containers on a
//! network about to be recreated); networks and volumes; then one wave per
//! dependency level of the services. A container is recreated only when its
//! hashed configuration, its image digest, or something it structurally
//! depends on (a network it joins, a service whose namespace it shares)
//! changed, or `--force-recreate` says so. Changing `depends_on`, `scale` or
//! build and pull settings never recreates (they are not hashed).

use std::collections::{BTreeMap, BTreeSet};

use super::graph;
use super::{
    Action, ActionKind, DesiredProject, DesiredService, ObservedContainer, ObservedProject,
    PlanError, PlanOptions, PullPolicy, Reason,
};
use stack_runtime::state::Status;

const WAVE_PULL: usize = 0;
const WAVE_TEARDOWN: usize = 1;
const WAVE_OBJECTS: usize = 2;
const WAVE_FIRST_SERVICE: usize = 3;

/// The outcome of planning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub project: String,
    /// In execution order; see [`Action::wave`].
    pub actions: Vec<Action>,
    /// Containers already as desired (`web-1`).
    pub unchanged: Vec<String>,
    /// Things the user should know that change nothing (orphans kept, a
    /// volume whose configuration changed).
    pub warnings: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Actions grouped by wave, in order.
    pub fn waves(&self) -> Vec<Vec<&Action>> {
        let mut out: Vec<Vec<&Action>> = Vec::new();
        for action in &self.actions {
            if out.len() <= action.wave {
                out.resize_with(action.wave + 1, Vec::new);
            }
            out[action.wave].push(action);
        }
        out
    }
}

/// Plans `desired` against `observed`. Pure: reads nothing, changes nothing.
pub fn plan(
    desired: &DesiredProject,
    observed: &ObservedProject,
    opts: &PlanOptions,
) -> Result<Plan, PlanError> {
    if opts.force_recreate && opts.no_recreate {
        return Err(PlanError::ConflictingOptions(
            "--force-recreate and --no-recreate",
        ));
    }
    let selected = graph::select(desired, &opts.services, opts.no_deps)?;
    let levels = graph::levels(desired, &selected)?;
    let mut by_service: BTreeMap<&str, Vec<&ObservedContainer>> = BTreeMap::new();
    for c in observed.containers.iter().filter(|c| !c.oneoff) {
        by_service.entry(&c.service).or_default().push(c);
    }
    let mut planner = Planner {
        desired,
        observed,
        by_service,
        opts,
        actions: Vec::new(),
        unchanged: Vec::new(),
        warnings: Vec::new(),
        recreated_networks: BTreeSet::new(),
        replaced_services: BTreeSet::new(),
    };
    planner.pulls(&selected)?;
    planner.networks_and_volumes(&selected)?;
    planner.orphans();
    let mut order: Vec<(&usize, &String)> = levels.iter().map(|(s, l)| (l, s)).collect();
    order.sort();
    for (level, name) in order {
        if let Some(service) = desired.services.get(name) {
            planner.service(service, WAVE_FIRST_SERVICE + level)?;
        }
    }
    Ok(planner.finish())
}

struct Planner<'a> {
    desired: &'a DesiredProject,
    observed: &'a ObservedProject,
    /// Replica containers (not one-offs) of each service.
    by_service: BTreeMap<&'a str, Vec<&'a ObservedContainer>>,
    opts: &'a PlanOptions,
    actions: Vec<Action>,
    unchanged: Vec<String>,
    warnings: Vec<String>,
    recreated_networks: BTreeSet<String>,
    /// Services whose containers were recreated, or created from nothing.
    replaced_services: BTreeSet<String>,
}

impl Planner<'_> {
    fn push(&mut self, wave: usize, kind: ActionKind, reason: Reason) {
        self.actions.push(Action { kind, reason, wave });
    }

    fn pulls(&mut self, selected: &BTreeSet<String>) -> Result<(), PlanError> {
        let mut pulls: BTreeMap<&str, Reason> = BTreeMap::new();
        let mut builds: BTreeMap<&str, (&str, Reason)> = BTreeMap::new();
        for service in selected.iter().filter_map(|s| self.desired.services.get(s)) {
            let present = self.observed.local_images.contains_key(&service.image);
            if service.build {
                let reason = match self.opts.build {
                    Some(true) => Reason::BuildAsked,
                    Some(false) if present => continue,
                    None if service.pull_policy == PullPolicy::Build => Reason::BuildAsked,
                    None if !present => Reason::ImageMissing,
                    None => continue,
                    Some(false) => {
                        return Err(PlanError::ImageMissing {
                            service: service.name.clone(),
                            image: service.image.clone(),
                        })
                    }
                };
                builds
                    .entry(&service.image)
                    .or_insert((&service.name, reason));
                continue;
            }
            let policy = match self.opts.pull.unwrap_or(service.pull_policy) {
                // Only a service with `build:` can be built.
                PullPolicy::Build => PullPolicy::Missing,
                policy => policy,
            };
            let reason = match policy {
                PullPolicy::Always => Reason::PullAlways,
                PullPolicy::Missing if !present => Reason::ImageMissing,
                PullPolicy::Never if !present => {
                    return Err(PlanError::ImageMissing {
                        service: service.name.clone(),
                        image: service.image.clone(),
                    })
                }
                PullPolicy::Missing | PullPolicy::Never | PullPolicy::Build => continue,
            };
            pulls.entry(&service.image).or_insert(reason);
        }
        for (reference, (service, reason)) in builds {
            let kind = ActionKind::BuildImage {
                service: service.to_string(),
                reference: reference.to_string(),
            };
            self.push(WAVE_PULL, kind, reason);
        }
        for (reference, reason) in pulls {
            let kind = ActionKind::PullImage {
                reference: reference.to_string(),
            };
            self.push(WAVE_PULL, kind, reason);
        }
        Ok(())
    }

    fn networks_and_volumes(&mut self, selected: &BTreeSet<String>) -> Result<(), PlanError> {
        let mut network_keys = BTreeSet::new();
        let mut volume_keys = BTreeSet::new();
        for service in selected.iter().filter_map(|s| self.desired.services.get(s)) {
            for key in &service.networks {
                if !self.desired.networks.contains_key(key) {
                    return Err(PlanError::UnknownNetwork {
                        service: service.name.clone(),
                        network: key.clone(),
                    });
                }
                network_keys.insert(key.clone());
            }
            for key in &service.volumes {
                if !self.desired.volumes.contains_key(key) {
                    return Err(PlanError::UnknownVolume {
                        service: service.name.clone(),
                        volume: key.clone(),
                    });
                }
                volume_keys.insert(key.clone());
            }
        }
        for key in network_keys {
            let net = &self.desired.networks[&key];
            if net.external {
                continue;
            }
            let kind_new = || ActionKind::CreateNetwork {
                key: key.clone(),
                name: net.name.clone(),
            };
            match self.observed.networks.get(&net.name) {
                None => self.push(WAVE_OBJECTS, kind_new(), Reason::New),
                Some(seen) if seen.config_hash != net.config.hash() => {
                    let why = changed(&net.config, &seen.config);
                    if self.opts.no_recreate {
                        self.warnings.push(format!(
                            "network {} configuration changed ({why}); not recreated (--no-recreate)",
                            net.name
                        ));
                        continue;
                    }
                    let blockers = self.unselected_users(&key, selected);
                    if !blockers.is_empty() {
                        // Recreating it would cut off containers this `up`
                        // does not touch.
                        self.warnings.push(format!(
                            "network {} configuration changed ({why}); not recreated while \
                             services not being updated use it ({})",
                            net.name,
                            blockers.join(", ")
                        ));
                        continue;
                    }
                    self.recreated_networks.insert(key.clone());
                    let kind = ActionKind::RecreateNetwork {
                        key: key.clone(),
                        name: net.name.clone(),
                    };
                    self.push(WAVE_OBJECTS, kind, why);
                }
                Some(_) => {}
            }
        }
        for key in volume_keys {
            let vol = &self.desired.volumes[&key];
            if vol.external {
                continue;
            }
            match self.observed.volumes.get(&vol.name) {
                None => {
                    let kind = ActionKind::CreateVolume {
                        key: key.clone(),
                        name: vol.name.clone(),
                    };
                    self.push(WAVE_OBJECTS, kind, Reason::New);
                }
                Some(seen) if seen.config_hash != vol.config.hash() => {
                    self.warnings.push(format!(
                        "volume {} configuration changed ({}); it keeps its data and is not \
                         recreated (remove it with `down -v` to apply the change)",
                        vol.name,
                        changed(&vol.config, &seen.config)
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Services outside this `up` that have containers on network `key`.
    fn unselected_users(&self, key: &str, selected: &BTreeSet<String>) -> Vec<String> {
        self.desired
            .services
            .values()
            .filter(|s| !selected.contains(&s.name))
            .filter(|s| s.networks.iter().any(|n| n == key))
            .filter(|s| self.by_service.contains_key(s.name.as_str()))
            .map(|s| s.name.clone())
            .collect()
    }

    fn orphans(&mut self) {
        let orphans: Vec<&ObservedContainer> = self
            .observed
            .containers
            .iter()
            .filter(|c| !self.desired.services.contains_key(&c.service))
            .collect();
        if orphans.is_empty() {
            return;
        }
        if !self.opts.remove_orphans {
            let names: Vec<&str> = orphans.iter().map(|c| c.name.as_str()).collect();
            self.warnings.push(format!(
                "found orphan containers ({}) for this project; remove them with --remove-orphans",
                names.join(", ")
            ));
            return;
        }
        for c in orphans {
            self.push(WAVE_TEARDOWN, remove(c), Reason::Orphan);
        }
    }

    fn service(&mut self, service: &DesiredService, wave: usize) -> Result<(), PlanError> {
        let wanted = self
            .opts
            .scale
            .get(&service.name)
            .copied()
            .unwrap_or(service.replicas);
        if service.container_name.is_some() && wanted > 1 {
            return Err(PlanError::ScaleWithContainerName {
                service: service.name.clone(),
                replicas: wanted,
            });
        }
        let mut existing: Vec<&ObservedContainer> = self
            .by_service
            .get(service.name.as_str())
            .cloned()
            .unwrap_or_default();
        existing.sort_by_key(|c| c.replica);
        let keep = existing.len().min(wanted as usize);
        for extra in &existing[keep..] {
            self.push(WAVE_TEARDOWN, remove(extra), Reason::ScaleDown);
        }
        let had_containers = !existing.is_empty();
        let hash = service.config.hash();
        for c in &existing[..keep] {
            self.existing_replica(service, &hash, c, wave);
        }
        let taken: BTreeSet<u32> = existing.iter().map(|c| c.replica).collect();
        let free = (1u32..).filter(|n| !taken.contains(n));
        for replica in free.take(wanted as usize - keep) {
            let kind = ActionKind::CreateContainer {
                service: service.name.clone(),
                replica,
                name: self.container_name(service, replica),
            };
            self.push(wave, kind, Reason::New);
            if !had_containers {
                self.replaced_services.insert(service.name.clone());
            }
        }
        Ok(())
    }

    fn existing_replica(
        &mut self,
        service: &DesiredService,
        hash: &str,
        c: &ObservedContainer,
        wave: usize,
    ) {
        let name = self.container_name(service, c.replica);
        if let Some(reason) = self.recreate_reason(service, hash, c) {
            let mut old_id = Some(c.id.clone());
            if let Reason::NetworkRecreated(_) = reason {
                // Off the network before the network is replaced.
                self.push(WAVE_TEARDOWN, remove(c), reason.clone());
                old_id = None;
            }
            self.replaced_services.insert(service.name.clone());
            let kind = ActionKind::RecreateContainer {
                service: service.name.clone(),
                replica: c.replica,
                name,
                old_id,
            };
            self.push(wave, kind, reason);
            return;
        }
        let id = c.id.clone();
        let (service_name, replica) = (service.name.clone(), c.replica);
        match c.state {
            Status::Created | Status::Exited => {
                let kind = ActionKind::StartContainer {
                    service: service_name,
                    replica,
                    name,
                    id,
                };
                self.push(wave, kind, Reason::Stopped);
            }
            _ => match self.replaced_dependency(service) {
                Some(dep) => {
                    let kind = ActionKind::RestartContainer {
                        service: service_name,
                        replica,
                        name,
                        id,
                    };
                    self.push(wave, kind, Reason::DependencyReplaced(dep));
                }
                None => self.unchanged.push(format!("{service_name}-{replica}")),
            },
        }
    }

    fn recreate_reason(
        &self,
        service: &DesiredService,
        hash: &str,
        c: &ObservedContainer,
    ) -> Option<Reason> {
        if self.opts.no_recreate {
            return None;
        }
        if self.opts.force_recreate {
            return Some(Reason::ForceRecreate);
        }
        if let Some(net) = service
            .networks
            .iter()
            .find(|n| self.recreated_networks.contains(*n))
        {
            return Some(Reason::NetworkRecreated(net.clone()));
        }
        if let Some(parent) = service
            .shares_with
            .iter()
            .find(|s| self.replaced_services.contains(*s))
        {
            return Some(Reason::SharedWithRecreated(parent.clone()));
        }
        if c.config_hash != hash {
            return Some(changed(&service.config, &c.config));
        }
        let local = self.observed.local_images.get(&service.image)?;
        if c.image_digest.as_deref() != Some(local.as_str()) {
            return Some(Reason::ImageChanged {
                old: c.image_digest.clone(),
                new: local.clone(),
            });
        }
        None
    }

    fn replaced_dependency(&self, service: &DesiredService) -> Option<String> {
        service
            .depends_on
            .iter()
            .find(|d| d.restart && self.replaced_services.contains(&d.service))
            .map(|d| d.service.clone())
    }

    fn container_name(&self, service: &DesiredService, replica: u32) -> String {
        service
            .container_name
            .clone()
            .unwrap_or_else(|| format!("{}-{}-{}", self.desired.name, service.name, replica))
    }

    /// Orders actions (wave, then as pushed) and closes gaps between waves.
    fn finish(mut self) -> Plan {
        self.actions.sort_by_key(|a| a.wave);
        let used: BTreeSet<usize> = self.actions.iter().map(|a| a.wave).collect();
        let renumber: BTreeMap<usize, usize> =
            used.into_iter().enumerate().map(|(i, w)| (w, i)).collect();
        for a in &mut self.actions {
            a.wave = renumber[&a.wave];
        }
        Plan {
            project: self.desired.name.clone(),
            actions: self.actions,
            unchanged: self.unchanged,
            warnings: self.warnings,
        }
    }
}

/// The reason for a changed hash: the fields if the old ones are known.
fn changed(now: &super::ConfigFields, before: &super::ConfigFields) -> Reason {
    let changes = now.changes_from(before);
    if before.as_map().is_empty() || changes.is_empty() {
        Reason::ConfigHashChanged
    } else {
        Reason::ConfigChanged(changes)
    }
}

fn remove(c: &ObservedContainer) -> ActionKind {
    ActionKind::RemoveContainer {
        service: c.service.clone(),
        replica: c.replica,
        name: c.name.clone(),
        id: c.id.clone(),
    }
}

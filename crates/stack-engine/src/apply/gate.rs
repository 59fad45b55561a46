//! `depends_on` gating over what the containers say: their `state.json`
//! (created, running, exited with a code, and the health the monitor's
//! healthchecks found), or else the health recorded in the store.

use crate::containers::{ContainerRecord, Containers};
use crate::labels;
use crate::store::{HealthStatus, Store};
use crate::supervise::{ReplicaObservation, ReplicaState, ServiceObservation, ServiceObserver};

/// The gate's view of one replica.
pub fn replica_observation(
    record: &ContainerRecord,
    health: Option<HealthStatus>,
) -> ReplicaObservation {
    use stack_runtime::state::Status;
    let state = match record.state.effective_status() {
        Status::Created => ReplicaState::Created,
        Status::Running => ReplicaState::Running,
        // Waiting for its restart: it exited, which is what the gate
        // must see (Compose fails a dependant when its dependency exits).
        Status::Exited | Status::Restarting => ReplicaState::Exited {
            code: record.state.exit_code.unwrap_or(-1),
        },
    };
    ReplicaObservation {
        state,
        health: health.filter(|_| record.spec.healthcheck.is_some()),
    }
}

/// Observes the services of one project on this host.
pub struct HostObserver<'a> {
    pub containers: &'a Containers,
    pub store: &'a Store,
    pub project: &'a str,
}

impl ServiceObserver for HostObserver<'_> {
    fn observe(&mut self, service: &str) -> Option<ServiceObservation> {
        let records: Vec<ContainerRecord> = self
            .containers
            .of_project(self.project)
            .into_iter()
            .filter(|r| {
                labels::membership(&r.spec.labels)
                    .is_some_and(|m| m.service == service && !m.oneoff)
            })
            .collect();
        if records.is_empty() {
            return None;
        }
        let replicas = records
            .iter()
            .map(|r| {
                let health = health_of(r).or_else(|| {
                    self.store
                        .read(|reader| reader.container(&r.spec.id))
                        .ok()
                        .flatten()
                        .and_then(|row| row.health)
                });
                replica_observation(r, health)
            })
            .collect();
        Some(ServiceObservation {
            has_healthcheck: records.iter().all(|r| r.spec.healthcheck.is_some()),
            replicas,
        })
    }
}

/// The health the container's monitor wrote in its `state.json`
/// (`"health": {"status": "healthy", ...}`), read as plain JSON so it does
/// not depend on the monitor's own types.
pub fn health_of(record: &ContainerRecord) -> Option<HealthStatus> {
    let bytes = std::fs::read(record.dir.state()).ok()?;
    let state: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    HealthStatus::parse(state.get("health")?.get("status")?.as_str()?)
}

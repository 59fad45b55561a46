//! `depends_on` gating over what the containers say: their `state.json`
//! (created, running, exited with a code, and the health the monitor's
//! healthchecks found), judged by `supervise::observe_service`, the one
//! mapping from a container's state to what a gate sees.

use crate::containers::{ContainerRecord, Containers};
use crate::labels;
use crate::supervise::{observe_service, ServiceObservation, ServiceObserver};

/// Observes the services of one project on this host.
pub struct HostObserver<'a> {
    pub containers: &'a Containers,
    pub project: &'a str,
}

impl ServiceObserver for HostObserver<'_> {
    fn observe(&mut self, service: &str) -> Option<ServiceObservation> {
        let records: Vec<ContainerRecord> = self
            .containers
            .of_project(self.project)
            .into_iter()
            .filter(|r| labels::membership(&r.spec.labels).is_some_and(|m| m.service == service))
            .collect();
        let observed = observe_service(&records);
        (!observed.replicas.is_empty()).then_some(observed)
    }
}

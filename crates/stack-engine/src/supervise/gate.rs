//! `depends_on` gating: may a service start, given its dependencies?
//!
//! Compose's rules (research: compose.md §2, "Startup ordering and gating"):
//! - `service_started`: every replica of the dependency has been started.
//! - `service_healthy`: every replica is healthy. Fails at once if one exits
//!   or turns unhealthy, and if the dependency has no healthcheck at all
//!   (waiting would never end).
//! - `service_completed_successfully`: every replica exited 0; a non-zero
//!   exit fails.
//! - `required: false`: a dependency that is missing or fails is reported as
//!   a warning and the dependent starts anyway.
//!
//! [`evaluate_dependency`] is the pure rule; [`wait_for_dependencies`] polls
//! it on an injected clock.

use std::time::Duration;

use stack_runtime::state::Status;

use super::Clock;
use crate::store::HealthStatus;

/// How often a waiting gate looks again (Compose polls every 500 ms).
pub const DEPENDENCY_POLL: Duration = Duration::from_millis(500);

/// `depends_on.<service>.condition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Started,
    Healthy,
    CompletedSuccessfully,
}

/// One `depends_on` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub service: String,
    pub condition: Condition,
    pub required: bool,
}

/// What a gate sees of one replica of a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaObservation {
    /// Its status, as its `state.json` says (processes gone count as
    /// exited).
    pub status: Status,
    /// The code of its last exit, when one was recorded.
    pub exit_code: Option<i32>,
    /// `None` when the container has no healthcheck.
    pub health: Option<HealthStatus>,
}

impl ReplicaObservation {
    /// The exit a gate judges, if the replica exited: a replica waiting
    /// for its restart counts as exited with its last code (it did exit,
    /// and Compose fails a dependant whose dependency exits rather than
    /// wait on a crash loop), and an exit whose code was never recorded
    /// (its monitor was killed) as a failure, -1, since a dependency that
    /// cannot be shown to have succeeded must not let its dependents start.
    pub fn exit(&self) -> Option<i32> {
        matches!(self.status, Status::Exited | Status::Restarting)
            .then(|| self.exit_code.unwrap_or(-1))
    }
}

/// What is known about a dependency right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceObservation {
    pub has_healthcheck: bool,
    pub replicas: Vec<ReplicaObservation>,
}

/// The verdict on one dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateState {
    Satisfied,
    /// Not yet; the text says what is awaited.
    Waiting(String),
    /// Never will be: the dependent must not start.
    Failed(String),
    /// An optional dependency failed or is missing: start anyway, warn.
    Skipped(String),
}

/// Why a dependent could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    /// `dependency` will never reach `condition` (it exited, is unhealthy
    /// or has no container); `reason` says which.
    #[error("dependency failed to start: {reason}")]
    Failed {
        dependency: String,
        condition: Condition,
        reason: String,
    },
    #[error("timed out after {after:?} waiting for {waiting}")]
    Timeout { after: Duration, waiting: String },
}

/// Judges one dependency. `observed` is `None` when the dependency has no
/// container (not in the project, or not created).
pub fn evaluate_dependency(dep: &Dependency, observed: Option<&ServiceObservation>) -> GateState {
    let verdict = judge(dep, observed);
    match verdict {
        GateState::Failed(reason) if !dep.required => {
            GateState::Skipped(format!("{reason} (optional dependency, starting anyway)"))
        }
        other => other,
    }
}

fn judge(dep: &Dependency, observed: Option<&ServiceObservation>) -> GateState {
    let name = &dep.service;
    let Some(obs) = observed.filter(|o| !o.replicas.is_empty()) else {
        return GateState::Failed(format!("service {name} has no container"));
    };
    match dep.condition {
        Condition::Started => {
            if obs.replicas.iter().all(|r| r.status != Status::Created) {
                GateState::Satisfied
            } else {
                GateState::Waiting(format!("{name} to start"))
            }
        }
        Condition::Healthy => judge_healthy(name, obs),
        Condition::CompletedSuccessfully => judge_completed(name, obs),
    }
}

fn judge_healthy(name: &str, obs: &ServiceObservation) -> GateState {
    if !obs.has_healthcheck {
        return GateState::Failed(format!("service {name} has no healthcheck configured"));
    }
    for r in &obs.replicas {
        if let Some(code) = r.exit() {
            return GateState::Failed(format!("service {name} exited (code {code})"));
        }
        if r.health == Some(HealthStatus::Unhealthy) {
            return GateState::Failed(format!("service {name} is unhealthy"));
        }
    }
    if obs
        .replicas
        .iter()
        .all(|r| r.health == Some(HealthStatus::Healthy))
    {
        GateState::Satisfied
    } else {
        GateState::Waiting(format!("{name} to be healthy"))
    }
}

fn judge_completed(name: &str, obs: &ServiceObservation) -> GateState {
    let mut all_done = true;
    for r in &obs.replicas {
        match r.exit() {
            Some(0) => {}
            Some(code) => {
                return GateState::Failed(format!(
                    "service {name} didn't complete successfully: exit {code}"
                ))
            }
            None => all_done = false,
        }
    }
    if all_done {
        GateState::Satisfied
    } else {
        GateState::Waiting(format!("{name} to complete"))
    }
}

/// Reads the current state of a service for the gate.
pub trait ServiceObserver {
    fn observe(&mut self, service: &str) -> Option<ServiceObservation>;
}

/// Waits until every dependency is satisfied or skipped, polling every
/// `poll` on `clock`. Returns the warnings of skipped optional dependencies.
/// Fails as soon as one required dependency fails, or after `timeout`.
pub fn wait_for_dependencies(
    deps: &[Dependency],
    observer: &mut dyn ServiceObserver,
    clock: &dyn Clock,
    poll: Duration,
    timeout: Option<Duration>,
) -> Result<Vec<String>, GateError> {
    let began = clock.now();
    loop {
        let mut warnings = Vec::new();
        let mut waiting = Vec::new();
        for dep in deps {
            match evaluate_dependency(dep, observer.observe(&dep.service).as_ref()) {
                GateState::Satisfied => {}
                GateState::Skipped(w) => warnings.push(w),
                GateState::Waiting(w) => waiting.push(w),
                GateState::Failed(reason) => {
                    return Err(GateError::Failed {
                        dependency: dep.service.clone(),
                        condition: dep.condition,
                        reason,
                    })
                }
            }
        }
        if waiting.is_empty() {
            return Ok(warnings);
        }
        let elapsed = clock.now().saturating_sub(began);
        if let Some(limit) = timeout.filter(|t| elapsed >= *t) {
            return Err(GateError::Timeout {
                after: limit,
                waiting: waiting.join(", "),
            });
        }
        clock.sleep(poll);
    }
}

#[cfg(test)]
#[path = "gate_tests.rs"]
mod tests;

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

/// Where one replica of a dependency is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaState {
    /// Created but never started.
    Created,
    Running,
    Exited {
        code: i32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaObservation {
    pub state: ReplicaState,
    /// `None` when the container has no healthcheck.
    pub health: Option<HealthStatus>,
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
            if obs
                .replicas
                .iter()
                .all(|r| r.state != ReplicaState::Created)
            {
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
        if let ReplicaState::Exited { code } = r.state {
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
        match r.state {
            ReplicaState::Exited { code: 0 } => {}
            ReplicaState::Exited { code } => {
                return GateState::Failed(format!(
                    "service {name} didn't complete successfully: exit {code}"
                ))
            }
            _ => all_done = false,
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

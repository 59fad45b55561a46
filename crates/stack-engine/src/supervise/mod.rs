//! Supervision logic: restart policies, healthchecks and `depends_on` gating,
//! as state machines that take events and the time and return decisions.
//!
//! The restart and health machines live in `stack_runtime::supervise` (the
//! per-container monitor runs them, keeping their state in the container's
//! `state.json`) and are re-exported here; gating and reading a container's
//! observed state are the engine's.
//!
//! Nothing here starts a process or sleeps on the wall clock: time comes from
//! an injected [`Clock`] and probes run through an [`Exec`] trait, so every
//! rule (backoff doubling, start periods, fail-fast gates) is tested
//! deterministically and instantly. The reconciler feeds these machines the
//! runtime's exit and health events and carries out what they decide.

mod from_spec;
mod gate;
mod observe;

pub use observe::{has_healthcheck, observe, observe_service, observe_state};

pub use from_spec::{healthcheck, restart_on_unhealthy, restart_policy, RESTART_ON_UNHEALTHY_KEY};
pub use gate::{
    evaluate_dependency, wait_for_dependencies, Condition, Dependency, GateError, GateState,
    ReplicaObservation, ServiceObservation, ServiceObserver, DEPENDENCY_POLL,
};
pub use stack_runtime::supervise::{Clock, ManualClock, SystemClock};
pub use stack_runtime::supervise::{
    Exec, ExecResult, HealthMonitor, HealthTest, HealthTestError, Healthcheck, ProbeReport,
    HISTORY_KEPT,
};
pub use stack_runtime::supervise::{
    ParseRestartPolicyError, RestartDecision, RestartPolicy, RestartTracker, BACKOFF_MAX,
    BACKOFF_START, UPTIME_RESET,
};

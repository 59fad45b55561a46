//! Supervision logic: restart policies and healthchecks, as state machines
//! that take events and the time and return decisions.
//!
//! Why here, in the runtime, and not in the engine: the per-container
//! monitor (`monitor.rs`) is the process that sees the exit and runs the
//! probes, and the runtime cannot import the engine. Keeping the pure
//! machines here gives one implementation of backoff and health rules,
//! used by the monitor and re-exported by `stack_engine::supervise` for
//! gating and persistence.
//!
//! Nothing here starts a process or sleeps on the wall clock: time comes
//! from an injected [`Clock`] and probes run through an [`Exec`] trait, so
//! every rule (backoff doubling, start periods) is tested deterministically
//! and instantly.

mod clock;
mod health;
mod restart;

pub use clock::{Clock, ManualClock, SystemClock};
pub use health::{
    Exec, ExecResult, HealthMonitor, HealthStatus, HealthTest, HealthTestError, Healthcheck,
    ProbeOutcome, ProbeReport, HISTORY_KEPT,
};
pub use restart::{
    ParseRestartPolicyError, RestartDecision, RestartPolicy, RestartTracker, BACKOFF_MAX,
    BACKOFF_START, UPTIME_RESET,
};

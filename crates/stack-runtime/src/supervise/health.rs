//! The healthcheck state machine of one container (Docker's semantics).
//!
//! - Status starts as `starting`. A passing probe makes it `healthy`;
//!   `retries` failing probes in a row make it `unhealthy`; a later pass
//!   makes it healthy again.
//! - A probe that runs longer than `timeout` fails.
//! - During `start_period` (counted from the container's start), failures do
//!   not count toward `retries` until the first pass; probes then run every
//!   `start_interval` instead of every `interval`, so a service that is up
//!   in 200 ms is seen healthy in 200 ms, not 30 s.
//! - The next probe is `interval` after the previous one ended.
//!
//! Probes run through the [`Exec`] trait; time comes from a [`Clock`].

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Clock;

/// Probes kept per container, as Docker keeps.
pub const HISTORY_KEPT: usize = 5;
/// Output kept per probe, as Docker keeps.
const OUTPUT_KEPT: usize = 4096;

/// Health of a container that has a healthcheck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Starting,
    Healthy,
    Unhealthy,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }

    pub fn parse(s: &str) -> Option<HealthStatus> {
        Some(match s {
            "starting" => HealthStatus::Starting,
            "healthy" => HealthStatus::Healthy,
            "unhealthy" => HealthStatus::Unhealthy,
            _ => return None,
        })
    }
}

/// How one probe ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeOutcome {
    Passed,
    Failed,
    #[serde(rename = "timeout")]
    TimedOut,
    /// The probe could not be run at all (exec failed).
    Error,
}

impl ProbeOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeOutcome::Passed => "passed",
            ProbeOutcome::Failed => "failed",
            ProbeOutcome::TimedOut => "timeout",
            ProbeOutcome::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<ProbeOutcome> {
        Some(match s {
            "passed" => ProbeOutcome::Passed,
            "failed" => ProbeOutcome::Failed,
            "timeout" => ProbeOutcome::TimedOut,
            "error" => ProbeOutcome::Error,
            _ => return None,
        })
    }
}

/// The `test:` of a healthcheck.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthTest {
    /// `["NONE"]` or `disable: true`: no healthcheck (even one from the image).
    None,
    /// `["CMD", prog, args…]`: run directly.
    Cmd(Vec<String>),
    /// `["CMD-SHELL", line]` or a plain string: run with `/bin/sh -c`.
    CmdShell(String),
}

/// A `test:` list that is not one of the three forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HealthTestError {
    #[error("healthcheck test is empty")]
    Empty,
    #[error("healthcheck test must start with CMD, CMD-SHELL or NONE, not {0:?}")]
    UnknownKind(String),
    #[error("healthcheck test {kind} needs {needs}")]
    Arity {
        kind: &'static str,
        needs: &'static str,
    },
}

impl HealthTest {
    /// Parses the list form, `["CMD", …]`, `["CMD-SHELL", line]`, `["NONE"]`.
    pub fn from_list(list: &[String]) -> Result<HealthTest, HealthTestError> {
        let (kind, rest) = list.split_first().ok_or(HealthTestError::Empty)?;
        match kind.as_str() {
            "NONE" => Ok(HealthTest::None),
            "CMD" if !rest.is_empty() => Ok(HealthTest::Cmd(rest.to_vec())),
            "CMD" => Err(HealthTestError::Arity {
                kind: "CMD",
                needs: "a program to run",
            }),
            "CMD-SHELL" if rest.len() == 1 => Ok(HealthTest::CmdShell(rest[0].clone())),
            "CMD-SHELL" => Err(HealthTestError::Arity {
                kind: "CMD-SHELL",
                needs: "exactly one command line",
            }),
            other => Err(HealthTestError::UnknownKind(other.to_string())),
        }
    }

    /// The command to exec in the container, or `None` for no healthcheck.
    pub fn argv(&self) -> Option<Vec<String>> {
        match self {
            HealthTest::None => None,
            HealthTest::Cmd(argv) => Some(argv.clone()),
            HealthTest::CmdShell(line) => Some(vec!["/bin/sh".into(), "-c".into(), line.clone()]),
        }
    }
}

/// A service's healthcheck with Docker's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Healthcheck {
    pub test: HealthTest,
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: u32,
    pub start_period: Duration,
    pub start_interval: Duration,
}

impl Healthcheck {
    /// `test` with Docker's defaults: 30 s interval and timeout, 3 retries,
    /// no start period, 5 s start interval.
    pub fn new(test: HealthTest) -> Self {
        Healthcheck {
            test,
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(30),
            retries: 3,
            start_period: Duration::ZERO,
            start_interval: Duration::from_secs(5),
        }
    }
}

/// How one exec of a probe ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecResult {
    Exited {
        code: i32,
        output: String,
    },
    /// Still running at the timeout; the runner killed it.
    TimedOut {
        output: String,
    },
    /// Could not be run at all (no such program, container gone).
    Failed {
        message: String,
    },
}

/// Runs a probe command inside the container. The runtime implements it with
/// its exec; tests script it.
pub trait Exec {
    fn exec(&mut self, argv: &[String], timeout: Duration) -> ExecResult;
}

/// One probe, with when it ran and what it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    pub started: Duration,
    pub ended: Duration,
    pub exit_code: Option<i32>,
    pub outcome: ProbeOutcome,
    pub output: String,
    /// `Some(new)` when this probe changed the status.
    pub transition: Option<HealthStatus>,
}

/// Health of one container with a healthcheck.
#[derive(Debug, Clone)]
pub struct HealthMonitor {
    check: Healthcheck,
    argv: Vec<String>,
    container_started: Duration,
    status: HealthStatus,
    failing_streak: u32,
    ever_passed: bool,
    next_probe_at: Duration,
    history: VecDeque<ProbeReport>,
}

impl HealthMonitor {
    /// A monitor for a container that started at `started`, or `None` if the
    /// healthcheck is `NONE`.
    pub fn new(check: Healthcheck, started: Duration) -> Option<Self> {
        let argv = check.test.argv()?;
        let mut monitor = HealthMonitor {
            check,
            argv,
            container_started: started,
            status: HealthStatus::Starting,
            failing_streak: 0,
            ever_passed: false,
            next_probe_at: started,
            history: VecDeque::new(),
        };
        monitor.next_probe_at = started + monitor.current_interval(started);
        Some(monitor)
    }

    pub fn status(&self) -> HealthStatus {
        self.status
    }
    pub fn failing_streak(&self) -> u32 {
        self.failing_streak
    }
    /// The command a probe runs.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }
    /// How long a probe may run before it is killed.
    pub fn timeout(&self) -> Duration {
        self.check.timeout
    }
    pub fn next_probe_at(&self) -> Duration {
        self.next_probe_at
    }
    /// The newest probes, oldest first.
    pub fn history(&self) -> impl Iterator<Item = &ProbeReport> {
        self.history.iter()
    }

    /// Whether a probe is due at `now`.
    pub fn due(&self, now: Duration) -> bool {
        now >= self.next_probe_at
    }

    /// Runs one probe now through `exec`, reading the time from `clock`.
    pub fn probe(&mut self, exec: &mut dyn Exec, clock: &dyn Clock) -> ProbeReport {
        let started = clock.now();
        let result = exec.exec(&self.argv, self.check.timeout);
        let ended = clock.now();
        self.record(result, started, ended)
    }

    /// Folds a probe that ran from `started` to `ended` into the status.
    /// (Separate from [`probe`](Self::probe) so an async runner can exec on
    /// its own and report back.)
    pub fn record(
        &mut self,
        result: ExecResult,
        started: Duration,
        ended: Duration,
    ) -> ProbeReport {
        let overran = ended.saturating_sub(started) > self.check.timeout;
        let (exit_code, outcome, output) = match result {
            ExecResult::Exited { .. } if overran => (
                None,
                ProbeOutcome::TimedOut,
                timeout_text(self.check.timeout),
            ),
            ExecResult::Exited { code: 0, output } => (Some(0), ProbeOutcome::Passed, output),
            ExecResult::Exited { code, output } => (Some(code), ProbeOutcome::Failed, output),
            ExecResult::TimedOut { .. } => (
                None,
                ProbeOutcome::TimedOut,
                timeout_text(self.check.timeout),
            ),
            ExecResult::Failed { message } => (None, ProbeOutcome::Error, message),
        };
        let before = self.status;
        if outcome == ProbeOutcome::Passed {
            self.ever_passed = true;
            self.failing_streak = 0;
            self.status = HealthStatus::Healthy;
        } else if !self.in_grace(started) {
            self.failing_streak += 1;
            if self.failing_streak >= self.check.retries.max(1) {
                self.status = HealthStatus::Unhealthy;
            }
        }
        self.next_probe_at = ended + self.current_interval(ended);
        let report = ProbeReport {
            started,
            ended,
            exit_code,
            outcome,
            output: truncate(output),
            transition: (self.status != before).then_some(self.status),
        };
        self.history.push_back(report.clone());
        while self.history.len() > HISTORY_KEPT {
            self.history.pop_front();
        }
        report
    }

    /// No probe at `now` (the container is paused: a probe would be
    /// frozen with it, and a frozen container is not a failing one): the
    /// next is one interval later, and status, streak and history stay
    /// as they were.
    pub fn skip(&mut self, now: Duration) {
        self.next_probe_at = now + self.current_interval(now);
    }

    /// Within the start period and never passed: failures do not count.
    fn in_grace(&self, at: Duration) -> bool {
        !self.ever_passed && at < self.container_started + self.check.start_period
    }

    fn current_interval(&self, at: Duration) -> Duration {
        if self.in_grace(at) {
            self.check.start_interval
        } else {
            self.check.interval
        }
    }
}

fn timeout_text(timeout: Duration) -> String {
    format!("health check exceeded timeout ({timeout:?})")
}

fn truncate(mut output: String) -> String {
    if output.len() > OUTPUT_KEPT {
        let mut cut = OUTPUT_KEPT;
        while !output.is_char_boundary(cut) {
            cut -= 1;
        }
        output.truncate(cut);
    }
    output
}

#[cfg(test)]
#[path = "health_tests.rs"]
mod tests;

//! Restart policies as a state machine, per container.
//!
//! Semantics follow Docker's engine (research: compose.md §2, "Restart policy
//! vs manual stop"):
//! - `no`: never restarted.
//! - `always`: restarted on any exit. A manual stop keeps it stopped until a
//!   manual start or the next engine start, when it comes back.
//! - `on-failure[:N]`: restarted only on a non-zero exit, at most N times
//!   over the container's life; not started again by an engine start.
//! - `unless-stopped`: like `always`, but a manual stop also survives an
//!   engine start.
//!
//! The delay before a restart starts at 100 ms and doubles after each quick
//! failure, up to one minute; a run of at least 10 s resets it to 100 ms, so
//! a crash loop backs off while a service that fails once a day restarts at
//! once.
//!
//! Beyond Docker (which never restarts an unhealthy container, moby#28400):
//! with `restart_on_unhealthy` the container is killed and restarted, through
//! the same backoff, when its healthcheck turns it unhealthy.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// First restart delay.
pub const BACKOFF_START: Duration = Duration::from_millis(100);
/// The delay never grows past this.
pub const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// A run at least this long resets the delay to [`BACKOFF_START`].
pub const UPTIME_RESET: Duration = Duration::from_secs(10);

/// The policy is the spec's own type (what `config.json` carries); its
/// text form (`on-failure:3`) is parsed and printed here.
pub use crate::spec::RestartPolicy;

/// A `restart:` value that is not one of the four policies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid restart policy {value:?}: expected no, always, on-failure, on-failure:N or unless-stopped"
)]
pub struct ParseRestartPolicyError {
    pub value: String,
}

impl FromStr for RestartPolicy {
    type Err = ParseRestartPolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseRestartPolicyError {
            value: s.to_string(),
        };
        match s {
            "" | "no" => Ok(RestartPolicy::No),
            "always" => Ok(RestartPolicy::Always),
            "unless-stopped" => Ok(RestartPolicy::UnlessStopped),
            "on-failure" => Ok(RestartPolicy::OnFailure { max_retries: None }),
            _ => {
                let n = s.strip_prefix("on-failure:").ok_or_else(bad)?;
                let max: u32 = n.parse().map_err(|_| bad())?;
                Ok(RestartPolicy::OnFailure {
                    max_retries: Some(max),
                })
            }
        }
    }
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestartPolicy::No => f.write_str("no"),
            RestartPolicy::Always => f.write_str("always"),
            RestartPolicy::UnlessStopped => f.write_str("unless-stopped"),
            RestartPolicy::OnFailure { max_retries: None } => f.write_str("on-failure"),
            RestartPolicy::OnFailure {
                max_retries: Some(n),
            } => write!(f, "on-failure:{n}"),
        }
    }
}

/// What the supervisor does after an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestartDecision {
    /// Leave the container as it is; the reason is for `events` and logs.
    Stay { reason: String },
    /// Start it again once `delay` has passed (see [`RestartTracker::due`]).
    RestartAfter { delay: Duration, attempt: u32 },
    /// Kill it now (it is unhealthy); its exit then schedules the restart.
    KillForRestart,
    /// The policy's retry budget is spent; it stays exited.
    GiveUp { reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    NotRunning,
    Running {
        since: Duration,
    },
    /// Killed because unhealthy; the exit that follows restarts it.
    KillingUnhealthy {
        since: Duration,
    },
    WaitingToRestart {
        at: Duration,
    },
}

/// Restart bookkeeping of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartTracker {
    policy: RestartPolicy,
    restart_on_unhealthy: bool,
    phase: Phase,
    next_delay: Duration,
    restart_count: u32,
    last_exit_code: Option<i32>,
    manual_stop: bool,
}

impl RestartTracker {
    pub fn new(policy: RestartPolicy, restart_on_unhealthy: bool) -> Self {
        RestartTracker {
            policy,
            restart_on_unhealthy,
            phase: Phase::NotRunning,
            next_delay: BACKOFF_START,
            restart_count: 0,
            last_exit_code: None,
            manual_stop: false,
        }
    }

    /// Rebuilds a tracker from what the store kept (after an engine restart).
    pub fn restore(
        policy: RestartPolicy,
        restart_on_unhealthy: bool,
        restart_count: u32,
        last_exit_code: Option<i32>,
        manual_stop: bool,
    ) -> Self {
        RestartTracker {
            restart_count,
            last_exit_code,
            manual_stop,
            ..Self::new(policy, restart_on_unhealthy)
        }
    }

    pub fn policy(&self) -> RestartPolicy {
        self.policy
    }

    /// The policy changed (`update`): the next exit is judged by it.
    pub fn set_policy(&mut self, policy: RestartPolicy) {
        self.policy = policy;
    }
    pub fn restart_count(&self) -> u32 {
        self.restart_count
    }
    pub fn last_exit_code(&self) -> Option<i32> {
        self.last_exit_code
    }
    pub fn manually_stopped(&self) -> bool {
        self.manual_stop
    }

    /// The container started (by the user or by a restart).
    pub fn started(&mut self, now: Duration) {
        self.phase = Phase::Running { since: now };
    }

    /// A user started it (`start`, `up`): a remembered manual stop is cleared.
    pub fn started_by_user(&mut self, now: Duration) {
        self.manual_stop = false;
        self.started(now);
    }

    /// A user stopped it (`stop`, `kill`): no policy brings it back, and a
    /// pending restart is cancelled.
    pub fn stopped_by_user(&mut self) {
        self.manual_stop = true;
        if matches!(self.phase, Phase::WaitingToRestart { .. }) {
            self.phase = Phase::NotRunning;
        }
    }

    /// The container's main process exited with `code` at `now`.
    pub fn exited(&mut self, code: i32, now: Duration) -> RestartDecision {
        self.last_exit_code = Some(code);
        let previous = std::mem::replace(&mut self.phase, Phase::NotRunning);
        let since = match previous {
            Phase::Running { since } => Some(since),
            Phase::KillingUnhealthy { since } => {
                self.note_uptime(now.saturating_sub(since));
                return self.schedule_restart(now);
            }
            _ => None,
        };
        if let Some(since) = since {
            self.note_uptime(now.saturating_sub(since));
        }
        if self.manual_stop {
            return RestartDecision::Stay {
                reason: "stopped by the user".into(),
            };
        }
        match self.policy {
            RestartPolicy::No => RestartDecision::Stay {
                reason: "restart policy is no".into(),
            },
            RestartPolicy::Always | RestartPolicy::UnlessStopped => self.schedule_restart(now),
            RestartPolicy::OnFailure { .. } if code == 0 => RestartDecision::Stay {
                reason: "exited successfully (on-failure)".into(),
            },
            RestartPolicy::OnFailure {
                max_retries: Some(max),
            } if self.restart_count >= max => RestartDecision::GiveUp {
                reason: format!("exit {code} after {max} restarts (on-failure:{max})"),
            },
            RestartPolicy::OnFailure { .. } => self.schedule_restart(now),
        }
    }

    /// The healthcheck turned the container unhealthy.
    pub fn became_unhealthy(&mut self) -> RestartDecision {
        let Phase::Running { since } = self.phase else {
            return RestartDecision::Stay {
                reason: "not running".into(),
            };
        };
        if !self.restart_on_unhealthy {
            return RestartDecision::Stay {
                reason: "restart on unhealthy is not enabled".into(),
            };
        }
        if self.manual_stop {
            return RestartDecision::Stay {
                reason: "stopped by the user".into(),
            };
        }
        self.phase = Phase::KillingUnhealthy { since };
        RestartDecision::KillForRestart
    }

    /// Whether a scheduled restart is due at `now`.
    pub fn due(&self, now: Duration) -> bool {
        matches!(self.phase, Phase::WaitingToRestart { at } if now >= at)
    }

    /// When the scheduled restart is due, if one is.
    pub fn restart_at(&self) -> Option<Duration> {
        match self.phase {
            Phase::WaitingToRestart { at } => Some(at),
            _ => None,
        }
    }

    /// The engine itself (re)started: should this container be started?
    /// `always` comes back even after a manual stop (and forgets it);
    /// `unless-stopped` only if not stopped by the user; `no` and
    /// `on-failure` never.
    pub fn start_on_engine_boot(&mut self) -> bool {
        match self.policy {
            RestartPolicy::Always => {
                self.manual_stop = false;
                true
            }
            RestartPolicy::UnlessStopped => !self.manual_stop,
            RestartPolicy::No | RestartPolicy::OnFailure { .. } => false,
        }
    }

    fn note_uptime(&mut self, uptime: Duration) {
        if uptime >= UPTIME_RESET {
            self.next_delay = BACKOFF_START;
        }
    }

    fn schedule_restart(&mut self, now: Duration) -> RestartDecision {
        let delay = self.next_delay;
        self.next_delay = (delay * 2).min(BACKOFF_MAX);
        self.restart_count += 1;
        self.phase = Phase::WaitingToRestart { at: now + delay };
        RestartDecision::RestartAfter {
            delay,
            attempt: self.restart_count,
        }
    }
}

#[cfg(test)]
#[path = "restart_tests.rs"]
mod tests;

//! `state.json`: what the monitor knows about a container, written
//! atomically at each change so any later `stack` process (or a restarted
//! daemon) can read the status and the exit code without the monitor.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::spec::ContainerDir;
use crate::supervise::{HealthStatus, ProbeOutcome};

/// File in the container directory that says it is paused (written and
/// removed by [`crate::pause`]; here so that loading a state needs nothing
/// of the code that pauses).
pub const PAUSED: &str = "paused";

/// Path of the pause marker of a container.
pub fn pause_marker(dir: &ContainerDir) -> std::path::PathBuf {
    dir.path().join(PAUSED)
}

/// Whether the container was paused (and not unpaused since).
pub fn is_paused(dir: &ContainerDir) -> bool {
    pause_marker(dir).exists()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    /// The process exited and the restart policy will start it again
    /// after its backoff delay; the monitor is waiting.
    Restarting,
    Exited,
}

impl Status {
    /// The word `state.json`, the store and the APIs use.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Restarting => "restarting",
            Status::Exited => "exited",
        }
    }

    /// The status named by [`Status::as_str`]'s word.
    pub fn parse(word: &str) -> Option<Status> {
        Some(match word {
            "created" => Status::Created,
            "running" => Status::Running,
            "restarting" => Status::Restarting,
            "exited" => Status::Exited,
            _ => return None,
        })
    }
}

/// The container's lifecycle record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub status: Status,
    /// Host pid of the container's first process.
    pub pid: Option<i32>,
    /// Its start time (clock ticks, /proc/<pid>/stat field 22): tells a
    /// reused pid from ours.
    pub pid_start: Option<u64>,
    pub monitor_pid: Option<i32>,
    pub monitor_start: Option<u64>,
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub oom_killed: bool,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    /// Restarts done by the restart policy since the container was started
    /// by a user.
    #[serde(default)]
    pub restart_count: u32,
    /// The last exit was asked for (`stop`, `kill`): no policy restarts it,
    /// and a later engine start tells `unless-stopped` from `always`.
    #[serde(default)]
    pub manual_stop: bool,
    /// `None`: the container has no healthcheck.
    #[serde(default)]
    pub health: Option<Health>,
    /// Its processes are frozen by `pause` (see [`crate::pause`]): read
    /// from the pause marker by [`State::load`], never written here, since
    /// the monitor that writes this file does not pause anything. A
    /// paused container still runs (`status` stays `running`), as in
    /// Docker, where it is `Running` and `Paused` at once.
    #[serde(skip)]
    pub paused: bool,
}

/// Health as `inspect` shows it (Docker's `State.Health`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: HealthStatus,
    pub failing_streak: u32,
    /// The newest probes, oldest first.
    #[serde(default)]
    pub log: Vec<Probe>,
}

/// One probe run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub start: String,
    pub end: String,
    /// `None` when the probe timed out or could not run.
    pub exit_code: Option<i32>,
    pub outcome: ProbeOutcome,
    pub output: String,
}

impl State {
    pub fn created() -> State {
        State {
            status: Status::Created,
            pid: None,
            pid_start: None,
            monitor_pid: None,
            monitor_start: None,
            exit_code: None,
            oom_killed: false,
            started_at: None,
            finished_at: None,
            error: None,
            restart_count: 0,
            manual_stop: false,
            health: None,
            paused: false,
        }
    }

    pub fn load(dir: &ContainerDir) -> Result<State, Error> {
        let path = dir.state();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let mut state: State = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::invalid(path.display().to_string(), e.to_string()))?;
                // A marker left by a run that ended is not a paused container.
                state.paused = state.status == Status::Running && is_paused(dir);
                Ok(state)
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(State::created()),
            Err(err) => Err(Error::io(format!("read {}", path.display()), err)),
        }
    }

    pub fn save(&self, dir: &ContainerDir) -> Result<(), Error> {
        let bytes =
            serde_json::to_vec_pretty(self).map_err(|e| Error::invalid("state", e.to_string()))?;
        crate::fsutil::write_atomic(&dir.state(), &bytes)
    }

    /// Whether the container's first process is still the one we started.
    pub fn container_alive(&self) -> bool {
        alive(self.pid, self.pid_start)
    }

    /// Whether the monitor is still running.
    pub fn monitor_alive(&self) -> bool {
        alive(self.monitor_pid, self.monitor_start)
    }

    /// The status as seen now: a record saying running whose processes are
    /// all gone (host reboot, monitor killed) reads as exited.
    pub fn effective_status(&self) -> Status {
        match self.status {
            Status::Running if !self.container_alive() && !self.monitor_alive() => Status::Exited,
            Status::Restarting if !self.monitor_alive() => Status::Exited,
            status => status,
        }
    }

    /// Whether something is still to come from this container: it runs, or
    /// its monitor will start it again.
    pub fn is_active(&self) -> bool {
        matches!(
            self.effective_status(),
            Status::Running | Status::Restarting
        )
    }
}

fn alive(pid: Option<i32>, start: Option<u64>) -> bool {
    match (pid, start) {
        (Some(pid), Some(start)) => start_time(pid) == Some(start),
        _ => false,
    }
}

/// Field 22 of /proc/<pid>/stat, or None if the process is gone or a zombie.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_file_from_before_supervision_still_reads() {
        let old = r#"{"status":"exited","pid":7,"pid_start":1,"monitor_pid":8,
            "monitor_start":2,"exit_code":3,"started_at":null,"finished_at":null,"error":null}"#;
        let s: State = serde_json::from_str(old).expect("old state");
        assert_eq!(
            (s.exit_code, s.restart_count, s.manual_stop),
            (Some(3), 0, false)
        );
        assert_eq!(s.health, None);
    }

    #[test]
    fn restarting_without_a_monitor_reads_as_exited() {
        let mut s = State::created();
        s.status = Status::Restarting;
        assert_eq!(s.effective_status(), Status::Exited);
        s.monitor_pid = Some(std::process::id() as i32);
        s.monitor_start = start_time(std::process::id() as i32);
        assert_eq!(s.effective_status(), Status::Restarting);
        assert!(s.is_active());
    }

    #[test]
    fn own_process_is_alive_and_a_wrong_start_time_is_not() {
        let me = std::process::id() as i32;
        let start = start_time(me).expect("own stat");
        let mut s = State::created();
        s.status = Status::Running;
        s.monitor_pid = Some(me);
        s.monitor_start = Some(start);
        assert!(s.monitor_alive());
        assert_eq!(s.effective_status(), Status::Running);
        s.monitor_start = Some(start + 1);
        assert_eq!(s.effective_status(), Status::Exited);
    }
}

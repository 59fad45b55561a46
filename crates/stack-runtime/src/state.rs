//! `state.json`: what the monitor knows about a container, written
//! atomically at each change so any later `stack` process (or a restarted
//! daemon) can read the status and the exit code without the monitor.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::spec::ContainerDir;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Exited,
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
        }
    }

    pub fn load(dir: &ContainerDir) -> Result<State, Error> {
        let path = dir.state();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Error::invalid(path.display().to_string(), e.to_string())),
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
        if self.status == Status::Running && !self.container_alive() && !self.monitor_alive() {
            Status::Exited
        } else {
            self.status
        }
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

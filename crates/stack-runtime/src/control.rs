//! Signals, stop, wait and removal of a container from any `stack`
//! process, through its record and its processes' pids (checked against
//! their start times so a reused pid is never signalled).

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::error::Error;
use crate::spec::{ContainerDir, ContainerSpec};
use crate::state::{State, Status};

/// Sends `signal` to the container's first process. Like Docker, a kill
/// from a user is a manual stop: the marker is written first, so the
/// monitor does not restart the container when it exits, whatever its
/// restart policy. A container waiting to be restarted just stays exited.
/// A paused container is thawed after its stop signal or SIGKILL, so it
/// can end (see [`crate::pause`]).
pub fn kill(dir: &ContainerDir, signal: Signal) -> Result<(), Error> {
    let spec = ContainerSpec::load(dir)?;
    let is_active = State::load(dir)?.is_active();
    if is_active {
        request_stop(dir)?;
    }
    // Read again after the marker is down: a restart that began before it
    // shows its new pid here, one that begins after it sees the marker.
    let state = State::load(dir)?;
    match (state.effective_status(), state.pid) {
        (Status::Running, Some(pid)) if state.container_alive() => {
            deliver(pid, signal, &spec.name)?;
            crate::pause::thaw_for_signal(dir, &spec, signal)
        }
        (Status::Restarting, _) => Ok(()),
        _ => Err(Error::NotRunning(spec.name)),
    }
}

/// Signals the container's first process. One that exited since it was
/// seen alive (`ESRCH`) is not running: a stop racing its exit has
/// nothing left to do, and must not fail.
fn deliver(pid: i32, signal: Signal, name: &str) -> Result<(), Error> {
    match nix::sys::signal::kill(Pid::from_raw(pid), signal) {
        Ok(()) => Ok(()),
        Err(nix::errno::Errno::ESRCH) => Err(Error::NotRunning(name.to_string())),
        Err(e) => Err(Error::sys(format!("signal {signal} to {name}"), e)),
    }
}

/// Marks the next exit as asked for (see `supervisor.rs`).
fn request_stop(dir: &ContainerDir) -> Result<(), Error> {
    let path = crate::monitor::supervisor::stop_marker(dir);
    std::fs::write(&path, b"").map_err(|e| Error::io(format!("write {}", path.display()), e))
}

/// Waits until the monitor has recorded the exit, or `timeout` passes.
/// Returns whether it finished.
pub fn wait_stopped(dir: &ContainerDir, timeout: Duration) -> Result<bool, Error> {
    let deadline = Instant::now() + timeout;
    loop {
        let state = State::load(dir).or_else(|err| {
            if dir.path().exists() {
                Err(err)
            } else {
                Ok(State::created())
            }
        })?;
        if !dir.path().exists()
            || !state.is_active()
            || !state.monitor_alive() && !state.container_alive()
        {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Docker's stop: the stop signal, then SIGKILL after `grace`.
pub fn stop(dir: &ContainerDir, grace: Duration) -> Result<(), Error> {
    let spec = ContainerSpec::load(dir)?;
    let signal = Signal::try_from(spec.stop_signal).unwrap_or(Signal::SIGTERM);
    match kill(dir, signal) {
        Ok(()) | Err(Error::NotRunning(_)) => {}
        Err(err) => return Err(err),
    }
    if wait_stopped(dir, grace)? {
        return Ok(());
    }
    match kill(dir, Signal::SIGKILL) {
        Ok(()) | Err(Error::NotRunning(_)) => {}
        Err(err) => return Err(err),
    }
    wait_stopped(dir, Duration::from_secs(10))?;
    Ok(())
}

/// Removes a container: refuses a running one unless `force` (then kills
/// it), removes what is left of its cgroup, then its directory.
pub fn remove(dir: &ContainerDir, force: bool) -> Result<(), Error> {
    let spec = ContainerSpec::load(dir)?;
    let state = State::load(dir)?;
    if state.is_active() {
        if !force {
            return Err(Error::Running(spec.name));
        }
        match kill(dir, Signal::SIGKILL) {
            Ok(()) | Err(Error::NotRunning(_)) => {}
            Err(err) => return Err(err),
        }
        wait_stopped(dir, Duration::from_secs(10))?;
    }
    let root = std::path::Path::new(crate::cgroup::CGROUP_ROOT);
    if let Ok(layout) = crate::cgroup::Layout::detect(root) {
        crate::cgroup::Cgroup::at(root, &layout, &spec.cgroup_path).remove()?;
    }
    crate::backend::of(spec.backend).forget(&spec);
    crate::fsutil::remove_tree(dir.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_gone_before_its_signal_is_not_running() {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id() as i32;
        child.wait().expect("reap");
        // Reaped: the pid names no process (unless reused at once, which
        // a test machine does not do within microseconds).
        match deliver(pid, Signal::SIGKILL, "gone") {
            Err(Error::NotRunning(name)) => assert_eq!(name, "gone"),
            other => panic!("expected NotRunning, got {other:?}"),
        }
    }
}

//! A container whose `state.json` is damaged (truncated, garbage): what the
//! host still says about it, a rebuilt record, and its removal without the
//! record.
//!
//! The monitor keeps the true state in memory and writes the file again at
//! the next event (a probe, an exit), so a rebuilt file only has to be right
//! enough until then: running or not, which process, which monitor.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::cgroup::{Cgroup, Layout, CGROUP_ROOT};
use crate::error::Error;
use crate::spec::{ContainerDir, ContainerSpec};
use crate::state::{start_time, State, Status};

/// The container's cgroup at `cgroup_path` (`stack/<id>`), in whatever
/// layout this host has.
pub fn cgroup(cgroup_path: &str) -> Option<Cgroup> {
    let root = Path::new(CGROUP_ROOT);
    let layout = Layout::detect(root).ok()?;
    Some(Cgroup::at(root, &layout, cgroup_path))
}

/// Processes still in the cgroup at `cgroup_path`.
pub fn live_pids(cgroup_path: &str) -> Vec<i32> {
    cgroup(cgroup_path).map(|c| c.pids()).unwrap_or_default()
}

/// A state rebuilt from the host: running with the cgroup's first process
/// (the one whose parent is outside the cgroup, i.e. the monitor's child)
/// when the cgroup has processes, exited otherwise.
pub fn rebuild_state(spec: &ContainerSpec, note: &str) -> State {
    let mut state = State::created();
    state.error = Some(note.to_string());
    match first_process(&live_pids(&spec.cgroup_path)) {
        Some(pid) => {
            state.status = Status::Running;
            state.pid = Some(pid);
            state.pid_start = start_time(pid);
            state.monitor_pid = parent_of(pid);
            state.monitor_start = state.monitor_pid.and_then(start_time);
            state.started_at = Some(crate::timefmt::now());
        }
        None => {
            state.status = Status::Exited;
            state.finished_at = Some(crate::timefmt::now());
        }
    }
    state
}

/// Moves a damaged `state.json` aside (`state.json.damaged`, never
/// deleted) and writes `state` in its place. Returns where the old file went.
pub fn replace_state(dir: &ContainerDir, state: &State) -> Result<PathBuf, Error> {
    let path = dir.state();
    let aside = path.with_extension("json.damaged");
    std::fs::rename(&path, &aside)
        .map_err(|e| Error::io(format!("move {} aside", path.display()), e))?;
    state.save(dir)?;
    Ok(aside)
}

/// Stops a container whose record cannot be read: the stop marker first
/// (so its monitor does not restart it), then SIGKILL to everything in its
/// cgroup. Its monitor (the parent of the cgroup's first process), when
/// alive, then records the exit and writes a whole `state.json` again.
/// Returns whether a whole record saying "not running" is there within
/// `wait`; gives up at once when no monitor is left to write it.
pub fn kill_unrecorded(dir: &ContainerDir, cgroup_path: &str, wait: Duration) -> bool {
    let _ = std::fs::write(crate::monitor::supervisor::stop_marker(dir), b"");
    let pids = live_pids(cgroup_path);
    let monitor = first_process(&pids)
        .and_then(parent_of)
        .and_then(|pid| Some((pid, start_time(pid)?)));
    for pid in pids {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let deadline = std::time::Instant::now() + wait;
    loop {
        if State::load(dir).is_ok_and(|s| !s.is_active()) {
            return true;
        }
        let monitor_alive = monitor.is_some_and(|(pid, start)| start_time(pid) == Some(start));
        if !monitor_alive || std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The cgroup's first process: the one whose parent is outside it (the
/// monitor's child).
fn first_process(pids: &[i32]) -> Option<i32> {
    pids.iter()
        .copied()
        .find(|pid| parent_of(*pid).is_none_or(|ppid| !pids.contains(&ppid)))
}

/// Removes what a container left on the host without reading its record:
/// its processes and cgroup, runc's state when `spec` says runc, every
/// mount below its directory, then the directory. Collects errors and
/// keeps going; returns the first.
pub fn remove_unrecorded(
    dir: &ContainerDir,
    cgroup_path: &str,
    spec: Option<&ContainerSpec>,
) -> Result<(), Error> {
    let mut first_error = None;
    if let Some(cgroup) = cgroup(cgroup_path) {
        if let Err(err) = cgroup.remove() {
            first_error.get_or_insert(err);
        }
    }
    if let Some(spec) = spec {
        crate::backend::of(spec.backend).forget(spec);
    }
    for point in mounts_below(dir.path()) {
        let _ = nix::mount::umount2(&point, nix::mount::MntFlags::MNT_DETACH);
    }
    if let Err(err) = crate::fsutil::remove_tree(dir.path()) {
        first_error.get_or_insert(err);
    }
    first_error.map_or(Ok(()), Err)
}

/// Names of the cgroups directly below `parent` (`stack`), in any
/// hierarchy of this host: one per container that has (or had) processes.
pub fn cgroup_children(parent: &str) -> Vec<String> {
    let mut names = std::collections::BTreeSet::new();
    for (_, dir) in cgroup(parent).map(|c| c.dirs).unwrap_or_default() {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                names.insert(entry.file_name().to_string_lossy().into_owned());
            }
        }
    }
    names.into_iter().collect()
}

/// Mount points at or below `dir` in this mount namespace, deepest first.
pub fn mounts_below(dir: &Path) -> Vec<PathBuf> {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    let mut points: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .map(PathBuf::from)
        .filter(|p| p.starts_with(dir))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    points
}

/// Field 4 of /proc/<pid>/stat.
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    after.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_of_this_process_is_found() {
        let me = std::process::id() as i32;
        assert_eq!(
            parent_of(me),
            Some(nix::unistd::getppid().as_raw()),
            "parent of {me}"
        );
    }

    #[test]
    fn a_damaged_state_is_moved_aside_and_replaced() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = ContainerDir::new(tmp.path());
        std::fs::write(dir.state(), b"{\"status\":").expect("write");
        let state = State::created();
        let aside = replace_state(&dir, &state).expect("replace");
        assert_eq!(std::fs::read(&aside).expect("aside"), b"{\"status\":");
        assert_eq!(State::load(&dir).expect("load").status, Status::Created);
    }
}

//! The monitor: one small process per container, started by exec'ing the
//! `stack` binary in a hidden mode (never by forking a threaded caller).
//!
//! Why a monitor at all, and why this one: a container must outlive the
//! `stack` command (or daemon) that started it, its exit status must be
//! recoverable later, and its output must keep reaching the log file. Some
//! process has to be the container's parent to collect the status and has
//! to read its pipes; Docker and Podman use a shim (containerd-shim, 13 MiB
//! each here; conmon, 2 MiB). The monitor is the already-exec'd helper
//! continuing: single-threaded, no async runtime, a few fixed buffers, its
//! code pages shared with every other `stack` process, so its own memory is
//! the few pages it dirties. It writes `state.json` at each change, so
//! status and exit code survive every `stack` process.
//!
//! Measured (10 idle containers, smaps_rollup): about 0.68 MiB PSS per
//! monitor with the default position-independent `stack` binary, of which
//! ~290 KiB are the binary's relocated read-only data; linked without PIE
//! the same monitor is about 0.35 MiB.
//!
//! The monitor never exits before the container: killing it leaves the
//! container running (its record still names the pid, so stop/kill/rm
//! work), but its exit code is then lost.
//!
//! Sequence: detach (setsid + fork, the launcher reaps the first half),
//! create the cgroup, unshare the PID namespace, fork the first process
//! (`child.rs`), put it in the cgroup, release it, wait for its exec (or
//! its error on the report pipe), then pump output to the log and the
//! attached terminal until it exits, and record the exit.

pub(crate) mod process;
pub mod supervisor;

use std::io::Write;
use std::os::fd::FromRawFd;
use std::path::Path;

use nix::unistd::{fork, ForkResult};

use crate::events::{Event, EVENT_FD};
use crate::spec::{ContainerDir, ContainerSpec};
use crate::state::{State, Status};

/// Entry point of the hidden monitor mode. Returns the helper's exit code.
pub fn main(dir: &Path) -> i32 {
    // SAFETY: fd 3 is the event pipe the launcher passed; if it is not
    // open, events go nowhere.
    let events = unsafe { std::fs::File::from_raw_fd(EVENT_FD) };
    let mut events = EventSink { file: Some(events) };
    let dir = ContainerDir::new(dir);
    let spec = match ContainerSpec::load(&dir) {
        Ok(spec) => spec,
        Err(err) => {
            events.send(&Event::Error {
                message: err.to_string(),
            });
            return 1;
        }
    };
    let _ = nix::unistd::setsid();
    // SAFETY: this process was just exec'd and is single-threaded.
    match unsafe { fork() } {
        Ok(ForkResult::Parent { .. }) => {
            std::mem::forget(events);
            return 0;
        }
        Ok(ForkResult::Child) => {}
        Err(err) => {
            events.send(&Event::Error {
                message: format!("fork the monitor: {err}"),
            });
            return 1;
        }
    }
    // SAFETY: ignoring SIGPIPE: a gone launcher must not kill the monitor.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigIgn,
        );
    }
    let code = match supervisor::run(&spec, &dir, &mut events) {
        Ok(()) => 0,
        Err(err) => {
            let mut state = State::load(&dir).unwrap_or_else(|_| State::created());
            state.status = Status::Exited;
            state.error = Some(err.to_string());
            if spec.auto_remove {
                process::run_removal_hook(&spec);
                let _ = crate::fsutil::remove_tree(dir.path());
            } else {
                let _ = state.save(&dir);
            }
            events.send(&Event::Error {
                message: err.to_string(),
            });
            1
        }
    };
    // SAFETY: leave without running destructors of the forked image twice.
    unsafe { libc::_exit(code) }
}

pub(crate) struct EventSink {
    file: Option<std::fs::File>,
}

impl EventSink {
    pub(crate) fn send(&mut self, event: &Event) {
        if let Some(file) = self.file.as_mut() {
            if file.write_all(&event.to_line()).is_err() {
                self.file = None;
            }
        }
    }
}

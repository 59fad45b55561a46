//! The engine side of starting a container: exec the `stack` binary in its
//! hidden monitor mode with the container directory, read its events.
//! `std::process::Command` forks and execs at once (only `dup2` runs in
//! between), so this is safe to call from a threaded program.

use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Context, Error};
use crate::events::{Event, EVENT_FD};
use crate::spec::ContainerDir;

/// argv[1] of the hidden monitor mode.
pub const MONITOR_MODE: &str = "__stack-monitor";
/// argv[1] of the hidden exec mode.
pub const EXEC_MODE: &str = "__stack-exec";

/// How the container's standard streams meet the caller's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attach {
    /// Output only to the log; stdin is /dev/null.
    Detached,
    /// Output also to the caller's stdout/stderr; `stdin` passes the
    /// caller's stdin on.
    Foreground { stdin: bool },
}

/// A container that is running.
pub struct Started {
    pub pid: i32,
    events: BufReader<std::fs::File>,
}

/// How a container ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    pub code: i32,
    pub oom_killed: bool,
}

/// Starts the container whose spec is in `dir`, using `exe` (the `stack`
/// binary) as the monitor.
pub fn start(exe: &Path, dir: &ContainerDir, attach: Attach) -> Result<Started, Error> {
    let (read_end, write_end) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context(|| "event pipe".to_string())?;
    let mut cmd = Command::new(exe);
    cmd.arg(MONITOR_MODE).arg(dir.path());
    match attach {
        Attach::Detached => {
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
        }
        Attach::Foreground { stdin } => {
            cmd.stdin(if stdin {
                Stdio::inherit()
            } else {
                Stdio::null()
            });
        }
    }
    let raw = write_end.as_raw_fd();
    // SAFETY: only dup2, which is async-signal-safe, runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(raw, EVENT_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut helper = cmd.spawn().context(|| format!("start {}", exe.display()))?;
    drop(write_end);
    // The first half exits at once; the monitor lives on detached.
    helper
        .wait()
        .context(|| "wait for the monitor to detach".to_string())?;
    let mut events = BufReader::new(std::fs::File::from(read_end));
    match next_event(&mut events)? {
        Some(Event::Started { pid }) => Ok(Started { pid, events }),
        Some(Event::Error { message }) => Err(Error::Setup(message)),
        Some(Event::Exited { code, .. }) => {
            Err(Error::Setup(format!("exited at once with {code}")))
        }
        None => Err(Error::Setup(
            "the monitor ended without starting the container".into(),
        )),
    }
}

fn next_event(reader: &mut BufReader<std::fs::File>) -> Result<Option<Event>, Error> {
    let mut line = String::new();
    let n = reader
        .read_line(&mut line)
        .context(|| "read monitor events".to_string())?;
    if n == 0 {
        return Ok(None);
    }
    serde_json::from_str(&line)
        .map(Some)
        .map_err(|e| Error::invalid("monitor event", e.to_string()))
}

impl Started {
    /// Blocks until the container exits.
    pub fn wait(mut self) -> Result<Exit, Error> {
        match next_event(&mut self.events)? {
            Some(Event::Exited { code, oom_killed }) => Ok(Exit { code, oom_killed }),
            Some(Event::Error { message }) => Err(Error::Setup(message)),
            _ => Err(Error::Setup(
                "the monitor ended without reporting an exit".into(),
            )),
        }
    }
}

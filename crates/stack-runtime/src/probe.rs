//! One healthcheck probe, run by the monitor without blocking it.
//!
//! The probe goes through the same path as `stack container exec`: the
//! `stack` binary re-exec'd in its hidden exec mode (`exec.rs`), which joins
//! the container's cgroup and namespaces. The monitor spawns it as a child
//! (the monitor is single-threaded, so forking is safe), in a process group
//! of its own so that a probe that overruns its timeout is killed with
//! everything it started. The monitor's event loop polls the probe's pidfd
//! and output pipe next to the container's own descriptors, so output keeps
//! flowing to the log while a probe runs.

use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::fcntl::OFlag;

use crate::error::{Context, Error};
use crate::exec::ExecRequest;
use crate::spec::ContainerDir;
use crate::supervise::ExecResult;

/// Output kept from one probe; the health machine cuts it further.
const OUTPUT_CAP: usize = 8192;

/// A probe that is running.
pub struct RunningProbe {
    child: Child,
    pidfd: OwnedFd,
    output: OwnedFd,
    captured: Vec<u8>,
    /// Monitor clock readings.
    pub started: Duration,
    pub deadline: Duration,
}

/// Opens a pidfd: readable once the process has exited.
pub fn pidfd_open(pid: i32) -> Result<OwnedFd, Error> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(Error::io(
            format!("pidfd_open {pid}"),
            std::io::Error::last_os_error(),
        ));
    }
    // SAFETY: the kernel just returned this descriptor to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

impl RunningProbe {
    /// Starts `argv` in the container of `dir`.
    pub fn spawn(
        dir: &ContainerDir,
        argv: &[String],
        now: Duration,
        timeout: Duration,
    ) -> Result<RunningProbe, Error> {
        let req = ExecRequest {
            args: argv.to_vec(),
            ..ExecRequest::default()
        };
        let json = serde_json::to_string(&req)
            .map_err(|e| Error::invalid("probe request", e.to_string()))?;
        let (read_end, write_end) =
            nix::unistd::pipe2(OFlag::O_CLOEXEC).context(|| "probe pipe".to_string())?;
        nix::fcntl::fcntl(&read_end, nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK))
            .context(|| "probe pipe".to_string())?;
        let err_end = write_end.try_clone().context(|| "probe pipe".to_string())?;
        // The binary this monitor runs, even if it was replaced on disk.
        let child = Command::new("/proc/self/exe")
            .arg(crate::launch::EXEC_MODE)
            .arg(dir.path())
            .arg(json)
            .stdin(Stdio::null())
            .stdout(Stdio::from(write_end))
            .stderr(Stdio::from(err_end))
            .process_group(0)
            .spawn()
            .context(|| "start the healthcheck".to_string())?;
        let pidfd = match pidfd_open(child.id() as i32) {
            Ok(fd) => fd,
            Err(err) => {
                kill_group(child.id() as i32);
                let mut child = child;
                let _ = child.wait();
                return Err(err);
            }
        };
        Ok(RunningProbe {
            child,
            pidfd,
            output: read_end,
            captured: Vec::new(),
            started: now,
            deadline: now + timeout,
        })
    }

    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    pub fn output_fd(&self) -> BorrowedFd<'_> {
        self.output.as_fd()
    }

    /// Reads what the probe has written so far (keeping the first
    /// [`OUTPUT_CAP`] bytes, draining the rest so the probe never blocks).
    pub fn read_output(&mut self) {
        let mut buf = [0u8; 4096];
        loop {
            match nix::unistd::read(self.output.as_fd(), &mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let room = OUTPUT_CAP.saturating_sub(self.captured.len());
                    self.captured.extend_from_slice(&buf[..n.min(room)]);
                }
                Err(nix::errno::Errno::EINTR) => continue,
                // EAGAIN: nothing more for now.
                Err(_) => break,
            }
        }
    }

    /// The probe has exited (its pidfd was readable): its result.
    pub fn finish(mut self) -> ExecResult {
        self.read_output();
        let output = String::from_utf8_lossy(&self.captured).into_owned();
        match self.child.wait() {
            Ok(status) => {
                use std::os::unix::process::ExitStatusExt;
                let code = status
                    .code()
                    .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
                ExecResult::Exited { code, output }
            }
            Err(err) => ExecResult::Failed {
                message: format!("wait for the healthcheck: {err}"),
            },
        }
    }

    /// The probe overran its timeout: kill it and all it started.
    pub fn kill(mut self) -> ExecResult {
        kill_group(self.child.id() as i32);
        let _ = self.child.wait();
        self.read_output();
        ExecResult::TimedOut {
            output: String::from_utf8_lossy(&self.captured).into_owned(),
        }
    }
}

/// A probe dropped before it was finished (the container exited, or the
/// loop gave up) is killed and reaped here, so no path leaves a zombie or a
/// stray process behind.
impl Drop for RunningProbe {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            kill_group(self.child.id() as i32);
            let _ = self.child.wait();
        }
    }
}

fn kill_group(pgid: i32) {
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pgid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

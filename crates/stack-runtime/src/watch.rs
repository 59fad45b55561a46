//! The monitor's event loop for one run of the container's process: copy
//! its output to the log (and the attached terminal), pass user input to a
//! pty, run healthcheck probes when due, and notice the exit — all on one
//! thread, with one `poll` over the output pipes, the process's pidfd and
//! the running probe's descriptors, and a timeout that is the next probe
//! time. An idle monitor sleeps in `poll` and costs no CPU.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::logs::LogWriter;
use crate::probe::RunningProbe;
use crate::spec::ContainerDir;
use crate::supervise::{Clock, ExecResult, HealthMonitor, ProbeReport};

/// How long output is still read after the process exited: the PID
/// namespace is gone with its first process, so its pipes close at once;
/// this only bounds a pathological holder of a write end.
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);

/// How often a probe caught in a pause is looked at again. It is frozen
/// with the container: killed, it would not end before the thaw (cgroup
/// v1), and waiting for it would stop the monitor.
const PAUSED_PROBE_RECHECK: Duration = Duration::from_millis(500);

/// The running process, as the loop sees it.
pub struct Running<'a> {
    pub pid: Pid,
    pub pidfd: OwnedFd,
    /// Read ends of the container's output: (fd, stream name).
    pub outputs: Vec<(OwnedFd, &'static str)>,
    /// The pty master, when the container has a terminal.
    pub pty_master: Option<OwnedFd>,
    /// What is forwarded to the pty as input: the monitor's stdin (an
    /// attached `stack run -it`) or the container's stdin FIFO.
    pub input: Option<OwnedFd>,
    pub dir: &'a ContainerDir,
}

/// What the caller does after a probe.
pub trait ProbeListener {
    /// Called with each probe's report; returns true to kill the process
    /// (the opt-in restart of an unhealthy container).
    fn probed(&mut self, report: &ProbeReport, monitor: &HealthMonitor) -> bool;
}

/// Runs until the process exits and its output is drained; returns its
/// exit code the way Docker reports it (128 + signal when killed).
pub fn until_exit(
    mut run: Running<'_>,
    mut health: Option<&mut HealthMonitor>,
    clock: &dyn Clock,
    log: &mut LogWriter,
    listener: &mut dyn ProbeListener,
) -> i32 {
    let master_raw = run.pty_master.as_ref().map(|m| {
        use std::os::fd::AsRawFd;
        m.as_raw_fd()
    });
    if let Some(master) = run.pty_master.take() {
        run.outputs.push((master, "stdout"));
    }
    let input = run.input.take().filter(|_| master_raw.is_some());
    let mut stdin_open = input.is_some();
    let mut buf = vec![0u8; 32 * 1024];
    let mut probe: Option<RunningProbe> = None;
    let mut exit: Option<(i32, Duration)> = None;
    // Killed for being unhealthy: no more probes for this run.
    let mut killing = false;
    // The running probe outlived its deadline in a pause: its result
    // says nothing of the container's health.
    let mut probe_paused = false;
    loop {
        let now = clock.now();
        if let Some((code, at)) = exit {
            if run.outputs.is_empty() || now >= at + DRAIN_AFTER_EXIT {
                return code;
            }
        }
        if exit.is_none() && probe.is_none() && !killing {
            if let Some(h) = health.as_deref_mut() {
                if h.due(now) && crate::state::is_paused(run.dir) {
                    h.skip(now);
                } else if h.due(now) {
                    probe = start_probe(run.dir, h, now, clock, listener, run.pid, &mut killing);
                }
            }
        }
        let timeout = next_timeout(now, exit, probe.as_ref(), health.as_deref());
        // Descriptor order: outputs, [stdin], [pidfd], [probe pidfd, probe output].
        let mut fds: Vec<PollFd> = run
            .outputs
            .iter()
            .map(|(fd, _)| PollFd::new(fd.as_fd(), PollFlags::POLLIN))
            .collect();
        let stdin_at = match (&input, stdin_open) {
            (Some(fd), true) => {
                fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
                Some(fds.len() - 1)
            }
            _ => None,
        };
        let pidfd_at = exit.is_none().then(|| {
            fds.push(PollFd::new(run.pidfd.as_fd(), PollFlags::POLLIN));
            fds.len() - 1
        });
        let probe_at = probe.as_ref().map(|p| {
            fds.push(PollFd::new(p.pidfd(), PollFlags::POLLIN));
            fds.push(PollFd::new(p.output_fd(), PollFlags::POLLIN));
            fds.len() - 2
        });
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return reap_blocking(run.pid),
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        if let (Some(i), Some(fd)) = (stdin_at, &input) {
            if ready[i] {
                stdin_open = forward_input(fd.as_fd(), master_raw, &mut buf);
            }
        }
        pump_ready(&mut run.outputs, &ready, &mut buf, log);
        if pidfd_at.is_some_and(|i| ready[i]) {
            if let Some(code) = reap(run.pid) {
                exit = Some((code, clock.now()));
                if let Some(p) = probe.take() {
                    let _ = p.kill();
                }
            }
        }
        if let Some(i) = probe_at {
            let now = clock.now();
            let done = match probe.as_mut() {
                Some(p) => {
                    if ready[i + 1] {
                        p.read_output();
                    }
                    if !ready[i] && now >= p.deadline && crate::state::is_paused(run.dir) {
                        p.deadline = now + PAUSED_PROBE_RECHECK;
                        probe_paused = true;
                        false
                    } else {
                        ready[i] || now >= p.deadline
                    }
                }
                None => false,
            };
            // Take the probe only once it is finished: a probe that merely
            // wrote output stays running (and is reaped when it exits).
            let finished = if done { probe.take() } else { None };
            if let (Some(p), Some(h)) = (finished, health.as_deref_mut()) {
                let started = p.started;
                let result = if ready[i] { p.finish() } else { p.kill() };
                if std::mem::take(&mut probe_paused) {
                    h.skip(clock.now());
                    continue;
                }
                let report = h.record(result, started, clock.now());
                if listener.probed(&report, h) {
                    killing = true;
                    kill_process(run.pid);
                }
            }
        }
    }
}

fn start_probe(
    dir: &ContainerDir,
    h: &mut HealthMonitor,
    now: Duration,
    clock: &dyn Clock,
    listener: &mut dyn ProbeListener,
    pid: Pid,
    killing: &mut bool,
) -> Option<RunningProbe> {
    match RunningProbe::spawn(dir, h.argv(), now, h.timeout()) {
        Ok(p) => Some(p),
        Err(err) => {
            let report = h.record(
                ExecResult::Failed {
                    message: err.to_string(),
                },
                now,
                clock.now(),
            );
            if listener.probed(&report, h) {
                *killing = true;
                kill_process(pid);
            }
            None
        }
    }
}

fn kill_process(pid: Pid) {
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
}

fn next_timeout(
    now: Duration,
    exit: Option<(i32, Duration)>,
    probe: Option<&RunningProbe>,
    health: Option<&HealthMonitor>,
) -> PollTimeout {
    let until = match (exit, probe, health) {
        (Some((_, at)), _, _) => Some(at + DRAIN_AFTER_EXIT),
        (None, Some(p), _) => Some(p.deadline),
        (None, None, Some(h)) => Some(h.next_probe_at()),
        (None, None, None) => None,
    };
    match until {
        None => PollTimeout::NONE,
        Some(at) => {
            // Round up so a wake-up never comes a hair before the due time.
            let ms = at.saturating_sub(now).as_micros().div_ceil(1000);
            PollTimeout::try_from(ms.min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX)
        }
    }
}

/// The exit code if the process has exited (WNOHANG).
fn reap(pid: Pid) -> Option<i32> {
    loop {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => return Some(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Some(128 + sig as i32),
            Ok(WaitStatus::StillAlive) => return None,
            Ok(_) => return None,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return Some(255),
        }
    }
}

fn reap_blocking(pid: Pid) -> i32 {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return code,
            Ok(WaitStatus::Signaled(_, sig, _)) => return 128 + sig as i32,
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return 255,
        }
    }
}

/// Copies user input to the pty; returns whether stdin is still open.
fn forward_input(input: BorrowedFd<'_>, master: Option<i32>, buf: &mut [u8]) -> bool {
    match nix::unistd::read(input, buf) {
        // A FIFO polled without data (a spurious wake-up) is still open.
        Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => true,
        Ok(0) | Err(_) => false,
        Ok(n) => {
            if let Some(m) = master {
                // SAFETY: m is the pty master, open while the outputs hold it.
                let _ = write_all(unsafe { BorrowedFd::borrow_raw(m) }, &buf[..n]);
            }
            true
        }
    }
}

/// Reads each ready output once into the log and the monitor's own
/// stdout/stderr (the attached terminal, or /dev/null); drops closed ones.
fn pump_ready(
    outputs: &mut Vec<(OwnedFd, &'static str)>,
    ready: &[bool],
    buf: &mut [u8],
    log: &mut LogWriter,
) {
    let mut closed = Vec::new();
    for (i, (fd, stream)) in outputs.iter().enumerate() {
        if !ready[i] {
            continue;
        }
        match nix::unistd::read(fd.as_fd(), buf) {
            Ok(0) | Err(_) => closed.push(i),
            Ok(n) => {
                let _ = log.write(stream, &buf[..n]);
                let target = if *stream == "stderr" { 2 } else { 1 };
                // SAFETY: fds 1 and 2 stay open for the monitor's life.
                let _ = write_all(unsafe { BorrowedFd::borrow_raw(target) }, &buf[..n]);
            }
        }
    }
    for i in closed.into_iter().rev() {
        outputs.remove(i);
    }
}

pub fn write_all(fd: BorrowedFd<'_>, mut data: &[u8]) -> nix::Result<()> {
    while !data.is_empty() {
        match nix::unistd::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervise::{HealthTest, Healthcheck};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn without_a_healthcheck_the_loop_sleeps_until_something_happens() {
        assert_eq!(next_timeout(ms(5), None, None, None), PollTimeout::NONE);
    }

    #[test]
    fn a_healthcheck_wakes_the_loop_at_the_next_probe() {
        let mut check = Healthcheck::new(HealthTest::CmdShell("true".into()));
        check.interval = ms(1000);
        let monitor = HealthMonitor::new(check, ms(0)).expect("a check");
        assert_eq!(
            next_timeout(ms(250), None, None, Some(&monitor)),
            PollTimeout::try_from(750).expect("fits")
        );
        // Overdue: poll returns at once.
        assert_eq!(
            next_timeout(ms(1500), None, None, Some(&monitor)),
            PollTimeout::ZERO
        );
    }

    #[test]
    fn after_the_exit_output_is_drained_for_a_bounded_time() {
        let t = next_timeout(ms(100), Some((0, ms(100))), None, None);
        assert_eq!(t, PollTimeout::try_from(2000).expect("fits"));
    }
}

//! `--init`: a minimal PID 1 that runs the real process as its child,
//! forwards the signals a user sends to it, reaps every zombie re-parented
//! to it, and exits with the child's status (128+signal when killed).
//!
//! It is the setup process itself continuing after a fork rather than a
//! separate binary inside the image, so it needs nothing from the image and
//! costs only the pages it touches.

use nix::sys::signal::{self, SigHandler, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};

use crate::error::Error;

/// Signals passed on to the child.
const FORWARDED: &[Signal] = &[
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
    Signal::SIGCONT,
];

extern "C" fn ignore(_: libc::c_int) {}

/// Forks; the child returns `Ok(())` and goes on to exec the process, the
/// parent stays here as PID 1 until the child exits, then exits itself.
pub fn become_init(close_in_parent: i32) -> Result<(), Error> {
    // PID 1 only receives signals it has a handler for, so install one
    // (never run: the signals stay blocked and are taken by sigwait).
    let mut set = SigSet::empty();
    for sig in FORWARDED.iter().chain([Signal::SIGCHLD].iter()) {
        // SAFETY: the handler does nothing and is async-signal-safe.
        unsafe { signal::signal(*sig, SigHandler::Handler(ignore)) }
            .map_err(|e| Error::sys("install signal handler", e))?;
        set.add(*sig);
    }
    set.thread_block()
        .map_err(|e| Error::sys("block signals", e))?;
    // SAFETY: this process is single-threaded.
    match unsafe { fork() }.map_err(|e| Error::sys("fork the container process", e))? {
        ForkResult::Child => {
            set.thread_unblock()
                .map_err(|e| Error::sys("unblock signals", e))?;
            for sig in FORWARDED.iter().chain([Signal::SIGCHLD].iter()) {
                // SAFETY: restoring the default disposition.
                let _ = unsafe { signal::signal(*sig, SigHandler::SigDfl) };
            }
            Ok(())
        }
        ForkResult::Parent { child } => {
            // The report pipe must reach EOF once the child execs.
            let _ = nix::unistd::close(close_in_parent);
            supervise(child, &set)
        }
    }
}

fn supervise(child: Pid, set: &SigSet) -> ! {
    loop {
        let sig = set.wait().unwrap_or(Signal::SIGCHLD);
        if sig != Signal::SIGCHLD {
            let _ = signal::kill(child, sig);
            continue;
        }
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid == child => std::process::exit(code),
                Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => {
                    std::process::exit(128 + sig as i32)
                }
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    }
}

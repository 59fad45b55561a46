//! The via-daemon mode of the sandbox (`STACK_TEST_VIA_DAEMON=1`): the
//! first `stack` command a test makes with [`Sandbox::command`] starts
//! `stack daemon` on the sandbox's own socket (with that same binary), and
//! every command from then on carries `STACK_HOST`, so the CLI's verbs go
//! through the daemon. The same end-to-end tests then check both paths.
//! The daemon is stopped (SIGTERM) before the leak check and on drop.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::Sandbox;

/// Turns the mode on for a test run.
pub const VIA_DAEMON_VAR: &str = "STACK_TEST_VIA_DAEMON";

/// Whether this run uses the via-daemon mode.
pub fn enabled() -> bool {
    std::env::var(VIA_DAEMON_VAR).as_deref() == Ok("1")
}

/// The daemon a sandbox started for itself.
#[derive(Debug)]
pub(crate) struct SandboxDaemon {
    child: Child,
    pub(crate) socket: PathBuf,
    log: PathBuf,
}

impl Sandbox {
    /// Keeps this sandbox's commands in process even in the via-daemon
    /// mode: for tests of in-process-only behaviour, and tests that start
    /// their own daemon.
    pub fn stay_in_process(&self) {
        self.in_process_only.store(true, Ordering::SeqCst);
    }

    /// Turns the via-daemon mode on for this sandbox whatever the
    /// environment says (for tests of the mode itself).
    pub fn use_daemon(&self) {
        self.force_daemon.store(true, Ordering::SeqCst);
    }

    /// The log file of the via-daemon mode's daemon.
    pub fn daemon_log(&self) -> PathBuf {
        self.dir().join("via-daemon.log")
    }

    /// The daemon socket the sandbox's commands use, when the via-daemon
    /// mode has started one.
    pub fn daemon_socket(&self) -> Option<PathBuf> {
        lock(&self.daemon).as_ref().map(|d| d.socket.clone())
    }

    /// Starts the sandbox's daemon with `program` when the mode asks for
    /// one and it is not running yet.
    pub(crate) fn ensure_daemon(&self, program: &std::ffi::OsStr) {
        let wanted = enabled() || self.force_daemon.load(Ordering::SeqCst);
        if !wanted || self.in_process_only.load(Ordering::SeqCst) {
            return;
        }
        if Path::new(program).file_name() != Some(std::ffi::OsStr::new("stack")) {
            return;
        }
        let mut daemon = lock(&self.daemon);
        if daemon.is_some() {
            return;
        }
        let socket = self.run_dir.join("via-daemon.sock");
        let log = self.daemon_log();
        let child = Command::new(program)
            .envs(self.base_env())
            .args(["daemon", "--log-level", "debug", "--socket"])
            .arg(&socket)
            .arg("--log-file")
            .arg(&log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start stack daemon for the via-daemon mode: {e}"));
        let started = SandboxDaemon { child, socket, log };
        started.wait_until_it_answers();
        *daemon = Some(started);
    }

    /// `STACK_HOST` when the sandbox's daemon runs.
    pub(crate) fn daemon_env(&self) -> Option<(&'static str, std::ffi::OsString)> {
        self.daemon_socket()
            .map(|s| ("STACK_HOST", format!("unix://{}", s.display()).into()))
    }

    /// SIGTERM to the sandbox's daemon, waiting for it to exit.
    pub fn stop_daemon(&self) {
        let Some(mut daemon) = lock(&self.daemon).take() else {
            return;
        };
        let pid = nix::unistd::Pid::from_raw(daemon.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match daemon.child.try_wait() {
                Ok(Some(status)) => {
                    assert!(
                        status.success() || std::thread::panicking(),
                        "the sandbox's daemon exited with {status}: {}",
                        daemon.log_text()
                    );
                    return;
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = daemon.child.kill();
                    let _ = daemon.child.wait();
                    assert!(
                        std::thread::panicking(),
                        "the sandbox's daemon did not stop on SIGTERM: {}",
                        daemon.log_text()
                    );
                    return;
                }
            }
        }
    }
}

impl SandboxDaemon {
    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_until_it_answers(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ping(&self.socket) {
            assert!(
                Instant::now() < deadline,
                "the sandbox's daemon did not answer: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// `GET /v1/_ping` answered 200.
fn ping(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = b"GET /v1/_ping HTTP/1.1\r\nHost: stack\r\nConnection: close\r\n\r\n";
    if stream.write_all(request).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

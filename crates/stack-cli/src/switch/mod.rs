//! The one place that decides whether a verb goes through the daemon or
//! runs the engine in this process. `--no-daemon` forces in-process;
//! `--host`/`STACK_HOST` names a daemon that must answer; otherwise the
//! default socket is used when a daemon answers there. Either way a verb
//! calls the one [`Api`] trait, which the daemon's client and the engine
//! facade both implement, so verbs print the same output and exit the
//! same way. What differs by nature (an attached exec on this terminal,
//! a project's merged logs) has its own module here.

pub mod exec;
mod project_logs;
mod projects;

use std::path::PathBuf;

use std::time::Duration;

use miette::IntoDiagnostic;
use stack_api::api::Api;
use stack_api::client::Client;
use stack_api::error::Failure;
use stack_api::paths;
use stack_api::system::VersionInfo;
use stack_engine::facade::Engine;

use crate::global::HostArgs;

/// Where the work happens.
pub enum Via {
    Daemon(Client),
    InProcess(Engine),
}

/// Picks the path for this invocation.
pub fn choose(host: &HostArgs) -> miette::Result<Via> {
    let paths = host.paths();
    if host.no_daemon {
        return Ok(Via::InProcess(Engine::new(paths)));
    }
    if let Some(url) = host.daemon_host.as_deref().filter(|u| !u.is_empty()) {
        let socket = socket_of(url)?;
        let client = Client::new(socket).into_diagnostic()?;
        if !client.ping() {
            miette::bail!(
                "cannot reach the stack daemon at {url} (use --no-daemon to run without it)"
            );
        }
        return Ok(Via::Daemon(client));
    }
    let socket = paths.daemon_socket();
    if socket.exists() {
        let client = Client::new(socket).into_diagnostic()?;
        if client.ping() {
            return Ok(Via::Daemon(client));
        }
    }
    Ok(Via::InProcess(Engine::new(paths)))
}

/// `unix:///path` (or a bare absolute path) to the socket path.
fn socket_of(url: &str) -> miette::Result<PathBuf> {
    if let Some(path) = url.strip_prefix("unix://") {
        return Ok(PathBuf::from(path));
    }
    if url.starts_with('/') {
        return Ok(PathBuf::from(url));
    }
    miette::bail!("--host {url:?}: expected unix:///path/to/stack.sock")
}

impl Via {
    /// Every operation of the host, wherever it runs.
    pub fn api(&self) -> &dyn Api {
        match self {
            Via::Daemon(client) => client,
            Via::InProcess(engine) => engine,
        }
    }

    /// The daemon's version, when a daemon does the work.
    pub fn server_version(&self) -> miette::Result<Option<VersionInfo>> {
        match self {
            Via::InProcess(_) => Ok(None),
            Via::Daemon(c) => c
                .get(paths::VERSION)
                .map(Some)
                .map_err(|e| miette::miette!("{e}")),
        }
    }
}

/// An error that may be a refusal of the project lock.
pub trait MaybeBusy {
    fn is_busy(&self) -> bool;
}

impl MaybeBusy for Failure {
    fn is_busy(&self) -> bool {
        Failure::is_busy(self)
    }
}

/// `watch` and `run SERVICE` plan with the engine's `apply` directly.
impl MaybeBusy for stack_engine::apply::ApplyError {
    fn is_busy(&self) -> bool {
        use stack_engine::error_class::{Classify, ErrorClass};
        self.class() == ErrorClass::Busy
    }
}

/// How often a change refused because the project is busy is tried again.
const BUSY_RETRY: Duration = Duration::from_millis(100);

/// Runs a change of `project` (an `up`, `down`, plan or project verb),
/// waiting out another change of the same project: one of another `stack`
/// process, or one the daemon is still applying for a client that left.
/// Both paths take the engine's project lock, and a refusal of it is a
/// busy [`Failure`] either way; it is said once, then retried.
pub fn waiting<T, E: MaybeBusy>(
    project: &str,
    mut attempt: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    let mut said = false;
    loop {
        match attempt() {
            Err(err) if err.is_busy() => {
                if !said {
                    eprintln!("waiting for another change of project {project} to finish");
                    said = true;
                }
                std::thread::sleep(BUSY_RETRY);
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_urls() {
        assert_eq!(
            super::socket_of("unix:///run/x.sock").expect("url"),
            std::path::PathBuf::from("/run/x.sock")
        );
        assert!(super::socket_of("tcp://1.2.3.4:1").is_err());
    }
}

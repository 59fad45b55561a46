//! The one place that decides whether a verb goes through the daemon or
//! runs the engine in this process. `--no-daemon` forces in-process;
//! `--host`/`STACK_HOST` names a daemon that must answer; otherwise the
//! default socket is used when a daemon answers there. Both paths run the
//! same operations (`stack_daemon::ops`), so verbs print the same output
//! and exit the same way. Each area adds its methods in its own file here
//! (an `impl Via` block in `switch/<area>.rs`).

pub mod exec;
mod objects;
mod project_actions;
mod project_logs;
mod projects;

use std::path::PathBuf;

use miette::IntoDiagnostic;
use stack_api::client::{encode, Client, ClientError, Method};
use stack_api::paths;
use stack_api::system::ContainerFilter;
use stack_api::system::{
    ContainerSummary, ImageSummary, LogRecord, PullEvent, PullRequest, RemovedImage, VersionInfo,
};
use stack_engine::facade::{Engine, EngineError};
use stack_engine::paths::HostPaths;

use crate::global::HostArgs;

/// Where the work happens.
pub enum Via {
    Daemon(Client),
    InProcess(Engine),
}

/// Picks the path for this invocation.
pub fn choose(host: &HostArgs) -> miette::Result<Via> {
    let paths = HostPaths::resolve(host.state_root.clone(), None, host.config_file.clone());
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

fn api(err: EngineError) -> miette::Report {
    miette::miette!("{err}")
}

fn remote(err: ClientError) -> miette::Report {
    miette::miette!("{err}")
}

impl Via {
    pub fn list_containers(
        &self,
        filter: &ContainerFilter,
    ) -> miette::Result<Vec<ContainerSummary>> {
        match self {
            Via::InProcess(h) => Ok(h.list_containers(filter)),
            Via::Daemon(c) => {
                let mut query = format!("{}?all={}", paths::CONTAINERS, filter.all);
                for (key, value) in [
                    ("label", &filter.label),
                    ("name", &filter.name),
                    ("status", &filter.status),
                    ("project", &filter.project),
                ] {
                    if let Some(v) = value {
                        query.push_str(&format!("&{key}={}", encode(v)));
                    }
                }
                c.get(&query).map_err(remote)
            }
        }
    }

    pub fn inspect(&self, key: &str) -> miette::Result<serde_json::Value> {
        match self {
            Via::InProcess(h) => h.inspect(key).map_err(api),
            Via::Daemon(c) => c.get(&paths::container(key)).map_err(remote),
        }
    }

    /// Prints nothing itself: `emit` gets each record.
    pub fn logs(
        &self,
        key: &str,
        follow: bool,
        mut emit: impl FnMut(&LogRecord),
    ) -> miette::Result<()> {
        match self {
            Via::InProcess(h) => h
                .log_source(key)
                .and_then(|source| {
                    source.read(follow, |r| {
                        emit(r);
                        true
                    })
                })
                .map_err(api),
            Via::Daemon(c) => c
                .stream(
                    Method::GET,
                    &format!("{}?follow={follow}", paths::container_logs(key)),
                    None,
                    |r: LogRecord| {
                        emit(&r);
                        true
                    },
                )
                .map_err(remote),
        }
    }

    pub fn start(&self, key: &str) -> miette::Result<()> {
        match self {
            Via::InProcess(h) => h.start(key).map(drop).map_err(api),
            Via::Daemon(c) => self.post(c, &paths::container_start(key)),
        }
    }

    pub fn stop(&self, key: &str, grace: Option<u64>) -> miette::Result<()> {
        match self {
            Via::InProcess(h) => h.stop(key, grace).map(drop).map_err(api),
            Via::Daemon(c) => {
                let t = grace.map(|t| format!("?t={t}")).unwrap_or_default();
                self.post(c, &format!("{}{t}", paths::container_stop(key)))
            }
        }
    }

    pub fn kill(&self, key: &str, signal: &str) -> miette::Result<()> {
        match self {
            Via::InProcess(h) => h.kill(key, signal).map_err(api),
            Via::Daemon(c) => self.post(
                c,
                &format!("{}?signal={}", paths::container_kill(key), encode(signal)),
            ),
        }
    }

    pub fn remove(&self, key: &str, force: bool) -> miette::Result<()> {
        match self {
            Via::InProcess(h) => h.remove(key, force).map_err(api),
            Via::Daemon(c) => c
                .call(
                    Method::DELETE,
                    &format!("{}?force={force}", paths::container(key)),
                )
                .map(drop)
                .map_err(remote),
        }
    }

    fn post(&self, c: &Client, path: &str) -> miette::Result<()> {
        c.call(Method::POST, path).map(drop).map_err(remote)
    }

    pub fn list_images(&self) -> miette::Result<Vec<ImageSummary>> {
        match self {
            Via::InProcess(h) => h.list_images().map_err(api),
            Via::Daemon(c) => c.get(paths::IMAGES).map_err(remote),
        }
    }

    /// Removes one image; the error's message is the engine's.
    pub fn remove_image(&self, name: &str) -> Result<RemovedImage, String> {
        match self {
            Via::InProcess(h) => h.remove_image(name).map_err(|e| e.to_string()),
            Via::Daemon(c) => c
                .send_json(Method::DELETE, &paths::image(name), &())
                .map_err(|e| e.to_string()),
        }
    }

    /// Pulls through the daemon, handing each progress event to `each`.
    /// (In-process pulls keep the image crate's own progress display.)
    pub fn pull_remote(
        c: &Client,
        request: &PullRequest,
        mut each: impl FnMut(&PullEvent),
    ) -> miette::Result<()> {
        let body = serde_json::to_vec(request).into_diagnostic()?;
        let mut failure = None;
        c.stream(
            Method::POST,
            paths::IMAGES_PULL,
            Some(body),
            |e: PullEvent| {
                if let PullEvent::Error { message } = &e {
                    failure = Some(message.clone());
                }
                each(&e);
                true
            },
        )
        .map_err(remote)?;
        match failure {
            Some(message) => Err(miette::miette!("{message}")),
            None => Ok(()),
        }
    }

    /// The daemon's version, when a daemon does the work.
    pub fn server_version(&self) -> miette::Result<Option<VersionInfo>> {
        match self {
            Via::InProcess(_) => Ok(None),
            Via::Daemon(c) => c.get(paths::VERSION).map(Some).map_err(remote),
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

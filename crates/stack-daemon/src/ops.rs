//! The operations behind every route, as plain blocking functions over one
//! host's state. The daemon runs them on blocking threads; the CLI calls
//! them directly when no daemon answers. One implementation for both paths
//! is what makes their output and errors the same.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use stack_engine::containers::{ContainerRecord, Containers};
use stack_engine::images::{Images, Platform, Reference};
use stack_engine::paths::HostPaths;
use stack_runtime::event_log::{self, EventRecord};
use stack_runtime::handle::ExecCommand;
use stack_runtime::launch::Attach;
use stack_runtime::state::Status;

use crate::error::ApiError;
use crate::view::{self, ContainerFilter};
use stack_api::system::{
    ContainerSummary, ExecRequest, ExecResult, ImageSummary, PruneResult, PullEvent, RemovedImage,
};

/// The containers and images of one state root.
#[derive(Debug, Clone)]
pub struct Host {
    pub paths: HostPaths,
    containers: Containers,
}

/// Whether an idempotent action changed anything (Docker answers 304 when
/// it did not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    AlreadyThere,
}

impl Host {
    pub fn new(paths: HostPaths) -> Host {
        let containers = Containers::new(&paths);
        Host { paths, containers }
    }

    pub fn containers(&self) -> &Containers {
        &self.containers
    }

    fn find(&self, key: &str) -> Result<ContainerRecord, ApiError> {
        Ok(self.containers.find(key)?)
    }

    fn event(&self, record: &ContainerRecord, action: &str) -> EventRecord {
        let mut event = EventRecord::now("container", action, &record.spec.id, &record.spec.name);
        for (k, v) in &record.spec.labels {
            event = event.with(k, v.clone());
        }
        event.with("name", record.spec.name.clone())
    }

    /// Appends an event; a lost event line never fails the action.
    fn record_event(&self, event: &EventRecord) {
        if let Err(err) = event_log::append(&self.paths.state_root, event) {
            tracing::warn!(%err, "could not append to the event log");
        }
    }

    pub fn list_containers(&self, filter: &ContainerFilter) -> Vec<ContainerSummary> {
        self.containers
            .list()
            .iter()
            .map(view::container_summary)
            .filter(|c| filter.matches(c))
            .collect()
    }

    pub fn inspect(&self, key: &str) -> Result<serde_json::Value, ApiError> {
        Ok(view::container_inspect(
            &self.paths.state_root,
            &self.find(key)?,
        ))
    }

    /// The log file of a container and a probe telling whether it still runs
    /// (a follower stops once it does not and nothing new arrived).
    pub fn log_source(&self, key: &str) -> Result<(PathBuf, impl Fn() -> bool), ApiError> {
        let record = self.find(key)?;
        let dir = record.dir.clone();
        let running = move || {
            stack_runtime::state::State::load(&dir)
                .map(|s| s.is_active())
                .unwrap_or(false)
        };
        Ok((record.dir.log(), running))
    }

    pub fn start(&self, key: &str) -> Result<Outcome, ApiError> {
        let record = self.find(key)?;
        if record.state.effective_status() == Status::Running {
            return Ok(Outcome::AlreadyThere);
        }
        self.containers.start(&record, Attach::Detached)?;
        Ok(Outcome::Done)
    }

    pub fn stop(&self, key: &str, grace_secs: Option<u64>) -> Result<Outcome, ApiError> {
        let record = self.find(key)?;
        if !record.state.is_active() {
            return Ok(Outcome::AlreadyThere);
        }
        let grace = Duration::from_secs(grace_secs.unwrap_or(record.spec.stop_timeout));
        stack_runtime::control::stop(&record.dir, grace)?;
        self.record_event(&self.event(&record, "stop"));
        Ok(Outcome::Done)
    }

    pub fn restart(&self, key: &str, grace_secs: Option<u64>) -> Result<(), ApiError> {
        let record = self.find(key)?;
        if record.state.is_active() {
            let grace = Duration::from_secs(grace_secs.unwrap_or(record.spec.stop_timeout));
            stack_runtime::control::stop(&record.dir, grace)?;
        }
        self.containers.start(&record, Attach::Detached)?;
        self.record_event(&self.event(&record, "restart"));
        Ok(())
    }

    pub fn kill(&self, key: &str, signal: &str) -> Result<(), ApiError> {
        let signal = parse_signal(signal)?;
        let record = self.find(key)?;
        stack_runtime::control::kill(&record.dir, signal)?;
        self.record_event(
            &self
                .event(&record, "kill")
                .with("signal", (signal as i32).to_string()),
        );
        Ok(())
    }

    pub fn remove(&self, key: &str, force: bool) -> Result<(), ApiError> {
        let record = self.find(key)?;
        self.containers.remove(&record, force)?;
        self.record_event(&self.event(&record, "destroy"));
        Ok(())
    }

    /// Runs a command in a running container to completion, capturing its
    /// output: the runtime's exec helper (or `runc exec`) with its streams
    /// piped here.
    pub fn exec(&self, key: &str, req: &ExecRequest) -> Result<ExecResult, ApiError> {
        if req.cmd.is_empty() {
            return Err(ApiError::bad_request("exec: cmd must not be empty"));
        }
        let record = self.find(key)?;
        let request = req.exec_request();
        let container = record.handle();
        let mut command = match container.exec_command(&request, false)? {
            ExecCommand::Ready(command) => command,
            ExecCommand::NotFound(err) => {
                return Ok(ExecResult {
                    exit_code: stack_runtime::exec::CANNOT_FIND,
                    stdout: String::new(),
                    stderr: format!("stack exec: {err}\n"),
                })
            }
        };
        let out = command
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| ApiError::internal(format!("start the exec: {e}")))?;
        Ok(ExecResult {
            exit_code: out.status.code().unwrap_or(255),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    pub fn images(&self) -> Result<Images, ApiError> {
        let config = stack_engine::config::Config::load(&self.paths.config_file)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(Images::open(&self.paths, &config)?)
    }

    pub fn list_images(&self) -> Result<Vec<ImageSummary>, ApiError> {
        let images = self.images()?;
        let list = images.store().list()?;
        Ok(list.iter().map(view::image_summary).collect())
    }

    pub fn remove_image(&self, name: &str) -> Result<RemovedImage, ApiError> {
        let image = self.images()?.remove(name)?;
        Ok(RemovedImage {
            untagged: image.reference,
            deleted: image.id.to_string(),
        })
    }

    pub fn prune_images(&self, all: bool) -> Result<PruneResult, ApiError> {
        let report = self.images()?.prune(all)?;
        Ok(PruneResult {
            images: report.images,
            blobs: report.blobs,
            snapshots: report.snapshots,
            bytes: report.bytes,
        })
    }

    /// Pulls one image, reporting each step to `emit`; the last event is
    /// `Pulled` on success (the error is returned, not emitted).
    pub fn pull(
        &self,
        reference: &str,
        platform: Option<&str>,
        emit: &(dyn Fn(PullEvent) + Send + Sync),
    ) -> Result<(), ApiError> {
        let reference = Reference::parse(reference)?;
        let mut images = self.images()?;
        if let Some(p) = platform {
            let platform = Platform::parse(p).ok_or_else(|| {
                ApiError::bad_request(format!("platform {p:?}: expected os/arch[/variant]"))
            })?;
            images = images.with_platform(platform);
        }
        let progress = crate::progress::Forward::new(emit);
        images.pull(std::slice::from_ref(&reference), &progress, |o| {
            emit(PullEvent::Pulled {
                reference: o.reference.familiar(),
                source: o.source.clone(),
                source_is_mirror: o.source_is_mirror,
                manifest: o.manifest.to_string(),
                id: o.id.to_string(),
                layers_downloaded: o.layers_downloaded,
                layers_present: o.layers_present,
            })
        })?;
        Ok(())
    }
}

/// A signal by name (`KILL`, `SIGTERM`) or number.
pub fn parse_signal(text: &str) -> Result<nix::sys::signal::Signal, ApiError> {
    let bad = || ApiError::bad_request(format!("unknown signal {text:?}"));
    if let Ok(n) = text.parse::<i32>() {
        return nix::sys::signal::Signal::try_from(n).map_err(|_| bad());
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    nix::sys::signal::Signal::from_str(&name).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_or_number() {
        use nix::sys::signal::Signal;
        assert_eq!(parse_signal("KILL"), Ok(Signal::SIGKILL));
        assert_eq!(parse_signal("sigterm"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("9"), Ok(Signal::SIGKILL));
        let err = parse_signal("NOPE").expect_err("unknown");
        assert_eq!(err.body().kind, "bad_request");
    }

    #[test]
    fn unknown_container_is_not_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let host = Host::new(HostPaths::resolve(
            Some(dir.path().into()),
            Some(dir.path().join("run")),
            Some(dir.path().join("none.toml")),
        ));
        let err = host.stop("nothing", None).expect_err("no container");
        assert_eq!(err.status, axum::http::StatusCode::NOT_FOUND);
        assert!(host.list_containers(&ContainerFilter::default()).is_empty());
    }
}

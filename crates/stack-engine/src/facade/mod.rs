//! The engine facade: every operation a front end needs, on one host's
//! state root, as plain blocking functions. The daemon's routes call it on
//! blocking threads; the CLI calls it directly when no daemon answers.
//! One implementation for both paths is what makes their output and their
//! errors the same.
//!
//! Answers are the native API's wire types (`stack_api`), as Docker's
//! daemon answers in its `api/types`: the front ends only move them.
//! Every failure is an [`EngineError`], whose class says which status a
//! daemon answers with.
//!
//! - [`containers`]: list, inspect, logs, lifecycle, captured exec.
//! - [`images`]: list, pull (with progress), remove, prune.
//! - [`projects`]: plan, `up` and `down` with progress, `ps`, `ls`.
//! - [`project_actions`]: start/stop/restart/kill/rm of a project's services.
//! - [`objects`]: networks and volumes.
//! - [`exec`]: an attached exec, prepared for a front end's terminal.
//! - [`attach`]: a container's output from now on, for an attached client.
//! - [`events`]: the host's event log, read and followed.
//! - [`boot`]: what a daemon does once at start.
//! - [`docker`]: the same operations' answers in Docker's API shapes.

mod api;
pub mod archive;
pub mod attach;
mod backoff;
pub mod boot;
mod build;
mod changes;
pub mod containers;
pub mod docker;
mod error;
pub mod events;
pub mod exec;
pub mod images;
pub mod objects;
pub mod project_actions;
pub mod projects;
mod pull_progress;
pub mod status_text;
mod update;
pub mod view;

use std::str::FromStr;

use stack_runtime::event_log::{self, EventRecord};

use crate::containers::{ContainerRecord, Containers};
use crate::paths::HostPaths;

pub use error::EngineError;

/// The containers, images, networks, volumes and projects of one state root.
#[derive(Debug, Clone)]
pub struct Engine {
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

impl Engine {
    /// The engine of the state root `paths` name. Nothing is read yet:
    /// each operation opens what it needs.
    pub fn new(paths: HostPaths) -> Engine {
        let containers = Containers::new(&paths);
        Engine { paths, containers }
    }

    pub fn containers(&self) -> &Containers {
        &self.containers
    }

    fn find(&self, key: &str) -> Result<ContainerRecord, EngineError> {
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
}

/// An engine on a fresh state root below `dir`, for the facade's tests.
#[cfg(test)]
pub(crate) fn test_engine(dir: &std::path::Path) -> Engine {
    Engine::new(HostPaths::resolve(
        Some(dir.join("root")),
        Some(dir.join("run")),
        Some(dir.join("none.toml")),
    ))
}

/// A signal by name (`KILL`, `SIGTERM`) or number.
pub fn parse_signal(text: &str) -> Result<nix::sys::signal::Signal, EngineError> {
    let bad = || EngineError::Invalid(format!("unknown signal {text:?}"));
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
    use crate::error_class::{Classify, ErrorClass};

    #[test]
    fn signals_by_name_or_number() {
        use nix::sys::signal::Signal;
        assert_eq!(parse_signal("KILL").ok(), Some(Signal::SIGKILL));
        assert_eq!(parse_signal("sigterm").ok(), Some(Signal::SIGTERM));
        assert_eq!(parse_signal("9").ok(), Some(Signal::SIGKILL));
        let err = parse_signal("NOPE").expect_err("unknown");
        assert_eq!(err.class(), ErrorClass::InvalidInput);
    }
}

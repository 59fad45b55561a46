//! One container at a time: list, inspect, logs, the lifecycle verbs, and
//! an exec whose output is captured.

use std::cell::Cell;
use std::time::{Duration, SystemTime};

use stack_api::docker::containers::TopResponse;
use stack_api::system::{ContainerFilter, ContainerSummary, ExecRequest, ExecResult, LogRecord};
use stack_runtime::handle::ExecCommand;
use stack_runtime::launch::Attach;
use stack_runtime::logs::LogLine;
use stack_runtime::spec::ContainerDir;
use stack_runtime::state::Status;

use super::{parse_signal, view, Engine, EngineError, Outcome};
use crate::containers::{ContainerRecord, ImageSource, RunOptions};

/// What [`Engine::wait`] waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitCondition {
    #[default]
    NotRunning,
    NextExit,
    Removed,
}

impl std::str::FromStr for WaitCondition {
    type Err = EngineError;
    fn from_str(text: &str) -> Result<Self, EngineError> {
        match text {
            "" | "not-running" => Ok(WaitCondition::NotRunning),
            "next-exit" => Ok(WaitCondition::NextExit),
            "removed" => Ok(WaitCondition::Removed),
            other => Err(EngineError::Invalid(format!(
                "invalid condition {other:?}: not-running, next-exit or removed"
            ))),
        }
    }
}

/// The log of one container, found; reading it cannot fail for a reason a
/// request could be refused for.
pub struct LogSource {
    dir: ContainerDir,
    /// What the log held when the source was found, and where following
    /// goes on: read at once, so a container removed before the front end
    /// streams (`docker run --rm` clients ask for the logs, wait and
    /// remove) still gives its output.
    held: std::sync::Mutex<Option<(Vec<LogLine>, stack_runtime::logs::Cursor)>>,
}

/// Which records of a log to read.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// Keep reading new records until the container stops.
    pub follow: bool,
    /// Only the last N records of what the log holds (followed records
    /// all come).
    pub tail: Option<usize>,
    /// Only records at or after this time.
    pub since: Option<SystemTime>,
    /// Only records before this time (a follow ends there too).
    pub until: Option<SystemTime>,
}

impl LogOptions {
    fn wants(&self, line: &LogLine) -> bool {
        if self.since.is_none() && self.until.is_none() {
            return true;
        }
        let Some(at) = stack_runtime::timefmt::parse(&line.time) else {
            return true;
        };
        self.since.is_none_or(|s| at >= s) && self.until.is_none_or(|u| at < u)
    }
}

impl LogSource {
    /// Sends what the log holds to `emit`, then, with `follow`, each new
    /// record until the container stops or `emit` returns false.
    pub fn read(
        &self,
        follow: bool,
        emit: impl FnMut(&LogRecord) -> bool,
    ) -> Result<(), EngineError> {
        self.read_with(
            &LogOptions {
                follow,
                ..LogOptions::default()
            },
            emit,
        )
    }

    /// [`LogSource::read`] with Docker's `tail`, `since` and `until`.
    pub fn read_with(
        &self,
        options: &LogOptions,
        mut emit: impl FnMut(&LogRecord) -> bool,
    ) -> Result<(), EngineError> {
        let follow = options.follow;
        let listening = Cell::new(true);
        let mut send = |l: &LogLine| {
            if listening.get() && options.wants(l) {
                let record = LogRecord {
                    log: l.log.clone(),
                    stream: l.stream.clone(),
                    time: l.time.clone(),
                };
                listening.set(emit(&record));
            }
        };
        let taken = self.held.lock().ok().and_then(|mut held| held.take());
        let (held, cursor) = match taken {
            Some(found) => found,
            None => stack_runtime::logs::Cursor::held(&self.dir.log())?,
        };
        let (held, cursor) = if follow {
            (held, Some(cursor))
        } else {
            let mut cursor = cursor;
            let mut held = held;
            held.extend(cursor.finish());
            (held, None)
        };
        let skip = options
            .tail
            .map_or(0, |tail| held.len().saturating_sub(tail));
        for line in &held[skip..] {
            send(line);
        }
        if let Some(cursor) = cursor {
            let dir = &self.dir;
            let running = || {
                stack_runtime::state::State::load(dir)
                    .map(|s| s.is_active())
                    .unwrap_or(false)
            };
            let before_until = || options.until.is_none_or(|u| SystemTime::now() < u);
            let keep_going = || listening.get() && running() && before_until();
            stack_runtime::logs::follow_from(cursor, send, keep_going)?;
        }
        Ok(())
    }
}

impl Engine {
    pub fn list_containers(&self, filter: &ContainerFilter) -> Vec<ContainerSummary> {
        self.containers
            .list()
            .iter()
            .map(view::container_summary)
            .filter(|c| view::matches(filter, c))
            .collect()
    }

    pub fn inspect(&self, key: &str) -> Result<serde_json::Value, EngineError> {
        Ok(view::container_inspect(
            &self.paths.state_root,
            &self.find(key)?,
        ))
    }

    /// The log of a container (an unknown one is refused here, before a
    /// front end starts streaming).
    pub fn log_source(&self, key: &str) -> Result<LogSource, EngineError> {
        let record = self.find(key)?;
        let held = stack_runtime::logs::Cursor::held(&record.dir.log())?;
        Ok(LogSource {
            dir: record.dir,
            held: std::sync::Mutex::new(Some(held)),
        })
    }

    pub fn start(&self, key: &str) -> Result<Outcome, EngineError> {
        let record = self.find(key)?;
        if record.state.effective_status() == Status::Running {
            if record.state.paused {
                return Err(EngineError::Conflict(format!(
                    "cannot start container {}: it is paused, unpause it instead",
                    record.spec.name
                )));
            }
            return Ok(Outcome::AlreadyThere);
        }
        self.containers.start(&record, Attach::Detached)?;
        Ok(Outcome::Done)
    }

    pub fn stop(&self, key: &str, grace_secs: Option<u64>) -> Result<Outcome, EngineError> {
        let record = self.find(key)?;
        if !record.state.is_active() {
            return Ok(Outcome::AlreadyThere);
        }
        let grace = Duration::from_secs(grace_secs.unwrap_or(record.spec.stop_timeout));
        stack_runtime::control::stop(&record.dir, grace)?;
        self.record_event(&self.event(&record, "stop"));
        Ok(Outcome::Done)
    }

    pub fn restart(&self, key: &str, grace_secs: Option<u64>) -> Result<(), EngineError> {
        let record = self.find(key)?;
        if record.state.is_active() {
            let grace = Duration::from_secs(grace_secs.unwrap_or(record.spec.stop_timeout));
            stack_runtime::control::stop(&record.dir, grace)?;
        }
        self.containers.start(&record, Attach::Detached)?;
        self.record_event(&self.event(&record, "restart"));
        Ok(())
    }

    pub fn kill(&self, key: &str, signal: &str) -> Result<(), EngineError> {
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

    /// Freezes a running container's processes (Docker's `pause`):
    /// refused, naming it, when it is not running or already paused.
    pub fn pause(&self, key: &str) -> Result<(), EngineError> {
        let record = self.find(key)?;
        stack_runtime::pause::pause(&record.dir)?;
        self.record_event(&self.event(&record, "pause"));
        Ok(())
    }

    /// Thaws a paused container (Docker's `unpause`): refused, naming it,
    /// when it is not paused.
    pub fn unpause(&self, key: &str) -> Result<(), EngineError> {
        let record = self.find(key)?;
        stack_runtime::pause::unpause(&record.dir)?;
        self.record_event(&self.event(&record, "unpause"));
        Ok(())
    }

    /// Makes a container (the image pulled if missing) and records its
    /// `create` event: `stack run` and the Docker API's create.
    pub fn create_container(
        &self,
        source: &ImageSource,
        opts: &RunOptions,
    ) -> Result<ContainerRecord, EngineError> {
        let record = self.containers.create(source, opts)?;
        self.record_event(&self.event(&record, "create"));
        Ok(record)
    }

    /// Waits for a container to stop and answers its exit code, as
    /// Docker's `wait` with its `condition`: `not-running` (now, when it
    /// is not running), `next-exit` (the end of its next run, even when
    /// it has not started yet), `removed` (its record gone). Gives up with
    /// `None` once `keep_going` says so (the client left).
    pub fn wait(
        &self,
        key: &str,
        condition: WaitCondition,
        keep_going: impl Fn() -> bool,
    ) -> Result<Option<i32>, EngineError> {
        let first = self.find(key)?;
        let id = first.spec.id.clone();
        let mut seen_active = false;
        let mut last_code = first.state.exit_code.unwrap_or(0);
        let mut pause = super::backoff::Backoff::default();
        loop {
            let record = match self.containers.find(&id) {
                Ok(record) => record,
                Err(crate::containers::ContainerError::NotFound(_)) => {
                    if condition == WaitCondition::Removed {
                        // An auto-removed container can exit and go between
                        // two looks: its monitor logged how it ended.
                        return Ok(Some(self.last_exit_code(&id).unwrap_or(last_code)));
                    }
                    return Err(EngineError::NotFound(format!("no such container: {key}")));
                }
                Err(err) => return Err(err.into()),
            };
            let active = record.state.is_active();
            seen_active |= active;
            last_code = record.state.exit_code.unwrap_or(0);
            let restarted = record.state.started_at != first.state.started_at;
            let done = match condition {
                WaitCondition::NotRunning => !active,
                WaitCondition::NextExit => !active && (seen_active || restarted),
                WaitCondition::Removed => false,
            };
            if done {
                return Ok(Some(last_code));
            }
            if !keep_going() {
                return Ok(None);
            }
            pause.sleep();
        }
    }

    /// The exit code the event log last recorded for the container `id`.
    fn last_exit_code(&self, id: &str) -> Option<i32> {
        let events = stack_runtime::event_log::read_all(&self.paths.state_root).ok()?;
        events
            .iter()
            .rev()
            .find(|e| e.id == id && e.action == "die")
            .and_then(|e| e.attributes.get("exitCode")?.parse().ok())
    }

    /// The processes of a running container, `ps -ef`'s columns (409
    /// when it is not running).
    pub fn processes(&self, key: &str) -> Result<TopResponse, EngineError> {
        use crate::project::top::{processes, TITLES};
        let record = self.find(key)?;
        if record.state.effective_status() != Status::Running {
            return Err(EngineError::Conflict(format!(
                "container {} is not running",
                record.spec.name
            )));
        }
        Ok(TopResponse {
            titles: TITLES.iter().map(|t| t.to_string()).collect(),
            processes: processes(&record)
                .iter()
                .map(|r| r.cells().to_vec())
                .collect(),
        })
    }

    pub fn remove(&self, key: &str, force: bool) -> Result<(), EngineError> {
        let record = self.find(key)?;
        self.containers.remove(&record, force)?;
        self.record_event(&self.event(&record, "destroy"));
        Ok(())
    }

    /// Renames a container that is not running (see
    /// `containers::rename`); a project's stored row follows, so `stack ps`
    /// shows the new name.
    pub fn rename(&self, key: &str, new_name: &str) -> Result<(), EngineError> {
        let record = self.find(key)?;
        let renamed = self.containers.rename(&record, new_name)?;
        let store = crate::store::Store::open(&self.paths.state_root)?;
        store.write(|w| {
            let Some(mut row) = w.read().container(&renamed.spec.id)? else {
                return Ok(());
            };
            row.name = renamed.spec.name.clone();
            w.update_container(&row)
        })?;
        let event = self
            .event(&renamed, "rename")
            .with("oldName", format!("/{}", record.spec.name));
        self.record_event(&event);
        Ok(())
    }

    /// [`Engine::remove`], then the anonymous volumes the container
    /// mounted (Docker's `rm -v`): those with the anonymous label, which no
    /// other container mounts. Named volumes stay, as in Docker.
    pub fn remove_with_volumes(&self, key: &str, force: bool) -> Result<(), EngineError> {
        let record = self.find(key)?;
        let mounted: Vec<String> = record
            .spec
            .mounts
            .iter()
            .filter_map(|m| match &m.kind {
                // `<volumes>/<name>/_data`.
                stack_runtime::spec::MountKind::Volume { source, .. } => source
                    .parent()
                    .and_then(|p| p.file_name())
                    .map(|n| n.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        self.remove(key, force)?;
        for name in mounted {
            let Ok(volume) = self.inspect_volume(&name) else {
                continue;
            };
            if volume.labels.contains_key(crate::volumes::ANONYMOUS_LABEL)
                && volume.used_by.is_empty()
            {
                self.remove_volume(&name, true)?;
            }
        }
        Ok(())
    }

    /// Runs a command in a running container to completion, capturing its
    /// output: the runtime's exec helper (or `runc exec`) with its streams
    /// piped here.
    pub fn exec(&self, key: &str, req: &ExecRequest) -> Result<ExecResult, EngineError> {
        if req.cmd.is_empty() {
            return Err(EngineError::Invalid("exec: cmd must not be empty".into()));
        }
        let record = self.find(key)?;
        let request = super::exec::captured_request(req);
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
            .map_err(EngineError::io("start the exec"))?;
        Ok(ExecResult {
            exit_code: out.status.code().unwrap_or(255),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_class::{Classify, ErrorClass};
    use crate::paths::HostPaths;

    #[test]
    fn unknown_container_is_not_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let engine = Engine::new(HostPaths::resolve(
            Some(dir.path().into()),
            Some(dir.path().join("run")),
            Some(dir.path().join("none.toml")),
        ));
        let err = engine.stop("nothing", None).expect_err("no container");
        assert_eq!(err.class(), ErrorClass::NotFound);
        assert!(engine
            .list_containers(&ContainerFilter::default())
            .is_empty());
    }
}

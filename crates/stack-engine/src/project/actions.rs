//! Acting on a project's containers wave by wave: every container of a
//! wave in parallel (plain threads: the container calls block), the next
//! wave once the whole wave is done. Each action appends its event to the
//! host event log (start and die come from the monitor, not from here).

use std::time::Duration;

use nix::sys::signal::Signal;
use stack_runtime::event_log::{self, EventRecord};
use stack_runtime::launch::Attach;
use stack_runtime::state::State;

use crate::containers::{ContainerError, ContainerRecord, Containers};

use super::ProjectError;

/// What an action did to one container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// It acted (stopped, started, signalled, paused, removed).
    Acted,
    /// Nothing to do (already stopped, already running, not running).
    Skipped,
}

/// The result of an action on one container.
#[derive(Debug)]
pub struct Outcome {
    pub name: String,
    pub result: Result<Done, ProjectError>,
}

/// Runs `act` on every container, wave after wave, the containers of a
/// wave in parallel. With `keep_going` false, a wave with a failure ends
/// the run (a dependent must not start after its dependency failed).
/// Outcomes come back wave by wave.
pub fn run_waves<F>(waves: &[Vec<&ContainerRecord>], keep_going: bool, act: F) -> Vec<Outcome>
where
    F: Fn(&ContainerRecord) -> Result<Done, ProjectError> + Sync,
{
    let mut outcomes = Vec::new();
    for wave in waves {
        let results: Vec<Outcome> = std::thread::scope(|scope| {
            let handles: Vec<_> = wave
                .iter()
                .map(|record| {
                    let act = &act;
                    (record.spec.name.clone(), scope.spawn(move || act(record)))
                })
                .collect();
            handles
                .into_iter()
                .map(|(name, handle)| {
                    let result = handle.join().unwrap_or_else(|_| {
                        Err(ProjectError::Invalid(format!(
                            "{name}: the action panicked"
                        )))
                    });
                    Outcome { name, result }
                })
                .collect()
        });
        let failed = results.iter().any(|o| o.result.is_err());
        outcomes.extend(results);
        if failed && !keep_going {
            break;
        }
    }
    outcomes
}

/// Whether the container runs or its monitor will start it again (a
/// crash-looping container waiting out its backoff), read now: the record
/// read earlier may be stale.
fn active_now(record: &ContainerRecord) -> bool {
    State::load(&record.dir).is_ok_and(|s| s.is_active())
}

fn runtime_error(name: &str) -> impl FnOnce(stack_runtime::Error) -> ProjectError + '_ {
    move |err| ProjectError::on(name)(ContainerError::Runtime(err))
}

/// Stops a running container: its stop signal, then SIGKILL after
/// `timeout` seconds (its own stop timeout when `None`). The runtime's
/// stop records that the stop was asked for, so no restart policy brings
/// it back.
pub fn stop(
    store: &Containers,
    record: &ContainerRecord,
    timeout: Option<u64>,
) -> Result<Done, ProjectError> {
    if !active_now(record) {
        return Ok(Done::Skipped);
    }
    let grace = Duration::from_secs(timeout.unwrap_or(record.spec.stop_timeout));
    stack_runtime::control::stop(&record.dir, grace).map_err(runtime_error(&record.spec.name))?;
    append(store, container_event(record, "stop"));
    Ok(Done::Acted)
}

/// Starts a created or stopped container, detached (one waiting to be
/// restarted is left to its monitor).
pub fn start(store: &Containers, record: &ContainerRecord) -> Result<Done, ProjectError> {
    if active_now(record) {
        return Ok(Done::Skipped);
    }
    store
        .start(record, Attach::Detached)
        .map_err(ProjectError::on(&record.spec.name))?;
    Ok(Done::Acted)
}

/// Sends `signal` to a running container's first process.
pub fn kill(
    store: &Containers,
    record: &ContainerRecord,
    signal: Signal,
) -> Result<Done, ProjectError> {
    if !active_now(record) {
        return Ok(Done::Skipped);
    }
    stack_runtime::control::kill(&record.dir, signal).map_err(runtime_error(&record.spec.name))?;
    append(
        store,
        container_event(record, "kill").with("signal", (signal as i32).to_string()),
    );
    Ok(Done::Acted)
}

/// Freezes a running container (`pause`); one not running or already
/// paused is skipped, as Compose pauses only the running ones.
pub fn pause(store: &Containers, record: &ContainerRecord) -> Result<Done, ProjectError> {
    match stack_runtime::pause::pause(&record.dir) {
        Ok(()) => {}
        Err(stack_runtime::Error::NotRunning(_) | stack_runtime::Error::AlreadyPaused(_)) => {
            return Ok(Done::Skipped)
        }
        Err(err) => return Err(runtime_error(&record.spec.name)(err)),
    }
    append(store, container_event(record, "pause"));
    Ok(Done::Acted)
}

/// Thaws a paused container (`unpause`); one not paused is skipped.
pub fn unpause(store: &Containers, record: &ContainerRecord) -> Result<Done, ProjectError> {
    match stack_runtime::pause::unpause(&record.dir) {
        Ok(()) => {}
        Err(stack_runtime::Error::NotPaused(_)) => return Ok(Done::Skipped),
        Err(err) => return Err(runtime_error(&record.spec.name)(err)),
    }
    append(store, container_event(record, "unpause"));
    Ok(Done::Acted)
}

/// How `rm` treats a running container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveRunning {
    /// Leave it and say so (the default: only stopped ones go).
    Refuse,
    /// Stop it gracefully first (`--stop`).
    Stop,
    /// Kill it (`--force`).
    Kill,
}

/// Removes a container and everything set up for it.
pub fn remove(
    store: &Containers,
    record: &ContainerRecord,
    running: RemoveRunning,
) -> Result<Done, ProjectError> {
    let name = &record.spec.name;
    if active_now(record) {
        match running {
            RemoveRunning::Refuse => {
                return Err(ProjectError::Invalid(format!(
                    "container {name} is running: stop it first, or use --stop or --force"
                )))
            }
            RemoveRunning::Stop => {
                stop(store, record, None)?;
            }
            RemoveRunning::Kill => {}
        }
    }
    store
        .remove(record, running == RemoveRunning::Kill)
        .map_err(ProjectError::on(name))?;
    append(store, container_event(record, "destroy"));
    Ok(Done::Acted)
}

/// A container event carrying its labels and name, as Docker's.
pub fn container_event(record: &ContainerRecord, action: &str) -> EventRecord {
    let mut event = EventRecord::now("container", action, &record.spec.id, &record.spec.name);
    for (key, value) in &record.spec.labels {
        event = event.with(key, value.clone());
    }
    event.with("name", record.spec.name.clone())
}

/// Appends an event; a lost event line never fails the action.
fn append(store: &Containers, event: EventRecord) {
    let _ = event_log::append(&store.state_root, &event);
}

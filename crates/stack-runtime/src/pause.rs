//! `pause` and `unpause`: a running container's processes frozen where
//! they stand and let go again, through its backend (the cgroup freezer,
//! or `runc pause`/`resume`).
//!
//! That a container is paused is a marker file in its directory
//! ([`crate::state::PAUSED`]), like the stop marker: `state.json` has one
//! writer, the monitor, and a pause must not race its writes. The marker
//! is down before the freeze and removed after the thaw, so whoever sees
//! no marker (the monitor about to run a healthcheck) sees a container
//! that runs. [`State::load`] reads it into [`State::paused`]; the monitor
//! removes it when a run ends, so it never outlives the frozen cgroup.
//!
//! Docker's rules for what else a paused container means: the stop signal
//! or SIGKILL thaws it (so the signal is handled and the container can
//! exit: `stop`, `kill`, `rm -f` work), any other signal stays pending
//! until `unpause`; `exec` is refused; healthchecks do not run.

use crate::error::Error;
use crate::spec::{ContainerDir, ContainerSpec};
use crate::state::{is_paused, pause_marker as marker, State, Status};

/// Freezes the running container at `dir`. Refused when it does not run
/// or is already paused, naming it.
pub fn pause(dir: &ContainerDir) -> Result<(), Error> {
    let spec = ContainerSpec::load(dir)?;
    let state = State::load(dir)?;
    if state.paused {
        return Err(Error::AlreadyPaused(spec.name));
    }
    if state.effective_status() != Status::Running || !state.container_alive() {
        return Err(Error::NotRunning(spec.name));
    }
    let path = marker(dir);
    std::fs::write(&path, b"").map_err(|e| Error::io(format!("write {}", path.display()), e))?;
    crate::backend::of(spec.backend)
        .freeze(&spec)
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&path);
        })
}

/// Thaws the paused container at `dir`. Refused when it is not paused.
pub fn unpause(dir: &ContainerDir) -> Result<(), Error> {
    let spec = ContainerSpec::load(dir)?;
    let state = State::load(dir)?;
    if !state.paused {
        return Err(Error::NotPaused(spec.name));
    }
    thaw(dir, &spec)
}

/// Thaws a paused container that was just sent `signal`, when the signal
/// is one that ends it (its stop signal, or SIGKILL), as Docker does:
/// the signal is pending in the frozen process and is handled on thaw.
pub(crate) fn thaw_for_signal(
    dir: &ContainerDir,
    spec: &ContainerSpec,
    signal: nix::sys::signal::Signal,
) -> Result<(), Error> {
    let ends_it = signal == nix::sys::signal::Signal::SIGKILL || signal as i32 == spec.stop_signal;
    if !ends_it || !is_paused(dir) {
        return Ok(());
    }
    match thaw(dir, spec) {
        Ok(()) => Ok(()),
        // On cgroup v2 SIGKILL ends frozen tasks at once: a run that
        // ended meanwhile took its cgroup, and its pause, with it.
        Err(_) if !is_paused(dir) || !State::load(dir).is_ok_and(|s| s.container_alive()) => Ok(()),
        Err(err) => Err(err),
    }
}

fn thaw(dir: &ContainerDir, spec: &ContainerSpec) -> Result<(), Error> {
    crate::backend::of(spec.backend).thaw(spec)?;
    let path = marker(dir);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(Error::io(format!("remove {}", path.display()), err)),
    }
}

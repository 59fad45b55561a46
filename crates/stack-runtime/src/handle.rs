//! A created container as the rest of stack sees it: its directory, spec
//! and state, and what can be done to it without knowing which backend
//! (the native runtime or runc) runs it. Everything that differs between
//! the backends for an existing container is answered here, so no caller
//! outside this crate branches on the backend ([`crate::backend`]).

use std::path::{Path, PathBuf};

use crate::cgroup::{Cgroup, Layout, CGROUP_ROOT};
use crate::error::{Context, Error};
use crate::exec::ExecRequest;
use crate::spec::{ContainerDir, ContainerSpec};
use crate::state::{State, Status};

/// A container, borrowed from whoever loaded it (the engine's records, a
/// CLI command).
#[derive(Debug, Clone, Copy)]
pub struct Container<'a> {
    pub dir: &'a ContainerDir,
    pub spec: &'a ContainerSpec,
    pub state: &'a State,
}

pub use crate::backend::ExecCommand;

impl<'a> Container<'a> {
    pub fn new(dir: &'a ContainerDir, spec: &'a ContainerSpec, state: &'a State) -> Self {
        Container { dir, spec, state }
    }

    /// The pid of the container's first process, when the container runs.
    pub fn running_pid(&self) -> Result<i32, Error> {
        self.state
            .pid
            .filter(|_| {
                self.state.effective_status() == Status::Running && self.state.container_alive()
            })
            .ok_or_else(|| Error::NotRunning(self.spec.name.clone()))
    }

    /// The command that runs `req` in the running container. With `tty`
    /// the caller gives the command a pty from [`Container::pty_root`] as
    /// its stdio, and the command makes it the terminal of what it runs.
    /// A paused container is refused: the command would join its frozen
    /// cgroup and hang there until the unpause.
    pub fn exec_command(&self, req: &ExecRequest, tty: bool) -> Result<ExecCommand, Error> {
        let pid = self.running_pid()?;
        if self.state.paused {
            return Err(Error::Paused(self.spec.name.clone()));
        }
        crate::backend::of(self.spec.backend).exec_command(self.spec, self.dir, pid, req, tty)
    }

    /// Where an exec's pty is opened: the container's own devpts for the
    /// native helper, which hands it to the command; the host's for runc,
    /// which relays it to a pty it makes in the container.
    pub fn pty_root(&self) -> Result<PathBuf, Error> {
        Ok(crate::backend::of(self.spec.backend).pty_root(self.running_pid()?))
    }

    /// Whether the exec command itself must have its pty as controlling
    /// terminal (runc relays SIGWINCH and SIGHUP from it); the native
    /// helper sets the terminal up inside the container instead.
    pub fn exec_relays_tty(&self) -> bool {
        crate::backend::of(self.spec.backend).exec_relays_tty()
    }

    /// The container's cgroup on this host's hierarchy.
    pub fn cgroup(&self) -> Result<Cgroup, Error> {
        let root = Path::new(CGROUP_ROOT);
        let layout = Layout::detect(root)?;
        Ok(Cgroup::at(root, &layout, &self.spec.cgroup_path))
    }
}

/// Runs `req` in the container at `dir` with the caller's stdio and returns
/// its exit code (127 for a command that does not exist).
pub fn exec_here(dir: &ContainerDir, req: &ExecRequest) -> Result<i32, Error> {
    let spec = ContainerSpec::load(dir)?;
    let state = State::load(dir)?;
    match Container::new(dir, &spec, &state).exec_command(req, false)? {
        ExecCommand::NotFound(err) => {
            eprintln!("stack exec: {err}");
            Ok(crate::exec::CANNOT_FIND)
        }
        ExecCommand::Ready(mut command) => {
            let status = command.status().context(|| "start the exec".to_string())?;
            Ok(status.code().unwrap_or(255))
        }
    }
}

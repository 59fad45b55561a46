//! The two ways stack runs a container's processes: its own runtime
//! (namespaces, rootfs and cgroup set up by the `stack` binary) and runc.
//! What differs between them for a container that exists is one trait,
//! [`Backend`]; [`of`] picks the implementation a spec names. Starting the
//! first process is the monitor's (`monitor/process.rs`), since it owns the
//! process's stdio.

use std::path::PathBuf;
use std::process::Command;

use crate::error::{Context, Error};
use crate::exec::ExecRequest;
use crate::spec::{Backend as Kind, ContainerDir, ContainerSpec};

/// How an exec reaches the container.
#[derive(Debug)]
pub enum ExecCommand {
    /// The command, not started: the caller picks its stdio (its own
    /// terminal, pipes, a pty).
    Ready(Command),
    /// The command does not exist in the container. Nothing is to be
    /// started: answer [`crate::exec::CANNOT_FIND`] with this error, as the
    /// native exec helper does (runc's own status for it would be 255).
    NotFound(Error),
}

/// What a backend does for a created container.
pub trait Backend: Sync {
    /// The command that runs `req` in the container whose first process
    /// is `pid` (see [`crate::handle::Container::exec_command`]).
    fn exec_command(
        &self,
        spec: &ContainerSpec,
        dir: &ContainerDir,
        pid: i32,
        req: &ExecRequest,
        tty: bool,
    ) -> Result<ExecCommand, Error>;

    /// Where an exec's pty is opened.
    fn pty_root(&self, pid: i32) -> PathBuf;

    /// Whether the exec command itself takes its pty as controlling
    /// terminal and relays it.
    fn exec_relays_tty(&self) -> bool;

    /// Forgets what the backend keeps of one run once its process exited.
    fn forget_run(&self, spec: &ContainerSpec, dir: &ContainerDir);

    /// Forgets what the backend keeps of a container being removed.
    fn forget(&self, spec: &ContainerSpec);

    /// Stops every process of the running container where it stands
    /// (`pause`); returns once they are all frozen.
    fn freeze(&self, spec: &ContainerSpec) -> Result<(), Error>;

    /// Lets the frozen container's processes run again (`unpause`).
    fn thaw(&self, spec: &ContainerSpec) -> Result<(), Error>;

    /// Applies `spec`'s resource limits to the running container
    /// (`update`).
    fn update_resources(&self, spec: &ContainerSpec) -> Result<(), Error>;
}

/// The native container's freezer, on this host's hierarchy.
fn native_freezer(spec: &ContainerSpec) -> Result<crate::freezer::Freezer, Error> {
    let root = std::path::Path::new(crate::cgroup::CGROUP_ROOT);
    let layout = crate::cgroup::Layout::detect(root)?;
    let cgroup = crate::cgroup::Cgroup::at(root, &layout, &spec.cgroup_path);
    crate::freezer::Freezer::of(&cgroup, &spec.name)
}

/// The backend of containers whose spec says `kind`.
pub fn of(kind: Kind) -> &'static dyn Backend {
    match kind {
        Kind::Stack => &Native,
        Kind::Runc => &Runc,
    }
}

/// stack's own runtime: exec is the `stack` binary's hidden exec mode,
/// which joins the container and hands a pty from its own devpts to the
/// command.
struct Native;

impl Backend for Native {
    fn exec_command(
        &self,
        _spec: &ContainerSpec,
        dir: &ContainerDir,
        _pid: i32,
        req: &ExecRequest,
        tty: bool,
    ) -> Result<ExecCommand, Error> {
        let mut json =
            serde_json::to_value(req).map_err(|e| Error::invalid("exec request", e.to_string()))?;
        if tty {
            // Read by the helper: the command takes the pty as its
            // controlling terminal in a session of its own.
            json["tty"] = serde_json::Value::Bool(true);
        }
        let exe = std::env::current_exe().context(|| "locate the stack binary".to_string())?;
        let mut helper = Command::new(exe);
        helper
            .arg(crate::launch::EXEC_MODE)
            .arg(dir.path())
            .arg(json.to_string());
        Ok(ExecCommand::Ready(helper))
    }

    fn pty_root(&self, pid: i32) -> PathBuf {
        PathBuf::from(format!("/proc/{pid}/root"))
    }

    fn exec_relays_tty(&self) -> bool {
        false
    }

    fn forget_run(&self, _spec: &ContainerSpec, _dir: &ContainerDir) {}

    fn forget(&self, _spec: &ContainerSpec) {}

    fn freeze(&self, spec: &ContainerSpec) -> Result<(), Error> {
        native_freezer(spec)?.freeze(
            &mut crate::freezer::HostFiles,
            crate::freezer::FREEZE_TIMEOUT,
        )
    }

    fn thaw(&self, spec: &ContainerSpec) -> Result<(), Error> {
        native_freezer(spec)?.thaw(&mut crate::freezer::HostFiles)
    }

    fn update_resources(&self, spec: &ContainerSpec) -> Result<(), Error> {
        let root = std::path::Path::new(crate::cgroup::CGROUP_ROOT);
        let layout = crate::cgroup::Layout::detect(root)?;
        crate::cgroup::Cgroup::at(root, &layout, &spec.cgroup_path).apply(&spec.resources)
    }
}

/// runc: exec is `runc exec` (with `--tty`, relaying a host pty to one it
/// makes in the container); runc keeps state per container to delete.
struct Runc;

impl Backend for Runc {
    fn exec_command(
        &self,
        spec: &ContainerSpec,
        _dir: &ContainerDir,
        pid: i32,
        req: &ExecRequest,
        tty: bool,
    ) -> Result<ExecCommand, Error> {
        if let Some(err) = crate::runc::missing_command(spec, pid, req) {
            return Ok(ExecCommand::NotFound(err));
        }
        let flags: &[&std::ffi::OsStr] = if tty { &["--tty".as_ref()] } else { &[] };
        crate::runc::exec_command(spec, pid, req, flags).map(ExecCommand::Ready)
    }

    fn pty_root(&self, _pid: i32) -> PathBuf {
        PathBuf::from("/")
    }

    fn exec_relays_tty(&self) -> bool {
        true
    }

    fn forget_run(&self, spec: &ContainerSpec, dir: &ContainerDir) {
        crate::runc::delete(spec);
        // The overlay lives in the monitor's own mount namespace.
        let _ = nix::mount::umount2(&dir.rootfs(), nix::mount::MntFlags::MNT_DETACH);
    }

    fn forget(&self, spec: &ContainerSpec) {
        crate::runc::delete(spec);
    }

    /// runc froze it: `runc pause`, so runc's own state says paused and
    /// its later commands (exec, kill, delete) know.
    fn freeze(&self, spec: &ContainerSpec) -> Result<(), Error> {
        crate::runc::pause(spec)
    }

    fn thaw(&self, spec: &ContainerSpec) -> Result<(), Error> {
        crate::runc::resume(spec)
    }

    /// `runc update`, so runc's own record of the limits follows.
    fn update_resources(&self, spec: &ContainerSpec) -> Result<(), Error> {
        crate::runc::update(spec)
    }
}

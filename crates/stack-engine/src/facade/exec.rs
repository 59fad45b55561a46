//! An attached exec, prepared: every check that can fail is made here,
//! before a front end commits to a session (the daemon before it upgrades
//! the connection, the CLI before it takes over the terminal), so a bad
//! request is a plain error answer.

use std::path::PathBuf;

use stack_api::exec_stream::ExecStreamRequest;
use stack_api::system::ExecRequest;

use super::{Engine, EngineError};

pub use stack_runtime::exec::CANNOT_FIND;
pub use stack_runtime::handle::ExecCommand;

/// What the runtime runs for an attached exec: the container's own user
/// and working directory where none is given.
pub(crate) fn stream_request(req: &ExecStreamRequest) -> stack_runtime::exec::ExecRequest {
    runtime_request(&req.cmd, &req.env, &req.user, &req.workdir)
}

/// What the runtime runs for an exec run to completion.
pub(crate) fn captured_request(req: &ExecRequest) -> stack_runtime::exec::ExecRequest {
    runtime_request(&req.cmd, &req.env, &req.user, &req.workdir)
}

/// The runtime's request for a command, its environment, user and
/// working directory (none: the container's own), as both exec forms
/// carry them.
fn runtime_request(
    cmd: &[String],
    env: &[String],
    user: &Option<String>,
    workdir: &Option<String>,
) -> stack_runtime::exec::ExecRequest {
    stack_runtime::exec::ExecRequest {
        args: cmd.to_vec(),
        env: env.to_vec(),
        user: user.clone().unwrap_or_default(),
        cwd: workdir.clone().unwrap_or_default(),
    }
}

/// What a front end needs to run an attached exec.
pub struct ExecTarget {
    /// The container's name, for messages.
    pub name: String,
    /// The command (the exec helper, or `runc exec`; not started), or that
    /// the program does not exist in the container.
    pub command: ExecCommand,
    /// Where the pty must be opened (a tty was asked for): the container's
    /// devpts, or the host's for a backend that makes its own.
    pub pty_root: Option<PathBuf>,
    /// The command itself takes the pty as its controlling terminal in a
    /// new session (`runc exec -t`); the exec helper does that inside the
    /// container instead.
    pub relays_tty: bool,
}

impl Engine {
    /// Checks the request and the container and builds the command.
    pub fn exec_target(
        &self,
        key: &str,
        req: &ExecStreamRequest,
    ) -> Result<ExecTarget, EngineError> {
        if req.cmd.is_empty() {
            return Err(EngineError::Invalid("exec: cmd must not be empty".into()));
        }
        let record = self.find(key)?;
        let container = record.handle();
        let pty_root = if req.tty {
            Some(container.pty_root()?)
        } else {
            None
        };
        Ok(ExecTarget {
            name: record.spec.name.clone(),
            command: container.exec_command(&stream_request(req), req.tty)?,
            pty_root,
            relays_tty: req.tty && container.exec_relays_tty(),
        })
    }
}

impl Engine {
    /// Runs the command in the running container `key` with this process's
    /// own standard streams (its terminal, when it has one) and answers its
    /// exit code: the CLI's exec when no daemon answers. Without `stdin`
    /// the command reads /dev/null, as through the daemon.
    pub fn exec_here(&self, key: &str, req: &ExecStreamRequest) -> Result<i32, EngineError> {
        let record = self.find(key)?;
        let request = stream_request(req);
        if req.stdin {
            return Ok(stack_runtime::handle::exec_here(&record.dir, &request)?);
        }
        let mut command = match record.handle().exec_command(&request, false)? {
            ExecCommand::Ready(command) => command,
            ExecCommand::NotFound(err) => {
                eprintln!("stack exec: {err}");
                return Ok(CANNOT_FIND);
            }
        };
        let status = command
            .stdin(std::process::Stdio::null())
            .status()
            .map_err(EngineError::io("start the exec"))?;
        Ok(status.code().unwrap_or(255))
    }
}

impl Engine {
    /// Starts the command in the running container `key` and does not wait
    /// for it (`exec -d`): no input, its output dropped. A program the
    /// container does not have is an error, since nobody will read an
    /// exit code.
    pub fn exec_detached(&self, key: &str, req: &ExecStreamRequest) -> Result<(), EngineError> {
        let record = self.find(key)?;
        let mut command = match record.handle().exec_command(&stream_request(req), false)? {
            ExecCommand::Ready(command) => command,
            ExecCommand::NotFound(err) => return Err(EngineError::Invalid(err.to_string())),
        };
        command
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(EngineError::io("start the exec"))?;
        Ok(())
    }
}

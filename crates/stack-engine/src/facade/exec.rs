//! An attached exec, prepared: every check that can fail is made here,
//! before a front end commits to a session (the daemon before it upgrades
//! the connection, the CLI before it takes over the terminal), so a bad
//! request is a plain error answer.

use std::path::PathBuf;

use stack_api::exec_stream::ExecStreamRequest;

use super::{Engine, EngineError};

pub use stack_runtime::exec::CANNOT_FIND;
pub use stack_runtime::handle::ExecCommand;

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
            command: container.exec_command(&req.exec_request(), req.tty)?,
            pty_root,
            relays_tty: req.tty && container.exec_relays_tty(),
        })
    }
}

//! Preparing an attached exec (the daemon's side of `stack exec` /
//! `stack container exec`): every check that can fail is made here, before
//! the connection is upgraded, so the client gets a plain error answer.
//! Without a daemon the CLI runs the same exec helper in process with its
//! own terminal, so both paths end in the runtime's exec mode.

use crate::error::ApiError;
use crate::exec_stream::pty::Pty;
use crate::exec_stream::session::Attached;
use crate::exec_stream::{DEFAULT_COLS, DEFAULT_ROWS};
use crate::ops::Host;
use stack_api::exec_stream::ExecStreamRequest;

impl Host {
    /// Checks the request and the container, opens the pty when asked, and
    /// builds the command (the exec helper, or `runc exec`; not started).
    pub fn attached_exec(&self, key: &str, req: &ExecStreamRequest) -> Result<Attached, ApiError> {
        if req.cmd.is_empty() {
            return Err(ApiError::bad_request("exec: cmd must not be empty"));
        }
        let record = self.containers().find(key)?;
        let container = record.handle();
        let request = req.exec_request();
        let pty = if req.tty {
            let rows = req.rows.unwrap_or(DEFAULT_ROWS);
            let cols = req.cols.unwrap_or(DEFAULT_COLS);
            Some(
                Pty::open_in(&container.pty_root()?, rows, cols).map_err(|e| {
                    ApiError::internal(format!(
                        "container {}: allocate a pty: {e}",
                        record.spec.name
                    ))
                })?,
            )
        } else {
            None
        };
        Ok(Attached {
            command: container.exec_command(&request, req.tty)?,
            controlling_tty: pty.is_some() && container.exec_relays_tty(),
            pty,
            stdin: req.stdin,
        })
    }
}

//! Preparing an attached exec (the daemon's side of `stack exec` /
//! `stack container exec`): the engine checks the request and builds the
//! command, the pty is opened here, all before the connection is
//! upgraded, so the client gets a plain error answer.

use crate::error::ApiError;
use crate::exec_stream::pty::Pty;
use crate::exec_stream::session::Attached;
use crate::exec_stream::{DEFAULT_COLS, DEFAULT_ROWS};
use stack_api::exec_stream::ExecStreamRequest;
use stack_engine::facade::Engine;

/// The session of an attached exec, not started yet.
pub fn attached_exec(
    engine: &Engine,
    key: &str,
    req: &ExecStreamRequest,
) -> Result<Attached, ApiError> {
    let target = engine.exec_target(key, req)?;
    let pty = match &target.pty_root {
        Some(root) => {
            let rows = req.rows.unwrap_or(DEFAULT_ROWS);
            let cols = req.cols.unwrap_or(DEFAULT_COLS);
            Some(Pty::open_in(root, rows, cols).map_err(|e| {
                ApiError::internal(format!("container {}: allocate a pty: {e}", target.name))
            })?)
        }
        None => None,
    };
    Ok(Attached {
        command: target.command,
        controlling_tty: pty.is_some() && target.relays_tty,
        pty,
        stdin: req.stdin,
    })
}

//! Preparing an attached exec (the daemon's side of `stack exec` /
//! `stack container exec`): every check that can fail is made here, before
//! the connection is upgraded, so the client gets a plain error answer.
//! Without a daemon the CLI runs the same exec helper in process with its
//! own terminal, so both paths end in the runtime's exec mode.

use stack_runtime::spec::Backend;
use stack_runtime::state::Status;

use crate::error::ApiError;
use crate::exec_stream::pty::Pty;
use crate::exec_stream::session::Attached;
use crate::exec_stream::{ExecStreamRequest, DEFAULT_COLS, DEFAULT_ROWS};
use crate::ops::Host;

impl Host {
    /// Checks the request and the container, opens the pty when asked, and
    /// builds the command (the exec helper, or `runc exec`; not started).
    pub fn attached_exec(&self, key: &str, req: &ExecStreamRequest) -> Result<Attached, ApiError> {
        if req.cmd.is_empty() {
            return Err(ApiError::bad_request("exec: cmd must not be empty"));
        }
        let record = self.containers().find(key)?;
        let pid = record
            .state
            .pid
            .filter(|_| {
                record.state.effective_status() == Status::Running && record.state.container_alive()
            })
            .ok_or_else(|| stack_runtime::Error::NotRunning(record.spec.name.clone()))?;
        let rows = req.rows.unwrap_or(DEFAULT_ROWS);
        let cols = req.cols.unwrap_or(DEFAULT_COLS);
        let request = stack_runtime::exec::ExecRequest {
            args: req.cmd.clone(),
            env: req.env.clone(),
            user: req.user.clone().unwrap_or_default(),
            cwd: req.workdir.clone().unwrap_or_default(),
        };
        if record.spec.backend == Backend::Runc {
            return runc_exec(&record.spec, pid, &request, req, rows, cols);
        }
        let pty = if req.tty {
            let root = std::path::PathBuf::from(format!("/proc/{pid}/root"));
            Some(Pty::open_in(&root, rows, cols).map_err(|e| {
                ApiError::internal(format!(
                    "container {}: allocate a pty: {e}",
                    record.spec.name
                ))
            })?)
        } else {
            None
        };
        let mut json = serde_json::to_value(&request)
            .map_err(|e| ApiError::internal(format!("exec request: {e}")))?;
        // Read by the helper: the command takes the pty as its terminal.
        json["tty"] = serde_json::Value::Bool(req.tty);
        let exe = std::env::current_exe()
            .map_err(|e| ApiError::internal(format!("locate the stack binary: {e}")))?;
        let mut command = std::process::Command::new(exe);
        command
            .arg(stack_runtime::launch::EXEC_MODE)
            .arg(record.dir.path())
            .arg(json.to_string());
        Ok(Attached {
            command,
            pty,
            controlling_tty: false,
            stdin: req.stdin,
            not_found: None,
        })
    }
}

/// `runc exec` with pipes, or with `--tty` and a host pty as its stdio:
/// runc makes the container's pty and relays between the two (sizes and
/// SIGHUP included, once this pty is its controlling terminal).
fn runc_exec(
    spec: &stack_runtime::spec::ContainerSpec,
    pid: i32,
    request: &stack_runtime::exec::ExecRequest,
    req: &ExecStreamRequest,
    rows: u16,
    cols: u16,
) -> Result<Attached, ApiError> {
    let pty = if req.tty {
        Some(
            Pty::open_in(std::path::Path::new("/"), rows, cols).map_err(|e| {
                ApiError::internal(format!("container {}: allocate a pty: {e}", spec.name))
            })?,
        )
    } else {
        None
    };
    let flags: &[&std::ffi::OsStr] = if req.tty { &["--tty".as_ref()] } else { &[] };
    let command = stack_runtime::runc::exec_command(spec, pid, request, flags)
        .map_err(|e| ApiError::bad_request(format!("container {}: {e}", spec.name)))?;
    Ok(Attached {
        command,
        controlling_tty: pty.is_some(),
        pty,
        stdin: req.stdin,
        not_found: stack_runtime::runc::missing_command(spec, pid, request).map(|e| e.to_string()),
    })
}

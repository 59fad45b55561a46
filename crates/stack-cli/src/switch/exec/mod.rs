//! `exec` through the daemon (attached streams over an upgraded
//! connection) or in process (the runtime's exec helper sharing this
//! process's standard streams). Both end in the same exec helper, so the
//! command sees the same container, user and environment, prints the same
//! bytes and exits with the same code.

mod attach;
pub mod terminal;

use std::process::Stdio;

use miette::IntoDiagnostic;
use stack_api::exec_stream::ExecStreamRequest;
use stack_runtime::handle::ExecCommand;

use super::Via;

/// The request for a command run from this terminal: a tty when asked for
/// and stdin is one, sized like it.
pub fn request(
    cmd: Vec<String>,
    env: Vec<String>,
    user: Option<String>,
    workdir: Option<String>,
    tty: bool,
    stdin: bool,
) -> ExecStreamRequest {
    let size = if tty {
        terminal::size(0).or(terminal::size(1))
    } else {
        None
    };
    ExecStreamRequest {
        cmd,
        env,
        user,
        workdir,
        tty,
        stdin,
        rows: size.map(|s| s.0),
        cols: size.map(|s| s.1),
    }
}

impl Via {
    /// Runs `req` in the running container `key`; returns its exit code.
    pub fn exec(&self, key: &str, req: &ExecStreamRequest) -> miette::Result<i32> {
        match self {
            Via::Daemon(c) => attach::run(c, key, req),
            Via::InProcess(h) => {
                let record = h.containers().find(key).into_diagnostic()?;
                in_process(&record, req)
            }
        }
    }
}

/// The exec helper (or `runc exec`) here, with this process's streams
/// (its terminal, when it has one). Without `stdin` the command reads
/// /dev/null, as through the daemon.
pub fn in_process(
    record: &stack_engine::containers::ContainerRecord,
    req: &ExecStreamRequest,
) -> miette::Result<i32> {
    let request = req.exec_request();
    if req.stdin {
        return stack_runtime::handle::exec_here(&record.dir, &request).into_diagnostic();
    }
    let mut command = match record
        .handle()
        .exec_command(&request, false)
        .into_diagnostic()?
    {
        ExecCommand::Ready(command) => command,
        ExecCommand::NotFound(err) => {
            eprintln!("stack exec: {err}");
            return Ok(stack_runtime::exec::CANNOT_FIND);
        }
    };
    let status = command.stdin(Stdio::null()).status().into_diagnostic()?;
    Ok(status.code().unwrap_or(255))
}

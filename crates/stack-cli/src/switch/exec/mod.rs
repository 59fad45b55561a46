//! `exec` through the daemon (attached streams over an upgraded
//! connection) or in process (the runtime's exec helper sharing this
//! process's standard streams). Both end in the same exec helper, so the
//! command sees the same container, user and environment, prints the same
//! bytes and exits with the same code.

mod attach;
pub mod terminal;

use miette::IntoDiagnostic;
use stack_api::exec_stream::ExecStreamRequest;

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
            Via::InProcess(engine) => engine.exec_here(key, req).into_diagnostic(),
        }
    }
}

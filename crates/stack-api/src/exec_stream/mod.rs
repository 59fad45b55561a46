//! Exec with attached streams (`POST /v1/containers/{id}/exec/stream`), as
//! `docker exec -i -t` through dockerd: the request names the command;
//! the daemon answers `101 Switching Protocols` and the connection then
//! carries [`frame`]s both ways until the exit frame. Running the command
//! (its pty, its session) is the daemon's business; this is only what
//! travels.

pub mod frame;

use serde::{Deserialize, Serialize};

/// The `Upgrade` protocol names the route accepts: its own (the one the
/// client asks for), and Docker's.
pub const PROTOCOLS: [&str; 2] = ["stack-exec", "tcp"];

/// The body of `POST /v1/containers/{id}/exec/stream`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ExecStreamRequest {
    pub cmd: Vec<String>,
    /// Added to the container's environment (`KEY=VALUE`).
    #[serde(default)]
    pub env: Vec<String>,
    /// Default: the container's user.
    #[serde(default)]
    pub user: Option<String>,
    /// Default: the container's working directory.
    #[serde(default)]
    pub workdir: Option<String>,
    /// Give the command a pty (stdout and stderr then arrive as one stream).
    #[serde(default)]
    pub tty: bool,
    /// Forward the client's stdin frames; without, the command's stdin is
    /// `/dev/null` (or the idle pty).
    #[serde(default)]
    pub stdin: bool,
    /// Initial terminal size (with `tty`).
    #[serde(default)]
    pub rows: Option<u16>,
    #[serde(default)]
    pub cols: Option<u16>,
}

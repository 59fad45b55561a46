//! Exec with attached streams (`POST /v1/containers/{id}/exec/stream`), as
//! `docker exec -i -t` through dockerd: the request names the command;
//! the daemon answers `101 Switching Protocols` and the connection then
//! carries frames both ways until the exit frame.
//!
//! - `stack_api::exec_stream`: the request and the framing (type, length,
//!   payload), shared with the client.
//! - [`pty`]: a pty from the container's own devpts.
//! - [`session`]: one running exec over an upgraded connection.
//! - [`wire`]: the native framing, or Docker's hijacked stream (`docker
//!   exec` runs through the same session).
//! - [`reap`]: finding and killing what a vanished client left running.

pub mod pty;
mod reap;
pub mod session;
pub mod wire;

/// Terminal size used when a tty is asked for without one.
pub const DEFAULT_ROWS: u16 = 24;
pub const DEFAULT_COLS: u16 = 80;

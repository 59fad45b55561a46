//! The stack daemon's native API as both sides see it: the JSON bodies,
//! the route paths, and the typed client the CLI calls over the UNIX
//! socket. The daemon serves these types and paths, the CLI sends them;
//! keeping them in one crate that depends on neither is what makes the
//! two agree by construction.
//!
//! - [`api`]: the [`Api`](api::Api) trait, every operation of a host, which
//!   the client and the engine facade both implement.
//! - [`error`]: the classes of failure and the [`Failure`](error::Failure)
//!   every front end sees.
//! - [`system`]: error bodies, version, containers, images, events.
//! - [`projects`]: a project's plan, `up`, `down`, `ps` and the list.
//! - [`project_actions`]: `start`, `stop`, `restart`, `kill`, `rm`.
//! - [`objects`]: networks and volumes.
//! - [`docker`]: the Docker Engine API's bodies, which the daemon also
//!   serves on its socket.
//! - [`exec_stream`]: the exec request and the frames of its stream.
//! - [`paths`]: every route's template and its concrete path.
//! - [`client`]: HTTP/1 over the socket.
//!
//! Known debt: `up` carries the whole [`stack_spec::Project`], so the
//! wire format of a stack is the model itself and this crate depends on
//! `stack-spec` for it. Nothing here may depend on the runtime, the
//! engine, the daemon or the CLI.

pub mod api;
#[cfg(feature = "client")]
pub mod client;
pub mod docker;
pub mod error;
pub mod exec_stream;
pub mod objects;
pub mod paths;
pub mod project_actions;
pub mod projects;
pub mod system;

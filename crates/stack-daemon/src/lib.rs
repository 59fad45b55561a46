//! The stack daemon: a versioned JSON REST API (`/v1/...`) on a UNIX
//! socket, and its client.
//!
//! - [`server`]: socket, access check (SO_PEERCRED), graceful shutdown.
//! - [`routes`](crate::routes): one table of routes over [`ops`].
//! - [`ops`]: the blocking operations on one host's containers and images;
//!   the CLI calls them directly when no daemon answers, so both paths
//!   print the same thing.
//! - [`client`]: HTTP/1 over the socket for the CLI.
//! - [`adopt`]: what the daemon knows of containers across its restarts.
//!
//! axum serves the routes, on hyper connections accepted by hand so each
//! one's peer credentials are checked before any request is read.

pub mod adopt;
pub mod api;
pub mod auth;
pub mod boot;
pub mod client;
pub mod error;
pub mod events;
mod exec_ops;
pub mod exec_stream;
pub mod objects_api;
mod objects_ops;
pub mod ops;
mod progress;
pub mod project_actions;
pub mod project_actions_api;
pub mod project_ops;
pub mod projects_api;
pub mod routes;
pub mod server;
pub mod socket;
pub mod status_text;
pub mod view;

pub use error::{ApiError, DaemonError};
pub use server::{init_logging, run, Options};

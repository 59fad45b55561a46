//! The stack daemon: a versioned JSON REST API (`/v1/...`) on a UNIX
//! socket. Its wire types, route paths and client live in `stack-api`,
//! which the CLI uses without the daemon's internals.
//!
//! - [`server`]: socket, access check (SO_PEERCRED), graceful shutdown.
//! - [`routes`](crate::routes): one table of routes over the engine facade
//!   (`stack_engine::facade::Engine`), which the CLI also calls directly
//!   when no daemon answers, so both paths print the same thing.
//! - [`adopt`]: what the daemon knows of containers across its restarts.
//! - [`docker`]: Docker's Engine API on the same socket, over the same
//!   facade (`/v1.NN/...` and unversioned paths; the native API is `/v1/`).
//!
//! axum serves the routes, on hyper connections accepted by hand so each
//! one's peer credentials are checked before any request is read.

pub mod adopt;
pub mod auth;
pub mod docker;
pub mod error;
mod exec_ops;
pub mod exec_stream;
pub mod routes;
pub mod server;
pub mod socket;

pub use error::{ApiError, DaemonError};
pub use server::{init_logging, run, Options};

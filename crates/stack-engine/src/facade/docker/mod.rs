//! The engine's answers in the Docker Engine API's shapes
//! (`stack_api::docker`), for the daemon's Docker routes. The operations
//! are the facade's own (list, create, pull, remove...); what is here is
//! the Docker view of their results, and the mapping of Docker's create
//! requests onto what `stack run` and `stack network create` take.
//!
//! - [`containers`]: the list and the inspect document.
//! - [`create`]: `POST /containers/create` as run options.
//! - [`images`]: the list, inspect, remove, and pull progress lines.
//! - [`objects`]: networks and volumes.
//! - [`system`]: version and info.

pub mod containers;
pub mod create;
pub mod images;
pub mod objects;
pub mod system;

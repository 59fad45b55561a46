//! The engine's answers in the Docker Engine API's shapes
//! (`stack_api::docker`), for the daemon's Docker routes. The operations
//! are the facade's own (list, create, pull, remove...); what is here is
//! the Docker view of their results, and the mapping of Docker's create
//! requests onto what `stack run` and `stack network create` take.
//!
//! - [`containers`]: the list and the inspect document.
//! - [`create`]: `POST /containers/create` as run options.
//! - [`connect`]: a network added to or taken from a created container.
//! - [`df`]: what takes disk, for `docker system df`.
//! - [`events`]: the event log as `GET /events` streams it.
//! - [`mounts`]: `HostConfig.Mounts` as `-v` and `--tmpfs` values.
//! - [`images`]: the list, inspect, remove, and pull progress lines.
//! - [`objects`]: networks and volumes.
//! - [`prune`]: the prune endpoints.
//! - [`push`]: push and tag, with push progress lines.
//! - [`stats`]: a container's counters for `docker stats`.
//! - [`system`]: version and info.

pub mod build;
pub mod connect;
pub mod containers;
pub mod create;
pub mod df;
pub mod events;
pub mod images;
pub mod mounts;
pub mod objects;
pub mod prune;
pub mod push;
pub mod stats;
pub mod system;

/// Go's zero time, which Docker's clients parse where a time is unknown
/// (an empty string fails to parse in them).
pub const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// A time as Docker's clients can parse it: the text, or Go's zero time.
pub fn time_or_zero(text: &str) -> String {
    if text.is_empty() {
        GO_ZERO_TIME.to_string()
    } else {
        text.to_string()
    }
}

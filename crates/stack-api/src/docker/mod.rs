//! Docker Engine API wire types: the bodies Docker's clients (the docker
//! CLI, Compose, the SDKs) send and read, with Docker's field names.
//!
//! They live here, beside the native types, because two crates need them:
//! the engine facade answers in them (its Docker views, and the mapping of
//! a Docker create request onto a container's run options, which must be
//! the engine's so `stack run` and `POST /containers/create` share it), and
//! the daemon serves them. Only the fields stack fills or reads are
//! declared; a create request keeps every other field it carries
//! ([`create::ContainerCreateRequest::unmapped`]) so the engine can refuse
//! an option it does not support instead of ignoring it.
//!
//! - [`system`]: `version`, `info`.
//! - [`containers`]: list, inspect, wait.
//! - [`create`]: `POST /containers/create`.
//! - [`events`]: the `GET /events` stream.
//! - [`images`]: list, inspect, remove, pull progress.
//! - [`objects`]: networks and volumes.
//! - [`prune`]: what the prune endpoints answer.
//! - [`stats`]: a container's counters as `docker stats` reads them.
//! - [`filters`]: the `filters` query parameter, in both encodings.

pub mod build;
pub mod containers;
pub mod create;
pub mod events;
pub mod filters;
pub mod images;
pub mod objects;
pub mod prune;
pub mod stats;
pub mod system;

use serde::{Deserialize, Serialize};

/// The highest API version served: the fields of every answer up to it
/// are the ones stack fills.
pub const API_VERSION: &str = "1.44";
/// The oldest API version a client may ask for.
pub const MIN_API_VERSION: &str = "1.24";

/// Every Docker error: `{"message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub message: String,
}

/// Whether a JSON value is what Docker's Go clients send for an option
/// left alone: null, false, 0, "", an empty list or map, or a list of
/// such values only (`"ConsoleSize": [0, 0]`). A map with any key is set
/// (`"Volumes": {"/data": {}}` asks for a volume).
pub fn is_unset(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.iter().all(is_unset),
        Value::Object(map) => map.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unset_values_are_go_zero_values() {
        for v in [
            json!(null),
            json!(false),
            json!(0),
            json!(""),
            json!([]),
            json!({}),
            json!([0, 0]),
        ] {
            assert!(is_unset(&v), "{v}");
        }
        for v in [
            json!(true),
            json!(1),
            json!("x"),
            json!(["a"]),
            json!({"a": 1}),
        ] {
            assert!(!is_unset(&v), "{v}");
        }
    }
}

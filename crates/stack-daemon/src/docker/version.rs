//! Which API a path is for, and the Docker version it asks for. The
//! native API lives under `/v1/`; Docker's paths carry `/v1.NN/` or no
//! prefix at all.

use axum::http::StatusCode;
use stack_api::docker::{API_VERSION, MIN_API_VERSION};

use super::error::DockerError;

/// The newest version prefix accepted: clients pinned to a newer version
/// than [`API_VERSION`] (`DOCKER_API_VERSION=1.50`) still reach the same
/// routes.
pub const MAX_PREFIX: (u32, u32) = (1, 50);

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Native,
    /// A Docker path without its version prefix, and that version.
    Docker {
        path: String,
        version: Option<(u32, u32)>,
    },
}

/// `/v1` and `/v1/...` are native; `/vX.Y/...` is Docker at version X.Y;
/// anything else is an unversioned Docker path.
pub fn route(path: &str) -> Target {
    if path == "/v1" || path.starts_with("/v1/") {
        return Target::Native;
    }
    if let Some(rest) = path.strip_prefix("/v") {
        let (prefix, tail) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if let Some(version) = parse(prefix) {
            return Target::Docker {
                path: tail.to_string(),
                version: Some(version),
            };
        }
    }
    Target::Docker {
        path: path.to_string(),
        version: None,
    }
}

/// `1.43` as `(1, 43)`.
pub fn parse(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(major) || !digits(minor) {
        return None;
    }
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Docker's answer to a version it does not serve.
pub fn check(version: (u32, u32)) -> Result<(), DockerError> {
    let min = parse(MIN_API_VERSION).unwrap_or((1, 24));
    let text = format!("{}.{}", version.0, version.1);
    if version < min {
        return Err(DockerError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "client version {text} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version"
            ),
        ));
    }
    if version > MAX_PREFIX {
        return Err(DockerError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "client version {text} is too new. Maximum supported API version is {API_VERSION}"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docker(path: &str, version: Option<(u32, u32)>) -> Target {
        Target::Docker {
            path: path.into(),
            version,
        }
    }

    #[test]
    fn native_and_docker_paths_are_told_apart() {
        assert_eq!(route("/v1/containers"), Target::Native);
        assert_eq!(route("/v1"), Target::Native);
        assert_eq!(
            route("/v1.43/containers/json"),
            docker("/containers/json", Some((1, 43)))
        );
        assert_eq!(route("/v1.24/_ping"), docker("/_ping", Some((1, 24))));
        assert_eq!(route("/v1.50"), docker("/", Some((1, 50))));
        assert_eq!(route("/_ping"), docker("/_ping", None));
        assert_eq!(route("/version"), docker("/version", None));
        assert_eq!(route("/v1x/ping"), docker("/v1x/ping", None));
        assert_eq!(route("/v1.x/ping"), docker("/v1.x/ping", None));
        assert_eq!(route("/volumes"), docker("/volumes", None));
    }

    #[test]
    fn versions_outside_the_range_are_refused_in_dockers_words() {
        assert!(check((1, 24)).is_ok());
        assert!(check((1, 43)).is_ok());
        assert!(check((1, 50)).is_ok());
        let old = check((1, 20)).expect_err("too old");
        assert!(old.message.contains("too old"), "{}", old.message);
        assert_eq!(old.status, StatusCode::BAD_REQUEST);
        assert!(check((1, 51))
            .expect_err("too new")
            .message
            .contains("too new"));
        assert!(check((2, 0)).is_err());
    }
}

//! `/_ping`, `/version`, `/info`.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use axum::response::IntoResponse;
use axum::Json;
use stack_api::docker::system::{Info, Version};
use stack_api::docker::API_VERSION;

use super::error::{blocking, DockerError};
use crate::routes::AppState;

/// `OK` with the headers Docker's clients negotiate from (`HEAD` gets
/// the same headers without the body).
pub async fn ping() -> impl IntoResponse {
    (
        [
            ("Api-Version", API_VERSION),
            ("OSType", "linux"),
            ("Docker-Experimental", "false"),
            ("Swarm", "inactive"),
            // The classic builder's protocol: `docker build` sends its
            // context to `POST /build` without asking for BuildKit.
            ("Builder-Version", "1"),
            (
                CACHE_CONTROL.as_str(),
                "no-cache, no-store, must-revalidate",
            ),
            (PRAGMA.as_str(), "no-cache"),
            (CONTENT_TYPE.as_str(), "text/plain; charset=utf-8"),
        ],
        "OK",
    )
}

pub async fn version(State(s): State<AppState>) -> Json<Version> {
    Json(s.engine.docker_version())
}

pub async fn info(State(s): State<AppState>) -> Result<Json<Info>, DockerError> {
    blocking(move || Ok(s.engine.docker_info())).await.map(Json)
}

/// `GET /plugins`: stack has none.
pub async fn plugins() -> Json<Vec<serde_json::Value>> {
    Json(Vec::new())
}

/// `GET /plugins/{name}/json`: never found.
pub async fn plugin(axum::extract::Path(name): axum::extract::Path<String>) -> DockerError {
    DockerError::new(
        axum::http::StatusCode::NOT_FOUND,
        format!("plugin {name:?} not found"),
    )
}

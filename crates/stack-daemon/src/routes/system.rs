//! Health and version.

use axum::http::header::CACHE_CONTROL;
use axum::response::IntoResponse;
use axum::Json;

use stack_api::system::{VersionInfo, API_VERSION};

/// `GET /v1/_ping`: `OK` while the daemon serves.
pub async fn ping() -> impl IntoResponse {
    (
        [
            ("Api-Version", API_VERSION),
            (
                CACHE_CONTROL.as_str(),
                "no-cache, no-store, must-revalidate",
            ),
        ],
        "OK",
    )
}

/// `GET /v1/version`.
pub async fn version() -> Json<VersionInfo> {
    Json(VersionInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        api_version: API_VERSION.to_string(),
        os: std::env::consts::OS.to_string(),
        arch: std::env::consts::ARCH.to_string(),
        pid: std::process::id(),
    })
}

//! `GET /system/df`: `type` (repeatable: `container`, `image`, `volume`,
//! `build-cache`) picks the kinds; none means all.

use axum::extract::{RawQuery, State};
use axum::Json;
use stack_api::docker::system::DiskUsage;

use super::error::{blocking, DockerError};
use crate::routes::AppState;

pub async fn disk_usage(
    State(s): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<DiskUsage>, DockerError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
            .map_err(|e| DockerError::bad_request(format!("bad query: {e}")))?;
    if let Some((key, _)) = pairs.iter().find(|(k, _)| k != "type") {
        return Err(DockerError::bad_request(format!(
            "system/df: unknown parameter {key:?}"
        )));
    }
    let types: Vec<String> = pairs.into_iter().map(|(_, v)| v).collect();
    blocking(move || Ok(s.engine.docker_system_df(&types)?))
        .await
        .map(Json)
}

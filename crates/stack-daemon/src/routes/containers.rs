//! `/v1/containers`: list, inspect, logs, start, stop, restart, kill,
//! remove, exec.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;

use super::extract::{J, Q};
use super::{blocking, outcome_status, stream, AppState};
use crate::error::ApiError;

use stack_api::system::{
    ContainerFilter, ContainerSummary, ContainerUpdate, ExecRequest, ExecResult,
};

pub async fn list(
    State(s): State<AppState>,
    Q(filter): Q<ContainerFilter>,
) -> Result<Json<Vec<ContainerSummary>>, ApiError> {
    blocking(move || Ok::<_, ApiError>(s.engine.list_containers(&filter)))
        .await
        .map(Json)
}

pub async fn inspect(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(move || s.engine.inspect(&id)).await.map(Json)
}

#[derive(Debug, Deserialize)]
pub struct LogsQuery {
    #[serde(default)]
    follow: bool,
}

/// NDJSON of log records: what the log holds, then (with `follow`) new
/// records until the container stops or the client leaves.
pub async fn logs(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<LogsQuery>,
) -> Result<Response, ApiError> {
    let source = blocking(move || s.engine.log_source(&id)).await?;
    let (lines, response) = stream::ndjson();
    tokio::task::spawn_blocking(move || {
        if let Err(err) = source.read(q.follow, |record| lines.send(record)) {
            tracing::warn!(%err, "read log");
        }
    });
    Ok(response)
}

pub async fn start(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    blocking(move || s.engine.start(&id))
        .await
        .map(outcome_status)
}

#[derive(Debug, Deserialize)]
pub struct StopQuery {
    /// Seconds before SIGKILL; default the container's stop timeout.
    t: Option<u64>,
}

pub async fn stop(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<StopQuery>,
) -> Result<StatusCode, ApiError> {
    blocking(move || s.engine.stop(&id, q.t))
        .await
        .map(outcome_status)
}

pub async fn restart(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<StopQuery>,
) -> Result<StatusCode, ApiError> {
    blocking(move || s.engine.restart(&id, q.t)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct KillQuery {
    signal: Option<String>,
}

pub async fn kill(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<KillQuery>,
) -> Result<StatusCode, ApiError> {
    let signal = q.signal.unwrap_or_else(|| "KILL".into());
    blocking(move || s.engine.kill(&id, &signal)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn pause(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    blocking(move || s.engine.pause(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn unpause(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    blocking(move || s.engine.unpause(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// New limits and restart policy; answers every value now in force.
pub async fn update(
    State(s): State<AppState>,
    Path(id): Path<String>,
    J(req): J<ContainerUpdate>,
) -> Result<Json<ContainerUpdate>, ApiError> {
    blocking(move || s.engine.update(&id, &req)).await.map(Json)
}

#[derive(Debug, Deserialize)]
pub struct RemoveQuery {
    #[serde(default)]
    force: bool,
}

pub async fn remove(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<RemoveQuery>,
) -> Result<StatusCode, ApiError> {
    blocking(move || s.engine.remove(&id, q.force)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn exec(
    State(s): State<AppState>,
    Path(id): Path<String>,
    J(req): J<ExecRequest>,
) -> Result<Json<ExecResult>, ApiError> {
    blocking(move || s.engine.exec(&id, &req)).await.map(Json)
}

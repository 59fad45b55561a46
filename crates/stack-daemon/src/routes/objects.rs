//! `/v1/networks` and `/v1/volumes`: list, inspect, create, remove, prune.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post};
use axum::Json;
use serde::Deserialize;
use stack_api::paths;

use super::extract::{J, Q};
use super::{blocking, AppState, Route};
use crate::error::ApiError;
use stack_api::objects::{
    NetworkCreateRequest, NetworkPruneResult, NetworkSummary, VolumeCreateRequest,
    VolumePruneResult, VolumeSummary,
};

pub(super) fn routes() -> Vec<Route> {
    vec![
        (Method::GET, paths::NETWORKS, get(list_networks)),
        (Method::POST, paths::NETWORKS, post(create_network)),
        (Method::POST, paths::NETWORKS_PRUNE, post(prune_networks)),
        (Method::GET, paths::NETWORK, get(inspect_network)),
        (Method::DELETE, paths::NETWORK, delete(remove_network)),
        (Method::GET, paths::VOLUMES, get(list_volumes)),
        (Method::POST, paths::VOLUMES, post(create_volume)),
        (Method::POST, paths::VOLUMES_PRUNE, post(prune_volumes)),
        (Method::GET, paths::VOLUME, get(inspect_volume)),
        (Method::DELETE, paths::VOLUME, delete(remove_volume)),
    ]
}

async fn list_networks(State(s): State<AppState>) -> Result<Json<Vec<NetworkSummary>>, ApiError> {
    blocking(move || s.engine.list_networks()).await.map(Json)
}

async fn inspect_network(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<NetworkSummary>, ApiError> {
    blocking(move || s.engine.inspect_network(&name))
        .await
        .map(Json)
}

async fn create_network(
    State(s): State<AppState>,
    J(req): J<NetworkCreateRequest>,
) -> Result<(StatusCode, Json<NetworkSummary>), ApiError> {
    let made = blocking(move || s.engine.create_network(&req)).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

async fn remove_network(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    blocking(move || s.engine.remove_network(&name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn prune_networks(State(s): State<AppState>) -> Result<Json<NetworkPruneResult>, ApiError> {
    blocking(move || s.engine.prune_networks()).await.map(Json)
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    /// Docker's JSON filter map, `{"label": ["k=v"]}`.
    #[serde(default)]
    filters: Option<String>,
}

async fn list_volumes(
    State(s): State<AppState>,
    Q(q): Q<ListQuery>,
) -> Result<Json<Vec<VolumeSummary>>, ApiError> {
    let filters: BTreeMap<String, Vec<String>> = match q.filters.as_deref() {
        None | Some("") => BTreeMap::new(),
        Some(text) => serde_json::from_str(text).map_err(|e| {
            ApiError::bad_request(format!(
                "filters {text:?}: expected a JSON map of lists of strings: {e}"
            ))
        })?,
    };
    blocking(move || s.engine.list_volumes(&filters))
        .await
        .map(Json)
}

async fn inspect_volume(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<VolumeSummary>, ApiError> {
    blocking(move || s.engine.inspect_volume(&name))
        .await
        .map(Json)
}

/// 201 when made now, 200 when a volume of that name already existed.
async fn create_volume(
    State(s): State<AppState>,
    J(req): J<VolumeCreateRequest>,
) -> Result<(StatusCode, Json<VolumeSummary>), ApiError> {
    let (volume, created) = blocking(move || s.engine.create_volume(&req)).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(volume)))
}

#[derive(Debug, Deserialize)]
struct ForceQuery {
    #[serde(default)]
    force: bool,
}

async fn remove_volume(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Q(q): Q<ForceQuery>,
) -> Result<StatusCode, ApiError> {
    blocking(move || s.engine.remove_volume(&name, q.force)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
struct PruneQuery {
    #[serde(default)]
    all: bool,
}

async fn prune_volumes(
    State(s): State<AppState>,
    Q(q): Q<PruneQuery>,
) -> Result<Json<VolumePruneResult>, ApiError> {
    blocking(move || s.engine.prune_volumes(q.all))
        .await
        .map(Json)
}

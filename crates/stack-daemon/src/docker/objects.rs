//! `/networks/...` and `/volumes/...`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use stack_api::docker::filters;
use stack_api::docker::objects::{
    Network, NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest, Volume,
    VolumeCreateRequest, VolumeList,
};

use super::error::{blocking, DockerError};
use super::extract::{flag, J, Q};
use crate::routes::AppState;

#[derive(Debug, Deserialize)]
pub struct FiltersQuery {
    #[serde(default)]
    pub filters: Option<String>,
}

pub(super) fn parse_filters(q: &FiltersQuery) -> Result<filters::Filters, DockerError> {
    filters::parse(q.filters.as_deref()).map_err(|e| DockerError::bad_request(e.to_string()))
}

pub async fn networks(
    State(s): State<AppState>,
    Q(q): Q<FiltersQuery>,
) -> Result<Json<Vec<Network>>, DockerError> {
    let filters = parse_filters(&q)?;
    blocking(move || Ok(s.engine.docker_networks(&filters)?))
        .await
        .map(Json)
}

pub async fn network(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Network>, DockerError> {
    blocking(move || Ok(s.engine.docker_network(&id)?))
        .await
        .map(Json)
}

pub async fn create_network(
    State(s): State<AppState>,
    J(req): J<NetworkCreateRequest>,
) -> Result<Response, DockerError> {
    let made = blocking(move || Ok(s.engine.docker_create_network(&req)?)).await?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

pub async fn remove_network(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, DockerError> {
    blocking(move || Ok(s.engine.docker_remove_network(&id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `200` with no body, as Docker answers.
pub async fn connect(
    State(s): State<AppState>,
    Path(id): Path<String>,
    J(req): J<NetworkConnectRequest>,
) -> Result<StatusCode, DockerError> {
    blocking(move || Ok(s.engine.docker_connect(&id, &req)?)).await?;
    Ok(StatusCode::OK)
}

pub async fn disconnect(
    State(s): State<AppState>,
    Path(id): Path<String>,
    J(req): J<NetworkDisconnectRequest>,
) -> Result<StatusCode, DockerError> {
    blocking(move || Ok(s.engine.docker_disconnect(&id, &req)?)).await?;
    Ok(StatusCode::OK)
}

pub async fn volumes(
    State(s): State<AppState>,
    Q(q): Q<FiltersQuery>,
) -> Result<Json<VolumeList>, DockerError> {
    let filters = parse_filters(&q)?;
    let volumes = blocking(move || Ok(s.engine.docker_volumes(&filters)?)).await?;
    Ok(Json(VolumeList {
        volumes,
        warnings: Vec::new(),
    }))
}

pub async fn volume(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Volume>, DockerError> {
    blocking(move || Ok(s.engine.docker_volume(&name)?))
        .await
        .map(Json)
}

pub async fn create_volume(
    State(s): State<AppState>,
    J(req): J<VolumeCreateRequest>,
) -> Result<Response, DockerError> {
    let made = blocking(move || Ok(s.engine.docker_create_volume(&req)?)).await?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct RemoveQuery {
    #[serde(default, deserialize_with = "flag")]
    force: bool,
}

pub async fn remove_volume(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Q(q): Q<RemoveQuery>,
) -> Result<StatusCode, DockerError> {
    blocking(move || {
        // Docker's 404 names the volume its own way.
        if !q.force {
            s.engine.docker_volume(&name)?;
        }
        Ok(s.engine.remove_volume(&name, q.force)?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

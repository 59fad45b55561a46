//! `docker cp`, `docker export` and `docker diff`: `HEAD`, `GET` and `PUT
//! /containers/{id}/archive`, `GET /containers/{id}/export` and
//! `/changes`. The tar is
//! written (or read) on a blocking thread while it streams; the engine
//! keeps every path inside the container ([`stack_engine::facade::archive`]).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use stack_engine::containers::ContainerError;
use stack_engine::facade::archive::{ContainerPath, CopyIn};
use stack_engine::facade::EngineError;

use super::error::{blocking, DockerError};
use super::extract::{flag, Q};
use super::stream::{BodyReader, ChunkWriter};
use crate::routes::AppState;

/// The header `docker cp` reads the path's stat from.
const PATH_STAT: &str = "X-Docker-Container-Path-Stat";

#[derive(Debug, Deserialize)]
pub struct PathQuery {
    #[serde(default)]
    path: String,
}

#[derive(Debug, Deserialize)]
pub struct PutQuery {
    #[serde(default)]
    path: String,
    #[serde(default, rename = "noOverwriteDirNonDir", deserialize_with = "flag")]
    no_overwrite_dir_non_dir: bool,
    #[serde(default, rename = "copyUIDGID", deserialize_with = "flag")]
    copy_uid_gid: bool,
}

/// A missing container in Docker's words; a missing path, or any other
/// failure, as the engine says it.
fn docker_error(key: &str) -> impl FnOnce(EngineError) -> DockerError + '_ {
    move |err| match &err {
        EngineError::Container(inner) if matches!(**inner, ContainerError::NotFound(_)) => {
            DockerError::or_no_such(err, "container", key)
        }
        _ => DockerError::from(err),
    }
}

fn required(path: &str) -> Result<(), DockerError> {
    if path.is_empty() {
        return Err(DockerError::bad_request("path cannot be empty"));
    }
    Ok(())
}

async fn find(s: &AppState, id: String, path: String) -> Result<ContainerPath, DockerError> {
    required(&path)?;
    let engine = s.engine.clone();
    blocking(move || engine.container_path(&id, &path).map_err(docker_error(&id))).await
}

fn stat_header(found: &ContainerPath) -> Result<HeaderValue, DockerError> {
    let json = serde_json::to_vec(found.stat())
        .map_err(|e| DockerError::internal(format!("path stat: {e}")))?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(json);
    HeaderValue::from_str(&encoded).map_err(|e| DockerError::internal(format!("path stat: {e}")))
}

/// `HEAD /containers/{id}/archive`: the path's stat, in the header only.
pub async fn stat(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<PathQuery>,
) -> Result<Response, DockerError> {
    let found = find(&s, id, q.path).await?;
    let mut response = StatusCode::OK.into_response();
    response
        .headers_mut()
        .insert(PATH_STAT, stat_header(&found)?);
    Ok(response)
}

/// `GET /containers/{id}/archive`: the path as a tar.
pub async fn get(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<PathQuery>,
) -> Result<Response, DockerError> {
    let found = find(&s, id, q.path).await?;
    let header = stat_header(&found)?;
    let (chunks, mut response) = super::stream::bytes("application/x-tar");
    tokio::task::spawn_blocking(move || {
        let mut out = ChunkWriter::new(chunks);
        // A failure half-way can only cut the stream short: the client
        // reads a truncated tar and says so.
        if let Err(err) = found.write_tar(&mut out) {
            tracing::warn!(%err, "archive of a container path ended early");
        }
    });
    response.headers_mut().insert(PATH_STAT, header);
    Ok(response)
}

/// `PUT /containers/{id}/archive`: a tar unpacked into a directory.
pub async fn put(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<PutQuery>,
    body: Body,
) -> Result<StatusCode, DockerError> {
    required(&q.path)?;
    let reader = BodyReader::new(body);
    let options = CopyIn {
        keep_kinds: q.no_overwrite_dir_non_dir,
        as_container_user: q.copy_uid_gid,
    };
    blocking(move || {
        s.engine
            .copy_into_container(&id, &q.path, options, reader)
            .map_err(docker_error(&id))
    })
    .await?;
    Ok(StatusCode::OK)
}

/// `GET /containers/{id}/export`: the container's root filesystem as a tar.
pub async fn export(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, DockerError> {
    let engine = s.engine.clone();
    let key = id.clone();
    let export =
        blocking(move || engine.container_export(&key).map_err(docker_error(&key))).await?;
    let (chunks, response) = super::stream::bytes("application/x-tar");
    tokio::task::spawn_blocking(move || {
        let mut out = ChunkWriter::new(chunks);
        if let Err(err) = export.write_tar(&mut out) {
            tracing::warn!(%err, container = %id, "export ended early");
        }
    });
    Ok(response)
}

/// `GET /containers/{id}/changes`: `docker diff`.
pub async fn changes(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<stack_api::docker::containers::ContainerChange>>, DockerError> {
    blocking(move || s.engine.container_changes(&id).map_err(docker_error(&id)))
        .await
        .map(axum::Json)
}

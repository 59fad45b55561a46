//! `POST /containers/prune`, `/images/prune`, `/networks/prune`,
//! `/volumes/prune` and `/build/prune` (`docker system prune` calls them
//! in turn): each a call of the facade's prune with the request's filters.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use stack_api::docker::prune::{
    BuildCachePruned, ContainersPruned, ImagesPruned, NetworksPruned, VolumesPruned,
};

use super::error::{blocking, DockerError};
use super::extract::{flag, Q};
use super::objects::{parse_filters, FiltersQuery};
use crate::routes::AppState;

pub async fn containers(
    State(s): State<AppState>,
    Q(q): Q<FiltersQuery>,
) -> Result<Json<ContainersPruned>, DockerError> {
    let filters = parse_filters(&q)?;
    blocking(move || Ok(s.engine.docker_prune_containers(&filters)?))
        .await
        .map(Json)
}

pub async fn images(
    State(s): State<AppState>,
    Q(q): Q<FiltersQuery>,
) -> Result<Json<ImagesPruned>, DockerError> {
    let filters = parse_filters(&q)?;
    blocking(move || Ok(s.engine.docker_prune_images(&filters)?))
        .await
        .map(Json)
}

pub async fn networks(
    State(s): State<AppState>,
    Q(q): Q<FiltersQuery>,
) -> Result<Json<NetworksPruned>, DockerError> {
    let filters = parse_filters(&q)?;
    blocking(move || Ok(s.engine.docker_prune_networks(&filters)?))
        .await
        .map(Json)
}

pub async fn volumes(
    State(s): State<AppState>,
    Q(q): Q<FiltersQuery>,
) -> Result<Json<VolumesPruned>, DockerError> {
    let filters = parse_filters(&q)?;
    blocking(move || Ok(s.engine.docker_prune_volumes(&filters)?))
        .await
        .map(Json)
}

/// `docker builder prune`'s query. stack's build cache has no entry in
/// use, so `all` changes nothing: the whole cache goes either way. The
/// space limits (BuildKit's garbage collection policy) are refused when
/// set.
#[derive(Debug, Deserialize)]
pub struct BuildPruneQuery {
    #[serde(default)]
    filters: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    #[allow(dead_code)]
    all: bool,
    #[serde(default, rename = "keep-storage")]
    keep_storage: Option<String>,
    #[serde(default, rename = "reserved-space")]
    reserved_space: Option<String>,
    #[serde(default, rename = "max-used-space")]
    max_used_space: Option<String>,
    #[serde(default, rename = "min-free-space")]
    min_free_space: Option<String>,
}

pub async fn build_cache(
    State(s): State<AppState>,
    Q(q): Q<BuildPruneQuery>,
) -> Result<Json<BuildCachePruned>, DockerError> {
    for (name, value) in [
        ("keep-storage", &q.keep_storage),
        ("reserved-space", &q.reserved_space),
        ("max-used-space", &q.max_used_space),
        ("min-free-space", &q.min_free_space),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !matches!(*v, "" | "0")) {
            return Err(DockerError::bad_request(format!(
                "{name}={v}: build cache size limits are not supported by stack"
            )));
        }
    }
    let filters = parse_filters(&FiltersQuery {
        filters: q.filters.clone(),
    })?;
    blocking(move || Ok(s.engine.docker_prune_build_cache(&filters)?))
        .await
        .map(Json)
}

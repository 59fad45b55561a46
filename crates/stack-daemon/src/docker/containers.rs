//! `/containers/...`: list, create, inspect, top, the lifecycle verbs
//! (pause and unpause among them), `wait` and removal.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use stack_api::docker::containers::{
    ContainerInspect, ContainerSummary, TopResponse, WaitError, WaitResponse,
};
use stack_api::docker::create::{
    ContainerCreateRequest, ContainerCreateResponse, UpdateConfig, UpdateResponse,
};
use stack_api::docker::filters;
use stack_engine::facade::containers::WaitCondition;

use super::error::{blocking, DockerError};
use super::extract::{flag, J, Q};
use crate::routes::{outcome_status, AppState};

fn no_such(key: &str) -> impl FnOnce(stack_engine::facade::EngineError) -> DockerError + '_ {
    move |e| DockerError::or_no_such(e, "container", key)
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default, deserialize_with = "flag")]
    all: bool,
    #[serde(default)]
    limit: Option<i64>,
    /// `SizeRw` and `SizeRootFs` (`docker ps -s`).
    #[serde(default, deserialize_with = "flag")]
    size: bool,
    #[serde(default)]
    filters: Option<String>,
}

pub async fn list(
    State(s): State<AppState>,
    Q(q): Q<ListQuery>,
) -> Result<Json<Vec<ContainerSummary>>, DockerError> {
    let filters = filters::parse(q.filters.as_deref())
        .map_err(|e| DockerError::bad_request(e.to_string()))?;
    let limit = q.limit.filter(|l| *l > 0).map(|l| l as usize);
    blocking(move || Ok(s.engine.docker_containers(q.all, limit, q.size, &filters)?))
        .await
        .map(Json)
}

#[derive(Debug, Deserialize)]
pub struct CreateQuery {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    platform: Option<String>,
}

pub async fn create(
    State(s): State<AppState>,
    Q(q): Q<CreateQuery>,
    J(req): J<ContainerCreateRequest>,
) -> Result<Response, DockerError> {
    if let Some(p) = q.platform.as_deref().filter(|p| !p.is_empty()) {
        let host = format!(
            "linux/{}",
            stack_engine::images::Platform::host().architecture
        );
        if p != host && p != "linux" {
            return Err(DockerError::bad_request(format!(
                "platform {p:?} is not supported: this host runs {host}"
            )));
        }
    }
    let made: ContainerCreateResponse = blocking(move || {
        s.engine
            .docker_create(q.name.as_deref().filter(|n| !n.is_empty()), &req)
            .map_err(DockerError::from)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

pub async fn inspect(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ContainerInspect>, DockerError> {
    blocking(move || s.engine.docker_inspect(&id).map_err(no_such(&id)))
        .await
        .map(Json)
}

pub async fn top(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TopResponse>, DockerError> {
    blocking(move || s.engine.processes(&id).map_err(no_such(&id)))
        .await
        .map(Json)
}

pub async fn start(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, DockerError> {
    blocking(move || s.engine.start(&id).map_err(no_such(&id)))
        .await
        .map(outcome_status)
}

#[derive(Debug, Deserialize)]
pub struct StopQuery {
    /// Seconds before SIGKILL (negative: the container's own).
    #[serde(default)]
    t: Option<i64>,
    #[serde(default)]
    signal: Option<String>,
}

impl StopQuery {
    fn grace(&self) -> Result<Option<u64>, DockerError> {
        if self.signal.as_deref().is_some_and(|s| !s.is_empty()) {
            return Err(DockerError::bad_request(
                "signal: stopping with another signal than the container's stop signal is not supported by stack",
            ));
        }
        Ok(self.t.and_then(|t| u64::try_from(t).ok()))
    }
}

pub async fn stop(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<StopQuery>,
) -> Result<StatusCode, DockerError> {
    let grace = q.grace()?;
    blocking(move || s.engine.stop(&id, grace).map_err(no_such(&id)))
        .await
        .map(outcome_status)
}

pub async fn restart(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<StopQuery>,
) -> Result<StatusCode, DockerError> {
    let grace = q.grace()?;
    blocking(move || s.engine.restart(&id, grace).map_err(no_such(&id))).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct KillQuery {
    #[serde(default)]
    signal: Option<String>,
}

pub async fn kill(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<KillQuery>,
) -> Result<StatusCode, DockerError> {
    let signal = q
        .signal
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "KILL".into());
    blocking(move || {
        let running = s.engine.docker_inspect(&id).map_err(no_such(&id))?;
        if !running.state.running {
            return Err(DockerError::new(
                StatusCode::CONFLICT,
                format!("Container {} is not running", running.id),
            ));
        }
        s.engine.kill(&id, &signal).map_err(no_such(&id))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /containers/{id}/pause`: 204, or 409 with Docker's words for a
/// container that does not run or is paused already.
pub async fn pause(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, DockerError> {
    blocking(move || {
        let found = s.engine.docker_inspect(&id).map_err(no_such(&id))?;
        let refusal = if !found.state.running {
            Some("is not running")
        } else if found.state.paused {
            Some("is already paused")
        } else {
            None
        };
        if let Some(refusal) = refusal {
            return Err(DockerError::new(
                StatusCode::CONFLICT,
                format!("Container {} {refusal}", found.id),
            ));
        }
        s.engine.pause(&id).map_err(no_such(&id))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /containers/{id}/unpause`: 204, or 409 for one not paused.
pub async fn unpause(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, DockerError> {
    blocking(move || {
        let found = s.engine.docker_inspect(&id).map_err(no_such(&id))?;
        if !found.state.paused {
            return Err(DockerError::new(
                StatusCode::CONFLICT,
                format!("Container {} is not paused", found.id),
            ));
        }
        s.engine.unpause(&id).map_err(no_such(&id))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /containers/{id}/update` (`docker update`): `Memory`,
/// `MemorySwap`, `NanoCpus`, `CpuShares`, `PidsLimit` and `RestartPolicy`;
/// any other field set is a 400 that names it.
pub async fn update(
    State(s): State<AppState>,
    Path(id): Path<String>,
    J(req): J<UpdateConfig>,
) -> Result<Json<UpdateResponse>, DockerError> {
    blocking(move || s.engine.docker_update(&id, &req).map_err(no_such(&id))).await?;
    Ok(Json(UpdateResponse::default()))
}

#[derive(Debug, Deserialize)]
pub struct WaitQuery {
    #[serde(default)]
    condition: Option<String>,
}

/// Answers at once (so the client knows it is waiting), then the exit
/// code once the condition is met.
pub async fn wait(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<WaitQuery>,
) -> Result<Response, DockerError> {
    let condition: WaitCondition = q
        .condition
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(DockerError::from)?;
    let engine = s.engine.clone();
    let key = id.clone();
    blocking(move || engine.docker_inspect(&key).map(drop).map_err(no_such(&key))).await?;
    let (tx, response) = super::stream::bytes("application/json");
    tokio::task::spawn_blocking(move || {
        let answer = match s.engine.wait(&id, condition, || !tx.closed()) {
            Ok(None) => return,
            Ok(Some(code)) => WaitResponse {
                status_code: i64::from(code),
                error: None,
            },
            Err(err) => WaitResponse {
                status_code: -1,
                error: Some(WaitError {
                    message: err.to_string(),
                }),
            },
        };
        if let Ok(mut body) = serde_json::to_vec(&answer) {
            body.push(b'\n');
            tx.send(body);
        }
    });
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct RenameQuery {
    #[serde(default)]
    name: String,
}

/// `204`; a running container is refused (409) with a message that says
/// to stop it first.
pub async fn rename(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<RenameQuery>,
) -> Result<StatusCode, DockerError> {
    if q.name.is_empty() {
        return Err(DockerError::bad_request("name: a new name is required"));
    }
    blocking(move || s.engine.rename(&id, &q.name).map_err(no_such(&id))).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct RemoveQuery {
    #[serde(default, deserialize_with = "flag")]
    force: bool,
    #[serde(default, deserialize_with = "flag")]
    v: bool,
    #[serde(default, deserialize_with = "flag")]
    link: bool,
}

pub async fn remove(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<RemoveQuery>,
) -> Result<StatusCode, DockerError> {
    if q.link {
        return Err(DockerError::bad_request(
            "link: links are not supported by stack",
        ));
    }
    blocking(move || {
        if q.v {
            s.engine.remove_with_volumes(&id, q.force)
        } else {
            s.engine.remove(&id, q.force)
        }
        .map_err(no_such(&id))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

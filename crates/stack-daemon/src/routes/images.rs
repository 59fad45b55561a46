//! `/v1/images`: list, pull (a progress stream), remove, prune.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;

use super::extract::{J, Q};
use super::{blocking, stream, AppState};
use crate::error::ApiError;
use stack_api::system::{ImageSummary, PruneResult, PullEvent, PullRequest, RemovedImage};
use stack_engine::facade::EngineError;

pub async fn list(State(s): State<AppState>) -> Result<Json<Vec<ImageSummary>>, ApiError> {
    blocking(move || s.engine.list_images()).await.map(Json)
}

/// NDJSON of [`PullEvent`]s, ending with `pulled` or `error`. A malformed
/// reference is refused with 400 before the stream starts.
pub async fn pull(State(s): State<AppState>, J(req): J<PullRequest>) -> Result<Response, ApiError> {
    stack_engine::images::Reference::parse(&req.reference).map_err(EngineError::from)?;
    let (lines, response) = stream::ndjson();
    // Progress is reported from inside the image crate's own runtime, where
    // blocking on the stream is not allowed: it goes through an unbounded
    // queue to a forwarding thread.
    let (queue, queued) = std::sync::mpsc::channel::<PullEvent>();
    let forwarder = std::thread::Builder::new()
        .name("pull-stream".into())
        .spawn(move || {
            for event in queued {
                if !lines.send(&event) {
                    break;
                }
            }
        })
        .map_err(|e| ApiError::internal(format!("start a pull thread: {e}")))?;
    // A plain thread: the image crate runs its own tokio runtime inside.
    let puller = std::thread::Builder::new()
        .name("pull".into())
        .spawn(move || {
            let emit = move |e: PullEvent| {
                let _ = queue.send(e);
            };
            if let Err(err) = s
                .engine
                .pull(&req.reference, req.platform.as_deref(), &emit)
            {
                tracing::warn!(reference = %req.reference, %err, "pull failed");
                emit(PullEvent::Error {
                    message: err.to_string(),
                });
            }
        });
    if let Err(e) = puller {
        drop(forwarder);
        return Err(ApiError::internal(format!("start a pull thread: {e}")));
    }
    Ok(response)
}

pub async fn remove(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<RemovedImage>, ApiError> {
    blocking(move || s.engine.remove_image(&name))
        .await
        .map(Json)
}

#[derive(Debug, Deserialize)]
pub struct PruneQuery {
    #[serde(default)]
    all: bool,
}

pub async fn prune(
    State(s): State<AppState>,
    Q(q): Q<PruneQuery>,
) -> Result<(StatusCode, Json<PruneResult>), ApiError> {
    let report = blocking(move || s.engine.prune_images(q.all)).await?;
    Ok((StatusCode::OK, Json(report)))
}

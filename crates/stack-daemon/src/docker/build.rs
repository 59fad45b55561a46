//! `POST /build`: the classic builder's protocol (`DOCKER_BUILDKIT=0
//! docker build`, Compose's classic build). The body, the context as a
//! tar, is handed to the build while it arrives; the answer is Docker's
//! stream of JSON lines, ending with the image id or the error. A client
//! that leaves cancels the build: its running step is killed and
//! removed, nothing is tagged, its files and leases go.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use stack_api::docker::build::BuildLine;
use stack_engine::build::CancellationToken;
use stack_engine::facade::docker::build::DockerBuild;

use super::error::DockerError;
use crate::routes::AppState;

pub async fn build(
    State(s): State<AppState>,
    RawQuery(query): RawQuery,
    body: Body,
) -> Result<Response, DockerError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
            .map_err(|e| DockerError::bad_request(format!("bad query: {e}")))?;
    let request = DockerBuild::from_query(&pairs).map_err(DockerError::from)?;
    let upload = super::stream::BodyReader::new(body);
    let (lines, response) = super::stream::bytes("application/json");
    let cancel = CancellationToken::new();
    let finished = CancellationToken::new();
    watch_client(lines.clone(), cancel.clone(), finished.clone());
    tokio::task::spawn_blocking(move || {
        let _finished = finished.drop_guard();
        let send = |line: BuildLine| {
            if let Ok(mut bytes) = serde_json::to_vec(&line) {
                bytes.push(b'\n');
                let _ = lines.send(bytes);
            }
        };
        if let Err(err) = s.engine.docker_build(upload, &request, &send, &cancel) {
            send(BuildLine::failed(err.to_string()));
        }
    });
    Ok(response)
}

/// Cancels `cancel` when the client leaves before `finished` (the work
/// is done); this copy of the stream's sender goes then, so the stream
/// ends with the work.
fn watch_client(
    lines: super::stream::Chunks,
    cancel: CancellationToken,
    finished: CancellationToken,
) {
    tokio::spawn(async move {
        tokio::select! {
            () = lines.gone() => cancel.cancel(),
            () = finished.cancelled() => {}
        }
    });
}

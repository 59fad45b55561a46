//! `GET /v1/events`: the event log as NDJSON, in log order.

use axum::extract::State;
use axum::response::Response;

use super::extract::Q;
use super::{stream, AppState};
use crate::error::ApiError;
use stack_engine::facade::events::{self, EventQuery};

pub async fn stream(State(s): State<AppState>, Q(q): Q<EventQuery>) -> Result<Response, ApiError> {
    let reading = q
        .reading()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let (lines, response) = stream::ndjson();
    let root = s.engine.paths.state_root.clone();
    tokio::task::spawn_blocking(move || {
        let keep_going = || !lines.closed();
        if let Err(err) = events::read(&root, &reading, |e| lines.send(e), keep_going) {
            tracing::warn!(%err, "read the event log");
        }
    });
    Ok(response)
}

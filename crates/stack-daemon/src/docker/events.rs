//! `GET /events`: the host's event log, streamed as one JSON object per
//! event, from `since` (history) or from now, until `until` passes or the
//! client leaves.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use stack_api::docker::filters;
use stack_engine::facade::docker::events::EventsRequest;

use super::error::DockerError;
use super::extract::Q;
use crate::routes::AppState;

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    filters: Option<String>,
}

pub async fn events(
    State(s): State<AppState>,
    Q(q): Q<EventsQuery>,
) -> Result<Response, DockerError> {
    let filters = filters::parse(q.filters.as_deref())
        .map_err(|e| DockerError::bad_request(e.to_string()))?;
    let request = EventsRequest::new(q.since.as_deref(), q.until.as_deref(), &filters)?;
    let (tx, response) = super::stream::bytes("application/json");
    tokio::task::spawn_blocking(move || {
        let emit =
            |message: &stack_api::docker::events::EventMessage| match serde_json::to_vec(message) {
                Ok(mut line) => {
                    line.push(b'\n');
                    tx.send(line)
                }
                Err(_) => false,
            };
        if let Err(err) = s.engine.docker_events(&request, emit, || !tx.closed()) {
            tracing::warn!(%err, "stream the event log");
        }
    });
    Ok(response)
}

//! `GET /containers/{id}/stats`: `stream=1` (the default) sends a reading
//! at once and then one a second, each with the one before as `precpu`,
//! until the client leaves or the container is removed; `stream=0` answers
//! one reading taken a second after a first (so its CPU percent can be
//! computed), or at once with `one-shot=1`.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use stack_api::docker::stats::ContainerStats;

use super::error::{blocking, DockerError};
use super::extract::{flag, Q};
use crate::routes::AppState;

/// Between two readings, as Docker.
const INTERVAL: Duration = Duration::from_secs(1);

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
pub struct StatsQuery {
    #[serde(default = "yes", deserialize_with = "flag")]
    stream: bool,
    #[serde(default, rename = "one-shot", deserialize_with = "flag")]
    one_shot: bool,
}

async fn reading(
    s: &AppState,
    id: &str,
    previous: Option<ContainerStats>,
) -> Result<ContainerStats, DockerError> {
    let (s, id) = (s.clone(), id.to_string());
    blocking(move || Ok(s.engine.docker_stats(&id, previous.as_ref())?)).await
}

pub async fn stats(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<StatsQuery>,
) -> Result<Response, DockerError> {
    if q.one_shot && q.stream {
        return Err(DockerError::bad_request(
            "cannot have stream=true and one-shot=true",
        ));
    }
    // An unknown container is a 404 before anything is streamed.
    let first = reading(&s, &id, None).await?;
    if !q.stream {
        if q.one_shot {
            return Ok(Json(first).into_response());
        }
        tokio::time::sleep(INTERVAL).await;
        return Ok(Json(reading(&s, &id, Some(first)).await?).into_response());
    }
    let (chunks, response) = super::stream::bytes("application/json");
    tokio::spawn(async move {
        let mut last = first;
        loop {
            if !chunks.json_line_async(&last).await {
                return;
            }
            tokio::time::sleep(INTERVAL).await;
            // By id: a new container given the same name is another stream.
            let id = last.id.clone();
            match reading(&s, &id, Some(last)).await {
                Ok(next) => last = next,
                // Removed: the stream ends, as Docker's does.
                Err(_) => return,
            }
        }
    });
    Ok(response)
}

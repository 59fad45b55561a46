//! `POST /build`: the classic builder's protocol (`DOCKER_BUILDKIT=0
//! docker build`, Compose's classic build). The body, the context as a
//! tar, is handed to the build while it arrives; the answer is Docker's
//! stream of JSON lines, ending with the image id or the error. A client
//! that leaves cancels the build: its running step is killed and
//! removed, nothing is tagged, its files and leases go.

use std::io::Read;
use std::sync::mpsc;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::response::Response;
use futures_util::StreamExt;
use stack_api::docker::build::BuildLine;
use stack_engine::build::CancellationToken;
use stack_engine::facade::docker::build::DockerBuild;

use super::error::DockerError;
use crate::routes::AppState;

/// Body chunks buffered between the connection and the build.
const BUFFERED_CHUNKS: usize = 16;

/// The uploaded context as a reader for the blocking build.
struct Upload {
    chunks: mpsc::Receiver<Result<Bytes, std::io::Error>>,
    current: Bytes,
}

impl Read for Upload {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.recv() {
                Ok(Ok(chunk)) => self.current = chunk,
                Ok(Err(e)) => return Err(e),
                // The whole body was read.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

pub async fn build(
    State(s): State<AppState>,
    RawQuery(query): RawQuery,
    body: Body,
) -> Result<Response, DockerError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
            .map_err(|e| DockerError::bad_request(format!("bad query: {e}")))?;
    let request = DockerBuild::from_query(&pairs).map_err(DockerError::from)?;
    let (chunk_tx, chunk_rx) = mpsc::sync_channel(BUFFERED_CHUNKS);
    tokio::spawn(async move {
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(std::io::Error::other);
            let failed = chunk.is_err();
            let tx = chunk_tx.clone();
            // A full buffer waits for the build to read, off the runtime.
            let sent = tokio::task::spawn_blocking(move || tx.send(chunk).is_ok())
                .await
                .unwrap_or(false);
            if !sent || failed {
                break;
            }
        }
    });
    let (lines, response) = super::stream::bytes("application/json");
    let cancel = CancellationToken::new();
    let finished = CancellationToken::new();
    watch_client(lines.clone(), cancel.clone(), finished.clone());
    tokio::task::spawn_blocking(move || {
        let _finished = finished.drop_guard();
        let upload = Upload {
            chunks: chunk_rx,
            current: Bytes::new(),
        };
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

//! `POST /containers/{id}/attach`: the container's output on the hijacked
//! connection (HTTP upgrade to `tcp`), in multiplexed frames without a
//! tty and raw with one, from the attach (or, with `logs`, from the
//! start of its log) until the container stops. This is what `docker run`
//! without `-d` and Compose's attached `up` read. Input (`stdin=1`) goes
//! to the container's stdin FIFO when it was made with an open stdin
//! (`docker run -i`, `docker compose run`, `docker attach`); without an
//! open stdin it has nowhere to go, in Docker as here, and is not refused.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::header::{CONNECTION, CONTENT_TYPE, UPGRADE};
use axum::http::StatusCode;
use axum::response::Response;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use stack_api::system::LogRecord;
use tokio::io::AsyncWriteExt;

use super::error::{blocking, DockerError};
use super::extract::{flag, Q};
use super::logs::frame;
use crate::routes::AppState;

/// How long the input of an attach that ended is kept for a container
/// that has not started yet.
const INPUT_HANDOVER: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug, Deserialize)]
pub struct AttachQuery {
    #[serde(default, deserialize_with = "flag")]
    stream: bool,
    #[serde(default, deserialize_with = "flag")]
    logs: bool,
    #[serde(default, deserialize_with = "flag")]
    stdin: bool,
    #[serde(default, deserialize_with = "flag")]
    stdout: bool,
    #[serde(default, deserialize_with = "flag")]
    stderr: bool,
}

pub async fn attach(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<AttachQuery>,
    mut request: Request,
) -> Result<Response, DockerError> {
    if !q.stream && !q.logs {
        return Err(DockerError::bad_request(
            "Bad parameters: you must choose at least one stream (stream or logs)",
        ));
    }
    let upgrade_asked = request
        .headers()
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("tcp"));
    if !upgrade_asked {
        return Err(DockerError::bad_request(
            "attach needs the headers `Connection: Upgrade` and `Upgrade: tcp`",
        ));
    }
    let engine = s.engine.clone();
    let key = id.clone();
    let replay = q.logs;
    let source = blocking(move || {
        engine
            .attach(&key, replay)
            .map_err(|e| DockerError::or_no_such(e, "container", &key))
    })
    .await?;
    // As in Docker, input attached to a container without an open stdin
    // goes nowhere (Compose asks for it on every attach). One made with an
    // open stdin for this API has a FIFO the input is written to; one made
    // otherwise (`stack run -i` in a terminal) takes none.
    let input = match (q.stdin, source.input()) {
        (true, Some(input)) => {
            let sender = tokio::net::unix::pipe::OpenOptions::new()
                .read_write(true)
                .open_sender(&input.fifo)
                .map_err(|e| DockerError::internal(format!("the container's stdin: {e}")))?;
            Some((input, sender))
        }
        (true, None) if source.open_stdin => {
            return Err(DockerError::not_implemented(
                "POST",
                "/containers/{id}/attach?stdin=1 to a container not made through this API",
            ));
        }
        _ => None,
    };
    let on_upgrade = request
        .extensions_mut()
        .remove::<hyper::upgrade::OnUpgrade>()
        .ok_or_else(|| DockerError::bad_request("this connection cannot be upgraded"))?;
    let tty = source.tty;
    let (stdout, stderr, follow) = (q.stdout, q.stderr, q.stream);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
    tokio::task::spawn_blocking(move || {
        let emit = |record: &LogRecord| {
            let stream = match record.stream.as_str() {
                "stderr" if stderr => 2,
                "stdout" if stdout => 1,
                _ => return !tx.is_closed(),
            };
            let bytes = if tty {
                record.log.as_bytes().to_vec()
            } else {
                frame(stream, record.log.as_bytes())
            };
            tx.blocking_send(bytes).is_ok()
        };
        let result = if follow {
            source.read(|| !tx.is_closed(), emit)
        } else {
            source.replay(emit)
        };
        if let Err(err) = result {
            tracing::warn!(%err, "attach");
        }
    });
    tokio::spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(err) => {
                tracing::warn!(%err, "attach: upgrade failed");
                return;
            }
        };
        let (mut from_client, mut io) = tokio::io::split(TokioIo::new(upgraded));
        if let Some((input, mut sender)) = input {
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut from_client, &mut sender).await;
                // The client closed its input: once the container holds its
                // stdin, this last write end may go (`StdinOnce`: the end
                // of its input).
                let _ = tokio::task::spawn_blocking(move || {
                    input.wait_for_reader(INPUT_HANDOVER);
                    drop(sender);
                })
                .await;
            });
        }
        while let Some(bytes) = rx.recv().await {
            if io.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = io.shutdown().await;
    });
    switching_protocols(tty)
}

/// Docker's answer that hijacks the connection: raw output with a tty,
/// multiplexed frames without one (`attach` and `exec/start` alike).
pub(super) fn switching_protocols(tty: bool) -> Result<Response, DockerError> {
    let content_type = if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    };
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(CONNECTION, "Upgrade")
        .header(UPGRADE, "tcp")
        .header(CONTENT_TYPE, content_type)
        .body(Body::empty())
        .map_err(|e| DockerError::internal(format!("101 answer: {e}")))
}

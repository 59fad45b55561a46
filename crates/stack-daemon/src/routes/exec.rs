//! `POST /v1/containers/{id}/exec/stream`: exec with attached streams over
//! an upgraded connection (protocol in `crate::exec_stream`).

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::header::{CONNECTION, UPGRADE};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::post;
use hyper_util::rt::TokioIo;
use stack_api::paths;

use super::{blocking, AppState, Route};
use crate::error::ApiError;
use crate::exec_stream::session;
use stack_api::exec_stream::{ExecStreamRequest, PROTOCOLS};

/// The largest request body accepted (a command line and environment).
const MAX_BODY: usize = 1 << 20;

pub(super) fn routes() -> Vec<Route> {
    vec![(Method::POST, paths::CONTAINER_EXEC_STREAM, post(stream))]
}

/// The protocol the client asks to switch to, when it is one we speak.
fn requested_protocol(headers: &HeaderMap) -> Result<String, ApiError> {
    let connection_upgrade = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("upgrade"));
    let protocol = headers
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    match protocol {
        Some(p) if connection_upgrade && PROTOCOLS.contains(&p.as_str()) => Ok(p),
        _ => Err(ApiError::bad_request(format!(
            "exec/stream needs the headers `Connection: Upgrade` and `Upgrade: {}` (or `{}`)",
            PROTOCOLS[0], PROTOCOLS[1]
        ))),
    }
}

async fn stream(
    State(s): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|e| ApiError::bad_request(format!("request body: {e}")))?;
    let req: ExecStreamRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("request body: {e}")))?;
    // The container is checked first, so a plain request (curl, a test)
    // learns 404/409 as a client that upgrades would.
    let engine = s.engine.clone();
    let summary = format!(
        "container={id} cmd={:?} tty={} stdin={}",
        req.cmd, req.tty, req.stdin
    );
    let attached = blocking(move || crate::exec_ops::attached_exec(&engine, &id, &req)).await?;
    let protocol = requested_protocol(&parts.headers)?;
    let on_upgrade = parts
        .extensions
        .remove::<hyper::upgrade::OnUpgrade>()
        .ok_or_else(|| ApiError::bad_request("this connection cannot be upgraded"))?;
    tracing::info!(%summary, "attached exec");
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => session::run(TokioIo::new(upgraded), attached).await,
            // The prepared pty (if any) closes here; nothing was started.
            Err(err) => tracing::warn!(%err, "attached exec: upgrade failed"),
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(CONNECTION, "Upgrade")
        .header(UPGRADE, protocol)
        .body(Body::empty())
        .map_err(|e| ApiError::internal(format!("101 answer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        h
    }

    #[test]
    fn upgrade_headers_are_required() {
        let ok = headers(&[
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "stack-exec"),
        ]);
        assert_eq!(requested_protocol(&ok).expect("ok"), "stack-exec");
        let docker = headers(&[("connection", "Upgrade"), ("upgrade", "tcp")]);
        assert_eq!(requested_protocol(&docker).expect("ok"), "tcp");
        assert!(requested_protocol(&headers(&[("upgrade", "stack-exec")])).is_err());
        let other = headers(&[("connection", "Upgrade"), ("upgrade", "websocket")]);
        assert!(requested_protocol(&other).is_err());
    }
}

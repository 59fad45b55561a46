//! Streamed answers: NDJSON lines produced on a blocking thread and sent as
//! a chunked body. The producer learns that the client went away when the
//! channel closes, and stops.

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

/// Lines buffered between the producer and the connection.
const BUFFER: usize = 64;

/// The producer's end.
#[derive(Clone)]
pub struct Lines(mpsc::Sender<Bytes>);

impl Lines {
    /// Sends one value as a JSON line; false once the client is gone.
    pub fn send(&self, value: &impl serde::Serialize) -> bool {
        let Ok(mut line) = serde_json::to_vec(value) else {
            return false;
        };
        line.push(b'\n');
        self.0.blocking_send(Bytes::from(line)).is_ok()
    }

    pub fn closed(&self) -> bool {
        self.0.is_closed()
    }
}

/// A channel and the response that streams what is sent on it.
pub fn ndjson() -> (Lines, Response) {
    let (tx, rx) = mpsc::channel::<Bytes>(BUFFER);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    let response = (
        [(CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response();
    (Lines(tx), response)
}

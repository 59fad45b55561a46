//! Streamed bodies of the Docker routes: bytes produced on a blocking
//! thread (log frames, progress lines, a late `wait` answer) and sent as
//! a chunked body. The producer learns that the client left when the
//! channel closes.

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

/// Chunks buffered between the producer and the connection.
const BUFFER: usize = 64;

/// The producer's end.
#[derive(Clone)]
pub struct Chunks(mpsc::Sender<Bytes>);

impl Chunks {
    /// Sends one chunk; false once the client is gone.
    pub fn send(&self, chunk: Vec<u8>) -> bool {
        self.0.blocking_send(Bytes::from(chunk)).is_ok()
    }

    /// Sends a value as one JSON line, from async code; false once the
    /// client is gone.
    pub async fn json_line_async(&self, value: &impl serde::Serialize) -> bool {
        match serde_json::to_vec(value) {
            Ok(mut line) => {
                line.push(b'\n');
                self.0.send(Bytes::from(line)).await.is_ok()
            }
            Err(_) => false,
        }
    }

    pub fn closed(&self) -> bool {
        self.0.is_closed()
    }

    /// Resolves once the client is gone (the connection dropped the
    /// body), whether or not anything is being sent.
    pub async fn gone(&self) {
        self.0.closed().await
    }
}

/// A channel and the `200` response that streams what is sent on it.
pub fn bytes(content_type: &'static str) -> (Chunks, Response) {
    let (tx, rx) = mpsc::channel::<Bytes>(BUFFER);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    let response = ([(CONTENT_TYPE, content_type)], Body::from_stream(stream)).into_response();
    (Chunks(tx), response)
}

//! Streamed bodies of the Docker routes: bytes produced on a blocking
//! thread (log frames, progress lines, a late `wait` answer) and sent as
//! a chunked body. The producer learns that the client left when the
//! channel closes.

use std::convert::Infallible;
use std::io::Read;

use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
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

/// Bytes gathered before a [`ChunkWriter`] sends them.
const WRITE_CHUNK: usize = 64 * 1024;

/// A [`Chunks`] as a writer (a tar written on a blocking thread): bytes go
/// out in chunks of 64 KiB, and a write fails with `BrokenPipe` once the
/// client is gone, which stops the producer.
pub struct ChunkWriter {
    chunks: Chunks,
    pending: Vec<u8>,
}

impl ChunkWriter {
    pub fn new(chunks: Chunks) -> ChunkWriter {
        ChunkWriter {
            chunks,
            pending: Vec::with_capacity(WRITE_CHUNK),
        }
    }

    fn send_pending(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.pending, Vec::with_capacity(WRITE_CHUNK));
        if self.chunks.send(chunk) {
            Ok(())
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the client closed the connection",
            ))
        }
    }
}

impl std::io::Write for ChunkWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= WRITE_CHUNK {
            self.send_pending()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send_pending()
    }
}

/// Body chunks buffered between the connection and a blocking reader.
const BUFFERED_BODY_CHUNKS: usize = 16;

/// A request body as a reader for blocking code (an uploaded build
/// context, an archive for `docker cp`), fed by a task while it arrives.
pub struct BodyReader {
    chunks: std::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
    current: Bytes,
}

impl BodyReader {
    /// Starts reading `body` (on the async runtime).
    pub fn new(body: Body) -> BodyReader {
        let (chunk_tx, chunk_rx) = std::sync::mpsc::sync_channel(BUFFERED_BODY_CHUNKS);
        tokio::spawn(async move {
            let mut stream = body.into_data_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(std::io::Error::other);
                let failed = chunk.is_err();
                let tx = chunk_tx.clone();
                // A full buffer waits for the reader, off the runtime.
                let sent = tokio::task::spawn_blocking(move || tx.send(chunk).is_ok())
                    .await
                    .unwrap_or(false);
                if !sent || failed {
                    break;
                }
            }
        });
        BodyReader {
            chunks: chunk_rx,
            current: Bytes::new(),
        }
    }
}

impl Read for BodyReader {
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

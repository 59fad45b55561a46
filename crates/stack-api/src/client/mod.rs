//! The daemon's client: HTTP/1 over the UNIX socket, one connection per
//! request (connecting to a local socket costs microseconds), blocking
//! calls for the CLI on a small private runtime.

use std::path::{Path, PathBuf};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Request;
pub use hyper::{Method, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::paths;
pub use crate::paths::encode;
use crate::system::ErrorBody;

mod api;

/// How long `ping` waits for an answer.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Errors of a call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The daemon answered with an error body.
    #[error("{message}")]
    Api {
        status: u16,
        kind: String,
        message: String,
    },
    #[error("cannot reach the stack daemon at {socket}: {source}")]
    Connect {
        socket: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("stack daemon at {socket}: {message}")]
    Protocol { socket: PathBuf, message: String },
}

/// A client of one daemon socket.
#[derive(Debug)]
pub struct Client {
    socket: PathBuf,
    runtime: tokio::runtime::Runtime,
}

impl Client {
    pub fn new(socket: impl Into<PathBuf>) -> Result<Client, ClientError> {
        let socket = socket.into();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| ClientError::Connect {
                socket: socket.clone(),
                source,
            })?;
        Ok(Client { socket, runtime })
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Whether a daemon answers `GET /v1/_ping` on the socket.
    pub fn ping(&self) -> bool {
        self.runtime.block_on(async {
            let call = self.send(Method::GET, paths::PING, None);
            matches!(
                tokio::time::timeout(PING_TIMEOUT, call).await,
                Ok(Ok(r)) if r.status() == StatusCode::OK
            )
        })
    }

    /// GET, decoding a JSON answer.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.json(Method::GET, path, None)
    }

    /// A call with a JSON body, decoding a JSON answer.
    pub fn send_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|e| self.protocol(e.to_string()))?;
        self.json(method, path, Some(bytes))
    }

    /// A call whose answer has no body (204, or 304 for "already so").
    pub fn call(&self, method: Method, path: &str) -> Result<StatusCode, ClientError> {
        self.runtime.block_on(async {
            let response = self.send(method, path, None).await?;
            let status = response.status();
            let body = self.read_body(response.into_body()).await?;
            self.check(status, &body)?;
            Ok(status)
        })
    }

    /// Any call, answered as status and raw body (for tools and tests that
    /// look at the wire itself).
    pub fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, hyper::HeaderMap, Bytes), ClientError> {
        self.runtime.block_on(async {
            let response = self.send(method, path, body).await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = self.read_body(response.into_body()).await?;
            Ok((status, headers, body))
        })
    }

    fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, ClientError> {
        self.runtime.block_on(async {
            let response = self.send(method, path, body).await?;
            let status = response.status();
            let body = self.read_body(response.into_body()).await?;
            self.check(status, &body)?;
            serde_json::from_slice(&body).map_err(|e| self.protocol(format!("answer: {e}")))
        })
    }

    /// A streamed NDJSON answer: `each` gets every line as it arrives until
    /// it returns false or the stream ends.
    pub fn stream<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        mut each: impl FnMut(T) -> bool,
    ) -> Result<(), ClientError> {
        self.runtime.block_on(async {
            let response = self.send(method, path, body).await?;
            let status = response.status();
            let mut body = response.into_body();
            if !status.is_success() {
                let bytes = self.read_body(body).await?;
                return self.check(status, &bytes);
            }
            let mut pending: Vec<u8> = Vec::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| self.protocol(e.to_string()))?;
                let Some(data) = frame.data_ref() else {
                    continue;
                };
                pending.extend_from_slice(data);
                while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    let value = serde_json::from_slice(&line)
                        .map_err(|e| self.protocol(format!("stream line: {e}")))?;
                    if !each(value) {
                        return Ok(());
                    }
                }
            }
            Ok(())
        })
    }

    /// `POST path` with a JSON body asking to switch to `protocol`; after
    /// the daemon's `101 Switching Protocols`, the raw socket (blocking),
    /// positioned right after the answer's head. Any other answer is the
    /// API's error. Written by hand so the CLI owns a plain socket it can
    /// read and write from its own threads.
    pub fn upgrade(
        &self,
        path: &str,
        protocol: &str,
        body: &impl Serialize,
    ) -> Result<std::os::unix::net::UnixStream, ClientError> {
        use std::io::Write;
        let body = serde_json::to_vec(body).map_err(|e| self.protocol(e.to_string()))?;
        let mut stream =
            std::os::unix::net::UnixStream::connect(&self.socket).map_err(|source| {
                ClientError::Connect {
                    socket: self.socket.clone(),
                    source,
                }
            })?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: stack\r\nConnection: Upgrade\r\nUpgrade: {protocol}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let io = |e: std::io::Error| self.protocol(format!("upgrade: {e}"));
        stream.write_all(head.as_bytes()).map_err(io)?;
        stream.write_all(&body).map_err(io)?;
        let head = read_head(&mut stream).map_err(io)?;
        let (status, length) = parse_head(&head).map_err(|e| self.protocol(e.to_string()))?;
        if status == StatusCode::SWITCHING_PROTOCOLS {
            return Ok(stream);
        }
        let mut answer = vec![0u8; length.unwrap_or(0)];
        std::io::Read::read_exact(&mut stream, &mut answer).map_err(io)?;
        self.check(status, &answer)?;
        Err(self.protocol(format!("expected 101 Switching Protocols, got {status}")))
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, ClientError> {
        let stream = tokio::net::UnixStream::connect(&self.socket)
            .await
            .map_err(|source| ClientError::Connect {
                socket: self.socket.clone(),
                source,
            })?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| self.protocol(e.to_string()))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "stack");
        if body.is_some() {
            request = request.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| self.protocol(e.to_string()))?;
        sender
            .send_request(request)
            .await
            .map_err(|e| self.protocol(e.to_string()))
    }

    async fn read_body(&self, body: hyper::body::Incoming) -> Result<Bytes, ClientError> {
        Ok(body
            .collect()
            .await
            .map_err(|e| self.protocol(e.to_string()))?
            .to_bytes())
    }

    fn check(&self, status: StatusCode, body: &[u8]) -> Result<(), ClientError> {
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok(());
        }
        let error: ErrorBody = serde_json::from_slice(body).map_err(|_| {
            self.protocol(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(body).trim()
            ))
        })?;
        Err(ClientError::Api {
            status: status.as_u16(),
            kind: error.kind,
            message: error.message,
        })
    }

    fn protocol(&self, message: String) -> ClientError {
        ClientError::Protocol {
            socket: self.socket.clone(),
            message,
        }
    }
}

/// The largest answer head accepted from the daemon.
const MAX_HEAD: usize = 64 * 1024;

/// Reads an HTTP answer's head up to its blank line, one byte at a time so
/// nothing after it (the first frames) is consumed.
fn read_head(stream: &mut impl std::io::Read) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD {
            return Err(std::io::Error::other("answer head too long"));
        }
        stream.read_exact(&mut byte)?;
        head.push(byte[0]);
    }
    Ok(head)
}

/// An answer whose first line is not `HTTP/1.1 <code> ...`.
#[derive(Debug, thiserror::Error)]
#[error("bad status line {0:?}")]
struct BadStatusLine(String);

/// Status and `Content-Length` of an answer head.
fn parse_head(head: &[u8]) -> Result<(StatusCode, Option<usize>), BadStatusLine> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let code = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| BadStatusLine(status_line.to_string()))?;
    let length = lines.find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    });
    Ok((code, length))
}

#[cfg(test)]
mod tests {
    #[test]
    fn answer_heads() {
        let wire = b"HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\n\r\n\x01rest";
        let mut r = &wire[..];
        let head = super::read_head(&mut r).expect("head");
        assert_eq!(r, b"\x01rest", "frames after the head are left unread");
        let (status, length) = super::parse_head(&head).expect("parse");
        assert_eq!(status.as_u16(), 101);
        assert_eq!(length, None);
        let err = b"HTTP/1.1 404 Not Found\r\nContent-Length: 42\r\n\r\n";
        assert_eq!(
            super::parse_head(err).expect("parse"),
            (super::StatusCode::NOT_FOUND, Some(42))
        );
        assert!(super::parse_head(b"garbage\r\n\r\n").is_err());
    }
}

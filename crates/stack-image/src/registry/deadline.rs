//! Time and size limits on everything a registry sends. Nothing is read
//! whole before its limit is checked: bodies are streamed and refused as
//! soon as they cross it, and every wait (response head, next chunk) is
//! bounded by an idle limit and by the request's total deadline.

use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Response;
use tokio::time::Instant;

use crate::error::{ImageError, Result};
use crate::settings::Timeouts;

/// The time limits of one request.
#[derive(Debug, Clone)]
pub(crate) struct Deadline {
    idle: Duration,
    total: Duration,
    until: Instant,
    /// The config key that sets `total`, named in the error.
    total_key: &'static str,
}

impl Deadline {
    /// For manifests, tokens and anything else small.
    pub(crate) fn request(t: &Timeouts) -> Deadline {
        Deadline::new(t.idle, t.request, "registry-request-timeout")
    }

    /// For one blob download request.
    pub(crate) fn download(t: &Timeouts) -> Deadline {
        Deadline::new(t.idle, t.download, "registry-download-timeout")
    }

    /// For one blob upload request. The whole upload is one wait for the
    /// answer, so only the total deadline applies here; the idle limit is
    /// kept by watching the body being taken (see `registry::upload`).
    pub(crate) fn upload(t: &Timeouts) -> Deadline {
        Deadline::new(t.upload, t.upload, "registry-upload-timeout")
    }

    fn new(idle: Duration, total: Duration, total_key: &'static str) -> Deadline {
        Deadline {
            idle,
            total,
            until: Instant::now() + total,
            total_key,
        }
    }

    /// Runs `step` (waiting for a response head or the next chunk) unless
    /// it sees no progress for the idle limit or the request outlives its
    /// total deadline.
    pub(crate) async fn wait<F: Future>(
        &self,
        origin: &Origin<'_>,
        what: &str,
        step: F,
    ) -> Result<F::Output> {
        let idle_end = Instant::now() + self.idle;
        let (end, by_total) = if idle_end < self.until {
            (idle_end, false)
        } else {
            (self.until, true)
        };
        tokio::time::timeout_at(end, step).await.map_err(|_| {
            let reason = if by_total {
                format!(
                    "not finished after {} ({})",
                    seconds(self.total),
                    self.total_key
                )
            } else {
                format!("no data for {} (registry-idle-timeout)", seconds(self.idle))
            };
            origin.timeout(what, reason)
        })
    }
}

pub(crate) fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
        + " s"
}

/// Reads a whole body of at most `limit` bytes, stopping as soon as the
/// announced length or the bytes received cross it.
pub(crate) async fn read_body(
    origin: &Origin<'_>,
    response: Response,
    limit: u64,
    what: &str,
    deadline: &Deadline,
) -> Result<Vec<u8>> {
    if response.content_length().is_some_and(|len| len > limit) {
        return Err(origin.too_large(what, limit));
    }
    let url = response.url().to_string();
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = deadline.wait(origin, what, stream.next()).await? {
        let chunk = chunk.map_err(|e| connect_error(&url, &e))?;
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(origin.too_large(what, limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The first `limit` bytes of a body (an error answer's message); the
/// rest is never read.
pub(crate) async fn read_prefix(
    origin: &Origin<'_>,
    response: Response,
    limit: u64,
    what: &str,
    deadline: &Deadline,
) -> Result<Vec<u8>> {
    let url = response.url().to_string();
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while body.len() < limit {
        let Some(chunk) = deadline.wait(origin, what, stream.next()).await? else {
            break;
        };
        let chunk = chunk.map_err(|e| connect_error(&url, &e))?;
        let room = limit - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(body)
}

/// Where a body comes from, as the errors of these limits name it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin<'a> {
    pub registry: &'a str,
    pub repository: &'a str,
}

impl Origin<'_> {
    pub(crate) fn timeout(&self, what: &str, reason: String) -> ImageError {
        ImageError::Timeout {
            registry: self.registry.to_string(),
            repository: self.repository.to_string(),
            what: what.to_string(),
            reason,
        }
    }

    pub(crate) fn too_large(&self, what: &str, limit: u64) -> ImageError {
        ImageError::TooLarge {
            registry: self.registry.to_string(),
            repository: self.repository.to_string(),
            what: what.to_string(),
            limit,
        }
    }
}

pub(crate) fn connect_error(url: &str, e: &reqwest::Error) -> ImageError {
    // reqwest nests its causes; the innermost one ("Connection refused")
    // is the one a user can act on.
    let mut message = if e.is_timeout() {
        "timed out".to_string()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message = s.to_string();
        source = s.source();
    }
    ImageError::Connect {
        url: url.to_string(),
        message,
    }
}

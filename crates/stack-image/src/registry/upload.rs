//! Blob and manifest uploads, as the OCI distribution spec has them:
//! `HEAD` a blob to learn whether the repository has it, a cross-repository
//! mount (`POST …/uploads/?mount=&from=`) when another repository of the
//! registry may, else `POST …/uploads/` for an upload location and one
//! monolithic `PUT <location>?digest=` streamed from the blob file; then
//! `PUT …/manifests/<tag>` with the manifest's exact bytes.
//!
//! An upload is one long wait for the registry's answer, so the request's
//! idle limit cannot be the usual wait for the next byte: a monitor
//! watches the body being taken instead, reports the bytes sent, and ends
//! the upload when the registry takes nothing for the idle limit.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode, Url};
use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use super::deadline::{seconds, Deadline};
use super::session::{retry_transient, Session};
use crate::digest::Digest;
use crate::error::{ImageError, Result};

/// Bytes read from the blob file per chunk of an upload body.
const CHUNK: usize = 256 * 1024;

/// How often the upload monitor reports progress and checks for a stall.
const TICK: Duration = Duration::from_millis(200);

/// What a mount request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mount {
    /// The registry linked the blob from the other repository.
    Mounted,
    /// It could not (or would not), and opened an ordinary upload here.
    Upload(Url),
}

impl Session {
    /// Whether the repository has blob `digest` (`HEAD` 200 or 404).
    pub async fn blob_exists(&self, digest: &Digest) -> Result<bool> {
        let url = self.url(&format!("blobs/{digest}"));
        let what = format!("blob {digest}");
        let (response, deadline) = retry_transient(|| async {
            let deadline = Deadline::request(&self.timeouts);
            let response = self
                .send(Method::HEAD, &url, HeaderMap::new(), &deadline, &what)
                .await?;
            Ok((response, deadline))
        })
        .await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(false),
            _ => self
                .check_status(&url, response, &deadline)
                .await
                .map(|_| true),
        }
    }

    /// Asks the registry to link `digest` from repository `from`.
    pub async fn mount_blob(&self, digest: &Digest, from: &str) -> Result<Mount> {
        let query = format!("blobs/uploads/?mount={digest}&from={from}");
        match self.post_upload(&query).await? {
            None => Ok(Mount::Mounted),
            Some(location) => Ok(Mount::Upload(location)),
        }
    }

    /// Opens an upload; answers where to send the blob.
    pub async fn start_upload(&self) -> Result<Url> {
        let url = self.url("blobs/uploads/");
        self.post_upload("blobs/uploads/")
            .await?
            .ok_or_else(|| ImageError::Registry {
                url,
                message: "upload start answered 201 Created: no upload was opened".into(),
            })
    }

    /// `POST` to the uploads endpoint: 201 (mounted: `None`) or 202 with
    /// the upload's location, resolved against the endpoint.
    async fn post_upload(&self, tail: &str) -> Result<Option<Url>> {
        let url = self.url(tail);
        let deadline = Deadline::request(&self.timeouts);
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
        let response = self
            .send(Method::POST, &url, headers, &deadline, "upload start")
            .await?;
        let response = self.check_status(&url, response, &deadline).await?;
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        match (status, location) {
            (StatusCode::CREATED, _) => Ok(None),
            (StatusCode::ACCEPTED, Some(location)) => Ok(Some(self.resolve(&location)?)),
            (status, _) => Err(ImageError::Registry {
                url,
                message: format!("upload start answered HTTP {status} without a Location"),
            }),
        }
    }

    /// A `Location` header as an absolute URL (registries send paths).
    fn resolve(&self, location: &str) -> Result<Url> {
        let bad = |message: String| ImageError::Registry {
            url: self.endpoint.base_url.clone(),
            message,
        };
        let base = Url::parse(&format!("{}/", self.endpoint.base_url))
            .map_err(|e| bad(format!("endpoint URL: {e}")))?;
        base.join(location)
            .map_err(|e| bad(format!("upload location {location:?}: {e}")))
    }

    /// Sends the `size` bytes of the blob file `path` to `location` in one
    /// `PUT` and checks that the registry stored `digest`. `progress` gets
    /// the byte count of what the registry took, now and then.
    pub async fn put_blob(
        &self,
        location: Url,
        digest: &Digest,
        size: u64,
        path: &Path,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<()> {
        let mut url = location;
        url.query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        let url = url.to_string();
        let what = format!("upload of blob {digest}");
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        headers.insert(CONTENT_LENGTH, HeaderValue::from(size));
        let sent = Arc::new(AtomicU64::new(0));
        let moved = Arc::new(Moved::new());
        let make = {
            let (sent, moved) = (sent.clone(), moved.clone());
            let path = path.to_path_buf();
            move || file_body(&path, size, sent.clone(), moved.clone())
        };
        let deadline = Deadline::upload(&self.timeouts);
        let request = self.send_body(Method::PUT, &url, headers, Some(&make), &deadline, &what);
        let mut reported = 0;
        let response = tokio::select! {
            response = request => response?,
            stalled = monitor(&sent, size, &moved, self.timeouts.idle, progress, &mut reported) => {
                return Err(self.origin().timeout(&what, stalled));
            }
        };
        report(&sent, progress, &mut reported);
        // An error body is read with a request's limits, not the upload's.
        let response = self
            .check_status(&url, response, &Deadline::request(&self.timeouts))
            .await?;
        check_digest(&url, response.headers(), digest)
    }

    /// `PUT`s a manifest under `reference` (a tag or its digest) with its
    /// media type; answers the digest the registry gives it, which must be
    /// the digest of `bytes`.
    pub async fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest> {
        let url = self.url(&format!("manifests/{reference}"));
        let what = format!("manifest {reference}");
        let digest = Digest::of(bytes);
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_str(media_type).map_err(|_| ImageError::UnsupportedMediaType {
                what: what.clone(),
                media_type: media_type.to_string(),
            })?,
        );
        let body = bytes.to_vec();
        let make = move || Ok(reqwest::Body::from(body.clone()));
        let deadline = Deadline::request(&self.timeouts);
        let response = self
            .send_body(Method::PUT, &url, headers, Some(&make), &deadline, &what)
            .await?;
        let response = self.check_status(&url, response, &deadline).await?;
        check_digest(&url, response.headers(), &digest)?;
        Ok(digest)
    }
}

/// A registry that names another digest than the one sent stored
/// something else; that is never accepted.
fn check_digest(url: &str, headers: &HeaderMap, digest: &Digest) -> Result<()> {
    let announced = headers
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Digest::parse(v).ok());
    match announced {
        Some(actual) if &actual != digest => Err(ImageError::DigestMismatch {
            what: url.to_string(),
            expected: digest.to_string(),
            actual: actual.to_string(),
        }),
        _ => Ok(()),
    }
}

/// When the upload body last moved, in milliseconds since `start`.
struct Moved {
    start: Instant,
    at: AtomicU64,
}

impl Moved {
    fn new() -> Moved {
        Moved {
            start: Instant::now(),
            at: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.at.store(ms, Ordering::Relaxed);
    }

    fn since(&self) -> Duration {
        self.start
            .elapsed()
            .saturating_sub(Duration::from_millis(self.at.load(Ordering::Relaxed)))
    }
}

/// The blob file as a streamed body of exactly `size` bytes, counting
/// into `sent` and touching `moved` as the registry takes it. A file that
/// is shorter than its descriptor ends the body early, which the
/// registry refuses (its length was announced).
fn file_body(
    path: &Path,
    size: u64,
    sent: Arc<AtomicU64>,
    moved: Arc<Moved>,
) -> Result<reqwest::Body> {
    let file = std::fs::File::open(path).map_err(|e| ImageError::io(path, e))?;
    let actual = file.metadata().map_err(|e| ImageError::io(path, e))?.len();
    if actual != size {
        return Err(ImageError::SizeMismatch {
            what: path.display().to_string(),
            expected: size,
            actual,
        });
    }
    sent.store(0, Ordering::Relaxed);
    moved.touch();
    let path = path.to_path_buf();
    let state = (tokio::fs::File::from_std(file), 0u64);
    let stream = futures_util::stream::unfold(state, move |(mut file, offset)| {
        let (path, sent, moved) = (path.clone(), sent.clone(), moved.clone());
        async move {
            if offset >= size {
                return None;
            }
            let want = usize::try_from(size - offset).map_or(CHUNK, |left| left.min(CHUNK));
            let mut buf = vec![0u8; want];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    sent.fetch_add(n as u64, Ordering::Relaxed);
                    moved.touch();
                    Some((Ok(buf), (file, offset + n as u64)))
                }
                Err(e) => {
                    let err = std::io::Error::new(e.kind(), format!("{}: {e}", path.display()));
                    Some((Err(err), (file, size)))
                }
            }
        }
    });
    Ok(reqwest::Body::wrap_stream(stream))
}

/// Reports progress until the body stops moving for `idle`; then answers
/// why, for the timeout error. Never ends while the upload moves, nor
/// once all `size` bytes are out: the registry may take a while to store
/// a large blob before it answers, and the upload deadline bounds that.
async fn monitor(
    sent: &AtomicU64,
    size: u64,
    moved: &Moved,
    idle: Duration,
    progress: &(dyn Fn(u64) + Send + Sync),
    reported: &mut u64,
) -> String {
    loop {
        tokio::time::sleep(TICK.min(idle)).await;
        report(sent, progress, reported);
        if moved.since() >= idle && sent.load(Ordering::Relaxed) < size {
            return format!(
                "the registry took no data for {} (registry-idle-timeout)",
                seconds(idle)
            );
        }
    }
}

/// Passes what was sent since the last report to `progress`. A retried
/// attempt starts its count again; nothing is reported until it passes
/// what was already reported.
fn report(sent: &AtomicU64, progress: &(dyn Fn(u64) + Send + Sync), reported: &mut u64) {
    let now = sent.load(Ordering::Relaxed);
    if now > *reported {
        progress(now - *reported);
        *reported = now;
    }
}

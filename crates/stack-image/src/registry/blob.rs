//! Blob downloads: streamed to a partial file and hashed as they arrive,
//! resumed with `Range` after a dropped connection, verified (size and
//! digest) before the caller may use them. A mismatch deletes the partial
//! file and is never retried. Every request has an idle limit and a total
//! deadline; a stalled request is retried (resuming) like a dropped one.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, RANGE};
use reqwest::{Method, StatusCode};
use tokio::io::AsyncWriteExt;

use super::deadline::connect_error;
use super::deadline::Deadline;
use super::session::Session;
use crate::digest::{Digest, Hasher};
use crate::error::{ImageError, Result};

/// Attempts per blob (Docker's max-download-attempts).
const ATTEMPTS: u32 = 5;

impl Session {
    /// Downloads blob `digest` of `size` bytes into `partial`, resuming
    /// what is already there. `progress` gets the byte count of each chunk.
    pub async fn download_blob(
        &self,
        digest: &Digest,
        size: u64,
        partial: &Path,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<()> {
        let url = self.url(&format!("blobs/{digest}"));
        let mut hasher = rehash_existing(partial)?;
        if !hasher.is_empty() {
            progress(hasher.len());
        }
        let mut delay = Duration::from_millis(100);
        let mut last_error = None;
        for _ in 0..ATTEMPTS {
            if hasher.len() >= size {
                break;
            }
            match self
                .fetch_from(&url, size, partial, &mut hasher, progress)
                .await
            {
                Ok(()) => {
                    last_error = None;
                    break;
                }
                Err(
                    e @ (ImageError::Connect { .. }
                    | ImageError::Registry { .. }
                    | ImageError::Timeout { .. }),
                ) => {
                    last_error = Some(e);
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => return Err(e),
            }
        }
        if let Some(e) = last_error {
            return Err(e);
        }
        let (len, actual) = (hasher.len(), hasher.finish());
        if len != size {
            let _ = std::fs::remove_file(partial);
            return Err(ImageError::SizeMismatch {
                what: url,
                expected: size,
                actual: len,
            });
        }
        if &actual != digest {
            let _ = std::fs::remove_file(partial);
            return Err(ImageError::DigestMismatch {
                what: url,
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(())
    }

    /// One request: from the current length to the end.
    async fn fetch_from(
        &self,
        url: &str,
        size: u64,
        partial: &Path,
        hasher: &mut Hasher,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<()> {
        let offset = hasher.len();
        let mut headers = HeaderMap::new();
        if offset > 0 {
            let range = HeaderValue::from_str(&format!("bytes={offset}-")).map_err(|e| {
                ImageError::Registry {
                    url: url.to_string(),
                    message: e.to_string(),
                }
            })?;
            headers.insert(RANGE, range);
        }
        let what = format!("blob {}", url.rsplit('/').next().unwrap_or(url));
        let deadline = Deadline::download(&self.timeouts);
        let response = self
            .send(Method::GET, url, headers, &deadline, &what)
            .await?;
        let response = self.check_status(url, response, &deadline).await?;
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(partial)
            .await
            .map_err(|e| ImageError::io(partial, e))?;
        if offset > 0 && response.status() != StatusCode::PARTIAL_CONTENT {
            // The server ignored the range: start over.
            file.set_len(0)
                .await
                .map_err(|e| ImageError::io(partial, e))?;
            *hasher = Hasher::default();
        }
        let mut stream = response.bytes_stream();
        while let Some(chunk) = deadline.wait(&self.origin(), &what, stream.next()).await? {
            let chunk = chunk.map_err(|e| connect_error(url, &e))?;
            file.write_all(&chunk)
                .await
                .map_err(|e| ImageError::io(partial, e))?;
            hasher.update(&chunk);
            progress(chunk.len() as u64);
            if hasher.len() > size {
                // A source sending more than the manifest promised is
                // refused before it can fill the disk.
                drop(file);
                let _ = std::fs::remove_file(partial);
                return Err(ImageError::SizeMismatch {
                    what: url.to_string(),
                    expected: size,
                    actual: hasher.len(),
                });
            }
        }
        file.flush().await.map_err(|e| ImageError::io(partial, e))?;
        file.sync_data()
            .await
            .map_err(|e| ImageError::io(partial, e))?;
        Ok(())
    }
}

/// Hashes what an earlier, interrupted download left, so the resumed
/// download can be verified as a whole.
fn rehash_existing(partial: &Path) -> Result<Hasher> {
    let mut hasher = Hasher::default();
    let mut file = match std::fs::File::open(partial) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(hasher),
        Err(e) => return Err(ImageError::io(partial, e)),
    };
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| ImageError::io(partial, e))?;
        if n == 0 {
            return Ok(hasher);
        }
        hasher.update(&buf[..n]);
    }
}

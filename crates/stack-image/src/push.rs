//! Pushing a local image to its registry, as the OCI distribution spec
//! describes: every blob the manifest names (layers, then the config) is
//! checked with `HEAD` and sent only when the repository lacks it, by a
//! cross-repository mount when another repository of the same registry is
//! known (from the local names) to hold it, else by a monolithic upload
//! streamed from the store; then the manifest goes up byte for byte, so
//! its digest on the registry is the digest here.
//!
//! Pushes never go to a mirror: mirrors serve pulls of what the origin
//! has. Credentials, insecure registries, CA files and time limits are
//! the pulls' own.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::digest::Digest;
use crate::error::{ImageError, Result};
use crate::manifest::{self, BlobRef, ManifestKind, OCI_MANIFEST};
use crate::progress::Progress;
use crate::reference::Reference;
use crate::registry::{connect, Mount, Session};
use crate::settings::RegistrySettings;
use crate::store::Store;

/// What a push did.
#[derive(Debug, Clone)]
pub struct PushOutcome {
    /// Where the image went (`127.0.0.1:5000/team/app:1`).
    pub reference: Reference,
    /// The base URL of the registry.
    pub registry: String,
    /// The manifest digest, the same here and on the registry.
    pub manifest: Digest,
    /// The manifest's size in bytes (Docker prints it).
    pub manifest_size: u64,
    /// Image id (config digest).
    pub id: Digest,
    /// Blobs (layers and config) sent.
    pub blobs_uploaded: usize,
    /// Blobs the repository already had.
    pub blobs_present: usize,
    /// Blobs linked from another repository of the registry.
    pub blobs_mounted: usize,
    /// Bytes of the blobs sent.
    pub bytes_uploaded: u64,
}

/// How one blob got to the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Present,
    Mounted,
    Uploaded(u64),
}

/// Pushes images from a store.
pub struct Pusher {
    store: Store,
    settings: RegistrySettings,
}

impl Pusher {
    pub fn new(store: Store, settings: RegistrySettings) -> Pusher {
        Pusher { store, settings }
    }

    /// Pushes the local image `source` (a reference or id prefix) as
    /// `target`, which must carry a tag (the name the manifest is put
    /// under). Progress is per layer: started, bytes sent, then
    /// `Pushed`, `Layer already exists` or `Mounted from REPO`.
    pub async fn push(
        &self,
        source: &str,
        target: &Reference,
        progress: &dyn Progress,
    ) -> Result<PushOutcome> {
        let Some(tag) = target.tag.clone().filter(|_| target.digest.is_none()) else {
            return Err(ImageError::InvalidReference {
                reference: target.to_string(),
                reason: "a push puts the manifest under a tag; name one (NAME:TAG)".into(),
            });
        };
        // Shared with pulls, exclusive to prune: nothing being sent can be
        // collected halfway.
        let _shared = self.store.pull_lock()?;
        let (image, descriptor) = self.store.descriptor(source)?;
        let bytes = self.store.layout.read_blob(&image.manifest)?;
        let body_type = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("mediaType")?.as_str().map(str::to_string));
        let media_type = match (descriptor.media_type.as_str(), body_type) {
            ("", Some(t)) => t,
            ("", None) => OCI_MANIFEST.to_string(),
            (t, _) => t.to_string(),
        };
        let parsed = match manifest::parse_any(&bytes, &media_type, &image.manifest)? {
            ManifestKind::Image(m) => m,
            ManifestKind::Index(_) => {
                return Err(ImageError::UnsupportedMediaType {
                    what: format!("{}: pushing an index", image.reference),
                    media_type,
                })
            }
        };
        let endpoint = self.settings.push_endpoint(&target.registry);
        let session = Session::new(
            connect::http_client(&self.settings, &endpoint)?,
            endpoint.clone(),
            &target.repository,
            connect::credentials(&self.settings, &endpoint.host),
            self.settings.timeouts,
        )
        .for_push();
        let sources = self.mount_sources(target)?;
        let fail = |what: &str, e: ImageError| push_error(target, what, e);

        let mut seen = BTreeSet::new();
        let layers: Vec<&BlobRef> = parsed
            .layers
            .iter()
            .filter(|l| seen.insert(l.digest.clone()))
            .collect();
        let limit = Arc::new(Semaphore::new(self.settings.max_concurrent_uploads.max(1)));
        let tasks = layers.iter().map(|layer| {
            let (limit, session, sources) = (limit.clone(), &session, &sources);
            async move {
                let _permit = limit.acquire().await.map_err(|e| ImageError::Layer {
                    layer: layer.digest.to_string(),
                    message: e.to_string(),
                })?;
                let what = format!("layer {}", layer.digest);
                let sent = self
                    .send_blob(session, layer, sources.get(&layer.digest), progress, true)
                    .await
                    .map_err(|e| fail(&what, e))?;
                progress.layer_done(&layer.digest, &note(sent, sources.get(&layer.digest)));
                Ok::<_, ImageError>(sent)
            }
        });
        let mut results = futures_util::future::try_join_all(tasks).await?;
        // The config last among the blobs, as Docker: a registry that
        // sees the config knows the image is nearly complete.
        let what = format!("config {}", parsed.config.digest);
        let config = self
            .send_blob(
                &session,
                &parsed.config,
                sources.get(&parsed.config.digest),
                progress,
                false,
            )
            .await
            .map_err(|e| fail(&what, e))?;
        results.push(config);
        let pushed = session
            .put_manifest(&tag, &media_type, &bytes)
            .await
            .map_err(|e| fail(&format!("manifest {tag}"), e))?;
        if pushed != image.manifest {
            return Err(ImageError::DigestMismatch {
                what: format!("manifest of {}", image.reference),
                expected: image.manifest.to_string(),
                actual: pushed.to_string(),
            });
        }
        let mut outcome = PushOutcome {
            reference: target.clone(),
            registry: endpoint.base_url,
            manifest: pushed,
            manifest_size: bytes.len() as u64,
            id: image.id,
            blobs_uploaded: 0,
            blobs_present: 0,
            blobs_mounted: 0,
            bytes_uploaded: 0,
        };
        for sent in results {
            match sent {
                Sent::Present => outcome.blobs_present += 1,
                Sent::Mounted => outcome.blobs_mounted += 1,
                Sent::Uploaded(bytes) => {
                    outcome.blobs_uploaded += 1;
                    outcome.bytes_uploaded += bytes;
                }
            }
        }
        Ok(outcome)
    }

    /// Gets one blob into the repository unless it is there: a mount
    /// from `from` if given (a refused mount falls back to an upload, as
    /// the spec lets the registry answer), else an upload. `report`:
    /// whether progress hears of it (layers do, the config does not).
    async fn send_blob(
        &self,
        session: &Session,
        blob: &BlobRef,
        from: Option<&String>,
        progress: &dyn Progress,
        report: bool,
    ) -> Result<Sent> {
        if session.blob_exists(&blob.digest).await? {
            return Ok(Sent::Present);
        }
        if !self.store.has_blob(&blob.digest) {
            return Err(ImageError::Layer {
                layer: blob.digest.to_string(),
                message: "not in the local store: pull or build the image again".into(),
            });
        }
        let path = self.store.layout.blob_path(&blob.digest);
        let location = match from {
            // A mount the registry cannot do (or this client may not read
            // the source) is no failure: the blob is simply sent.
            Some(from) => match session.mount_blob(&blob.digest, from).await {
                Ok(Mount::Mounted) => return Ok(Sent::Mounted),
                Ok(Mount::Upload(location)) => location,
                Err(_) => session.start_upload().await?,
            },
            None => session.start_upload().await?,
        };
        if report {
            progress.layer_started(&blob.digest, blob.size);
        }
        let digest = blob.digest.clone();
        session
            .put_blob(location, &blob.digest, blob.size, &path, &|n| {
                if report {
                    progress.advance(&digest, n);
                }
            })
            .await?;
        Ok(Sent::Uploaded(blob.size))
    }

    /// For each blob of a local image named in another repository of the
    /// target's registry, that repository: the registry may already hold
    /// the blob there and can link it instead of receiving it again.
    fn mount_sources(&self, target: &Reference) -> Result<BTreeMap<Digest, String>> {
        let mut out = BTreeMap::new();
        for image in self.store.list()? {
            let Ok(name) = Reference::parse(&image.reference) else {
                continue;
            };
            if name.registry != target.registry || name.repository == target.repository {
                continue;
            }
            for digest in image.layers.iter().chain([&image.id]) {
                out.entry(digest.clone())
                    .or_insert_with(|| name.repository.clone());
            }
        }
        Ok(out)
    }
}

/// Docker's words for what happened to a layer.
fn note(sent: Sent, from: Option<&String>) -> String {
    match (sent, from) {
        (Sent::Present, _) => "Layer already exists".into(),
        (Sent::Mounted, Some(from)) => format!("Mounted from {from}"),
        (Sent::Mounted, None) => "Mounted".into(),
        (Sent::Uploaded(_), _) => "Pushed".into(),
    }
}

/// A failed step as a push error naming the registry and repository:
/// a refusal (401/403, or a token server saying no) is `PushDenied`; a
/// registry's other answers are `Push`; what already names its place
/// (connection, time and size limits, integrity, local files) is kept.
fn push_error(target: &Reference, what: &str, e: ImageError) -> ImageError {
    match e {
        ImageError::Unauthorized { status, detail, .. } => ImageError::PushDenied {
            target: format!("{}/{}", target.registry, target.repository),
            status,
            detail,
        },
        ImageError::NotFound { .. } | ImageError::Registry { .. } => ImageError::Push {
            target: format!("{}/{}", target.registry, target.repository),
            what: what.to_string(),
            message: e.to_string(),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_registry_and_repository() {
        let target = Reference::parse("127.0.0.1:5000/team/app:1").expect("reference");
        let e = push_error(
            &target,
            "layer x",
            ImageError::Unauthorized {
                url: "http://127.0.0.1:5000/v2/team/app/blobs/uploads/".into(),
                status: 401,
                detail: ": UNAUTHORIZED authentication required".into(),
            },
        );
        assert!(matches!(e, ImageError::PushDenied { status: 401, .. }));
        assert_eq!(
            e.to_string(),
            "unauthorized: push to 127.0.0.1:5000/team/app denied (HTTP 401): UNAUTHORIZED authentication required"
        );
        let e = push_error(
            &target,
            "manifest 1",
            ImageError::Registry {
                url: "http://127.0.0.1:5000/v2/team/app/manifests/1".into(),
                message: "HTTP 400 Bad Request: MANIFEST_INVALID manifest invalid".into(),
            },
        );
        assert!(
            e.to_string()
                .starts_with("push to 127.0.0.1:5000/team/app: manifest 1: "),
            "{e}"
        );
    }

    #[test]
    fn notes_are_dockers() {
        assert_eq!(note(Sent::Present, None), "Layer already exists");
        assert_eq!(note(Sent::Uploaded(3), None), "Pushed");
        let from = "team/base".to_string();
        assert_eq!(note(Sent::Mounted, Some(&from)), "Mounted from team/base");
    }
}

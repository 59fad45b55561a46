//! Pulling an image: try each source (mirrors, then the registry) in
//! order, moving on after a refused connection, 404, 401/403 or 5xx with a
//! one-line warning; fetch the manifest (choosing the platform from an
//! index), the config and the layers in parallel, each verified before it
//! is stored; unpack the layers not yet unpacked; name the image.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::digest::Digest;
use crate::error::{ImageError, Result};
use crate::image_config::ImageConfigFile;
use crate::manifest::{self, BlobRef, ImageManifest, ManifestKind};
use crate::progress::Progress;
use crate::reference::Reference;
use crate::registry::{connect, Session, MAX_CONFIG_BYTES};
use crate::settings::{Endpoint, RegistrySettings};
use crate::store::layout::Descriptor;
use crate::store::snapshots::Ensured;
use crate::store::Store;

/// What a pull did.
#[derive(Debug, Clone)]
pub struct PullOutcome {
    pub reference: Reference,
    /// The base URL of the source that served the image.
    pub source: String,
    pub source_is_mirror: bool,
    pub manifest: Digest,
    /// Image id (config digest).
    pub id: Digest,
    pub layers_downloaded: usize,
    pub layers_present: usize,
    pub layers_unpacked: usize,
    /// Uncompressed bytes unpacked by this pull.
    pub bytes_unpacked: u64,
}

/// Pulls images into a store.
pub struct Puller {
    store: Store,
    settings: RegistrySettings,
}

impl Puller {
    pub fn new(store: Store, settings: RegistrySettings) -> Puller {
        Puller { store, settings }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Pulls `reference`, trying each source in order.
    pub async fn pull(
        &self,
        reference: &Reference,
        progress: &dyn Progress,
    ) -> Result<PullOutcome> {
        let _shared = self.store.pull_lock()?;
        // What a killed or failed pull left would otherwise fill the disk
        // for good; live downloads hold their partials and are skipped.
        self.store.sweep_stale_ingest()?;
        let endpoints = self.settings.endpoints(&reference.registry);
        let mut attempts = Vec::new();
        for (i, endpoint) in endpoints.iter().enumerate() {
            match self.pull_from(endpoint, reference, progress).await {
                Ok(outcome) => return Ok(outcome),
                Err(e) if e.is_fallback_worthy() => {
                    if let Some(next) = endpoints.get(i + 1) {
                        progress.message(&format!(
                            "warning: {} skipped: {e}; trying {}",
                            endpoint.base_url, next.base_url
                        ));
                    }
                    attempts.push(format!("{}: {e}", endpoint.base_url));
                }
                Err(e) => return Err(e),
            }
        }
        Err(ImageError::AllSourcesFailed {
            reference: reference.to_string(),
            attempts,
        })
    }

    async fn pull_from(
        &self,
        endpoint: &Endpoint,
        reference: &Reference,
        progress: &dyn Progress,
    ) -> Result<PullOutcome> {
        let session = Session::new(
            connect::http_client(&self.settings, endpoint)?,
            endpoint.clone(),
            &reference.repository,
            connect::credentials(&self.settings, &endpoint.host),
            self.settings.timeouts,
        );
        let top = session.manifest(&reference.manifest_ref()).await?;
        let chosen = match manifest::parse_any(&top.bytes, &top.media_type, &top.digest)? {
            ManifestKind::Image(_) => top,
            ManifestKind::Index(entries) => {
                let entry =
                    manifest::select(&entries, &self.settings.platform, &reference.to_string())?;
                session.manifest(&entry.blob.digest.to_string()).await?
            }
        };
        let image = match manifest::parse_any(&chosen.bytes, &chosen.media_type, &chosen.digest)? {
            ManifestKind::Image(m) => m,
            ManifestKind::Index(_) => {
                return Err(ImageError::UnsupportedMediaType {
                    what: format!("{reference}: index inside an index"),
                    media_type: chosen.media_type,
                })
            }
        };
        if image.config.size > MAX_CONFIG_BYTES {
            return Err(session.origin().too_large(
                &format!("image config {}", image.config.digest),
                MAX_CONFIG_BYTES,
            ));
        }
        self.fetch_blob(&session, &image.config, progress, false)
            .await?;
        let config_bytes = self.store.layout.read_blob(&image.config.digest)?;
        let config: ImageConfigFile =
            serde_json::from_slice(&config_bytes).map_err(|source| ImageError::Json {
                what: format!("image config {}", image.config.digest),
                source,
            })?;
        if config.rootfs.diff_ids.len() != image.layers.len() {
            return Err(ImageError::Registry {
                url: session.url(&format!("manifests/{}", chosen.digest)),
                message: format!(
                    "{} layers but {} diff_ids in the config",
                    image.layers.len(),
                    config.rootfs.diff_ids.len()
                ),
            });
        }
        let (downloaded, present, unpacked, bytes) = self
            .fetch_layers(&session, &image, &config, progress)
            .await?;
        let media_type = if chosen.media_type.is_empty() {
            manifest::OCI_MANIFEST.to_string()
        } else {
            chosen.media_type.clone()
        };
        self.store
            .layout
            .write_blob(&chosen.digest, &chosen.bytes)?;
        self.store.tag(
            &reference.to_string(),
            Descriptor {
                media_type,
                digest: chosen.digest.clone(),
                size: chosen.bytes.len() as u64,
                annotations: Default::default(),
                platform: None,
            },
        )?;
        Ok(PullOutcome {
            reference: reference.clone(),
            source: endpoint.base_url.clone(),
            source_is_mirror: endpoint.is_mirror,
            manifest: chosen.digest,
            id: image.config.digest,
            layers_downloaded: downloaded,
            layers_present: present,
            layers_unpacked: unpacked,
            bytes_unpacked: bytes,
        })
    }

    /// Downloads a blob into the store unless it is there. Returns whether
    /// it downloaded.
    async fn fetch_blob(
        &self,
        session: &Session,
        blob: &BlobRef,
        progress: &dyn Progress,
        report: bool,
    ) -> Result<bool> {
        if self.store.has_blob(&blob.digest) {
            return Ok(false);
        }
        // Another download of the same blob (another pull, in this
        // process or another) holds the partial: wait for it, then use
        // its result or take over.
        let ingest = loop {
            if let Some(ingest) = self.store.try_claim_ingest(&blob.digest)? {
                break ingest;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        if self.store.has_blob(&blob.digest) {
            ingest.discard();
            return Ok(false);
        }
        if report {
            progress.layer_started(&blob.digest, blob.size);
        }
        let digest = blob.digest.clone();
        let downloaded = session
            .download_blob(&blob.digest, blob.size, ingest.path(), &|n| {
                if report {
                    progress.advance(&digest, n)
                }
            })
            .await
            .and_then(|()| self.store.commit_ingested(&blob.digest));
        if let Err(e) = downloaded {
            // A full disk, a cut or a wrong byte: nothing is kept, so the
            // next pull starts clean and prune has nothing hidden to find.
            ingest.discard();
            return Err(e);
        }
        Ok(true)
    }

    /// Fetches the layers (at most `max_concurrent_downloads` at once) and
    /// unpacks each as soon as it is verified.
    async fn fetch_layers(
        &self,
        session: &Session,
        image: &ImageManifest,
        config: &ImageConfigFile,
        progress: &dyn Progress,
    ) -> Result<(usize, usize, usize, u64)> {
        let limit = Arc::new(Semaphore::new(
            self.settings.max_concurrent_downloads.max(1),
        ));
        let mut seen = BTreeSet::new();
        let work: Vec<(&BlobRef, &Digest)> = image
            .layers
            .iter()
            .zip(&config.rootfs.diff_ids)
            .filter(|(layer, _)| seen.insert(layer.digest.clone()))
            .collect();
        let tasks = work.into_iter().map(|(layer, diff_id)| {
            let limit = limit.clone();
            async move {
                let permit = limit.acquire().await.map_err(|e| ImageError::Layer {
                    layer: layer.digest.to_string(),
                    message: e.to_string(),
                })?;
                let downloaded = self.fetch_blob(session, layer, progress, true).await?;
                drop(permit);
                let store = self.store.clone();
                let blob = store.layout.blob_path(&layer.digest);
                let id = diff_id.clone();
                let ensured =
                    tokio::task::spawn_blocking(move || store.snapshots.ensure(&blob, &id))
                        .await
                        .map_err(|e| ImageError::Layer {
                            layer: layer.digest.to_string(),
                            message: format!("unpack task: {e}"),
                        })??;
                let note = match (&ensured, downloaded) {
                    (Ensured::Unpacked { .. }, true) => "downloaded, verified, unpacked",
                    (Ensured::Unpacked { .. }, false) => "already present, unpacked",
                    (Ensured::AlreadyThere, true) => "downloaded, verified (already unpacked)",
                    (Ensured::AlreadyThere, false) => "already present",
                };
                progress.layer_done(&layer.digest, note);
                Ok::<_, ImageError>((downloaded, ensured))
            }
        });
        let results = futures_util::future::try_join_all(tasks).await?;
        let mut counts = (0, 0, 0, 0u64);
        for (downloaded, ensured) in results {
            if downloaded {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
            if let Ensured::Unpacked { tar_bytes } = ensured {
                counts.2 += 1;
                counts.3 += tar_bytes;
            }
        }
        Ok(counts)
    }
}

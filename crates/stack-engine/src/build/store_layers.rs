//! [`LayerStore`] over this host's image store: base images pulled
//! through the configured registries and mirrors, layers and images
//! written by `stack-image`. The store's garbage collection is held off
//! for the whole build (its shared lock, as a pull takes it), so a prune
//! cannot collect a layer between the step that made it and the commit
//! that names it.

use std::path::Path;

use stack_image::image_config::{Healthcheck, History, ImageConfigFile, RootFs, RuntimeConfig};
use stack_image::store::layout::Descriptor;
use stack_image::store::Lock;
use stack_image::{DiffKind, ImageError, LayerOptions};

use super::layers::{BaseImage, BuiltImage, Layer, LayerSource, LayerStore};
use super::stage::{HealthConfig, HistoryEntry, StageConfig, StageState};
use super::BuildError;
use stack_image::manifest::ImageManifest;

use crate::images::{Digest, Images, Reference};

/// The image store as the builder uses it.
pub struct StoreLayers {
    images: Images,
    options: LayerOptions,
    /// Held until the build ends: prune waits.
    _no_prune: Lock,
}

impl StoreLayers {
    pub fn new(images: Images, source_date_epoch: Option<u64>) -> Result<StoreLayers, BuildError> {
        let no_prune = images.store().pull_lock()?;
        Ok(StoreLayers {
            images,
            options: LayerOptions {
                source_date_epoch,
                ..LayerOptions::default()
            },
            _no_prune: no_prune,
        })
    }
}

fn digest(text: &str) -> Result<Digest, BuildError> {
    Digest::parse(text).map_err(|e| BuildError::Invalid(format!("digest {text}: {e}")))
}

impl LayerStore for StoreLayers {
    fn base(&self, reference: &str, pull: bool, holder: &str) -> Result<BaseImage, BuildError> {
        let store = self.images.store();
        let missing = matches!(store.find(reference), Err(ImageError::ImageNotFound(_)));
        if pull || missing {
            let parsed = Reference::parse(reference)?;
            let progress = crate::images::progress::for_stderr();
            self.images.pull(&[parsed], progress.as_ref(), |_| {})?;
        }
        let image = store.find(reference)?;
        store.lease(holder, &image)?;
        let manifest =
            ImageManifest::parse(&store.layout.read_blob(&image.manifest)?, &image.manifest)?;
        let diff_ids = &image.config.rootfs.diff_ids;
        if manifest.layers.len() != diff_ids.len() {
            return Err(BuildError::Invalid(format!(
                "image {reference}: {} layers but {} diff_ids",
                manifest.layers.len(),
                diff_ids.len()
            )));
        }
        let mut layers = Vec::new();
        for (blob, diff_id) in manifest.layers.iter().zip(diff_ids) {
            let snapshot = store.snapshots.lookup(diff_id)?.ok_or_else(|| {
                BuildError::Invalid(format!(
                    "image {reference}: layer {diff_id} is not unpacked; pull it again"
                ))
            })?;
            layers.push(Layer {
                digest: blob.digest.to_string(),
                media_type: blob.media_type.clone(),
                size: blob.size,
                diff_id: diff_id.to_string(),
                snapshot,
            });
        }
        let mut history: Vec<HistoryEntry> = image
            .config
            .history
            .iter()
            .map(|h| HistoryEntry {
                created_by: h.created_by.clone().unwrap_or_default(),
                empty_layer: h.empty_layer,
            })
            .collect();
        // Without a history matching its layers, the image gets one line
        // per layer, so the built image's history stays consistent.
        if history.iter().filter(|h| !h.empty_layer).count() != layers.len() {
            history = layers
                .iter()
                .map(|l| HistoryEntry {
                    created_by: format!("layer {}", l.diff_id),
                    empty_layer: false,
                })
                .collect();
        }
        Ok(BaseImage {
            id: image.id.to_string(),
            stage: StageState {
                layers,
                config: stage_config(&image.config.config),
                history,
                ..StageState::default()
            },
        })
    }

    fn add_layer(&self, dir: &Path, source: LayerSource) -> Result<Layer, BuildError> {
        let kind = match source {
            LayerSource::OverlayUpper => DiffKind::OverlayUpper,
            LayerSource::Plain => DiffKind::Plain,
        };
        let added = self.images.store().add_layer(dir, kind, &self.options)?;
        Ok(Layer {
            digest: added.descriptor.digest.to_string(),
            media_type: added.descriptor.media_type.clone(),
            size: added.descriptor.size,
            diff_id: added.diff_id.to_string(),
            snapshot: added.snapshot,
        })
    }

    fn still_there(&self, layer: &Layer) -> Option<Layer> {
        let store = self.images.store();
        let blob = digest(&layer.digest).ok()?;
        let diff_id = digest(&layer.diff_id).ok()?;
        if !store.has_blob(&blob) {
            return None;
        }
        let snapshot = store.snapshots.lookup(&diff_id).ok()??;
        Some(Layer {
            snapshot,
            ..layer.clone()
        })
    }

    fn commit(
        &self,
        stage: &StageState,
        created: &str,
        tags: &[String],
    ) -> Result<BuiltImage, BuildError> {
        let created = Some(created.to_string());
        let mut descriptors = Vec::new();
        let mut diff_ids = Vec::new();
        for layer in &stage.layers {
            descriptors.push(Descriptor {
                media_type: layer.media_type.clone(),
                digest: digest(&layer.digest)?,
                size: layer.size,
                annotations: Default::default(),
                platform: None,
            });
            diff_ids.push(digest(&layer.diff_id)?);
        }
        let config = ImageConfigFile {
            created: created.clone(),
            architecture: crate::images::Platform::host().architecture,
            os: "linux".into(),
            config: runtime_config(&stage.config),
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids,
            },
            history: stage
                .history
                .iter()
                .map(|h| History {
                    created: created.clone(),
                    created_by: Some(h.created_by.clone()),
                    empty_layer: h.empty_layer,
                    ..History::default()
                })
                .collect(),
            ..ImageConfigFile::default()
        };
        let image = self
            .images
            .store()
            .commit_image(&config, &descriptors, tags)?;
        let tags = tags
            .iter()
            .filter_map(|t| Reference::parse(t).ok().map(|r| r.to_string()))
            .collect();
        Ok(BuiltImage {
            id: image.id.to_string(),
            tags,
        })
    }

    fn release(&self, holder: &str) {
        let _ = self.images.store().release(holder);
    }
}

/// A base image's config as a stage starts from it.
fn stage_config(c: &RuntimeConfig) -> StageConfig {
    StageConfig {
        env: c
            .env
            .iter()
            .map(|e| match e.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (e.clone(), String::new()),
            })
            .collect(),
        cmd: c.cmd.clone(),
        entrypoint: c.entrypoint.clone(),
        user: c.user.clone(),
        working_dir: c.working_dir.clone(),
        exposed_ports: c.exposed_ports.keys().cloned().collect(),
        labels: c.labels.clone(),
        stop_signal: c.stop_signal.clone(),
        volumes: c.volumes.keys().cloned().collect(),
        healthcheck: c.healthcheck.as_ref().map(|h| HealthConfig {
            test: h.test.clone(),
            interval: h.interval,
            timeout: h.timeout,
            start_period: h.start_period,
            start_interval: h.start_interval,
            retries: h.retries,
        }),
        shell: c.shell.clone(),
        onbuild: c.on_build.clone(),
    }
}

/// A stage's config as the image records it.
fn runtime_config(c: &StageConfig) -> RuntimeConfig {
    let empty = || serde_json::Value::Object(Default::default());
    RuntimeConfig {
        user: c.user.clone(),
        exposed_ports: c
            .exposed_ports
            .iter()
            .map(|p| (p.clone(), empty()))
            .collect(),
        env: c.env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        entrypoint: c.entrypoint.clone(),
        cmd: c.cmd.clone(),
        volumes: c.volumes.iter().map(|v| (v.clone(), empty())).collect(),
        working_dir: c.working_dir.clone(),
        labels: c.labels.clone(),
        stop_signal: c.stop_signal.clone(),
        healthcheck: c.healthcheck.as_ref().map(|h| Healthcheck {
            test: h.test.clone(),
            interval: h.interval,
            timeout: h.timeout,
            start_period: h.start_period,
            start_interval: h.start_interval,
            retries: h.retries,
        }),
        shell: c.shell.clone(),
        on_build: c.onbuild.clone(),
    }
}

//! The images of the host: list, pull and push with progress, tag,
//! remove, prune.

use stack_api::system::{ImageSummary, PruneResult, PullEvent, RemovedImage};

use super::pull_progress::Forward;
use super::{view, Engine, EngineError};
use crate::images::{Images, LocalImage, Platform, Progress, PushOutcome, Reference};

impl Engine {
    /// The image store with this host's configuration (mirrors, limits).
    pub fn images(&self) -> Result<Images, EngineError> {
        let config = crate::config::Config::load(&self.paths.config_file)?;
        Ok(Images::open(&self.paths, &config)?)
    }

    pub fn list_images(&self) -> Result<Vec<ImageSummary>, EngineError> {
        let images = self.images()?;
        let list = images.store().list()?;
        Ok(list.iter().map(view::image_summary).collect())
    }

    pub fn remove_image(&self, name: &str) -> Result<RemovedImage, EngineError> {
        let image = self.images()?.remove(name)?;
        Ok(RemovedImage {
            untagged: image.reference,
            deleted: image.id.to_string(),
        })
    }

    pub fn prune_images(&self, all: bool) -> Result<PruneResult, EngineError> {
        let report = self.images()?.prune(all)?;
        Ok(PruneResult {
            images: report.images,
            blobs: report.blobs,
            snapshots: report.snapshots,
            bytes: report.bytes,
        })
    }

    /// Pulls one image, reporting each step to `emit`; the last event is
    /// `Pulled` on success (the error is returned, not emitted).
    pub fn pull(
        &self,
        reference: &str,
        platform: Option<&str>,
        emit: &(dyn Fn(PullEvent) + Send + Sync),
    ) -> Result<(), EngineError> {
        let reference = Reference::parse(reference)?;
        let mut images = self.images()?;
        if let Some(p) = platform {
            let platform = Platform::parse(p).ok_or_else(|| {
                EngineError::Invalid(format!("platform {p:?}: expected os/arch[/variant]"))
            })?;
            images = images.with_platform(platform);
        }
        let progress = Forward::new(emit);
        images.pull(std::slice::from_ref(&reference), &progress, |o| {
            emit(PullEvent::Pulled {
                reference: o.reference.familiar(),
                source: o.source.clone(),
                source_is_mirror: o.source_is_mirror,
                manifest: o.manifest.to_string(),
                id: o.id.to_string(),
                layers_downloaded: o.layers_downloaded,
                layers_present: o.layers_present,
            })
        })?;
        Ok(())
    }

    /// Pushes the local image `name` (`NAME[:TAG]`) to its registry,
    /// reporting each layer to `progress`. Called in process by the CLI;
    /// the daemon's routes do not offer it yet.
    pub fn push_image(
        &self,
        name: &str,
        progress: &dyn Progress,
        cancel: &crate::build::CancellationToken,
    ) -> Result<PushOutcome, EngineError> {
        Ok(self.images()?.push(name, progress, cancel)?)
    }

    /// Names the image `source` (reference or id prefix) also `target`,
    /// as `docker tag`.
    pub fn tag_image(&self, source: &str, target: &str) -> Result<LocalImage, EngineError> {
        Ok(self.images()?.tag(source, target)?)
    }
}

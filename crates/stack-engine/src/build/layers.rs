//! The builder's view of the image store: base images as layers plus
//! config, new layers from directories, and the finished image. A small
//! trait, so the order of a build's steps can be tested without a store.

use std::path::{Path, PathBuf};

pub use super::layer::{Layer, LayerSource};
use super::stage::StageState;
use super::BuildError;

/// A base image, ready to build on.
#[derive(Debug, Clone)]
pub struct BaseImage {
    /// `sha256:<hex>` of its config: the cache chain starts there.
    pub id: String,
    /// Its state: layers, config, history.
    pub stage: StageState,
}

/// A finished image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltImage {
    /// `sha256:<hex>` of the config, as `docker build` prints it.
    pub id: String,
    /// The names it was tagged with, normalized.
    pub tags: Vec<String>,
}

/// What the builder needs of an image store.
pub trait LayerStore {
    /// A base image (pulled when missing, or always with `pull`), leased
    /// to `holder` until [`LayerStore::release`].
    fn base(&self, reference: &str, pull: bool, holder: &str) -> Result<BaseImage, BuildError>;
    /// A directory made into a layer (blob and snapshot).
    fn add_layer(&self, dir: &Path, source: LayerSource) -> Result<Layer, BuildError>;
    /// The layer again, when its blob and snapshot are still there (a
    /// cache hit is only good then); its snapshot may have moved.
    fn still_there(&self, layer: &Layer) -> Option<Layer>;
    /// Writes config and manifest and tags the image; `created` is its
    /// time (RFC 3339).
    fn commit(
        &self,
        stage: &StageState,
        created: &str,
        tags: &[String],
    ) -> Result<BuiltImage, BuildError>;
    /// Ends the leases of `holder`.
    fn release(&self, holder: &str);
}

/// The overlay lower directories of a stage: topmost first.
pub fn lower_dirs(stage: &StageState) -> Vec<PathBuf> {
    stage
        .layers
        .iter()
        .rev()
        .map(|l| l.snapshot.clone())
        .collect()
}

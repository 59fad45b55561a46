//! Layers a build makes: written from a directory through the ingest
//! area, stored under their digest, and unpacked into a snapshot the way
//! a pulled layer is, so the next build step can stand on it and
//! [`Store::rootfs`] finds it.

use std::path::{Path, PathBuf};

use super::layout::Descriptor;
use super::Store;
use crate::digest::Digest;
use crate::error::{ImageError, Result};
use crate::layer::{write_layer, DiffKind, LayerOptions, LayerStats};

/// A layer [`Store::add_layer`] stored.
#[derive(Debug, Clone)]
pub struct AddedLayer {
    /// What a manifest lists for it (media type, digest, size).
    pub descriptor: Descriptor,
    /// What the image config's `rootfs.diff_ids` lists for it.
    pub diff_id: Digest,
    /// Its unpacked snapshot (overlay form), to stack under the next step.
    pub snapshot: PathBuf,
    pub stats: LayerStats,
    /// The same blob was in the store already; nothing new was kept.
    pub reused: bool,
}

impl Store {
    /// Writes the tree under `dir` as a layer blob (see [`write_layer`]),
    /// stores it and makes its snapshot.
    ///
    /// The blob is written to a claimed file in `images/ingest/` and
    /// renamed into `blobs/` only once complete, so no half-written blob
    /// ever sits under a digest. The snapshot is unpacked from the stored
    /// blob like a pulled layer's, which also checks the blob against its
    /// diff_id. Identical content already there (blob or snapshot) is
    /// reused.
    ///
    /// Until an image names it ([`Store::commit_image`]), the layer is
    /// garbage to [`Store::prune`]: a build holds [`Store::pull_lock`]
    /// from its first layer to its commit, as a pull does.
    pub fn add_layer(
        &self,
        dir: &Path,
        kind: DiffKind,
        options: &LayerOptions,
    ) -> Result<AddedLayer> {
        let _shared = self.pull_lock()?;
        let ingest = self.claim_new_ingest("layer")?;
        let stats = match write_layer(dir, kind, options, ingest.file()) {
            Ok(stats) => stats,
            Err(e) => {
                ingest.discard();
                return Err(e);
            }
        };
        let blob = self.layout.blob_path(&stats.digest);
        let reused = self.has_blob(&stats.digest);
        if reused {
            ingest.discard();
        } else if let Err(e) = std::fs::rename(ingest.path(), &blob) {
            ingest.discard();
            return Err(ImageError::io(&blob, e));
        }
        if let Err(e) = self.snapshots.ensure(&blob, &stats.diff_id) {
            // A blob that cannot be unpacked is of no use to anyone.
            if !reused {
                let _ = std::fs::remove_file(&blob);
            }
            return Err(e);
        }
        let snapshot = self
            .snapshots
            .lookup(&stats.diff_id)?
            .ok_or_else(|| ImageError::Layer {
                layer: stats.diff_id.to_string(),
                message: "snapshot missing right after it was made".into(),
            })?;
        Ok(AddedLayer {
            descriptor: Descriptor {
                media_type: stats.media_type.to_string(),
                digest: stats.digest.clone(),
                size: stats.size,
                annotations: Default::default(),
                platform: None,
            },
            diff_id: stats.diff_id.clone(),
            snapshot,
            stats,
            reused,
        })
    }
}

//! Garbage collection: what no named image reaches is removed (blobs,
//! snapshots, stale downloads). Images in use by a container (leased) are
//! never removed by prune.

use std::collections::BTreeSet;

use super::Store;
use crate::digest::Digest;
use crate::error::{ImageError, Result};
use crate::image_config::ImageConfigFile;
use crate::manifest::{parse_any, ManifestKind};

/// What a prune removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PruneReport {
    pub images: Vec<String>,
    pub blobs: usize,
    pub snapshots: usize,
    /// Partial downloads left by failed or killed pulls.
    pub partials: usize,
    /// Bytes of everything above.
    pub bytes: u64,
}

impl Store {
    /// `image prune`: removes the images without a name that no container
    /// uses (Docker's dangling images), or with `all` every image no
    /// container uses (Docker's `-a`); then collects garbage. Names are
    /// reported as they were, an unnamed image by its manifest digest.
    pub fn prune(&self, all: bool) -> Result<PruneReport> {
        let mut removed = Vec::new();
        {
            let _lock = self.metadata_lock()?;
            let mut index = self.layout.read_index()?;
            let mut kept = Vec::new();
            for d in index.manifests {
                let candidate = all || d.ref_name().is_none();
                if candidate && self.users_of(&d.digest)?.is_empty() {
                    removed.push(match d.ref_name() {
                        Some(name) => name.to_string(),
                        None => d.digest.to_string(),
                    });
                } else {
                    kept.push(d);
                }
            }
            index.manifests = kept;
            self.layout.write_index(&index)?;
        }
        let mut report = self.collect_garbage()?;
        report.images = removed;
        Ok(report)
    }

    /// Removes blobs and snapshots no named image or lease reaches.
    pub fn collect_garbage(&self) -> Result<PruneReport> {
        let _gc = super::Lock::exclusive(&self.layout.dir.join(".gc.lock"))?;
        let _meta = self.metadata_lock()?;
        let mut roots: Vec<Digest> = self
            .layout
            .read_index()?
            .manifests
            .into_iter()
            .map(|d| d.digest)
            .collect();
        for entry in std::fs::read_dir(&self.leases).map_err(|e| ImageError::io(&self.leases, e))? {
            let text =
                std::fs::read_to_string(entry.map_err(|e| ImageError::io(&self.leases, e))?.path())
                    .unwrap_or_default();
            if let Ok(d) = Digest::parse(text.trim()) {
                roots.push(d);
            }
        }
        let (blobs, diff_ids) = self.reachable(roots)?;
        let mut report = PruneReport::default();
        let dir = self.layout.dir.join("blobs/sha256");
        for entry in std::fs::read_dir(&dir).map_err(|e| ImageError::io(&dir, e))? {
            let entry = entry.map_err(|e| ImageError::io(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let keep = Digest::parse(&format!("sha256:{name}"))
                .map(|d| blobs.contains(&d))
                .unwrap_or(false);
            if !keep {
                report.bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
                std::fs::remove_file(entry.path()).map_err(|e| ImageError::io(entry.path(), e))?;
                report.blobs += 1;
            }
        }
        // Nothing of this store downloads while we hold the gc lock
        // exclusively; the sweep still respects each partial's own lock.
        let (partials, bytes) = self.sweep_stale_ingest()?;
        report.partials = partials;
        report.bytes += bytes;
        report.snapshots = self.snapshots.retain(&diff_ids)?;
        Ok(report)
    }

    /// Blobs and diff_ids reachable from the manifests `roots`.
    fn reachable(&self, roots: Vec<Digest>) -> Result<(BTreeSet<Digest>, BTreeSet<Digest>)> {
        let mut blobs = BTreeSet::new();
        let mut diff_ids = BTreeSet::new();
        let mut queue = roots;
        while let Some(digest) = queue.pop() {
            if !blobs.insert(digest.clone()) || !self.has_blob(&digest) {
                continue;
            }
            let bytes = self.layout.read_blob(&digest)?;
            match parse_any(&bytes, "", &digest)? {
                ManifestKind::Index(entries) => {
                    queue.extend(entries.into_iter().map(|e| e.blob.digest));
                }
                ManifestKind::Image(m) => {
                    blobs.insert(m.config.digest.clone());
                    blobs.extend(m.layers.iter().map(|l| l.digest.clone()));
                    if let Ok(config) = self.layout.read_blob(&m.config.digest) {
                        if let Ok(c) = serde_json::from_slice::<ImageConfigFile>(&config) {
                            diff_ids.extend(c.rootfs.diff_ids);
                        }
                    }
                }
            }
        }
        Ok((blobs, diff_ids))
    }
}

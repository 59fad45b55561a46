//! The local image store: an OCI image layout of pulled and built
//! content plus the snapshots unpacked from it, and leases that mark
//! images in use. Built layers enter through the same ingest area and
//! snapshots as pulled ones, so everything else (rootfs, gc, save) treats
//! them alike.
//!
//! ```text
//! <state root>/images/            OCI image layout (skopeo/umoci read it)
//!     oci-layout  index.json      one entry per image name (ref.name annotation)
//!     blobs/sha256/<hex>          manifests, configs, layers: verified bytes only
//!     ingest/<hex>                downloads in progress (flocked by their writer)
//!     ingest/layer-<pid>-<n>      built layers being written (flocked likewise)
//!     leases/<container id>       manifest digest a container uses
//!     .lock  .gc.lock             flock: metadata changes; pulls vs prune
//! <state root>/snapshots/
//!     snapshots.json              diff_id -> numeric id, uncompressed size
//!     <n>/                        one unpacked layer, overlay whiteout form
//!     tmp-*/                      unpacks in progress
//! ```

mod commit;
mod gc;
mod ingest;
mod layers;
pub mod layout;
mod lock;
pub mod snapshots;
mod tag;

use std::path::{Path, PathBuf};

pub use gc::PruneReport;
pub use ingest::Ingest;
pub use layers::AddedLayer;
use layout::{Descriptor, Layout, REF_NAME};
pub use lock::Lock;
use snapshots::Snapshots;

use crate::digest::Digest;
use crate::error::{ImageError, Result};
use crate::image_config::{ImageConfigFile, RuntimeConfig};
use crate::manifest::ImageManifest;
use crate::reference::Reference;

/// The store under a state root.
#[derive(Debug, Clone)]
pub struct Store {
    pub layout: Layout,
    pub snapshots: Snapshots,
    ingest: PathBuf,
    leases: PathBuf,
}

/// An image as the store knows it.
#[derive(Debug, Clone)]
pub struct LocalImage {
    /// Full normalized reference (`docker.io/library/busybox:latest`);
    /// empty for an image without a name (Docker's `<none>:<none>`, what
    /// a build without `-t` makes), found by its id.
    pub reference: String,
    pub manifest: Digest,
    /// The image id, as Docker shows it: the config digest.
    pub id: Digest,
    pub config: ImageConfigFile,
    pub layers: Vec<Digest>,
    /// Uncompressed size of all layers.
    pub size: u64,
}

/// What a runtime needs to make a container's root filesystem.
#[derive(Debug, Clone)]
pub struct ImageRootfs {
    /// Overlay lower directories, topmost layer first (overlay's order).
    pub lower_dirs: Vec<PathBuf>,
    pub config: RuntimeConfig,
    pub id: Digest,
}

impl Store {
    /// Opens the store under `state_root`, creating its directories.
    pub fn open(state_root: &Path) -> Result<Store> {
        let images = state_root.join("images");
        let layout = Layout::create(&images)?;
        let snapshots = Snapshots::create(&state_root.join("snapshots"))?;
        let ingest = images.join("ingest");
        let leases = images.join("leases");
        for dir in [&ingest, &leases] {
            std::fs::create_dir_all(dir).map_err(|e| ImageError::io(dir, e))?;
        }
        Ok(Store {
            layout,
            snapshots,
            ingest,
            leases,
        })
    }

    /// Where a download of `digest` is written until it is verified.
    pub fn ingest_path(&self, digest: &Digest) -> PathBuf {
        self.ingest.join(digest.hex())
    }

    /// Moves a verified download into `blobs/`.
    pub fn commit_ingested(&self, digest: &Digest) -> Result<()> {
        let from = self.ingest_path(digest);
        let to = self.layout.blob_path(digest);
        std::fs::rename(&from, &to).map_err(|e| ImageError::io(&to, e))
    }

    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.layout.blob_path(digest).is_file()
    }

    /// The lock that pulls share and prune takes alone.
    pub fn pull_lock(&self) -> Result<Lock> {
        Lock::shared(&self.layout.dir.join(".gc.lock"))
    }

    fn metadata_lock(&self) -> Result<Lock> {
        Lock::exclusive(&self.layout.dir.join(".lock"))
    }

    /// Records `reference` as naming the manifest `descriptor`, replacing
    /// what the name pointed at before; the manifest is no longer an
    /// unnamed image.
    pub fn tag(&self, reference: &str, mut descriptor: Descriptor) -> Result<()> {
        let _lock = self.metadata_lock()?;
        let mut index = self.layout.read_index()?;
        index.manifests.retain(|d| match d.ref_name() {
            Some(name) => name != reference,
            None => d.digest != descriptor.digest,
        });
        descriptor
            .annotations
            .insert(REF_NAME.into(), reference.to_string());
        index.manifests.push(descriptor);
        self.layout.write_index(&index)
    }

    /// Keeps the manifest `descriptor` as an image without a name, unless
    /// a name or another unnamed entry already keeps it.
    pub fn keep_unnamed(&self, mut descriptor: Descriptor) -> Result<()> {
        let _lock = self.metadata_lock()?;
        let mut index = self.layout.read_index()?;
        if index
            .manifests
            .iter()
            .any(|d| d.digest == descriptor.digest)
        {
            return Ok(());
        }
        descriptor.annotations.remove(REF_NAME);
        index.manifests.push(descriptor);
        self.layout.write_index(&index)
    }

    /// Bytes of every unpacked layer, each counted once however many
    /// images share it.
    pub fn layers_size(&self) -> Result<u64> {
        Ok(self.layer_sizes()?.values().sum())
    }

    /// Each unpacked layer's bytes, by diff_id.
    pub fn layer_sizes(&self) -> Result<std::collections::BTreeMap<Digest, u64>> {
        Ok(self
            .snapshots
            .read_db()?
            .layers
            .into_iter()
            .map(|(diff_id, info)| (diff_id, info.size))
            .collect())
    }

    /// Every image, named or not, in the order they were recorded.
    pub fn list(&self) -> Result<Vec<LocalImage>> {
        let index = self.layout.read_index()?;
        let sizes = self.snapshots.read_db()?;
        let mut out = Vec::new();
        for d in &index.manifests {
            let name = d.ref_name().unwrap_or_default();
            let manifest = ImageManifest::parse(&self.layout.read_blob(&d.digest)?, &d.digest)?;
            let config_bytes = self.layout.read_blob(&manifest.config.digest)?;
            let config: ImageConfigFile =
                serde_json::from_slice(&config_bytes).map_err(|source| ImageError::Json {
                    what: format!("image config {}", manifest.config.digest),
                    source,
                })?;
            let size = config
                .rootfs
                .diff_ids
                .iter()
                .filter_map(|id| sizes.layers.get(id).map(|s| s.size))
                .sum();
            out.push(LocalImage {
                reference: name.to_string(),
                manifest: d.digest.clone(),
                id: manifest.config.digest.clone(),
                layers: manifest.layers.iter().map(|l| l.digest.clone()).collect(),
                config,
                size,
            });
        }
        Ok(out)
    }

    /// Finds an image by reference (`busybox`, `127.0.0.1:5000/x:1`) or by
    /// a prefix of its id (at least 4 hex digits, with or without `sha256:`).
    pub fn find(&self, name: &str) -> Result<LocalImage> {
        let images = self.list()?;
        if let Ok(reference) = Reference::parse(name) {
            let full = reference.to_string();
            if let Some(found) = images.iter().find(|i| i.reference == full) {
                return Ok(found.clone());
            }
        }
        let prefix = name.strip_prefix("sha256:").unwrap_or(name);
        if prefix.len() >= 4 && prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            let matches: Vec<&LocalImage> = images
                .iter()
                .filter(|i| i.id.hex().starts_with(prefix))
                .collect();
            if let Some(first) = matches.first() {
                if matches.iter().all(|m| m.id == first.id) {
                    return Ok((*first).clone());
                }
            }
        }
        Err(ImageError::ImageNotFound(name.to_string()))
    }

    /// The overlay lower directories and runtime config of a local image.
    pub fn rootfs(&self, name: &str) -> Result<ImageRootfs> {
        let image = self.find(name)?;
        let db = self.snapshots.read_db()?;
        let mut lower_dirs = Vec::new();
        for diff_id in image.config.rootfs.diff_ids.iter().rev() {
            let info = db.layers.get(diff_id).ok_or_else(|| ImageError::Layer {
                layer: diff_id.to_string(),
                message: format!("not unpacked; pull {} again", image.reference),
            })?;
            lower_dirs.push(self.snapshots.path_of(info.id));
        }
        Ok(ImageRootfs {
            lower_dirs,
            config: image.config.config,
            id: image.id,
        })
    }

    /// Marks `image` as used by `holder` (a container id), so that rmi and
    /// prune leave it alone until [`Store::release`].
    pub fn lease(&self, holder: &str, image: &LocalImage) -> Result<()> {
        let path = self.lease_path(holder)?;
        layout::write_atomic(&path, image.manifest.to_string().as_bytes())
    }

    /// Drops `holder`'s lease.
    pub fn release(&self, holder: &str) -> Result<()> {
        let path = self.lease_path(holder)?;
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ImageError::io(&path, e)),
            _ => Ok(()),
        }
    }

    fn lease_path(&self, holder: &str) -> Result<PathBuf> {
        let ok = !holder.is_empty()
            && holder
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && !holder.starts_with('.');
        if !ok {
            return Err(ImageError::InvalidReference {
                reference: holder.to_string(),
                reason: "a lease holder is letters, digits, '-', '_' and '.'".into(),
            });
        }
        Ok(self.leases.join(holder))
    }

    /// Every lease holder, in name order.
    pub fn lease_holders(&self) -> Result<Vec<String>> {
        let entries =
            std::fs::read_dir(&self.leases).map_err(|e| ImageError::io(&self.leases, e))?;
        let mut holders: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| !name.starts_with('.'))
            .collect();
        holders.sort();
        Ok(holders)
    }

    /// Holders of leases on the manifest `manifest`.
    pub fn users_of(&self, manifest: &Digest) -> Result<Vec<String>> {
        let mut users = Vec::new();
        let entries =
            std::fs::read_dir(&self.leases).map_err(|e| ImageError::io(&self.leases, e))?;
        for entry in entries.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if text.trim() == manifest.to_string() {
                users.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        users.sort();
        Ok(users)
    }

    /// Removes the name `name` (and, through garbage collection, whatever
    /// only it used). Refused while a container uses the image.
    pub fn remove(&self, name: &str) -> Result<LocalImage> {
        let image = self.find(name)?;
        let users = self.users_of(&image.manifest)?;
        let same_manifest_names = self
            .list()?
            .iter()
            .filter(|i| i.manifest == image.manifest)
            .count();
        if !users.is_empty() && same_manifest_names <= 1 {
            return Err(ImageError::InUse {
                image: image.reference.clone(),
                users: users.join(", "),
            });
        }
        {
            let _lock = self.metadata_lock()?;
            let mut index = self.layout.read_index()?;
            index.manifests.retain(|d| match d.ref_name() {
                Some(name) => name != image.reference,
                None => !(image.reference.is_empty() && d.digest == image.manifest),
            });
            self.layout.write_index(&index)?;
        }
        self.collect_garbage()?;
        Ok(image)
    }
}

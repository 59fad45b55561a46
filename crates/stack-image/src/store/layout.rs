//! The OCI image layout under `<state root>/images/`: `oci-layout`,
//! `index.json` (one entry per local image, its full reference in the
//! `org.opencontainers.image.ref.name` annotation) and `blobs/sha256/`.
//! skopeo and umoci read it as it is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{ImageError, Result};

pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// A content descriptor as it appears in `index.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<serde_json::Value>,
}

impl Descriptor {
    pub fn ref_name(&self) -> Option<&str> {
        self.annotations.get(REF_NAME).map(String::as_str)
    }
}

/// `index.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayoutIndex {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

impl Default for LayoutIndex {
    fn default() -> Self {
        LayoutIndex {
            schema_version: 2,
            media_type: Some(OCI_INDEX.into()),
            manifests: Vec::new(),
        }
    }
}

/// Paths of an OCI image layout.
#[derive(Debug, Clone)]
pub struct Layout {
    pub dir: PathBuf,
}

impl Layout {
    /// Opens (creating if needed) the layout at `dir`.
    pub fn create(dir: &Path) -> Result<Layout> {
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).map_err(|e| ImageError::io(&blobs, e))?;
        let marker = dir.join("oci-layout");
        if !marker.exists() {
            write_atomic(&marker, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        let layout = Layout {
            dir: dir.to_path_buf(),
        };
        if !layout.index_path().exists() {
            layout.write_index(&LayoutIndex::default())?;
        }
        Ok(layout)
    }

    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir.join("blobs/sha256").join(digest.hex())
    }

    pub fn index_path(&self) -> PathBuf {
        self.dir.join("index.json")
    }

    pub fn read_index(&self) -> Result<LayoutIndex> {
        let path = self.index_path();
        let text = std::fs::read(&path).map_err(|e| ImageError::io(&path, e))?;
        serde_json::from_slice(&text).map_err(|source| ImageError::Json {
            what: path.display().to_string(),
            source,
        })
    }

    pub fn write_index(&self, index: &LayoutIndex) -> Result<()> {
        let bytes = serde_json::to_vec(index).map_err(|source| ImageError::Json {
            what: "index.json".into(),
            source,
        })?;
        write_atomic(&self.index_path(), &bytes)
    }

    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>> {
        let path = self.blob_path(digest);
        std::fs::read(&path).map_err(|e| ImageError::io(&path, e))
    }

    /// Stores small content (manifests, configs) after checking its digest.
    pub fn write_blob(&self, digest: &Digest, bytes: &[u8]) -> Result<()> {
        let actual = Digest::of(bytes);
        if &actual != digest {
            return Err(ImageError::DigestMismatch {
                what: format!("blob {digest}"),
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        let path = self.blob_path(digest);
        if path.exists() {
            return Ok(());
        }
        write_atomic(&path, bytes)
    }
}

/// Writes through a temporary file and a rename, so readers never see
/// half a file and a crash leaves the old one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    // One temporary name per call, not per process: two threads of the
    // daemon making the layout at once (parallel pulls of a first
    // `compose up`) would otherwise share it, and the second rename would
    // find it gone.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp-{}-{n}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| ImageError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| ImageError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_making_one_layout_at_once_all_succeed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("images");
        let made: Vec<Result<Layout>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| Layout::create(&root))).collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        for m in made {
            m.expect("layout");
        }
        assert!(root.join("oci-layout").is_file());
        Layout { dir: root }.read_index().expect("index");
    }
}

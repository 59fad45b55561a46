//! Unpacked layers under `<state root>/snapshots/<n>/`, one per diff_id.
//! Short numeric names keep overlay's `lowerdir=` option under the page
//! size for deep images. A layer shared by several images is unpacked once.
//! Unpacking happens in `tmp-*` and is renamed into place only after the
//! diff_id matched, so a crash or a bad layer leaves no half snapshot.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::layout::write_atomic;
use super::lock::Lock;
use crate::digest::Digest;
use crate::error::{ImageError, Result};
use crate::unpack;

/// `snapshots.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SnapshotDb {
    pub next: u64,
    pub layers: BTreeMap<Digest, SnapshotInfo>,
}

/// One unpacked layer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub id: u64,
    /// Uncompressed size of the layer tar.
    pub size: u64,
}

/// The snapshot directory.
#[derive(Debug, Clone)]
pub struct Snapshots {
    pub dir: PathBuf,
}

/// What [`Snapshots::ensure`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    Unpacked { tar_bytes: u64 },
    AlreadyThere,
}

impl Snapshots {
    pub fn create(dir: &Path) -> Result<Snapshots> {
        std::fs::create_dir_all(dir).map_err(|e| ImageError::io(dir, e))?;
        Ok(Snapshots {
            dir: dir.to_path_buf(),
        })
    }

    fn db_path(&self) -> PathBuf {
        self.dir.join("snapshots.json")
    }

    fn lock(&self) -> Result<Lock> {
        Lock::exclusive(&self.dir.join(".lock"))
    }

    pub fn read_db(&self) -> Result<SnapshotDb> {
        let path = self.db_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| ImageError::Json {
                what: path.display().to_string(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SnapshotDb::default()),
            Err(e) => Err(ImageError::io(&path, e)),
        }
    }

    fn write_db(&self, db: &SnapshotDb) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(db).map_err(|source| ImageError::Json {
            what: "snapshots.json".into(),
            source,
        })?;
        write_atomic(&self.db_path(), &bytes)
    }

    pub fn path_of(&self, id: u64) -> PathBuf {
        self.dir.join(id.to_string())
    }

    /// The snapshot directory of `diff_id`, if unpacked.
    pub fn lookup(&self, diff_id: &Digest) -> Result<Option<PathBuf>> {
        Ok(self
            .read_db()?
            .layers
            .get(diff_id)
            .map(|info| self.path_of(info.id)))
    }

    /// Unpacks the verified blob at `blob` as layer `diff_id` unless a
    /// snapshot for it exists.
    pub fn ensure(&self, blob: &Path, diff_id: &Digest) -> Result<Ensured> {
        if self.lookup(diff_id)?.is_some() {
            return Ok(Ensured::AlreadyThere);
        }
        static UNIQUE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let tmp = self.dir.join(format!(
            "tmp-{}-{}-{}",
            std::process::id(),
            UNIQUE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            &diff_id.hex()[..12]
        ));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir(&tmp).map_err(|e| ImageError::io(&tmp, e))?;
        let result = self.unpack_into(blob, diff_id, &tmp);
        let unpacked = match result {
            Ok(u) => u,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e);
            }
        };
        let _lock = self.lock()?;
        let mut db = self.read_db()?;
        if db.layers.contains_key(diff_id) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Ok(Ensured::AlreadyThere);
        }
        db.next += 1;
        let id = db.next;
        let target = self.path_of(id);
        std::fs::rename(&tmp, &target).map_err(|e| ImageError::io(&target, e))?;
        db.layers.insert(
            diff_id.clone(),
            SnapshotInfo {
                id,
                size: unpacked.tar_bytes,
            },
        );
        self.write_db(&db)?;
        Ok(Ensured::Unpacked {
            tar_bytes: unpacked.tar_bytes,
        })
    }

    fn unpack_into(&self, blob: &Path, diff_id: &Digest, dest: &Path) -> Result<unpack::Unpacked> {
        let file = std::fs::File::open(blob).map_err(|e| ImageError::io(blob, e))?;
        let unpacked = unpack::unpack_layer(file, dest, &diff_id.to_string())?;
        if &unpacked.diff_id != diff_id {
            return Err(ImageError::DigestMismatch {
                what: format!("uncompressed layer {}", blob.display()),
                expected: diff_id.to_string(),
                actual: unpacked.diff_id.to_string(),
            });
        }
        Ok(unpacked)
    }

    /// Removes the snapshots whose diff_id is not in `keep`, and leftovers
    /// of interrupted unpacks. Returns how many snapshots went.
    pub fn retain(&self, keep: &std::collections::BTreeSet<Digest>) -> Result<usize> {
        let _lock = self.lock()?;
        let mut db = self.read_db()?;
        let doomed: Vec<Digest> = db
            .layers
            .keys()
            .filter(|d| !keep.contains(*d))
            .cloned()
            .collect();
        for diff_id in &doomed {
            if let Some(info) = db.layers.remove(diff_id) {
                let path = self.path_of(info.id);
                std::fs::remove_dir_all(&path).map_err(|e| ImageError::io(&path, e))?;
            }
        }
        self.write_db(&db)?;
        let own_prefix = format!("tmp-{}-", std::process::id());
        for entry in std::fs::read_dir(&self.dir).map_err(|e| ImageError::io(&self.dir, e))? {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("tmp-") && !name.starts_with(&own_prefix) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        Ok(doomed.len())
    }
}

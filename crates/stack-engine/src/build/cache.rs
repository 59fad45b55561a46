//! The build cache: what a layer-making step produced, keyed by what it
//! depends on (the chain of everything before it, the step after
//! variable expansion, the environment it ran with, and for `COPY` the
//! content of what it copied: bytes, modes, owners, not mtimes). An
//! entry is one small JSON file under `<state root>/build-cache/`; a hit
//! is used only while the store still holds the layer.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::layers::Layer;
use super::BuildError;

/// The cache of one state root.
pub struct BuildCache {
    dir: PathBuf,
}

/// What a step made: a layer, or nothing (a `RUN` that changed no file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedStep {
    pub layer: Option<Layer>,
}

impl BuildCache {
    pub fn open(state_root: &Path) -> Result<BuildCache, BuildError> {
        let dir = state_root.join("build-cache");
        std::fs::create_dir_all(&dir).map_err(BuildError::io(&dir))?;
        Ok(BuildCache { dir })
    }

    /// The key of a step: the hash of its parts, each length-prefixed so
    /// no two part lists give the same bytes.
    pub fn key(parts: &[&str]) -> String {
        let mut h = Sha256::new();
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p.as_bytes());
        }
        hex(&h.finalize())
    }

    pub fn get(&self, key: &str) -> Option<CachedStep> {
        let text = std::fs::read(self.dir.join(key)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Records a step (a lost write only costs a rebuild later).
    pub fn put(&self, key: &str, step: &CachedStep) {
        let Ok(bytes) = serde_json::to_vec(step) else {
            return;
        };
        let tmp = self.dir.join(format!(".{key}.tmp"));
        if std::fs::write(&tmp, bytes).is_ok() {
            let _ = std::fs::rename(&tmp, self.dir.join(key));
        }
    }

    /// A plain text entry (an image's creation time).
    pub fn get_text(&self, key: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join(key)).ok()
    }

    pub fn put_text(&self, key: &str, text: &str) {
        let tmp = self.dir.join(format!(".{key}.tmp"));
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, self.dir.join(key));
        }
    }

    /// Forgets every entry; answers their keys (a half-written entry is
    /// removed too, and not named).
    pub fn clear(&self) -> Result<Vec<String>, BuildError> {
        let mut keys = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(BuildError::io(&self.dir))? {
            let entry = entry.map_err(BuildError::io(&self.dir))?;
            let path = entry.path();
            std::fs::remove_file(&path).map_err(BuildError::io(&path))?;
            let key = entry.file_name().to_string_lossy().into_owned();
            if !key.starts_with('.') {
                keys.push(key);
            }
        }
        keys.sort();
        Ok(keys)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The content of a directory tree as one digest: each entry's path,
/// type, mode, owner, and bytes or link target, in sorted order; mtimes
/// left out, so touching a file does not miss the cache.
pub fn tree_digest(root: &Path) -> Result<String, BuildError> {
    let mut h = Sha256::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        let path = root.join(&rel);
        let meta = std::fs::symlink_metadata(&path).map_err(BuildError::io(&path))?;
        let name = rel.to_string_lossy();
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update(meta.mode().to_le_bytes());
        h.update(meta.uid().to_le_bytes());
        h.update(meta.gid().to_le_bytes());
        h.update(meta.rdev().to_le_bytes());
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).map_err(BuildError::io(&path))?;
            h.update(target.to_string_lossy().as_bytes());
        } else if meta.is_file() {
            h.update(meta.len().to_le_bytes());
            let mut file = std::fs::File::open(&path).map_err(BuildError::io(&path))?;
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = file.read(&mut buf).map_err(BuildError::io(&path))?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
        } else if meta.is_dir() {
            let mut names: Vec<_> = std::fs::read_dir(&path)
                .map_err(BuildError::io(&path))?
                .filter_map(|e| e.ok().map(|e| e.file_name()))
                .collect();
            // Popped from the end: reverse order gives sorted visits.
            names.sort();
            names.reverse();
            pending.extend(names.into_iter().map(|n| rel.join(n)));
        }
    }
    Ok(hex(&h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_and_modes_count_but_mtimes_do_not() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join("a/b")).expect("dirs");
        std::fs::write(dir.path().join("a/b/f"), "one").expect("f");
        let first = tree_digest(dir.path()).expect("digest");
        let f = std::fs::File::options()
            .write(true)
            .open(dir.path().join("a/b/f"))
            .expect("open");
        f.set_modified(std::time::SystemTime::UNIX_EPOCH)
            .expect("mtime");
        assert_eq!(tree_digest(dir.path()).expect("digest"), first);
        std::fs::write(dir.path().join("a/b/f"), "two").expect("f");
        assert_ne!(tree_digest(dir.path()).expect("digest"), first);
    }

    #[test]
    fn keys_separate_their_parts() {
        assert_ne!(BuildCache::key(&["ab", "c"]), BuildCache::key(&["a", "bc"]));
    }

    #[test]
    fn entries_round_trip_and_clear() {
        let root = tempfile::tempdir().expect("root");
        let cache = BuildCache::open(root.path()).expect("open");
        let key = BuildCache::key(&["RUN true"]);
        assert_eq!(cache.get(&key), None);
        cache.put(&key, &CachedStep { layer: None });
        assert_eq!(cache.get(&key), Some(CachedStep { layer: None }));
        assert_eq!(cache.clear().expect("clear").len(), 1);
        assert_eq!(cache.get(&key), None);
    }
}

//! Downloads in progress under `images/ingest/`. The download writing a
//! partial file holds an exclusive `flock` on it, so a partial that nobody
//! holds was left by a process that died (or a pull that failed before
//! this cleanup existed): it is removed by the next pull or prune, and the
//! lock keeps that sweep from ever removing a live download of the same
//! blob in another process.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{flock, FlockOperation};
use rustix::io::Errno;

use super::Store;
use crate::digest::Digest;
use crate::error::{ImageError, Result};

/// The claim on one partial download; the lock goes with it.
pub struct Ingest {
    file: File,
    path: PathBuf,
}

impl Ingest {
    /// Where the download writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The partial file, open for appending.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Removes what was downloaded: after any failure, so neither the
    /// disk space nor damaged bytes outlive the attempt.
    pub fn discard(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Store {
    /// Claims the partial download of `digest`. `None` while another
    /// download of the same blob (in this process or another) holds it.
    pub fn try_claim_ingest(&self, digest: &Digest) -> Result<Option<Ingest>> {
        let path = self.ingest_path(digest);
        loop {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .append(true)
                .open(&path)
                .map_err(|e| ImageError::io(&path, e))?;
            if !try_lock(&file, &path)? {
                return Ok(None);
            }
            // A sweep may have removed the file between our open and our
            // lock; then the lock is on a file nobody will find: start over.
            if same_file(&file, &path) {
                return Ok(Some(Ingest { file, path }));
            }
        }
    }

    /// Claims a new partial for content whose digest is known only once
    /// it is written (a layer being built). `what` starts its name.
    pub fn claim_new_ingest(&self, what: &str) -> Result<Ingest> {
        static UNIQUE: AtomicU64 = AtomicU64::new(0);
        loop {
            let path = self.ingest.join(format!(
                "{what}-{}-{}",
                std::process::id(),
                UNIQUE.fetch_add(1, Ordering::Relaxed)
            ));
            let file = match std::fs::OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)
            {
                Ok(file) => file,
                // Left by a dead process that had our pid: another name.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(ImageError::io(&path, e)),
            };
            // A sweep may take the new file for a stale one between the
            // open and the lock; then it is gone: take another.
            if try_lock(&file, &path)? && same_file(&file, &path) {
                return Ok(Ingest { file, path });
            }
        }
    }

    /// Removes partial downloads nobody is writing. Returns how many and
    /// their bytes.
    pub fn sweep_stale_ingest(&self) -> Result<(usize, u64)> {
        let mut removed = (0, 0);
        let entries =
            std::fs::read_dir(&self.ingest).map_err(|e| ImageError::io(&self.ingest, e))?;
        for entry in entries {
            let path = entry.map_err(|e| ImageError::io(&self.ingest, e))?.path();
            let file = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(ImageError::io(&path, e)),
            };
            if !try_lock(&file, &path)? || !same_file(&file, &path) {
                continue;
            }
            let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    removed.0 += 1;
                    removed.1 += bytes;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(ImageError::io(&path, e)),
            }
        }
        Ok(removed)
    }
}

fn try_lock(file: &File, path: &Path) -> Result<bool> {
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(ImageError::io(path, e.into())),
    }
}

/// Whether `file` is still the file at `path`.
fn same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

//! The writer lock: one process writes the state database at a time.
//!
//! SQLite serializes writers itself, but its busy handler polls with sleeps,
//! is unfair, and gives up with `SQLITE_BUSY` after a timeout. An exclusive
//! `flock` on a file beside the database blocks in the kernel instead, wakes
//! the next writer as soon as the lock is free, and is released by the kernel
//! when the holder dies, so a killed `stack up` never leaves a stale lock.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use super::StoreError;

/// An exclusive lock on the writer lock file, released on drop.
pub struct WriterLock {
    _held: Flock<File>,
}

impl WriterLock {
    /// Blocks until this process is the only writer.
    pub fn acquire(path: &Path) -> Result<WriterLock, StoreError> {
        let file = open_lock_file(path)?;
        let held =
            Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| StoreError::Lock {
                path: path.to_path_buf(),
                source: errno.into(),
            })?;
        Ok(WriterLock { _held: held })
    }

    /// Takes the lock only if no other writer holds it.
    pub fn try_acquire(path: &Path) -> Result<Option<WriterLock>, StoreError> {
        let file = open_lock_file(path)?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(held) => Ok(Some(WriterLock { _held: held })),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, errno)) => Err(StoreError::Lock {
                path: path.to_path_buf(),
                source: errno.into(),
            }),
        }
    }
}

fn open_lock_file(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|source| StoreError::Lock {
            path: PathBuf::from(path),
            source,
        })
}

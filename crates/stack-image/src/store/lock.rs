//! Cross-process locks on the store (flock): an exclusive lock around
//! metadata changes, and a pull/prune lock that pulls share and prune takes
//! alone, so prune never removes blobs a running pull has fetched but not
//! yet recorded.

use std::fs::File;
use std::path::Path;

use rustix::fs::{flock, FlockOperation};

use crate::error::{ImageError, Result};

/// Held until dropped.
pub struct Lock {
    _file: File,
}

impl Lock {
    pub fn exclusive(path: &Path) -> Result<Lock> {
        Self::take(path, FlockOperation::LockExclusive)
    }

    pub fn shared(path: &Path) -> Result<Lock> {
        Self::take(path, FlockOperation::LockShared)
    }

    fn take(path: &Path, op: FlockOperation) -> Result<Lock> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| ImageError::io(path, e))?;
        flock(&file, op).map_err(|e| ImageError::io(path, e.into()))?;
        Ok(Lock { _file: file })
    }
}

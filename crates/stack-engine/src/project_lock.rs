//! One change at a time per project, whichever process makes it.
//!
//! `up`, `down` and the project verbs (`start`, `stop`, `restart`, `kill`,
//! `rm`) each read what exists, decide, and act. Two of them at once on
//! one project (a `stack up` here while the daemon runs another, a `stop`
//! during an `up`) would decide from a view the other is changing. The
//! lock is an exclusive `flock` on a file per project below the state
//! root, so it holds across processes (the CLI in process, the daemon,
//! `stack watch`) and is released by the kernel when its holder ends, even
//! by `kill -9`. It is taken without waiting: the second change is refused
//! with a message that says why, as the daemon answers 409.

use std::fs::File;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::error_class::{Classify, ErrorClass};
use crate::paths::{child, UnsafeName};

/// Held while a project is being changed; released when dropped.
#[derive(Debug)]
pub struct ProjectLock {
    project: String,
    _held: Flock<File>,
}

/// Why a project could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum ProjectLockError {
    #[error(
        "project {project:?} is being changed by another stack command or request; \
         try again when it is done"
    )]
    Busy { project: String },
    #[error("project name {project:?}: {source}")]
    Name {
        project: String,
        #[source]
        source: UnsafeName,
    },
    #[error("lock {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Classify for ProjectLockError {
    fn class(&self) -> ErrorClass {
        match self {
            ProjectLockError::Busy { .. } => ErrorClass::Busy,
            ProjectLockError::Name { .. } => ErrorClass::InvalidInput,
            ProjectLockError::Io { .. } => ErrorClass::Internal,
        }
    }
}

impl ProjectLock {
    /// Locks `project` for a change, or says who holds it.
    pub fn claim(state_root: &Path, project: &str) -> Result<ProjectLock, ProjectLockError> {
        let dir = state_root.join("locks");
        std::fs::create_dir_all(&dir).map_err(|source| ProjectLockError::Io {
            path: dir.clone(),
            source,
        })?;
        let path =
            child(&dir, &format!("{project}.lock")).map_err(|source| ProjectLockError::Name {
                project: project.to_string(),
                source,
            })?;
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| ProjectLockError::Io {
                path: path.clone(),
                source,
            })?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(held) => Ok(ProjectLock {
                project: project.to_string(),
                _held: held,
            }),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Err(ProjectLockError::Busy {
                project: project.to_string(),
            }),
            Err((_, errno)) => Err(ProjectLockError::Io {
                path,
                source: errno.into(),
            }),
        }
    }

    /// The project this lock is held for.
    pub fn project(&self) -> &str {
        &self.project
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_is_refused_until_the_first_is_dropped() {
        let root = tempfile::tempdir().expect("tempdir");
        let first = ProjectLock::claim(root.path(), "shop").expect("first claim");
        let again = ProjectLock::claim(root.path(), "shop").expect_err("busy");
        assert!(matches!(again, ProjectLockError::Busy { .. }), "{again}");
        assert_eq!(again.class(), ErrorClass::Busy);
        // Another project is not held up.
        let other = ProjectLock::claim(root.path(), "blog").expect("other project");
        drop(first);
        let after = ProjectLock::claim(root.path(), "shop").expect("free again");
        assert_eq!((after.project(), other.project()), ("shop", "blog"));
    }

    #[test]
    fn a_name_that_is_not_one_path_component_is_refused() {
        let root = tempfile::tempdir().expect("tempdir");
        let err = ProjectLock::claim(root.path(), "../x").expect_err("unsafe");
        assert!(matches!(err, ProjectLockError::Name { .. }), "{err}");
    }
}

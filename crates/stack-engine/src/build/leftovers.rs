//! What a build leaves on the host while it runs, and the sweep of what a
//! build killed half-way left behind.
//!
//! Each build owns directories under `<state root>/build-tmp/` (its
//! scratch tree; an uploaded context of the Docker API) and holds an
//! exclusive `flock` on each for as long as it runs. The kernel drops
//! the lock when the process ends, even by `kill -9`, so "locked" is
//! "owned by a live build", across processes (the CLI, the daemon) and
//! within one (a lock taken through another open of the directory
//! conflicts too). The scratch directory's name is also the build's
//! lease holder in the image store and the owner label of its step
//! containers, so one test tells whether any of them is still in use.
//!
//! A new directory is made and locked under a shared lock on
//! `<state root>/locks/.build-tmp.lock` (a name no project lock can
//! have), and the sweep holds that lock exclusively, so it never finds a
//! directory made but not yet locked. `build-tmp` holds builds'
//! directories only.

use std::fs::File;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use super::run_step::{BUILD_OWNER_LABEL, BUILD_STEP_LABEL};
use super::BuildError;
use crate::build_tmp::{is_live, tmp_root};
use crate::containers::Containers;

/// A directory of a running build, locked until dropped, then removed.
pub struct BuildDir {
    path: PathBuf,
    name: String,
    _held: Flock<File>,
}

impl BuildDir {
    /// Makes `build-tmp/<prefix>-<pid>-<n>` and locks it.
    pub fn create(state_root: &Path, prefix: &str) -> Result<BuildDir, BuildError> {
        let root = tmp_root(state_root);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(crate::private_dirs::PRIVATE)
            .create(&root)
            .map_err(BuildError::io(&root))?;
        let _making = lock(&sweep_lock(state_root)?, FlockArg::LockShared)?;
        let name = format!("{prefix}-{}-{}", std::process::id(), super::unique());
        let path = root.join(&name);
        std::fs::DirBuilder::new()
            .mode(crate::private_dirs::PRIVATE)
            .create(&path)
            .map_err(BuildError::io(&path))?;
        let held = lock(&path, FlockArg::LockExclusiveNonblock)?;
        Ok(BuildDir {
            path,
            name,
            _held: held,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its file name: the build's lease holder and step owner label.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for BuildDir {
    fn drop(&mut self) {
        let _ = stack_runtime::fsutil::remove_tree(&self.path);
    }
}

/// What a sweep removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    /// Step containers of builds that are gone (killed, then removed).
    pub containers: usize,
    /// Directories under `build-tmp` no live build holds.
    pub dirs: usize,
}

/// Removes the step containers and `build-tmp` directories of builds
/// that are no longer running; those of running builds are kept. A step
/// container without an owner label was made before builds had one and
/// counts as left behind.
pub fn sweep(state_root: &Path, containers: &Containers) -> Result<Swept, BuildError> {
    let root = tmp_root(state_root);
    if !root.is_dir() {
        return Ok(Swept::default());
    }
    let _alone = lock(&sweep_lock(state_root)?, FlockArg::LockExclusive)?;
    let mut swept = Swept::default();
    for record in containers.list() {
        let labels = &record.spec.labels;
        if !labels.contains_key(BUILD_STEP_LABEL) {
            continue;
        }
        let owner = labels.get(BUILD_OWNER_LABEL).map(String::as_str);
        if owner.is_some_and(|o| is_live(state_root, o)) {
            continue;
        }
        containers.remove(&record, true)?;
        swept.containers += 1;
    }
    for entry in std::fs::read_dir(&root).map_err(BuildError::io(&root))? {
        let entry = entry.map_err(BuildError::io(&root))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_live(state_root, &name) {
            continue;
        }
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            stack_runtime::fsutil::remove_tree(&path)?;
        } else {
            std::fs::remove_file(&path).map_err(BuildError::io(&path))?;
        }
        swept.dirs += 1;
    }
    Ok(swept)
}

/// The lock file builds share while making their directories and a
/// sweep takes alone.
fn sweep_lock(state_root: &Path) -> Result<PathBuf, BuildError> {
    let dir = state_root.join("locks");
    std::fs::create_dir_all(&dir).map_err(BuildError::io(&dir))?;
    Ok(dir.join(".build-tmp.lock"))
}

/// A `flock` on `path` (a lock file, made if missing, or a directory).
fn lock(path: &Path, how: FlockArg) -> Result<Flock<File>, BuildError> {
    let file = if path.is_dir() {
        File::open(path)
    } else {
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
    }
    .map_err(BuildError::io(path))?;
    Flock::lock(file, how).map_err(|(_, errno)| BuildError::io(path)(errno.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(root: &Path) -> Containers {
        Containers::new(&crate::paths::HostPaths {
            state_root: root.to_path_buf(),
            run_dir: root.join("run"),
            config_file: root.join("config.toml"),
        })
    }

    #[test]
    fn a_held_directory_is_live_and_kept_a_dead_ones_is_swept() {
        let root = tempfile::tempdir().expect("root");
        let live = BuildDir::create(root.path(), "build").expect("live");
        std::fs::write(live.path().join("file"), "in use").expect("write");
        // What a killed build leaves: its directory, no one holding it.
        let dead = tmp_root(root.path()).join("context-1-0");
        std::fs::create_dir_all(dead.join("sub")).expect("dead");
        assert!(is_live(root.path(), live.name()));
        assert!(!is_live(root.path(), "context-1-0"));
        assert!(!is_live(root.path(), "missing"));
        assert!(!is_live(root.path(), "../locks"));

        let swept = sweep(root.path(), &host(root.path())).expect("sweep");
        assert_eq!(swept.dirs, 1);
        assert!(!dead.exists());
        assert!(live.path().join("file").is_file());

        let path = live.path().to_path_buf();
        let name = live.name().to_string();
        drop(live);
        assert!(!path.exists());
        assert!(!is_live(root.path(), &name));
    }
}

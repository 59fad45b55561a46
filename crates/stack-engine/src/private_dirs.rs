//! Keeps the state root and the runtime directory out of other users'
//! reach, checked cheaply each time a process opens them.
//!
//! The state root holds image snapshots and containers' upper directories.
//! Any setuid-root file in them (shipped by an image, or made setuid by
//! root inside a container) runs with euid 0 for whoever can reach its
//! path, so no other user may traverse these trees: Docker keeps
//! `/var/lib/docker` at 0710 and its layer trees at 0700 for the same
//! reason. Here the root and each top-level tree are 0700; nothing in them
//! is needed by anyone but root (members of the daemon's socket group talk
//! to the socket, which lives in the runtime directory).
//!
//! The runtime directory is 0711: others may pass through it to reach the
//! socket by name (the socket's own mode and group and the daemon's peer
//! check decide who may talk), but may not list it; its trees (network
//! namespace files, runc's state) are 0700.
//!
//! A wrong mode is fixed and a warning names the path, the old and the new
//! mode; with `STACK_ROOT_MODES=refuse` the process refuses to go on
//! instead, for hosts where a changed mode means something to look into.

use std::collections::HashSet;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::paths::HostPaths;

/// Top-level trees of the state root that hold image or container files
/// or records of them.
pub const STATE_TREES: &[&str] = &[
    "containers",
    "snapshots",
    "images",
    "volumes",
    "networks",
    // Uploaded build contexts (which may hold setuid files), the build
    // cache and its `RUN --mount=type=cache` directories.
    "build-tmp",
    "build-cache",
    "build-cache-mounts",
];
/// Trees of the runtime directory.
pub const RUN_TREES: &[&str] = &["netns", "runc"];
/// Mode of the state root and of every tree (root's alone).
pub const PRIVATE: u32 = 0o700;
/// Mode of the runtime directory: others may only pass through, to the socket.
pub const PASS_THROUGH: u32 = 0o711;
/// The environment variable choosing what a wrong mode does.
pub const POLICY_ENV: &str = "STACK_ROOT_MODES";

/// What to do about a wrong mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Fix it and warn (the default).
    Fix,
    /// Refuse to go on (`STACK_ROOT_MODES=refuse`).
    Refuse,
}

impl Policy {
    /// From `STACK_ROOT_MODES` (`fix`, the default, or `refuse`).
    pub fn from_env() -> Result<Policy, ModeError> {
        match std::env::var(POLICY_ENV).as_deref() {
            Err(_) | Ok("") | Ok("fix") => Ok(Policy::Fix),
            Ok("refuse") => Ok(Policy::Refuse),
            Ok(other) => Err(ModeError::BadPolicy(other.to_string())),
        }
    }
}

/// A directory whose mode was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixed {
    pub path: PathBuf,
    pub old: u32,
    pub new: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ModeError {
    #[error("{POLICY_ENV}={0:?}: expected \"fix\" or \"refuse\"")]
    BadPolicy(String),
    #[error("{}: mode {old:04o} lets other users in; expected {want:04o} ({POLICY_ENV}=refuse is set: run `chmod {want:o} {}` or unset it to have stack fix it)", .path.display(), .path.display())]
    Refused { path: PathBuf, old: u32, want: u32 },
    #[error("{}: {context}: {source}", .path.display())]
    Io {
        path: PathBuf,
        context: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// Roots already checked by this process: the check runs once per process
/// and root, however many times the store or the containers are opened.
static CHECKED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// Checks (once per process) the state root and runtime directory of
/// `paths` with the policy of the environment, printing a warning for each
/// mode fixed.
///
/// A process that is not root (a member of the socket group using the
/// daemon) cannot open the state root at all, so it skips the check.
pub fn ensure(paths: &HostPaths) -> Result<(), ModeError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    let key = paths.state_root.join("\0").join(&paths.run_dir);
    if let Ok(guard) = CHECKED.lock() {
        if guard.as_ref().is_some_and(|s| s.contains(&key)) {
            return Ok(());
        }
    }
    for fixed in check(paths, Policy::from_env()?)? {
        eprintln!(
            "warning: {} had mode {:04o}, which lets other users reach image and container files; set to {:04o}",
            fixed.path.display(),
            fixed.old,
            fixed.new
        );
    }
    if let Ok(mut guard) = CHECKED.lock() {
        guard.get_or_insert_with(HashSet::new).insert(key);
    }
    Ok(())
}

/// Creates the state root, the runtime directory and their trees when
/// missing (with their modes) and brings them and their trees to their modes; returns what
/// changed. A directory owned by another user is left alone: only its owner
/// could change it, and a process that is not root cannot open the state
/// anyway. A few `stat`s when nothing is wrong.
pub fn check(paths: &HostPaths, policy: Policy) -> Result<Vec<Fixed>, ModeError> {
    let mut fixed = Vec::new();
    let plan = [
        (&paths.state_root, PRIVATE, STATE_TREES),
        (&paths.run_dir, PASS_THROUGH, RUN_TREES),
    ];
    for (dir, mode, trees) in plan {
        create_missing(dir, mode)?;
        fixed.extend(bring_to(dir, mode, policy)?);
        for tree in trees {
            // Made here when missing, so no other code makes it with its
            // umask's 0755 first.
            let tree = dir.join(tree);
            create_missing(&tree, PRIVATE)?;
            fixed.extend(bring_to(&tree, PRIVATE, policy)?);
        }
    }
    Ok(fixed)
}

fn create_missing(dir: &Path, mode: u32) -> Result<(), ModeError> {
    if dir.exists() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(|source| ModeError::Io {
            path: parent.to_path_buf(),
            context: "create",
            source,
        })?;
    }
    match std::fs::DirBuilder::new().mode(mode).create(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(ModeError::Io {
            path: dir.to_path_buf(),
            context: "create",
            source: e,
        }),
        // The umask may have taken bits away; bring_to() sets the rest.
        _ => Ok(()),
    }
}

/// Fixes `dir`'s mode when it grants others (or the group) more than
/// `want` does.
fn bring_to(dir: &Path, want: u32, policy: Policy) -> Result<Option<Fixed>, ModeError> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ModeError::Io {
                path: dir.to_path_buf(),
                context: "stat",
                source,
            })
        }
    };
    let old = meta.mode() & 0o7777;
    if old & 0o077 & !want == 0 || meta.uid() != nix::unistd::geteuid().as_raw() {
        return Ok(None);
    }
    if policy == Policy::Refuse {
        return Err(ModeError::Refused {
            path: dir.to_path_buf(),
            old,
            want,
        });
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(want)).map_err(|source| {
        ModeError::Io {
            path: dir.to_path_buf(),
            context: "chmod",
            source,
        }
    })?;
    Ok(Some(Fixed {
        path: dir.to_path_buf(),
        old,
        new: want,
    }))
}

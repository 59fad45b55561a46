//! Writing into a running container's filesystem from the host, without
//! anything inside the image (no tar, no shell, no exec).
//!
//! `/proc/<pid>/root` is the container's root as its own mount namespace
//! sees it, so writes through it land in the overlay's upper layer exactly
//! like writes from inside. Every path is resolved against that root with
//! `openat2(RESOLVE_IN_ROOT)`: a symlink in the container pointing at `/etc`
//! or `../../..` resolves inside the container, never on the host. The last
//! component is made with an `*at` call on its parent's fd and never
//! followed. Files are written to a temporary name and renamed over, so a
//! process in the container never reads half a file.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use stack_confine::ConfinedRoot;

/// A failed write into the container, naming the path in the container.
#[derive(Debug, thiserror::Error)]
#[error("{action} {path} in the container: {source}")]
pub struct SyncError {
    pub action: &'static str,
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

fn err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(Errno) -> SyncError + 'a {
    move |e| SyncError {
        action,
        path: path.display().to_string(),
        source: e.into(),
    }
}

fn io_err<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> SyncError + 'a {
    move |source| SyncError {
        action,
        path: path.display().to_string(),
        source,
    }
}

/// What one operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The container already had exactly this.
    Unchanged,
    Written,
    Removed,
}

/// The root directory of a running container.
pub struct ContainerRoot {
    root: ConfinedRoot,
}

impl ContainerRoot {
    /// The root of the container whose first process is `pid`.
    pub fn of_pid(pid: i32) -> std::io::Result<ContainerRoot> {
        ContainerRoot::open(Path::new(&format!("/proc/{pid}/root")))
    }

    /// Any directory used as a root (tests use a plain directory).
    pub fn open(dir: &Path) -> std::io::Result<ContainerRoot> {
        Ok(ContainerRoot {
            root: ConfinedRoot::open(dir)?,
        })
    }

    /// Makes the container's `target` equal to the host's `source`: a
    /// regular file is copied (mode bits included), a directory made, a
    /// symlink recreated; anything else is skipped.
    pub fn copy_in(&self, source: &Path, target: &Path) -> Result<Outcome, SyncError> {
        let meta = std::fs::symlink_metadata(source).map_err(io_err("read host", source))?;
        let (parent, name) = self.parent_of(target, true)?;
        let file_type = meta.file_type();
        if file_type.is_dir() {
            self.ensure_dir(&parent, &name, meta.mode() & 0o7777, target)
        } else if file_type.is_file() {
            self.write_file(&parent, &name, source, &meta, target)
        } else if file_type.is_symlink() {
            let link = std::fs::read_link(source).map_err(io_err("read host link", source))?;
            remove_at(&parent, &name).map_err(err("replace", target))?;
            rfs::symlinkat(&link, &parent, &name).map_err(err("make link", target))?;
            Ok(Outcome::Written)
        } else {
            Ok(Outcome::Unchanged)
        }
    }

    /// Removes `target` (recursively for a directory) if it exists.
    pub fn remove(&self, target: &Path) -> Result<Outcome, SyncError> {
        let (parent, name) = match self.parent_of(target, false) {
            Ok(found) => found,
            Err(e) if e.source.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Outcome::Unchanged)
            }
            Err(e) => return Err(e),
        };
        match kind_at(&parent, &name).map_err(err("inspect", target))? {
            None => Ok(Outcome::Unchanged),
            Some(_) => {
                remove_at(&parent, &name).map_err(err("remove", target))?;
                Ok(Outcome::Removed)
            }
        }
    }

    /// The parent directory of `target` (made where missing when
    /// `create`, inside the root only) and the last component's name.
    fn parent_of(&self, target: &Path, create: bool) -> Result<(OwnedFd, OsString), SyncError> {
        let mut parts = stack_confine::components(target);
        let Some(name) = parts.pop() else {
            return Err(SyncError {
                action: "write",
                path: target.display().to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the container's root itself cannot be replaced",
                ),
            });
        };
        let dir = if create {
            self.root.make_dirs(&parts, 0o755)
        } else {
            self.root.resolve(&parts, OFlags::PATH | OFlags::DIRECTORY)
        }
        .map_err(err("open directory", target))?;
        Ok((dir, name))
    }

    fn ensure_dir(
        &self,
        parent: &OwnedFd,
        name: &OsStr,
        mode: u32,
        target: &Path,
    ) -> Result<Outcome, SyncError> {
        match kind_at(parent, name).map_err(err("inspect", target))? {
            Some(FileType::Directory) => Ok(Outcome::Unchanged),
            other => {
                if other.is_some() {
                    remove_at(parent, name).map_err(err("replace", target))?;
                }
                rfs::mkdirat(parent, name, Mode::from(mode))
                    .map_err(err("make directory", target))?;
                Ok(Outcome::Written)
            }
        }
    }

    fn write_file(
        &self,
        parent: &OwnedFd,
        name: &OsStr,
        source: &Path,
        meta: &std::fs::Metadata,
        target: &Path,
    ) -> Result<Outcome, SyncError> {
        let content = std::fs::read(source).map_err(io_err("read host", source))?;
        let mode = meta.permissions().mode() & 0o7777;
        if same_file(parent, name, &content, mode) {
            return Ok(Outcome::Unchanged);
        }
        if kind_at(parent, name).map_err(err("inspect", target))? == Some(FileType::Directory) {
            remove_at(parent, name).map_err(err("replace", target))?;
        }
        let mut temp = OsString::from(".stack-sync-");
        temp.push(name);
        let fd = rfs::openat(
            parent,
            &temp,
            OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from(0o600),
        )
        .map_err(err("write", target))?;
        let mut file = std::fs::File::from(fd);
        let written = file
            .write_all(&content)
            .and_then(|()| file.set_permissions(std::fs::Permissions::from_mode(mode)));
        drop(file);
        if let Err(e) = written {
            let _ = rfs::unlinkat(parent, &temp, AtFlags::empty());
            return Err(io_err("write", target)(e));
        }
        if let Err(e) = rfs::renameat(parent, &temp, parent, name) {
            let _ = rfs::unlinkat(parent, &temp, AtFlags::empty());
            return Err(err("rename into place", target)(e));
        }
        Ok(Outcome::Written)
    }
}

/// Whether the container's file already has this content and mode.
fn same_file(parent: &OwnedFd, name: &OsStr, content: &[u8], mode: u32) -> bool {
    let Ok(st) = rfs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) else {
        return false;
    };
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile
        || st.st_size as u64 != content.len() as u64
        || (st.st_mode & 0o7777) != mode
    {
        return false;
    }
    let Ok(fd) = rfs::openat(
        parent,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return false;
    };
    let mut existing = Vec::with_capacity(content.len());
    std::fs::File::from(fd).read_to_end(&mut existing).is_ok() && existing == content
}

/// What is at `name` in `parent`, without following a symlink.
fn kind_at(parent: &OwnedFd, name: &OsStr) -> Result<Option<FileType>, Errno> {
    ConfinedRoot::kind_at(parent, name)
}

/// Removes `name` from `parent`, a directory recursively, never following
/// a symlink (the image unpacker's own removal).
fn remove_at(parent: &OwnedFd, name: &OsStr) -> Result<(), Errno> {
    ConfinedRoot::remove_at(parent, name)
}

#[cfg(test)]
#[path = "sync_tests.rs"]
mod tests;

//! A directory tree that can only be written inside.
//!
//! Every path is resolved against the tree's root with `openat2`
//! `RESOLVE_IN_ROOT`: `..` cannot climb above the root and symlinks
//! (absolute or relative, including ones the layer itself just made) are
//! followed as if the root were `/`. The last component of an entry is then
//! made with an `*at` call relative to its parent's fd and never followed.
//! This is the kernel doing the confinement, not string checks.

use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// The root of a snapshot being written.
pub struct ConfinedRoot {
    root: OwnedFd,
    /// The last parent directory looked up (tar entries come grouped by
    /// directory, so this saves most lookups). Cleared on any removal.
    cached_parent: Option<(Vec<OsString>, OwnedFd)>,
}

const RESOLVE: ResolveFlags = ResolveFlags::IN_ROOT.union(ResolveFlags::NO_MAGICLINKS);

impl ConfinedRoot {
    pub fn open(dir: &Path) -> std::io::Result<ConfinedRoot> {
        let root = rfs::open(
            dir,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(ConfinedRoot {
            root,
            cached_parent: None,
        })
    }

    /// Opens an existing path inside the root (resolving symlinks inside it).
    pub fn resolve(&self, components: &[OsString], flags: OFlags) -> Result<OwnedFd, Errno> {
        if components.is_empty() {
            return rfs::openat(&self.root, ".", flags | OFlags::CLOEXEC, Mode::empty());
        }
        let path = join(components);
        rfs::openat2(
            &self.root,
            &path,
            flags | OFlags::CLOEXEC,
            Mode::empty(),
            RESOLVE,
        )
    }

    /// The directory `components`, created (0755, root-owned, as tar
    /// implies) where missing. Returns an `O_PATH` fd usable with `*at`.
    pub fn directory(&mut self, components: &[OsString]) -> Result<&OwnedFd, Errno> {
        let hit = matches!(&self.cached_parent, Some((c, _)) if c.as_slice() == components);
        if !hit {
            let fd = self.make_directory(components)?;
            self.cached_parent = Some((components.to_vec(), fd));
        }
        match &self.cached_parent {
            Some((_, fd)) => Ok(fd),
            None => Err(Errno::NOENT),
        }
    }

    fn make_directory(&self, components: &[OsString]) -> Result<OwnedFd, Errno> {
        let dir_flags = OFlags::PATH | OFlags::DIRECTORY;
        match self.resolve(components, dir_flags) {
            Err(Errno::NOENT) => {}
            other => return other,
        }
        let mut parent = self.resolve(&[], dir_flags)?;
        for i in 0..components.len() {
            match self.resolve(&components[..=i], dir_flags) {
                Ok(fd) => parent = fd,
                Err(Errno::NOENT) => {
                    match rfs::mkdirat(&parent, components[i].as_os_str(), Mode::from(0o755)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(e),
                    }
                    parent = self.resolve(&components[..=i], dir_flags)?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(parent)
    }

    /// The directory `components` (created where missing), opened for
    /// reading so that its xattrs can be set through the fd.
    pub fn resolve_dir_for_write(&mut self, components: &[OsString]) -> Result<OwnedFd, Errno> {
        self.directory(components)?;
        self.resolve(components, OFlags::RDONLY | OFlags::DIRECTORY)
    }

    /// Forgets the cached parent; called after anything is removed.
    pub fn invalidate(&mut self) {
        self.cached_parent = None;
    }

    /// What is at `name` in `parent`, without following a symlink.
    pub fn kind_at(parent: &OwnedFd, name: &OsStr) -> Result<Option<FileType>, Errno> {
        match rfs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(FileType::from_raw_mode(st.st_mode))),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Removes `name` from `parent`, recursively for a directory, never
    /// following symlinks.
    pub fn remove_at(parent: &OwnedFd, name: &OsStr) -> Result<(), Errno> {
        match Self::kind_at(parent, name)? {
            None => Ok(()),
            Some(FileType::Directory) => {
                let dir = rfs::openat(
                    parent,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )?;
                let mut children = Vec::new();
                for entry in rfs::Dir::read_from(&dir)? {
                    let entry = entry?;
                    let child = entry.file_name().to_bytes();
                    if child != b"." && child != b".." {
                        children.push(OsStr::from_bytes(child).to_os_string());
                    }
                }
                for child in children {
                    Self::remove_at(&dir, &child)?;
                }
                rfs::unlinkat(parent, name, AtFlags::REMOVEDIR)
            }
            Some(_) => rfs::unlinkat(parent, name, AtFlags::empty()),
        }
    }
}

fn join(components: &[OsString]) -> OsString {
    let mut path = OsString::new();
    for (i, c) in components.iter().enumerate() {
        if i > 0 {
            path.push("/");
        }
        path.push(c);
    }
    path
}

//! A depth-first walk of the tree a layer is written from, through
//! directory fds only: every entry is looked at with `fstatat`
//! (`AT_SYMLINK_NOFOLLOW`) and opened relative to its parent's fd with
//! `O_NOFOLLOW`, so no symlink in the tree (or swapped in while we walk) is
//! ever followed and nothing outside the tree is read.
//!
//! Entries come in the order of their paths in the layer, compared
//! component by component (bytewise): every directory right before its
//! own contents.
//! That order does not depend on the file system, so the same tree always
//! gives the same layer.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, Stat};

use super::WHITEOUT_PREFIX;
use crate::error::{ImageError, Result};

/// What the walk knows of one entry.
pub(super) struct Node<'a> {
    /// Path below the root, components joined with `/`.
    pub path: &'a [u8],
    pub name: &'a OsStr,
    /// The directory holding the entry.
    pub parent: BorrowedFd<'a>,
    pub attrs: Attrs,
    /// Open for directories and regular files (read-only, not followed).
    pub fd: Option<BorrowedFd<'a>>,
}

/// The parts of `struct stat` a layer records, in fixed-width types (the
/// kernel's field widths differ between architectures).
#[derive(Debug, Clone, Copy)]
pub(super) struct Attrs {
    pub kind: FileType,
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    /// Permission bits including setuid, setgid and sticky.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: u64,
    /// Seconds since the epoch; times before it count as the epoch.
    pub mtime: u64,
}

impl Attrs {
    // The fields are `c_ulong`/`c_long` on some architectures and fixed
    // 64-bit types on others: the conversions are identities on some.
    #[allow(clippy::useless_conversion)]
    fn of(stat: &Stat) -> Attrs {
        Attrs {
            kind: FileType::from_raw_mode(stat.st_mode),
            dev: u64::from(stat.st_dev),
            ino: u64::from(stat.st_ino),
            nlink: u64::from(stat.st_nlink),
            mode: stat.st_mode & 0o7777,
            uid: stat.st_uid,
            gid: stat.st_gid,
            rdev: u64::from(stat.st_rdev),
            size: u64::try_from(i64::from(stat.st_size)).unwrap_or(0),
            mtime: u64::try_from(i64::from(stat.st_mtime)).unwrap_or(0),
        }
    }
}

/// Calls `visit` for every entry below `root` (not `root` itself), each
/// directory before its contents. With `whiteouts`, a 0:0 character device
/// sorts under the name it will have in the layer (`.wh.<name>`), so the
/// layer's entries are in order of their own paths.
pub(super) fn walk(
    root: &Path,
    whiteouts: bool,
    visit: &mut dyn FnMut(&Node<'_>) -> Result<()>,
) -> Result<()> {
    // The root itself is not followed either: a symlink given as the
    // layer's directory is refused rather than read through.
    let fd = rfs::open(
        root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| ImageError::io(root, e.into()))?;
    let mut prefix = Vec::new();
    walk_dir(root, &fd, whiteouts, &mut prefix, visit)
}

fn walk_dir(
    root: &Path,
    dir: &OwnedFd,
    whiteouts: bool,
    prefix: &mut Vec<u8>,
    visit: &mut dyn FnMut(&Node<'_>) -> Result<()>,
) -> Result<()> {
    let at = |prefix: &[u8], name: &[u8]| -> PathBuf {
        root.join(OsStr::from_bytes(prefix))
            .join(OsStr::from_bytes(name))
    };
    let names = list(dir).map_err(|e| ImageError::io(at(prefix, b""), e.into()))?;
    let mut entries = Vec::with_capacity(names.len());
    for name in names {
        let stat = rfs::statat(dir, OsStr::from_bytes(&name), AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| ImageError::io(at(prefix, &name), e.into()))?;
        let attrs = Attrs::of(&stat);
        let key = if whiteouts && attrs.kind == FileType::CharacterDevice && attrs.rdev == 0 {
            [WHITEOUT_PREFIX, &name].concat()
        } else {
            name.clone()
        };
        entries.push((key, name, attrs));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, name, attrs) in entries {
        let name = OsStr::from_bytes(&name);
        let start = prefix.len();
        if !prefix.is_empty() {
            prefix.push(b'/');
        }
        prefix.extend_from_slice(name.as_bytes());
        let at = |prefix: &[u8]| at(prefix, b"");
        let flags = match attrs.kind {
            FileType::Directory => OFlags::RDONLY | OFlags::DIRECTORY,
            FileType::RegularFile => OFlags::RDONLY | OFlags::NOCTTY,
            _ => {
                let node = Node {
                    path: prefix,
                    name,
                    parent: dir.as_fd(),
                    attrs,
                    fd: None,
                };
                visit(&node)?;
                prefix.truncate(start);
                continue;
            }
        };
        let fd = rfs::openat(
            dir,
            name,
            flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| ImageError::io(at(prefix), e.into()))?;
        let opened = rfs::fstat(&fd).map_err(|e| ImageError::io(at(prefix), e.into()))?;
        let attrs_now = Attrs::of(&opened);
        if (attrs_now.dev, attrs_now.ino) != (attrs.dev, attrs.ino) {
            return Err(ImageError::LayerSource {
                path: at(prefix),
                reason: "replaced while the layer was being written".into(),
            });
        }
        let node = Node {
            path: prefix,
            name,
            parent: dir.as_fd(),
            attrs: attrs_now,
            fd: Some(fd.as_fd()),
        };
        visit(&node)?;
        if attrs_now.kind == FileType::Directory {
            walk_dir(root, &fd, whiteouts, prefix, visit)?;
        }
        prefix.truncate(start);
    }
    Ok(())
}

/// The names in `dir`, without `.` and `..`.
fn list(dir: &OwnedFd) -> rustix::io::Result<Vec<Vec<u8>>> {
    let mut reader = rfs::Dir::read_from(dir)?;
    let mut names = Vec::new();
    while let Some(entry) = reader.read() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(name.to_vec());
        }
    }
    Ok(names)
}

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

/// Which mounted file systems a walk enters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mounts {
    /// Every one: the tree is one file system, or the caller wants all.
    Enter,
    /// All but the kernel's pseudo file systems (proc, sysfs, cgroup,
    /// devpts, …), whose files are views of the host's kernel, not
    /// content: a live container's `/proc` is never archived.
    SkipPseudo,
    /// None: a mount point is recorded as the directory it is, and what
    /// is mounted on it (a volume, a bind-mounted file) is left out.
    Stay,
}

/// How a walk goes.
#[derive(Debug, Clone, Copy)]
pub(super) struct WalkRules {
    /// A 0:0 character device sorts under the name it will have in the
    /// layer (`.wh.<name>`), so the layer's entries are in order of their
    /// own paths.
    pub whiteouts: bool,
    pub mounts: Mounts,
}

/// Calls `visit` for every entry below `root` (not `root` itself), each
/// directory before its contents.
pub(super) fn walk(
    root: &Path,
    rules: WalkRules,
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
    walk_below(root, fd.as_fd(), rules, visit)
}

/// Calls `visit` for every entry below the open directory `dir` (shown
/// as `display` in errors), each directory before its contents.
pub(super) fn walk_below(
    display: &Path,
    dir: BorrowedFd<'_>,
    rules: WalkRules,
    visit: &mut dyn FnMut(&Node<'_>) -> Result<()>,
) -> Result<()> {
    let dev = Attrs::of(&rfs::fstat(dir).map_err(|e| ImageError::io(display, e.into()))?).dev;
    let mut prefix = Vec::new();
    walk_dir(display, dir, dev, rules, &mut prefix, visit)
}

/// Calls `visit` for the entry `name` of `parent` (never followed), under
/// the path `rename`, then, for a directory, for everything below it.
pub(super) fn walk_entry(
    display: &Path,
    parent: BorrowedFd<'_>,
    name: &OsStr,
    rename: &[u8],
    rules: WalkRules,
    visit: &mut dyn FnMut(&Node<'_>) -> Result<()>,
) -> Result<()> {
    let stat = rfs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW)
        .map_err(|e| ImageError::io(display, e.into()))?;
    let mut prefix = rename.to_vec();
    let attrs = Attrs::of(&stat);
    visit_one(
        display,
        parent,
        name,
        attrs,
        attrs.dev,
        rules,
        &mut prefix,
        visit,
    )
}

/// Calls `visit` for the open directory `dir` itself, under the path
/// `rename`, then for everything below it.
pub(super) fn walk_dir_itself(
    display: &Path,
    dir: BorrowedFd<'_>,
    rename: &[u8],
    rules: WalkRules,
    visit: &mut dyn FnMut(&Node<'_>) -> Result<()>,
) -> Result<()> {
    let attrs = Attrs::of(&rfs::fstat(dir).map_err(|e| ImageError::io(display, e.into()))?);
    let node = Node {
        path: rename,
        name: OsStr::from_bytes(rename),
        parent: dir,
        attrs,
        fd: Some(dir),
    };
    visit(&node)?;
    let mut prefix = rename.to_vec();
    walk_dir(display, dir, attrs.dev, rules, &mut prefix, visit)
}

fn walk_dir(
    root: &Path,
    dir: BorrowedFd<'_>,
    dir_dev: u64,
    rules: WalkRules,
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
        let key = if rules.whiteouts && attrs.kind == FileType::CharacterDevice && attrs.rdev == 0 {
            [WHITEOUT_PREFIX, &name].concat()
        } else {
            name.clone()
        };
        entries.push((key, name, attrs));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, name, attrs) in entries {
        let start = prefix.len();
        if !prefix.is_empty() {
            prefix.push(b'/');
        }
        prefix.extend_from_slice(&name);
        let name = OsStr::from_bytes(&name);
        visit_one(root, dir, name, attrs, dir_dev, rules, prefix, visit)?;
        prefix.truncate(start);
    }
    Ok(())
}

/// Visits one entry whose path is `prefix`, and walks into it when it is
/// a directory the rules let the walk enter.
#[allow(clippy::too_many_arguments)]
fn visit_one(
    root: &Path,
    dir: BorrowedFd<'_>,
    name: &OsStr,
    attrs: Attrs,
    dir_dev: u64,
    rules: WalkRules,
    prefix: &mut Vec<u8>,
    visit: &mut dyn FnMut(&Node<'_>) -> Result<()>,
) -> Result<()> {
    let at = |prefix: &[u8]| root.join(OsStr::from_bytes(prefix));
    let mounted = attrs.dev != dir_dev;
    if mounted && rules.mounts == Mounts::Stay && attrs.kind != FileType::Directory {
        // A file bind-mounted over another: neither is part of the tree.
        return Ok(());
    }
    let flags = match attrs.kind {
        FileType::Directory => OFlags::RDONLY | OFlags::DIRECTORY,
        FileType::RegularFile => OFlags::RDONLY | OFlags::NOCTTY,
        _ => {
            let node = Node {
                path: prefix,
                name,
                parent: dir,
                attrs,
                fd: None,
            };
            return visit(&node);
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
        parent: dir,
        attrs: attrs_now,
        fd: Some(fd.as_fd()),
    };
    visit(&node)?;
    let enter = match rules.mounts {
        _ if !mounted => true,
        Mounts::Enter => true,
        Mounts::Stay => false,
        Mounts::SkipPseudo => !is_pseudo(&fd),
    };
    if attrs_now.kind == FileType::Directory && enter {
        walk_dir(root, fd.as_fd(), attrs_now.dev, rules, prefix, visit)?;
    }
    Ok(())
}

/// Whether the file system of `dir` is one of the kernel's views (its
/// files are not content: reading some blocks, some are the host's).
fn is_pseudo(dir: &OwnedFd) -> bool {
    const PSEUDO: &[i64] = &[
        0x9fa0,      // proc
        0x6265_6572, // sysfs
        0x0027_e0eb, // cgroup
        0x6367_7270, // cgroup2
        0x1cd1,      // devpts
        0x1980_0202, // mqueue
        0x7363_6673, // securityfs
        0x6462_6720, // debugfs
        0x7472_6163, // tracefs
        0xcafe_4a11, // bpf
        0x6573_5546, // fusectl
        0x6265_6570, // configfs
        0x6165_676c, // pstore
        0x4249_4e4d, // binfmt_misc
    ];
    match rfs::fstatfs(dir) {
        #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
        Ok(fs) => PSEUDO.contains(&(fs.f_type as i64)),
        // A file system that cannot say what it is is not entered.
        Err(_) => true,
    }
}

/// The names in `dir`, without `.` and `..`.
fn list(dir: BorrowedFd<'_>) -> rustix::io::Result<Vec<Vec<u8>>> {
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

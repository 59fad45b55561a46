//! Applying one tar entry inside a confined root: create, then owner, mode,
//! xattrs and times in that order (chown clears setuid bits; times last).

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags, FileType, Gid, Mode, OFlags, Timestamps, Uid, XattrFlags};
use rustix::io::Errno;

use super::path::{self, Name};
use super::sparse;
use super::tap::Tap;
use super::Whiteouts;
use crate::error::{ImageError, Result};
use stack_confine::ConfinedRoot;

/// Xattr name prefixes a layer may not set: they would steer overlayfs
/// (redirects, metacopy, opaque) from inside an image.
const FORBIDDEN_XATTRS: [&str; 2] = ["trusted.overlay.", "user.overlay."];
const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// Applies `item`. Returns the directory and its mtime when the entry is a
/// directory, so the caller can set directory times after all children.
pub fn apply<R: Read>(
    root: &mut ConfinedRoot,
    item: &mut tar::Entry<'_, R>,
    tap: &Tap,
    layer: &str,
    whiteouts: Whiteouts,
    buffer: &mut [u8],
) -> Result<Option<(Vec<OsString>, u64)>> {
    let sparse = sparse::inspect(item, tap).map_err(|e| ImageError::UnsafeLayerEntry {
        layer: layer.to_string(),
        entry: String::from_utf8_lossy(&item.path_bytes()).into_owned(),
        reason: e.to_string(),
    })?;
    let raw_path = match sparse.as_ref().and_then(|s| s.name.clone()) {
        Some(name) => name,
        None => item.path_bytes().into_owned(),
    };
    let refuse = |reason: String| ImageError::UnsafeLayerEntry {
        layer: layer.to_string(),
        entry: String::from_utf8_lossy(&raw_path).into_owned(),
        reason,
    };
    let kind = item.header().entry_type();
    if matches!(kind, tar::EntryType::XGlobalHeader) {
        return Ok(None);
    }
    let is_file = matches!(
        kind,
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse
    );
    if sparse.is_some() && !is_file {
        return Err(refuse(format!("sparse records on a {kind:?} entry")));
    }
    let mut components = path::components(&raw_path).map_err(|e| refuse(e.to_string()))?;
    let Some(base) = components.pop() else {
        return Ok(None); // the layer root itself ("/" or "./")
    };
    let meta = Meta::from_header(item).map_err(|e| refuse(e.to_string()))?;
    let errno = |what: &str, e: Errno| match e {
        // The only way a parent can be missing after creation is a symlink
        // whose target this layer does not contain.
        Errno::NOENT if what == "creating parent directories" => {
            refuse("a parent directory is a symlink to a path missing from this layer".into())
        }
        e => refuse(format!("{what}: {e}")),
    };

    let name = match whiteouts {
        Whiteouts::Apply => path::classify(&base).map_err(|e| refuse(e.to_string()))?,
        Whiteouts::AsFiles => Name::Plain,
    };
    match name {
        Name::Opaque => {
            let dir = root
                .resolve_dir_for_write(&components)
                .map_err(|e| errno("opening its directory", e))?;
            rfs::fsetxattr(&dir, OPAQUE_XATTR, b"y", XattrFlags::empty())
                .map_err(|e| errno("marking the directory opaque", e))?;
            return Ok(None);
        }
        Name::Whiteout(target) => {
            let parent = root
                .directory(&components)
                .map_err(|e| errno("creating parent directories", e))?;
            // Whiteouts hide lower layers only: an entry this layer made wins.
            if ConfinedRoot::kind_at(parent, target)
                .map_err(|e| errno("inspecting", e))?
                .is_none()
            {
                rfs::mknodat(parent, target, FileType::CharacterDevice, Mode::empty(), 0)
                    .map_err(|e| errno("creating the whiteout device", e))?;
                rfs::chownat(
                    parent,
                    target,
                    meta.uid,
                    meta.gid,
                    AtFlags::SYMLINK_NOFOLLOW,
                )
                .map_err(|e| errno("chown", e))?;
            }
            return Ok(None);
        }
        Name::Plain => {}
    }

    let is_dir = kind == tar::EntryType::Directory;
    let existing = {
        let parent = root
            .directory(&components)
            .map_err(|e| errno("creating parent directories", e))?;
        ConfinedRoot::kind_at(parent, &base).map_err(|e| errno("inspecting", e))?
    };
    if let Some(existing) = existing {
        if !(is_dir && existing == FileType::Directory) {
            let parent = root
                .directory(&components)
                .map_err(|e| errno("parent", e))?;
            ConfinedRoot::remove_at(parent, &base).map_err(|e| errno("replacing", e))?;
            root.invalidate();
        }
    }

    match kind {
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
            let parent = root
                .directory(&components)
                .map_err(|e| errno("parent", e))?;
            let fd = rfs::openat(
                parent,
                &base,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from(0o600),
            )
            .map_err(|e| errno("creating the file", e))?;
            let mut file = File::from(fd);
            match &sparse {
                Some(info) => sparse::write(&info.sparse, item, tap, &file, buffer),
                None => copy(item, &mut file, buffer),
            }
            .map_err(|e| refuse(format!("writing: {e}")))?;
            let fd = OwnedFd::from(file);
            meta.apply_to_fd(&fd)
                .map_err(|e| errno("setting attributes", e))?;
            Ok(None)
        }
        tar::EntryType::Directory => {
            let parent = root
                .directory(&components)
                .map_err(|e| errno("parent", e))?;
            if existing.is_none() {
                rfs::mkdirat(parent, &base, Mode::from(0o700))
                    .map_err(|e| errno("creating the directory", e))?;
            }
            let fd = rfs::openat(
                parent,
                &base,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| errno("opening the directory", e))?;
            meta.apply_owner_mode_xattrs(&fd)
                .map_err(|e| errno("setting attributes", e))?;
            components.push(base);
            Ok(Some((components, meta.mtime)))
        }
        tar::EntryType::Symlink => {
            let target = item
                .link_name_bytes()
                .ok_or_else(|| refuse("symlink without a target".into()))?
                .into_owned();
            let parent = root
                .directory(&components)
                .map_err(|e| errno("parent", e))?;
            // The target is stored verbatim: it is resolved later, inside
            // the container's root, never by us on the host.
            rfs::symlinkat(OsStr::from_bytes(&target), parent, &base)
                .map_err(|e| errno("creating the symlink", e))?;
            rfs::chownat(parent, &base, meta.uid, meta.gid, AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| errno("chown", e))?;
            rfs::utimensat(parent, &base, &meta.times(), AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| errno("times", e))?;
            Ok(None)
        }
        tar::EntryType::Link => {
            let target = item
                .link_name_bytes()
                .ok_or_else(|| refuse("hardlink without a target".into()))?
                .into_owned();
            let mut target_components = path::components(&target)
                .map_err(|reason| refuse(format!("hardlink target: {reason}")))?;
            let target_base = target_components
                .pop()
                .ok_or_else(|| refuse("hardlink to the layer root".into()))?;
            // The target's parent is resolved inside the root like any path,
            // so a link can only point at a file of this snapshot.
            let target_parent = root
                .resolve(&target_components, OFlags::PATH | OFlags::DIRECTORY)
                .map_err(|e| errno("hardlink target's directory", e))?;
            let parent = root
                .directory(&components)
                .map_err(|e| errno("parent", e))?;
            rfs::linkat(
                &target_parent,
                &target_base,
                parent,
                &base,
                AtFlags::empty(),
            )
            .map_err(|e| errno("creating the hardlink", e))?;
            Ok(None)
        }
        tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
            let file_type = match kind {
                tar::EntryType::Char => FileType::CharacterDevice,
                tar::EntryType::Block => FileType::BlockDevice,
                _ => FileType::Fifo,
            };
            let header = item.header();
            let major = header.device_major().ok().flatten().unwrap_or(0);
            let minor = header.device_minor().ok().flatten().unwrap_or(0);
            let parent = root
                .directory(&components)
                .map_err(|e| errno("parent", e))?;
            rfs::mknodat(
                parent,
                &base,
                file_type,
                meta.mode,
                rfs::makedev(major, minor),
            )
            .map_err(|e| errno("mknod", e))?;
            rfs::chownat(parent, &base, meta.uid, meta.gid, AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| errno("chown", e))?;
            rfs::chmodat(parent, &base, meta.mode, AtFlags::empty())
                .map_err(|e| errno("chmod", e))?;
            rfs::utimensat(parent, &base, &meta.times(), AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| errno("times", e))?;
            Ok(None)
        }
        other => Err(refuse(format!("unsupported tar entry type {other:?}"))),
    }
}

/// Copies with the caller's (large) buffer instead of `io::copy`'s 8 KiB.
fn copy(from: &mut impl Read, to: &mut File, buffer: &mut [u8]) -> std::io::Result<()> {
    use std::io::Write;
    loop {
        match from.read(buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => to.write_all(&buffer[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Sets a directory's times once its children are in place.
pub fn set_dir_time(root: &ConfinedRoot, components: &[OsString], mtime: u64) -> Result<(), Errno> {
    let fd = root.resolve(
        components,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW,
    )?;
    rfs::futimens(&fd, &times(mtime))
}

fn times(mtime: u64) -> Timestamps {
    let t = rfs::Timespec {
        tv_sec: i64::try_from(mtime).unwrap_or(i64::MAX),
        tv_nsec: 0,
    };
    Timestamps {
        last_access: t,
        last_modification: t,
    }
}

/// The attributes a tar header records for an entry.
struct Meta {
    uid: Option<Uid>,
    gid: Option<Gid>,
    mode: Mode,
    mtime: u64,
    xattrs: Vec<(String, Vec<u8>)>,
}

impl Meta {
    fn from_header<R: Read>(item: &mut tar::Entry<'_, R>) -> std::io::Result<Meta> {
        let mut xattrs = Vec::new();
        if let Some(extensions) = item.pax_extensions()? {
            for ext in extensions {
                let ext = ext?;
                if let Some(name) = ext.key_bytes().strip_prefix(b"SCHILY.xattr.") {
                    let name = String::from_utf8_lossy(name).into_owned();
                    if FORBIDDEN_XATTRS.iter().any(|p| name.starts_with(p)) {
                        return Err(std::io::Error::other(format!(
                            "xattr {name} would reconfigure overlayfs"
                        )));
                    }
                    xattrs.push((name, ext.value_bytes().to_vec()));
                }
            }
        }
        let header = item.header();
        let id = |v: u64| u32::try_from(v).ok().filter(|v| *v != u32::MAX);
        let uid = id(header.uid()?).ok_or_else(|| std::io::Error::other("uid out of range"))?;
        let gid = id(header.gid()?).ok_or_else(|| std::io::Error::other("gid out of range"))?;
        Ok(Meta {
            uid: Some(Uid::from_raw(uid)),
            gid: Some(Gid::from_raw(gid)),
            mode: Mode::from_bits_truncate(header.mode()? & 0o7777),
            mtime: header.mtime()?,
            xattrs,
        })
    }

    fn times(&self) -> Timestamps {
        times(self.mtime)
    }

    fn apply_owner_mode_xattrs(&self, fd: &OwnedFd) -> Result<(), Errno> {
        rfs::fchown(fd, self.uid, self.gid)?;
        rfs::fchmod(fd, self.mode)?;
        for (name, value) in &self.xattrs {
            match rfs::fsetxattr(fd, name.as_str(), value, XattrFlags::empty()) {
                Ok(()) | Err(Errno::NOTSUP) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn apply_to_fd(&self, fd: &OwnedFd) -> Result<(), Errno> {
        self.apply_owner_mode_xattrs(fd)?;
        rfs::futimens(fd, &self.times())
    }
}

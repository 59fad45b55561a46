//! A directory tree that can only be reached inside: image layers being
//! unpacked into a snapshot, a container's root filesystem being prepared
//! for its mounts.
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
use std::path::{Component, Path};

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// The root of a snapshot being written.
pub struct ConfinedRoot {
    root: OwnedFd,
    /// The last parent directory looked up (tar entries come grouped by
    /// directory, so this saves most lookups). Cleared on any removal.
    cached_parent: Option<(Vec<OsString>, OwnedFd)>,
}

/// Symlinks followed while making directories, as the kernel's own limit.
const MAX_SYMLINK_HOPS: u32 = 40;

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

    /// The tree whose root is the open directory `root` (a container's
    /// root from `/proc/<pid>/root`, a mount made for a copy).
    pub fn from_fd(root: OwnedFd) -> ConfinedRoot {
        ConfinedRoot {
            root,
            cached_parent: None,
        }
    }

    /// The root directory itself.
    pub fn root_fd(&self) -> &OwnedFd {
        &self.root
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
        self.make_dirs(components, 0o755)
    }

    /// The directory `components`, each missing level created with `mode`
    /// (a symlink on the way is followed inside the root; a dangling one is
    /// an error, `ENOENT`, never a way out). Returns an `O_PATH` fd.
    pub fn make_dirs(&self, components: &[OsString], mode: u32) -> Result<OwnedFd, Errno> {
        self.make_dirs_following(components, mode, None)
    }

    /// `make_dirs`, where a dangling symlink on the way (an image's
    /// `/data -> /srv/data` with no `/srv/data`) has its target made inside
    /// the root, at most [`MAX_SYMLINK_HOPS`] times: how a mount target
    /// through such a link is prepared, as runc does.
    pub fn make_dirs_through_links(
        &self,
        components: &[OsString],
        mode: u32,
    ) -> Result<OwnedFd, Errno> {
        self.make_dirs_following(components, mode, Some(0))
    }

    /// `hops` is `None` when dangling links are not followed.
    fn make_dirs_following(
        &self,
        components: &[OsString],
        mode: u32,
        hops: Option<u32>,
    ) -> Result<OwnedFd, Errno> {
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
                    let name = components[i].as_os_str();
                    match rfs::mkdirat(&parent, name, Mode::from(mode)) {
                        Ok(()) => {}
                        Err(Errno::EXIST)
                            if hops.is_some()
                                && Self::kind_at(&parent, name)? == Some(FileType::Symlink) =>
                        {
                            let hops = hops.unwrap_or_default();
                            if hops >= MAX_SYMLINK_HOPS {
                                return Err(Errno::LOOP);
                            }
                            let target = rfs::readlinkat(&parent, name, Vec::new())?;
                            let target = Path::new(OsStr::from_bytes(target.as_bytes()));
                            let joined = if target.is_absolute() {
                                target.to_path_buf()
                            } else {
                                let mut base: std::path::PathBuf = components[..i].iter().collect();
                                base.push(target);
                                base
                            };
                            let mut next = components_of(&joined);
                            next.extend_from_slice(&components[i + 1..]);
                            return self.make_dirs_following(&next, mode, Some(hops + 1));
                        }
                        Err(Errno::EXIST) => {}
                        Err(e) => return Err(e),
                    }
                    parent = self.resolve(&components[..=i], dir_flags)?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(parent)
    }

    /// The file `components` as an `O_PATH` fd: the existing entry (a
    /// symlink followed inside the root), or an empty regular file created
    /// with `mode`, parents made 0755. For a bind mount of a file to land on.
    pub fn make_file(&self, components: &[OsString], mode: u32) -> Result<OwnedFd, Errno> {
        match self.resolve(components, OFlags::PATH) {
            Err(Errno::NOENT) => {}
            other => return other,
        }
        let Some((_, parents)) = components.split_last() else {
            return Err(Errno::ISDIR);
        };
        self.make_dirs_through_links(parents, 0o755)?;
        // O_CREAT follows a dangling last symlink; RESOLVE_IN_ROOT keeps its
        // target inside the root.
        drop(rfs::openat2(
            &self.root,
            join(components),
            OFlags::WRONLY | OFlags::CREATE | OFlags::CLOEXEC,
            Mode::from(mode),
            RESOLVE,
        )?);
        self.resolve(components, OFlags::PATH)
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

/// The components of `path` as seen from the root: `.` and empty parts
/// dropped, `..` applied lexically (never above the root), as runc cleans a
/// mount destination before resolving it.
pub fn components(path: &Path) -> Vec<OsString> {
    components_of(path)
}

fn components_of(path: &Path) -> Vec<OsString> {
    let mut parts: Vec<OsString> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(name) => parts.push(name.to_os_string()),
            Component::ParentDir => {
                parts.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    parts
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(path: &str) -> Vec<OsString> {
        components(Path::new(path))
    }

    #[test]
    fn components_never_climb_above_the_root() {
        assert_eq!(parts("/a/./b/../c"), ["a", "c"]);
        assert_eq!(parts("/../../etc"), ["etc"]);
        assert_eq!(parts("/"), Vec::<OsString>::new());
    }

    /// An image's absolute symlink to a host directory, and a relative one
    /// that climbs, both land inside the root; missing levels are made
    /// inside it too.
    #[test]
    fn symlinks_resolve_inside_the_root() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("tempdir");
        let root_dir = tmp.path().join("root");
        std::fs::create_dir_all(root_dir.join("run")).expect("fixture");
        std::os::unix::fs::symlink(outside.path(), root_dir.join("data")).expect("fixture");
        std::os::unix::fs::symlink("/run", root_dir.join("varrun")).expect("fixture");
        std::os::unix::fs::symlink("../../../..", root_dir.join("up")).expect("fixture");
        let root = ConfinedRoot::open(&root_dir).expect("open");
        assert_eq!(
            root.make_dirs(&parts("/data/sub"), 0o700).err(),
            Some(Errno::NOENT),
            "a dangling link is not followed by make_dirs"
        );
        root.make_dirs_through_links(&parts("/data/sub"), 0o700)
            .expect("mkdir");
        assert!(root_dir
            .join(outside.path().strip_prefix("/").expect("abs"))
            .join("sub")
            .is_dir());
        assert!(
            !outside.path().join("sub").exists(),
            "made outside the root"
        );
        root.make_dirs(&parts("/varrun/lock"), 0o755)
            .expect("mkdir");
        assert!(root_dir.join("run/lock").is_dir());
        root.make_file(&parts("/up/escape"), 0o644).expect("file");
        assert!(root_dir.join("escape").is_file());
        // A dangling symlink as the last component: created inside.
        std::os::unix::fs::symlink("/nowhere/file", root_dir.join("dangling")).expect("fixture");
        let made = root.make_file(&parts("/dangling"), 0o644);
        assert!(made.is_err() || root_dir.join("nowhere/file").is_file());
        assert!(!Path::new("/nowhere/file").exists());
    }
}

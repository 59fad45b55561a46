//! The kernel boundary of a container's setup: its namespaces
//! ([`crate::namespaces`]) and its filesystem view ([`crate::rootfs`]). The
//! setup logic produces [`Op`]s and hands them to a [`Kernel`]; [`Linux`]
//! performs them, the tests' fake records them. Ops are plain data so a
//! plan can be read and compared.

use std::path::{Path, PathBuf};

use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd};

use nix::mount::{MntFlags, MsFlags};
use rustix::fs::{self as rfs, AtFlags, FileType, Mode as RMode, OFlags};
use stack_confine::ConfinedRoot;

use crate::devices::DeviceKind;
use crate::error::{Context, Error};
use crate::setns::{self, Namespace};

/// One step of building the container's filesystem view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Mount {
        source: Option<String>,
        target: PathBuf,
        fstype: Option<String>,
        flags: MsFlags,
        data: Option<String>,
    },
    /// mkdir -p, each new level with `mode`.
    Mkdir {
        path: PathBuf,
        mode: u32,
    },
    /// Creates an empty file (and its parent directories) if missing, for
    /// a file bind mount to land on.
    Touch {
        path: PathBuf,
    },
    /// A device node, owned by `owner` (uid, gid) when given.
    Mknod {
        path: PathBuf,
        kind: DeviceKind,
        major: u64,
        minor: u64,
        mode: u32,
        owner: Option<(u32, u32)>,
    },
    /// Writes a kernel parameter of the container's own namespaces
    /// (after pivot_root, while /proc/sys is still writable).
    Sysctl {
        key: String,
        value: String,
    },
    Symlink {
        target: String,
        link: PathBuf,
    },
    /// Copies the tree at `from` into `to` when `to` is empty (new volume).
    FillIfEmpty {
        from: PathBuf,
        to: PathBuf,
    },
    /// chdir(new_root); pivot_root(".", "."); detach the old root.
    PivotRoot {
        new_root: PathBuf,
    },
    /// Hides a path: /dev/null over a file, a read-only tmpfs over a dir.
    Mask {
        path: PathBuf,
    },
    /// Bind-mounts a path onto itself read-only (if it exists).
    ReadOnly {
        path: PathBuf,
    },
    /// Fresh namespaces of these kinds for this process.
    Unshare {
        kinds: Vec<Namespace>,
    },
    /// Joins the namespace file at `path` (the engine's network namespace).
    JoinNamespace {
        kind: Namespace,
        path: PathBuf,
    },
    /// Joins the namespace of the running container whose directory is
    /// `dir` (`ipc: container:db`, `pid: container:db`).
    JoinContainerNamespace {
        kind: Namespace,
        dir: PathBuf,
    },
    /// Brings `lo` up in a fresh network namespace.
    LoopbackUp,
    SetHostname {
        name: String,
    },
}

/// What rootfs setup needs from the kernel.
pub trait Kernel {
    fn run(&mut self, op: &Op) -> Result<(), Error>;
    /// Whether a host path is a directory (decides how to prepare a bind).
    fn is_dir(&self, path: &Path) -> bool;
}

/// The real kernel.
///
/// Every path strictly below `rootfs` is a path inside the container: it
/// is resolved when its op runs, after the overlay is mounted, with
/// `openat2(RESOLVE_IN_ROOT)` against the mounted root (symlinks of the
/// image followed as if the root were `/`, missing levels created inside
/// it), and mounts land on `/proc/self/fd/N` of what was resolved, as runc
/// does since CVE-2021-30465. Resolving earlier, or by string, would let an
/// image's `/data -> /host/path` carry a mount onto the host.
#[derive(Debug, Default)]
pub struct Linux {
    rootfs: Option<PathBuf>,
}

impl Linux {
    /// A kernel for building the view of the root filesystem at `rootfs`.
    pub fn in_root(rootfs: PathBuf) -> Linux {
        Linux {
            rootfs: Some(rootfs),
        }
    }

    /// The components of `path` inside the container, when it lies
    /// strictly below the root filesystem.
    fn inside(&self, path: &Path) -> Option<Vec<OsString>> {
        let rel = path.strip_prefix(self.rootfs.as_deref()?).ok()?;
        let parts = stack_confine::components(rel);
        (!parts.is_empty()).then_some(parts)
    }

    /// The mounted root, opened now: an fd taken before the overlay was
    /// mounted would name the empty directory beneath it.
    fn root(&self) -> Result<ConfinedRoot, Error> {
        let rootfs = self.rootfs.as_deref().unwrap_or(Path::new("/"));
        ConfinedRoot::open(rootfs)
            .context(|| format!("open the root filesystem {}", rootfs.display()))
    }
}

/// `/proc/self/fd/N`: the path of what `fd` resolved to, for calls that take
/// a path (mount) and must not resolve it again.
fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

fn in_root_error(what: &str, path: &Path, errno: rustix::io::Errno) -> Error {
    Error::io(
        format!("{what} {} inside the container", path.display()),
        std::io::Error::from_raw_os_error(errno.raw_os_error()),
    )
}

impl Kernel for Linux {
    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn run(&mut self, op: &Op) -> Result<(), Error> {
        match op {
            Op::Mount {
                source,
                target,
                fstype,
                flags,
                data,
            } => {
                let resolved = match self.inside(target) {
                    Some(parts) => Some(self.mount_target(&parts, target, fstype.as_deref())?),
                    None => None,
                };
                let on = resolved.as_ref().map_or_else(|| target.clone(), fd_path);
                nix::mount::mount(
                    source.as_deref(),
                    &on,
                    fstype.as_deref(),
                    *flags,
                    data.as_deref(),
                )
                .context(|| {
                    format!(
                        "mount {} on {} ({flags:?})",
                        source.as_deref().unwrap_or("none"),
                        target.display()
                    )
                })
            }
            Op::Mkdir { path, mode } => match self.inside(path) {
                Some(parts) => self
                    .root()?
                    .make_dirs_through_links(&parts, *mode)
                    .map(drop)
                    .map_err(|e| in_root_error("create directory", path, e)),
                None => mkdir_all(path, *mode),
            },
            Op::Touch { path } => match self.inside(path) {
                Some(parts) => self
                    .root()?
                    .make_file(&parts, 0o644)
                    .map(drop)
                    .map_err(|e| in_root_error("create", path, e)),
                None => {
                    if let Some(parent) = path.parent() {
                        mkdir_all(parent, 0o755)?;
                    }
                    if std::fs::symlink_metadata(path).is_err() {
                        std::fs::File::create(path)
                            .context(|| format!("create {}", path.display()))?;
                    }
                    Ok(())
                }
            },
            Op::Mknod {
                path,
                kind,
                major,
                minor,
                mode,
                owner,
            } => {
                let (parent, name) = self.parent_of(path)?;
                let file_type = match kind {
                    DeviceKind::Block => FileType::BlockDevice,
                    _ => FileType::CharacterDevice,
                };
                rfs::mknodat(
                    &parent,
                    &name,
                    file_type,
                    RMode::from(*mode),
                    rfs::makedev(*major as u32, *minor as u32),
                )
                .map_err(|e| in_root_error("mknod", path, e))?;
                // mknod applies the umask; set the mode exactly.
                rfs::chmodat(&parent, &name, RMode::from(*mode), AtFlags::empty())
                    .map_err(|e| in_root_error("chmod", path, e))?;
                if let Some((uid, gid)) = owner {
                    rfs::chownat(
                        &parent,
                        &name,
                        Some(rustix::fs::Uid::from_raw(*uid)),
                        Some(rustix::fs::Gid::from_raw(*gid)),
                        AtFlags::SYMLINK_NOFOLLOW,
                    )
                    .map_err(|e| in_root_error("chown", path, e))?;
                }
                Ok(())
            }
            Op::Sysctl { key, value } => {
                let path = crate::sysctl::proc_path(key);
                std::fs::write(&path, value).context(|| format!("sysctl {key}={value}"))
            }
            Op::Symlink { target, link } => {
                let (parent, name) = self.parent_of(link)?;
                rfs::symlinkat(target.as_str(), &parent, &name)
                    .map_err(|e| in_root_error(&format!("symlink -> {target}:"), link, e))
            }
            Op::FillIfEmpty { from, to } => match self.inside(from) {
                Some(parts) => {
                    match self
                        .root()?
                        .resolve(&parts, OFlags::PATH | OFlags::DIRECTORY)
                    {
                        Ok(dir) => fill_if_empty(&fd_path(&dir), to),
                        // Nothing in the image there: nothing to copy.
                        Err(rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR) => Ok(()),
                        Err(e) => Err(in_root_error("open", from, e)),
                    }
                }
                None => fill_if_empty(from, to),
            },
            Op::PivotRoot { new_root } => pivot(new_root),
            Op::Mask { path } => mask(path),
            Op::ReadOnly { path } => read_only(path),
            Op::Unshare { kinds } => setns::unshare(kinds),
            Op::JoinNamespace { kind, path } => setns::join_file(*kind, path),
            Op::JoinContainerNamespace { kind, dir } => setns::join_container(*kind, dir),
            Op::LoopbackUp => setns::loopback_up(),
            Op::SetHostname { name } => setns::set_hostname(name),
        }
    }
}

impl Linux {
    /// What a mount inside the container lands on. proc and sysfs go only
    /// onto a real directory (a symlink there is refused, as runc does), so
    /// an image cannot point the kernel's views somewhere else.
    fn mount_target(
        &self,
        parts: &[OsString],
        target: &Path,
        fstype: Option<&str>,
    ) -> Result<OwnedFd, Error> {
        let root = self.root()?;
        if matches!(fstype, Some("proc" | "sysfs")) {
            let fd = root
                .resolve(parts, OFlags::PATH | OFlags::NOFOLLOW)
                .map_err(|e| in_root_error("open", target, e))?;
            let st = rfs::fstat(&fd).map_err(|e| in_root_error("stat", target, e))?;
            if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
                return Err(Error::Setup(format!(
                    "{} must be a directory in the image to mount {} on it",
                    target.display(),
                    fstype.unwrap_or_default()
                )));
            }
            return Ok(fd);
        }
        root.resolve(parts, OFlags::PATH)
            .map_err(|e| in_root_error("open", target, e))
    }

    /// The parent directory (made where missing) and last name of `path`,
    /// inside the container when it is below the root filesystem.
    fn parent_of(&self, path: &Path) -> Result<(OwnedFd, OsString), Error> {
        let parts = match self.inside(path) {
            Some(parts) => parts,
            None => {
                let name = path
                    .file_name()
                    .ok_or_else(|| Error::Setup(format!("no file name in {}", path.display())))?;
                let parent = path.parent().unwrap_or(Path::new("/"));
                mkdir_all(parent, 0o755)?;
                let fd = rfs::open(
                    parent,
                    OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    RMode::empty(),
                )
                .map_err(|e| in_root_error("open", parent, e))?;
                return Ok((fd, name.to_os_string()));
            }
        };
        let (name, parents) = parts
            .split_last()
            .ok_or_else(|| Error::Setup(format!("no file name in {}", path.display())))?;
        let parent = self
            .root()?
            .make_dirs_through_links(parents, 0o755)
            .map_err(|e| in_root_error("create the directory of", path, e))?;
        Ok((parent, name.clone()))
    }
}

fn mkdir_all(path: &Path, mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(path)
        .context(|| format!("create directory {}", path.display()))
}

fn pivot(new_root: &Path) -> Result<(), Error> {
    nix::unistd::chdir(new_root).context(|| format!("chdir {}", new_root.display()))?;
    nix::unistd::pivot_root(".", ".").context(|| "pivot_root".to_string())?;
    // The old root is stacked under the new one at "."; make it a slave so
    // the unmount cannot propagate to the host, then detach it.
    nix::mount::mount(
        None::<&str>,
        ".",
        None::<&str>,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None::<&str>,
    )
    .context(|| "make old root a slave".to_string())?;
    nix::mount::umount2(".", MntFlags::MNT_DETACH).context(|| "detach old root".to_string())?;
    nix::unistd::chdir("/").context(|| "chdir /".to_string())
}

fn mask(path: &Path) -> Result<(), Error> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    if meta.is_dir() {
        nix::mount::mount(
            Some("tmpfs"),
            path,
            Some("tmpfs"),
            MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .context(|| format!("mask {}", path.display()))
    } else {
        check_dev_null()?;
        nix::mount::mount(
            Some("/dev/null"),
            path,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .context(|| format!("mask {}", path.display()))
    }
}

/// /dev/null must be the real character device 1:3 before it is bound over
/// anything (a planted file there would unmask paths).
fn check_dev_null() -> Result<(), Error> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let meta = std::fs::metadata("/dev/null").context(|| "stat /dev/null".to_string())?;
    let rdev = meta.rdev();
    if !meta.file_type().is_char_device()
        || nix::sys::stat::major(rdev) != 1
        || nix::sys::stat::minor(rdev) != 3
    {
        return Err(Error::Setup("/dev/null is not the null device".into()));
    }
    Ok(())
}

fn read_only(path: &Path) -> Result<(), Error> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(());
    }
    nix::mount::mount(
        Some(path),
        path,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .context(|| format!("bind {}", path.display()))?;
    remount_read_only(path)
}

/// Makes the mount at `path` read-only, keeping its other flags.
pub fn remount_read_only(path: &Path) -> Result<(), Error> {
    let current =
        nix::sys::statvfs::statvfs(path).context(|| format!("statvfs {}", path.display()))?;
    let mut flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    use nix::sys::statvfs::FsFlags;
    for (fs, ms) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
    ] {
        if current.flags().contains(fs) {
            flags |= ms;
        }
    }
    nix::mount::mount(None::<&str>, path, None::<&str>, flags, None::<&str>)
        .context(|| format!("remount {} read-only", path.display()))
}

fn fill_if_empty(from: &Path, to: &Path) -> Result<(), Error> {
    let empty = std::fs::read_dir(to)
        .context(|| format!("read volume {}", to.display()))?
        .next()
        .is_none();
    if !empty || !from.is_dir() {
        return Ok(());
    }
    copy_tree(from, to)
}

/// Copies files, directories and symlinks with their modes and owners.
fn copy_tree(from: &Path, to: &Path) -> Result<(), Error> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::symlink_metadata(from).context(|| format!("stat {}", from.display()))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(meta.mode() & 0o7777))
        .context(|| format!("chmod {}", to.display()))?;
    let _ = std::os::unix::fs::lchown(to, Some(meta.uid()), Some(meta.gid()));
    for entry in std::fs::read_dir(from).context(|| format!("read {}", from.display()))? {
        let entry = entry.context(|| format!("read {}", from.display()))?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let m = std::fs::symlink_metadata(&src).context(|| format!("stat {}", src.display()))?;
        let ft = m.file_type();
        if ft.is_dir() {
            std::fs::create_dir(&dst).context(|| format!("create {}", dst.display()))?;
            copy_tree(&src, &dst)?;
        } else if ft.is_symlink() {
            let target =
                std::fs::read_link(&src).context(|| format!("readlink {}", src.display()))?;
            std::os::unix::fs::symlink(target, &dst)
                .context(|| format!("symlink {}", dst.display()))?;
            let _ = std::os::unix::fs::lchown(&dst, Some(m.uid()), Some(m.gid()));
        } else if ft.is_file() {
            std::fs::copy(&src, &dst).context(|| format!("copy {}", src.display()))?;
            let _ = std::os::unix::fs::lchown(&dst, Some(m.uid()), Some(m.gid()));
        }
    }
    Ok(())
}

/// `path` (absolute, inside the container) under `root`, cleaned
/// lexically so that it names a place below `root`. Symlinks are not
/// followed here: [`Linux`] resolves such a path inside the mounted root
/// when its op runs.
pub fn join_in_root(root: &Path, path: &str) -> PathBuf {
    let mut joined = root.to_path_buf();
    joined.extend(stack_confine::components(Path::new(path)));
    joined
}

/// The text of the file at `path` inside the root filesystem seen at
/// `root` (a mounted rootfs or `/proc/<pid>/root`), symlinks followed
/// inside it; `None` when it cannot be read. Capped at 4 MiB: these are
/// small files such as /etc/passwd, and an image must not make us read a
/// device or a huge file.
pub fn read_in_root(root: &Path, path: &str) -> Option<String> {
    read_confined(&ConfinedRoot::open(root).ok()?, path)
}

/// [`read_in_root`] in a root already open.
pub fn read_confined(root: &ConfinedRoot, path: &str) -> Option<String> {
    use std::io::Read;
    let parts = stack_confine::components(Path::new(path));
    let fd = root
        .resolve(&parts, OFlags::RDONLY | OFlags::NONBLOCK)
        .ok()?;
    let st = rfs::fstat(&fd).ok()?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return None;
    }
    let mut text = String::new();
    std::fs::File::from(fd)
        .take(4 << 20)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

/// Whether `path` inside the root at `root` is an executable regular file,
/// symlinks followed inside the root.
pub fn executable_in_root(root: &Path, path: &str) -> bool {
    let parts = stack_confine::components(Path::new(path));
    let Ok(confined) = ConfinedRoot::open(root) else {
        return false;
    };
    let Ok(fd) = confined.resolve(&parts, OFlags::PATH) else {
        return false;
    };
    rfs::fstat(&fd).is_ok_and(|st| {
        FileType::from_raw_mode(st.st_mode) == FileType::RegularFile && st.st_mode & 0o111 != 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_stay_below_the_root() {
        let root = Path::new("/r");
        assert_eq!(join_in_root(root, "/../../tmp"), Path::new("/r/tmp"));
        assert_eq!(join_in_root(root, "/a/./b/../c"), Path::new("/r/a/c"));
    }

    #[test]
    fn only_paths_below_the_root_are_resolved_inside_it() {
        let k = Linux::in_root("/r/rootfs".into());
        assert_eq!(k.inside(Path::new("/r/rootfs")), None, "the root itself");
        assert_eq!(k.inside(Path::new("/r/rootfsx/a")), None);
        assert_eq!(k.inside(Path::new("/proc/kcore")), None);
        assert_eq!(
            k.inside(Path::new("/r/rootfs/var/run")),
            Some(vec![OsString::from("var"), OsString::from("run")])
        );
    }
}

//! The kernel boundary of rootfs setup. The setup logic produces [`Op`]s and
//! hands them to a [`Kernel`]; [`Linux`] performs them, the tests' fake
//! records them. Ops are plain data so a plan can be read and compared.

use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};
use nix::sys::stat::{Mode, SFlag};

use crate::error::{Context, Error};

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
    Mknod {
        path: PathBuf,
        major: u64,
        minor: u64,
        mode: u32,
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
}

/// What rootfs setup needs from the kernel.
pub trait Kernel {
    fn run(&mut self, op: &Op) -> Result<(), Error>;
    /// Whether a host path is a directory (decides how to prepare a bind).
    fn is_dir(&self, path: &Path) -> bool;
}

/// The real kernel.
#[derive(Debug, Default)]
pub struct Linux;

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
            } => nix::mount::mount(
                source.as_deref(),
                target,
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
            }),
            Op::Mkdir { path, mode } => mkdir_all(path, *mode),
            Op::Touch { path } => {
                if let Some(parent) = path.parent() {
                    mkdir_all(parent, 0o755)?;
                }
                if std::fs::symlink_metadata(path).is_err() {
                    std::fs::File::create(path).context(|| format!("create {}", path.display()))?;
                }
                Ok(())
            }
            Op::Mknod {
                path,
                major,
                minor,
                mode,
            } => {
                nix::sys::stat::mknod(
                    path,
                    SFlag::S_IFCHR,
                    Mode::from_bits_truncate(*mode),
                    nix::sys::stat::makedev(*major, *minor),
                )
                .context(|| format!("mknod {}", path.display()))?;
                // mknod applies the umask; set the mode exactly.
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(*mode))
                    .context(|| format!("chmod {}", path.display()))
            }
            Op::Symlink { target, link } => std::os::unix::fs::symlink(target, link)
                .context(|| format!("symlink {} -> {target}", link.display())),
            Op::FillIfEmpty { from, to } => fill_if_empty(from, to),
            Op::PivotRoot { new_root } => pivot(new_root),
            Op::Mask { path } => mask(path),
            Op::ReadOnly { path } => read_only(path),
        }
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

/// Joins `path` (absolute, inside the container) to `root`, following
/// symlinks as if `root` were `/`, so an image cannot point a mount
/// destination outside its rootfs.
pub fn join_in_root(root: &Path, path: &str) -> PathBuf {
    let mut resolved = PathBuf::new();
    let mut pending: Vec<String> = path
        .split('/')
        .rev()
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    let mut hops = 0;
    while let Some(component) = pending.pop() {
        match component.as_str() {
            "." => {}
            ".." => {
                resolved.pop();
            }
            name => {
                let candidate = resolved.join(name);
                match std::fs::read_link(root.join(&candidate)) {
                    Ok(target) if hops < 40 => {
                        hops += 1;
                        let target = target.to_string_lossy().into_owned();
                        if target.starts_with('/') {
                            resolved = PathBuf::new();
                        }
                        pending.extend(
                            target
                                .split('/')
                                .rev()
                                .filter(|c| !c.is_empty())
                                .map(str::to_string),
                        );
                    }
                    _ => resolved = candidate,
                }
            }
        }
    }
    root.join(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_stay_inside_the_root() {
        let root = std::env::temp_dir().join(format!("stack-join-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("real")).expect("fixture");
        std::os::unix::fs::symlink("/etc", root.join("escape")).expect("fixture");
        std::os::unix::fs::symlink("../../real", root.join("rel")).expect("fixture");
        assert_eq!(
            join_in_root(&root, "/escape/passwd"),
            root.join("etc/passwd")
        );
        assert_eq!(join_in_root(&root, "/rel/x"), root.join("real/x"));
        assert_eq!(join_in_root(&root, "/../../tmp"), root.join("tmp"));
        let _ = std::fs::remove_dir_all(&root);
    }
}

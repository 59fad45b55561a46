//! A container's files in and out as tar archives: `docker cp` both ways
//! (`GET`, `HEAD` and `PUT /containers/{id}/archive`, `stack cp`) and
//! `docker export`.
//!
//! Every path is a path inside the container, resolved in its root as its
//! own processes would resolve it (its symlinks followed inside it, `..`
//! never above it) by the kernel (`openat2(RESOLVE_IN_ROOT)`), and every
//! entry written in is made relative to its parent's fd, never followed:
//! a container that swaps a directory for a symlink to `/` while a copy
//! runs still only reaches its own files. The view is the running
//! container's own mount namespace, or, for a container that does not
//! run, its root filesystem with its volumes mounted privately
//! ([`stack_runtime::files`]).

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, Stat, StatVfsMountFlags};
use rustix::io::Errno;
use stack_api::docker::containers::ContainerPathStat;
use stack_confine::ConfinedRoot;
use stack_image::layer::{self, Mounts, TreeRoot};
use stack_image::unpack::{self, TreeRules};
use stack_runtime::files::FilesView;
use stack_runtime::handle::Container;

use super::{Engine, EngineError};
use crate::containers::ContainerRecord;

/// Symlinks followed while resolving one path, as the kernel's limit.
const MAX_LINK_HOPS: u32 = 40;

/// A path of a container, found and open, to be archived.
pub struct ContainerPath {
    stat: ContainerPathStat,
    target: Target,
    display: PathBuf,
    /// Keeps the container's files reachable while the fds are used.
    _view: FilesView,
}

/// What an archive of the path starts from.
enum Target {
    /// An entry of a directory, not followed (a symlink is archived as
    /// the link), with the name it has in the archive.
    Entry {
        parent: OwnedFd,
        name: OsString,
        rename: Vec<u8>,
    },
    /// A directory reached through its symlinks (`dir/`, `dir/.`, `/`).
    Dir { dir: OwnedFd, rename: Vec<u8> },
}

/// How `PUT /containers/{id}/archive` writes.
#[derive(Debug, Clone, Copy, Default)]
pub struct CopyIn {
    /// Refuse to replace a directory with a file or a file with a
    /// directory (`noOverwriteDirNonDir`).
    pub keep_kinds: bool,
    /// Own everything written by the container's user and group
    /// (`copyUIDGID`, `docker cp -a`); otherwise the archive's ids stay.
    pub as_container_user: bool,
}

impl ContainerPath {
    /// What Docker's `X-Docker-Container-Path-Stat` header says.
    pub fn stat(&self) -> &ContainerPathStat {
        &self.stat
    }

    /// Writes the path (and, for a directory, all below it) to `out` as an
    /// uncompressed tar. The kernel's pseudo file systems of a running
    /// container (its /proc, /sys) are not entered.
    pub fn write_tar(&self, out: impl Write) -> Result<(), EngineError> {
        let root = match &self.target {
            Target::Entry {
                parent,
                name,
                rename,
            } => TreeRoot::Entry {
                parent: parent.as_fd(),
                name,
                rename,
            },
            Target::Dir { dir, rename } => TreeRoot::Dir {
                dir: dir.as_fd(),
                rename: Some(rename),
            },
        };
        layer::write_tree(&self.display, root, Mounts::SkipPseudo, out)?;
        Ok(())
    }
}

/// A container's root filesystem, open for `export`.
pub struct ContainerExport {
    root: OwnedFd,
    display: PathBuf,
    _view: FilesView,
}

impl ContainerExport {
    /// Writes the root filesystem to `out` as an uncompressed tar: what the
    /// image and the container's own changes hold, without what is mounted
    /// on it (volumes, binds, /proc, /sys, /dev), as `docker export`.
    pub fn write_tar(&self, out: impl Write) -> Result<(), EngineError> {
        let root = TreeRoot::Dir {
            dir: self.root.as_fd(),
            rename: None,
        };
        layer::write_tree(&self.display, root, Mounts::Stay, out)?;
        Ok(())
    }
}

impl Engine {
    /// Finds `path` in the container `key` (`HEAD` and `GET .../archive`).
    pub fn container_path(&self, key: &str, path: &str) -> Result<ContainerPath, EngineError> {
        let record = self.find(key)?;
        let view = open_view(&record)?;
        let root = ConfinedRoot::from_fd(view.root_owned()?);
        let display = PathBuf::from(format!("{}:{path}", record.spec.name));
        let missing = || not_found(path, &record.spec.name);
        let wanted = Wanted::parse(path);
        let (target, stat) = if wanted.follow_last {
            let dir = match root.resolve(&wanted.components, OFlags::RDONLY | OFlags::DIRECTORY) {
                Ok(fd) => fd,
                Err(Errno::NOENT) => return Err(missing()),
                Err(Errno::NOTDIR) => {
                    return Err(EngineError::Invalid(format!(
                        "{path} in container {}: not a directory",
                        record.spec.name
                    )))
                }
                Err(e) => return Err(fs_error(&display, e)),
            };
            let stat = rfs::fstat(&dir).map_err(|e| fs_error(&display, e))?;
            // The root's entries are `./bin`, `./etc`, … (a name of `/`
            // would make absolute names).
            let rename = match wanted.name.as_str() {
                "/" => b".".to_vec(),
                name => name.as_bytes().to_vec(),
            };
            (
                Target::Dir { dir, rename },
                stat_of(&wanted.name, &stat, ""),
            )
        } else {
            let (parent_parts, name) = wanted.split();
            let parent = match root.resolve(parent_parts, OFlags::PATH | OFlags::DIRECTORY) {
                Ok(fd) => fd,
                Err(Errno::NOENT | Errno::NOTDIR) => return Err(missing()),
                Err(e) => return Err(fs_error(&display, e)),
            };
            let stat = match rfs::statat(&parent, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => stat,
                Err(Errno::NOENT) => return Err(missing()),
                Err(e) => return Err(fs_error(&display, e)),
            };
            let link_target = if FileType::from_raw_mode(stat.st_mode) == FileType::Symlink {
                follow_links(&root, &wanted.components)
            } else {
                String::new()
            };
            let stat = stat_of(&wanted.name, &stat, &link_target);
            let target = Target::Entry {
                parent,
                name: name.to_os_string(),
                rename: wanted.name.as_bytes().to_vec(),
            };
            (target, stat)
        };
        Ok(ContainerPath {
            stat,
            target,
            display,
            _view: view,
        })
    }

    /// Unpacks `archive` (a tar, plain, gzip or zstd) into the directory
    /// `path` of the container `key` (`PUT .../archive`).
    pub fn copy_into_container(
        &self,
        key: &str,
        path: &str,
        options: CopyIn,
        archive: impl Read,
    ) -> Result<(), EngineError> {
        let record = self.find(key)?;
        let name = &record.spec.name;
        let view = open_view(&record)?;
        let mut root = ConfinedRoot::from_fd(view.root_owned()?);
        let display = PathBuf::from(format!("{name}:{path}"));
        let components = stack_confine::components(Path::new(path));
        let dest = match root.resolve(&components, OFlags::PATH) {
            Ok(fd) => fd,
            Err(Errno::NOENT | Errno::NOTDIR) => return Err(not_found(path, name)),
            Err(e) => return Err(fs_error(&display, e)),
        };
        let stat = rfs::fstat(&dest).map_err(|e| fs_error(&display, e))?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::Directory {
            return Err(EngineError::Invalid(format!(
                "extraction point {path} in container {name} is not a directory"
            )));
        }
        let flags = rfs::fstatvfs(&dest)
            .map_err(|e| fs_error(&display, e))?
            .f_flag;
        if flags.contains(StatVfsMountFlags::RDONLY) {
            return Err(EngineError::Conflict(format!(
                "{path} in container {name} is on a read-only file system"
            )));
        }
        let owner = if options.as_container_user {
            container_user(&root, &record)?
        } else {
            None
        };
        let rules = TreeRules {
            owner,
            keep_kinds: options.keep_kinds,
            under: &components,
            ..TreeRules::default()
        };
        let what = format!("the archive copied to {name}:{path}");
        unpack::unpack_tree(archive, &mut root, rules, &what)?;
        self.record_event(&self.event(&record, "extract-to-dir"));
        Ok(())
    }

    /// The container `key`'s root filesystem, open for `export`.
    pub fn container_export(&self, key: &str) -> Result<ContainerExport, EngineError> {
        let record = self.find(key)?;
        let view = open_view(&record)?;
        let root = rfs::openat(
            view.root(),
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| fs_error(Path::new(&record.spec.name), e))?;
        self.record_event(&self.event(&record, "export"));
        Ok(ContainerExport {
            root,
            display: PathBuf::from(format!("{}:/", record.spec.name)),
            _view: view,
        })
    }
}

fn open_view(record: &ContainerRecord) -> Result<FilesView, EngineError> {
    let container = Container::new(&record.dir, &record.spec, &record.state);
    Ok(FilesView::open(&container)?)
}

/// Docker's words, which `docker cp` shows as they are.
fn not_found(path: &str, container: &str) -> EngineError {
    EngineError::NotFound(format!(
        "Could not find the file {path} in container {container}"
    ))
}

fn fs_error(display: &Path, errno: Errno) -> EngineError {
    EngineError::Io {
        context: display.display().to_string(),
        source: errno.into(),
    }
}

/// A path as `docker cp` names it.
struct Wanted {
    components: Vec<OsString>,
    /// The last element is followed when it is a symlink: the path ends
    /// with `/` or `/.`, or is the root.
    follow_last: bool,
    /// The name it has in the archive and the stat: the last component,
    /// `.` for `dir/.`, `/` for the root.
    name: String,
}

impl Wanted {
    fn parse(path: &str) -> Wanted {
        let components = stack_confine::components(Path::new(path));
        let dot = path == "." || path.ends_with("/.");
        let follow_last = components.is_empty() || dot || path.ends_with('/');
        let name = if dot {
            ".".to_string()
        } else {
            match components.last() {
                Some(last) => last.to_string_lossy().into_owned(),
                None => "/".to_string(),
            }
        };
        Wanted {
            components,
            follow_last,
            name,
        }
    }

    /// The parent's components and the last one (not the root: callers
    /// split only a path that does not follow its last element).
    fn split(&self) -> (&[OsString], &OsStr) {
        match self.components.split_last() {
            Some((last, parent)) => (parent, last),
            None => (&[], OsStr::new(".")),
        }
    }
}

/// The absolute path inside the container that `components` lead to,
/// every symlink followed inside the root (what `docker cp -L` copies).
fn follow_links(root: &ConfinedRoot, components: &[OsString]) -> String {
    let mut resolved: Vec<OsString> = Vec::new();
    let mut pending: Vec<OsString> = components.iter().rev().cloned().collect();
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let Ok(dir) = root.resolve(&resolved, OFlags::PATH | OFlags::DIRECTORY) else {
            resolved.push(part);
            continue;
        };
        match rfs::readlinkat(&dir, part.as_os_str(), Vec::new()) {
            Ok(target) if hops < MAX_LINK_HOPS => {
                hops += 1;
                let target = target.as_bytes();
                if target.starts_with(b"/") {
                    resolved.clear();
                }
                for piece in target.split(|b| *b == b'/').rev() {
                    if !piece.is_empty() && piece != b"." {
                        pending.push(OsStr::from_bytes(piece).to_os_string());
                    }
                }
            }
            _ => resolved.push(part),
        }
    }
    let mut out = String::new();
    for part in &resolved {
        out.push('/');
        out.push_str(&part.to_string_lossy());
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The ids of the container's user (`copyUIDGID`), from its own passwd and
/// group files; `None` when it runs as root by default.
fn container_user(
    root: &ConfinedRoot,
    record: &ContainerRecord,
) -> Result<Option<(u32, u32)>, EngineError> {
    let user = &record.spec.process.user;
    if user.is_empty() {
        return Ok(None);
    }
    let passwd = stack_runtime::kernel::read_confined(root, "/etc/passwd").unwrap_or_default();
    let group = stack_runtime::kernel::read_confined(root, "/etc/group").unwrap_or_default();
    let resolved = stack_runtime::user::resolve(user, &passwd, &group)?;
    Ok(Some((resolved.uid, resolved.gid)))
}

/// Docker's stat of a path.
fn stat_of(name: &str, stat: &Stat, link_target: &str) -> ContainerPathStat {
    let mtime = std::time::UNIX_EPOCH
        + std::time::Duration::new(
            u64::try_from(stat.st_mtime).unwrap_or(0),
            u32::try_from(stat.st_mtime_nsec).unwrap_or(0),
        );
    ContainerPathStat {
        name: name.to_string(),
        size: stat.st_size,
        mode: go_file_mode(stat.st_mode),
        mtime: stack_runtime::timefmt::format(mtime),
        link_target: link_target.to_string(),
    }
}

/// `st_mode` in Go's `os.FileMode` bits, which Docker's clients decode.
fn go_file_mode(st_mode: u32) -> u32 {
    const DIR: u32 = 1 << 31;
    const SYMLINK: u32 = 1 << 27;
    const DEVICE: u32 = 1 << 26;
    const NAMED_PIPE: u32 = 1 << 25;
    const SOCKET: u32 = 1 << 24;
    const SETUID: u32 = 1 << 23;
    const SETGID: u32 = 1 << 22;
    const CHAR_DEVICE: u32 = 1 << 21;
    const STICKY: u32 = 1 << 20;
    let mut mode = st_mode & 0o777;
    mode |= match FileType::from_raw_mode(st_mode) {
        FileType::Directory => DIR,
        FileType::Symlink => SYMLINK,
        FileType::BlockDevice => DEVICE,
        FileType::CharacterDevice => DEVICE | CHAR_DEVICE,
        FileType::Fifo => NAMED_PIPE,
        FileType::Socket => SOCKET,
        _ => 0,
    };
    for (bit, go) in [(0o4000, SETUID), (0o2000, SETGID), (0o1000, STICKY)] {
        if st_mode & bit != 0 {
            mode |= go;
        }
    }
    mode
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_modes_are_go_file_modes() {
        assert_eq!(go_file_mode(0o100644), 0o644);
        assert_eq!(go_file_mode(0o040755), (1 << 31) | 0o755);
        assert_eq!(go_file_mode(0o120777), (1 << 27) | 0o777);
        assert_eq!(go_file_mode(0o104755), (1 << 23) | 0o755);
        assert_eq!(go_file_mode(0o041777), (1 << 31) | (1 << 20) | 0o777);
        assert_eq!(go_file_mode(0o020666), (1 << 26) | (1 << 21) | 0o666);
    }

    #[test]
    fn paths_name_what_docker_cp_names() {
        let cases = [
            ("/etc/hosts", false, "hosts"),
            ("etc/", true, "etc"),
            ("/etc/.", true, "."),
            ("/", true, "/"),
            ("/a/../b", false, "b"),
        ];
        for (path, follow, name) in cases {
            let wanted = Wanted::parse(path);
            assert_eq!(
                (wanted.follow_last, wanted.name.as_str()),
                (follow, name),
                "{path}"
            );
        }
    }

    #[test]
    fn links_are_followed_inside_the_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path();
        std::fs::create_dir_all(base.join("real/sub")).expect("mkdir");
        std::os::unix::fs::symlink("/real", base.join("abs")).expect("link");
        std::os::unix::fs::symlink("../../..", base.join("real/up")).expect("link");
        std::os::unix::fs::symlink("sub", base.join("real/rel")).expect("link");
        let root = ConfinedRoot::open(base).expect("root");
        let follow = |p: &str| follow_links(&root, &stack_confine::components(Path::new(p)));
        assert_eq!(follow("/abs"), "/real");
        assert_eq!(follow("/abs/rel"), "/real/sub");
        assert_eq!(
            follow("/real/up"),
            "/",
            "`..` stops at the container's root"
        );
        assert_eq!(follow("/missing/x"), "/missing/x");
    }
}

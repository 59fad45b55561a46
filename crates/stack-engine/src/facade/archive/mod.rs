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

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, StatVfsMountFlags};
use rustix::io::Errno;
use stack_api::docker::containers::ContainerPathStat;
use stack_confine::ConfinedRoot;
use stack_image::layer::{self, Mounts, TreeRoot};
use stack_image::unpack::{self, TreeRules};
use stack_image::ImageError;
use stack_runtime::files::FilesView;
use stack_runtime::handle::Container;

mod path;

use super::{Engine, EngineError};
use crate::containers::ContainerRecord;
use path::{follow_links, stat_of, Wanted};

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

    /// Names the path `name` in the archive instead of its own name (a copy
    /// to another name: `docker cp c:/etc/hosts ./saved`).
    pub fn rename(&mut self, name: &str) {
        match &mut self.target {
            Target::Entry { rename, .. } | Target::Dir { rename, .. } => {
                *rename = name.as_bytes().to_vec();
            }
        }
    }

    /// Writes the path (and, for a directory, all below it) to `out` as an
    /// uncompressed tar. The kernel's pseudo file systems of a running
    /// container (its /proc, /sys) are not entered.
    pub fn write_tar(&self, out: impl Write) -> Result<(), EngineError> {
        Ok(self.tar_into(out)?)
    }

    fn tar_into(&self, out: impl Write) -> Result<(), ImageError> {
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

impl ContainerPath {
    /// Unpacks the archive of the path into the directory `dir` of this
    /// host, confined to it, every file owned by this process's user (as
    /// `docker cp` leaves them).
    pub fn extract_on_host(self, dir: &Path) -> Result<(), EngineError> {
        let mut root =
            ConfinedRoot::open(dir).map_err(EngineError::io(dir.display().to_string()))?;
        let owner = (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        );
        let rules = TreeRules {
            owner: Some(owner),
            ..TreeRules::default()
        };
        let what = self.display.display().to_string();
        std::thread::scope(|scope| {
            let (reader, writer) = pipe()?;
            let producer = scope.spawn(move || self.tar_into(writer));
            let unpacked = unpack::unpack_tree_into(reader, &mut root, rules, &what);
            settle(
                unpacked.map(drop).map_err(EngineError::from),
                joined(producer),
            )
        })
    }
}

/// A file or directory of this host to copy into a container.
#[derive(Debug, Clone)]
pub struct HostSource {
    /// The directory holding it.
    pub parent: PathBuf,
    /// Its name there (not followed: a symlink is sent as the link).
    pub name: OsString,
    /// Send what the directory holds, not the directory (`dir/.`).
    pub contents_only: bool,
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
        archive: impl Read + Send,
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
        unpack::unpack_tree_into(archive, &mut root, rules, &what)?;
        self.record_event(&self.event(&record, "extract-to-dir"));
        Ok(())
    }

    /// Sends `source` from this host into the directory `dest_dir` of the
    /// container `key`, named `rename` there.
    pub fn copy_from_host(
        &self,
        key: &str,
        source: &HostSource,
        rename: &str,
        dest_dir: &str,
        options: CopyIn,
    ) -> Result<(), EngineError> {
        let parent_path = if source.contents_only {
            source.parent.join(&source.name)
        } else {
            source.parent.clone()
        };
        let parent = std::fs::File::open(&parent_path)
            .map_err(EngineError::io(parent_path.display().to_string()))?;
        let display = parent_path.join(&source.name);
        std::thread::scope(|scope| {
            let (reader, writer) = pipe()?;
            let producer = scope.spawn(|| {
                let root = if source.contents_only {
                    TreeRoot::Dir {
                        dir: parent.as_fd(),
                        rename: Some(b"."),
                    }
                } else {
                    TreeRoot::Entry {
                        parent: parent.as_fd(),
                        name: &source.name,
                        rename: rename.as_bytes(),
                    }
                };
                layer::write_tree(&display, root, Mounts::Enter, writer)
            });
            let copied = self.copy_into_container(key, dest_dir, options, reader);
            settle(copied, joined(producer).map(drop))
        })
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

/// A pipe between an archive's writer and its reader, as files.
fn pipe() -> Result<(std::fs::File, std::fs::File), EngineError> {
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| EngineError::io("a pipe")(e.into()))?;
    Ok((std::fs::File::from(read), std::fs::File::from(write)))
}

/// The result of a thread writing an archive.
fn joined<T>(
    thread: std::thread::ScopedJoinHandle<'_, Result<T, ImageError>>,
) -> Result<(), ImageError> {
    match thread.join() {
        Ok(result) => result.map(drop),
        Err(_) => Err(ImageError::LayerWrite {
            path: PathBuf::from("archive"),
            source: std::io::Error::other("the archive writer panicked"),
        }),
    }
}

/// The failure that explains a copy between a writer and a reader on a
/// pipe: the writer's own, unless it only saw the reader hang up after
/// failing (then the reader's).
fn settle(
    reader: Result<(), EngineError>,
    writer: Result<(), ImageError>,
) -> Result<(), EngineError> {
    match (reader, writer) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(read), Err(ImageError::LayerWrite { source, .. }))
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            Err(read)
        }
        (_, Err(write)) => Err(write.into()),
        (Err(read), Ok(())) => Err(read),
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

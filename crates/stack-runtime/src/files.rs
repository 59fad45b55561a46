//! A container's files as its processes see them, opened for copying in
//! or out (`docker cp`, `export`).
//!
//! A running container is reached through `/proc/<pid>/root`: its own
//! mount namespace, with its volumes, binds and tmpfs mounts, whatever it
//! changed since it started. The fd is taken first and the process checked
//! after, so a pid reused by another process between the two is noticed
//! rather than copied from.
//!
//! A container that does not run has no mounts to reach. Its overlay and
//! its volumes and binds are mounted in a mount namespace of a thread of
//! its own, private (nothing propagates to the host's mounts), which lives
//! as long as the view; nothing is left mounted when the view goes, even
//! if the process dies. While it is mounted, the container's monitor
//! cannot start (both hold the container's rootfs lock): two overlay
//! mounts of one upper directory are undefined behaviour in overlayfs.

use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::mpsc;

use nix::fcntl::{Flock, FlockArg};
use nix::mount::MsFlags;
use nix::sched::CloneFlags;
use rustix::fs::{Mode, OFlags};

use crate::error::{Context, Error};
use crate::handle::Container;
use crate::kernel::{Kernel, Linux};
use crate::spec::{ContainerDir, ContainerSpec};

/// Name of the lock file, in the container's directory, that the monitor
/// holds while it lives and a view of a stopped container while it is
/// mounted.
const ROOTFS_LOCK: &str = "rootfs.lock";

/// The container's root directory, open.
pub struct FilesView {
    /// Declared first, so it is closed before the mounts go.
    root: OwnedFd,
    live: bool,
    /// Keeps the private mounts of a stopped container.
    _mounted: Option<PrivateMounts>,
}

impl FilesView {
    /// Opens the files of `container`, running or not.
    pub fn open(container: &Container<'_>) -> Result<FilesView, Error> {
        if let Some(view) = live(container)? {
            return Ok(view);
        }
        let Some(lock) = RootfsLock::try_hold(container.dir)? else {
            // Its monitor holds the lock: it is starting (or restarting).
            return live(container)?.ok_or_else(|| {
                Error::invalid(
                    container.spec.name.clone(),
                    "the container is starting or restarting; try again",
                )
            });
        };
        let (root, mounted) = PrivateMounts::mount(container.spec, container.dir, lock)?;
        Ok(FilesView {
            root,
            live: false,
            _mounted: Some(mounted),
        })
    }

    /// The container's `/`.
    pub fn root(&self) -> BorrowedFd<'_> {
        self.root.as_fd()
    }

    /// The root as an fd of its own (for a [`stack_confine::ConfinedRoot`]);
    /// the view must be kept until it is closed.
    pub fn root_owned(&self) -> Result<OwnedFd, Error> {
        self.root
            .try_clone()
            .context(|| "duplicate the container's root fd".to_string())
    }

    /// Whether the view is the running container's own (mounts made by
    /// the container itself, tmpfs content, /proc and /dev included).
    pub fn is_live(&self) -> bool {
        self.live
    }
}

/// The running container's root, when it runs.
fn live(container: &Container<'_>) -> Result<Option<FilesView>, Error> {
    let Ok(pid) = container.running_pid() else {
        return Ok(None);
    };
    let path = format!("/proc/{pid}/root");
    let root = match rustix::fs::open(
        path.as_str(),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT | rustix::io::Errno::SRCH) => return Ok(None),
        Err(e) => return Err(Error::io(format!("open {path}"), e.into())),
    };
    // The fd is the container's only if its process is still the one the
    // state names (same pid, same start time) now that the fd is open.
    if !container.state.container_alive() {
        return Ok(None);
    }
    Ok(Some(FilesView {
        root,
        live: true,
        _mounted: None,
    }))
}

/// The lock that keeps a container's monitor and a mounted view apart.
pub struct RootfsLock {
    _held: Flock<File>,
}

impl RootfsLock {
    fn file(dir: &ContainerDir) -> Result<File, Error> {
        let path = dir.path().join(ROOTFS_LOCK);
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .context(|| format!("open {}", path.display()))
    }

    /// Waits for the lock (the monitor, before it first mounts the root
    /// filesystem; a copy into the stopped container ends first).
    pub fn hold(dir: &ContainerDir) -> Result<RootfsLock, Error> {
        let held = Flock::lock(Self::file(dir)?, FlockArg::LockExclusive)
            .map_err(|(_, e)| Error::sys("lock the container's root filesystem", e))?;
        Ok(RootfsLock { _held: held })
    }

    /// Takes the lock if nobody holds it.
    fn try_hold(dir: &ContainerDir) -> Result<Option<RootfsLock>, Error> {
        match Flock::lock(Self::file(dir)?, FlockArg::LockExclusiveNonblock) {
            Ok(held) => Ok(Some(RootfsLock { _held: held })),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, e)) => Err(Error::sys("lock the container's root filesystem", e)),
        }
    }
}

/// A thread whose private mount namespace holds the stopped container's
/// mounts until the view is dropped.
struct PrivateMounts {
    release: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _lock: RootfsLock,
}

impl PrivateMounts {
    fn mount(
        spec: &ContainerSpec,
        dir: &ContainerDir,
        lock: RootfsLock,
    ) -> Result<(OwnedFd, PrivateMounts), Error> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (spec, dir) = (spec.clone(), dir.clone());
        let thread = std::thread::Builder::new()
            .name("container-files".into())
            .spawn(move || {
                let _ = ready_tx.send(mount_here(&spec, &dir));
                // Blocks until the view is dropped; the namespace, and the
                // mounts in it, go with this thread.
                let _ = release_rx.recv();
            })
            .context(|| "start the thread that mounts the container's files".to_string())?;
        let mounted = PrivateMounts {
            release: Some(release_tx),
            thread: Some(thread),
            _lock: lock,
        };
        match ready_rx.recv() {
            Ok(Ok(root)) => Ok((root, mounted)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::Setup(
                "the thread mounting the container's files ended early".into(),
            )),
        }
    }
}

impl Drop for PrivateMounts {
    fn drop(&mut self) {
        self.release.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// On the calling thread: a private mount namespace with the container's
/// overlay and its volumes and binds, as its start would mount them (a
/// volume's mount point made, a new volume filled from the image), and
/// the root opened.
fn mount_here(spec: &ContainerSpec, dir: &ContainerDir) -> Result<OwnedFd, Error> {
    // CLONE_NEWNS implies CLONE_FS: this thread alone gets the namespace.
    nix::sched::unshare(CloneFlags::CLONE_NEWNS)
        .context(|| "a mount namespace for the container's files".to_string())?;
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .context(|| "make the copy's mounts private".to_string())?;
    crate::monitor::process::make_overlay_dirs(dir)?;
    let rootfs = dir.rootfs();
    let mut kernel = Linux::in_root(rootfs.clone());
    let mut ops = vec![crate::rootfs::overlay(spec, dir)];
    ops.extend(crate::rootfs::user_mounts(spec, &rootfs, &kernel, false));
    for op in &ops {
        kernel.run(op)?;
    }
    rustix::fs::open(
        Path::new(&rootfs),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::io(format!("open {}", rootfs.display()), e.into()))
}

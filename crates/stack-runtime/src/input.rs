//! A container's stdin when it is nobody's terminal: a FIFO in its
//! directory that attachers write to (the Docker API's attach with
//! `stdin=1`: `docker run -i`, `docker attach`, `docker compose run`).
//! The engine makes it when the container is created with an open stdin
//! for a daemon; the monitor gives its read end to the container (or, with
//! a tty, forwards it to the pty).
//!
//! Docker's `StdinOnce` is the FIFO's own rule: the container reads end of
//! file once every writer is gone. Without it the monitor keeps a write
//! end of its own, so stdin stays open between attaches.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::stat::Mode;

use crate::error::{Context, Error};
use crate::spec::ContainerDir;

/// The FIFO's name in the container's directory.
const STDIN_FIFO: &str = "stdin";

/// Where the container's stdin FIFO is.
pub fn fifo(dir: &ContainerDir) -> PathBuf {
    dir.path().join(STDIN_FIFO)
}

/// Makes the FIFO (owner only).
pub fn make(dir: &ContainerDir) -> Result<(), Error> {
    let path = fifo(dir);
    nix::unistd::mkfifo(&path, Mode::S_IRUSR | Mode::S_IWUSR)
        .context(|| format!("mkfifo {}", path.display()))
}

/// Whether the container was made with a stdin FIFO.
pub fn has_fifo(dir: &ContainerDir) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(fifo(dir)).is_ok_and(|m| m.file_type().is_fifo())
}

/// The read end, blocking (a process's stdin), or non-blocking (polled by
/// the monitor); `None` when the container has no FIFO.
pub fn open_read(dir: &ContainerDir, blocking: bool) -> Result<Option<OwnedFd>, Error> {
    if !has_fifo(dir) {
        return Ok(None);
    }
    let path = fifo(dir);
    // Opening a read end never waits with O_NONBLOCK, writer or not.
    let fd = nix::fcntl::open(
        &path,
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context(|| format!("open {}", path.display()))?;
    if blocking {
        fcntl(&fd, FcntlArg::F_SETFL(OFlag::empty()))
            .context(|| format!("make {} blocking", path.display()))?;
    }
    Ok(Some(fd))
}

/// A write end the monitor keeps so stdin stays open between attaches
/// (`StdinOnce` false). Read-write, which Linux opens without waiting for
/// a reader; nothing ever reads through it.
pub fn open_keeper(dir: &ContainerDir) -> Result<Option<OwnedFd>, Error> {
    if !has_fifo(dir) {
        return Ok(None);
    }
    let path = fifo(dir);
    nix::fcntl::open(&path, OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty())
        .map(Some)
        .context(|| format!("open {}", path.display()))
}

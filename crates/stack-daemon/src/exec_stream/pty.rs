//! A pty for an attached exec, allocated from the container's own devpts
//! (through `/proc/<pid>/root`), so inside the container `tty` names a
//! `/dev/pts/N` that exists there, as with `docker exec -t`. The daemon
//! keeps the master; the command gets the slave. (For `runc exec -t` the
//! pty is the host's: runc makes the container's own and relays.)

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use tokio::io::unix::AsyncFd;

/// A pty: the master (kept) and the slave (given to the command).
#[derive(Debug)]
pub struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
}

impl Pty {
    /// Opens a new pty in the devpts mounted at `<root>/dev/pts` and sizes it.
    pub fn open_in(root: &Path, rows: u16, cols: u16) -> io::Result<Pty> {
        let ptmx = root.join("dev/pts/ptmx");
        let master = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
            .open(&ptmx)
            .map_err(|e| io::Error::new(e.kind(), format!("open {}: {e}", ptmx.display())))?;
        let master = OwnedFd::from(master);
        let unlock: libc::c_int = 0;
        // SAFETY: TIOCSPTLCK reads one int from a valid pointer.
        check(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) })?;
        // TIOCGPTPEER opens the slave through the master, never by a path
        // the container could swap.
        // SAFETY: the ioctl returns a new descriptor or -1.
        let slave = unsafe {
            libc::ioctl(
                master.as_raw_fd(),
                libc::TIOCGPTPEER,
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            )
        };
        check(slave)?;
        // SAFETY: `slave` is a descriptor just returned to us.
        let slave = unsafe { OwnedFd::from_raw_fd(slave) };
        resize(master.as_raw_fd(), rows, cols)?;
        Ok(Pty { master, slave })
    }
}

use std::os::unix::fs::OpenOptionsExt;

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Sets the terminal size (the kernel sends SIGWINCH to the foreground
/// process group when it changes). Zero means "leave as is".
pub fn resize(master: RawFd, rows: u16, cols: u16) -> io::Result<()> {
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize from a valid pointer.
    check(unsafe { libc::ioctl(master, libc::TIOCSWINSZ, &size) })
}

/// The master end, non-blocking, driven by the async runtime.
#[derive(Debug)]
pub struct Master(AsyncFd<OwnedFd>);

impl Master {
    pub fn new(fd: OwnedFd) -> io::Result<Master> {
        // SAFETY: F_GETFL/F_SETFL on a descriptor we own.
        let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
        check(flags)?;
        check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
        // SAFETY: the descriptor is owned by the AsyncFd and closed only
        // when it is dropped, which deregisters it first.
        let registered = unsafe { AsyncFd::register(fd) }.map_err(|e| e.into_parts().1)?;
        Ok(Master(registered))
    }

    pub fn raw(&self) -> RawFd {
        self.0.get_ref().as_raw_fd()
    }

    /// Reads what the command printed; `Ok(0)` once every slave is closed
    /// (Linux answers EIO then).
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut guard = self.0.readable().await?;
            let result = guard.try_io(|fd| {
                // SAFETY: reading into a valid, writable buffer.
                let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match result {
                Ok(Ok(n)) => return Ok(n),
                Ok(Err(e)) if e.raw_os_error() == Some(libc::EIO) => return Ok(0),
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }

    /// Writes all of `data` as the command's input.
    pub async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let mut guard = self.0.writable().await?;
            let result = guard.try_io(|fd| {
                // SAFETY: writing from a valid buffer.
                let n = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match result {
                Ok(Ok(n)) => data = &data[n..],
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
        Ok(())
    }
}

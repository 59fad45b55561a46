//! The caller's terminal during an attached exec with `-t`: raw mode (the
//! container's pty does the line editing and echo), restored on every way
//! out, and its size for the resize frames.

use std::os::fd::BorrowedFd;

use nix::sys::termios::{self, SetArg, Termios};

/// Whether `fd` is a terminal.
pub fn is_terminal(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

/// `(rows, cols)` of the terminal on `fd`, when it is one with a size.
pub fn size(fd: i32) -> Option<(u16, u16)> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into a valid pointer.
    let rc = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) };
    (rc == 0 && ws.ws_row > 0 && ws.ws_col > 0).then_some((ws.ws_row, ws.ws_col))
}

/// Raw mode on stdin's terminal until dropped.
pub struct RawMode {
    /// Shared with the signal thread, which restores it before exiting.
    saved: std::sync::Mutex<Termios>,
}

fn stdin_fd() -> BorrowedFd<'static> {
    // SAFETY: stdin stays open for the life of the process.
    unsafe { BorrowedFd::borrow_raw(0) }
}

impl RawMode {
    pub fn enter() -> nix::Result<RawMode> {
        let saved = termios::tcgetattr(stdin_fd())?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(stdin_fd(), SetArg::TCSANOW, &raw)?;
        Ok(RawMode {
            saved: std::sync::Mutex::new(saved),
        })
    }

    /// Puts the terminal back as it was (also done on drop).
    pub fn restore(&self) {
        if let Ok(saved) = self.saved.lock() {
            let _ = termios::tcsetattr(stdin_fd(), SetArg::TCSANOW, &saved);
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        self.restore();
    }
}

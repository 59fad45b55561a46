//! The daemon's socket and pid file: one daemon per socket, a stale socket
//! of a dead daemon replaced, the socket made with its final mode and group
//! before anyone can connect.

use std::fs::File;

use nix::fcntl::{Flock, FlockArg};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{io, DaemonError};

/// Mode of the socket: owner and group read/write.
pub const SOCKET_MODE: u32 = 0o660;

/// Holds the pid file's lock while the daemon runs; removes the file on drop.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    _file: Flock<File>,
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Takes `<socket dir>/stack.pid`: an exclusive lock (released by the
/// kernel when this process dies, even by SIGKILL) and our pid.
pub fn take_pid_file(path: &Path, socket: &Path) -> Result<PidFile, DaemonError> {
    use std::io::Write;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io(format!("open {}", path.display())))?;
    let mut locked = Flock::lock(file, FlockArg::LockExclusiveNonblock)
        .map_err(|_| DaemonError::AlreadyRunning(socket.to_path_buf()))?;
    locked
        .set_len(0)
        .and_then(|()| writeln!(locked, "{}", std::process::id()))
        .map_err(io(format!("write {}", path.display())))?;
    Ok(PidFile {
        path: path.to_path_buf(),
        _file: locked,
    })
}

/// Binds the socket at `path`. Refuses when a daemon answers there; removes
/// a socket nobody answers on. The socket is bound under a temporary name,
/// given its mode and group, then renamed into place, so there is no moment
/// where it is reachable with looser permissions.
pub fn bind(
    path: &Path,
    group: Option<u32>,
) -> Result<std::os::unix::net::UnixListener, DaemonError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(format!("create {}", dir.display())))?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(DaemonError::AlreadyRunning(path.to_path_buf()));
        }
        tracing::info!(socket = %path.display(), "removing the stale socket of a daemon that is gone");
        std::fs::remove_file(path).map_err(io(format!("remove stale {}", path.display())))?;
    }
    let mut staging = path.as_os_str().to_owned();
    staging.push(format!(".{}.tmp", std::process::id()));
    let staging = PathBuf::from(staging);
    let _ = std::fs::remove_file(&staging);
    let listener = std::os::unix::net::UnixListener::bind(&staging)
        .map_err(io(format!("bind {}", staging.display())))?;
    let finish = || -> std::io::Result<()> {
        std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(SOCKET_MODE))?;
        std::os::unix::fs::chown(&staging, Some(0), group)?;
        std::fs::rename(&staging, path)
    };
    if let Err(err) = finish() {
        let _ = std::fs::remove_file(&staging);
        return Err(io(format!("set up {}", path.display()))(err));
    }
    listener
        .set_nonblocking(true)
        .map_err(io("make the socket non-blocking"))?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_with_mode_replaces_stale_and_refuses_a_live_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run/stack.sock");
        let first = bind(&path, None).expect("bind");
        let mode = std::fs::metadata(&path)
            .expect("socket")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, SOCKET_MODE);
        match bind(&path, None) {
            Err(DaemonError::AlreadyRunning(p)) => assert_eq!(p, path),
            other => panic!("expected AlreadyRunning, got {other:?}"),
        }
        drop(first);
        // The file is still there but nobody answers: replaced.
        assert!(path.exists());
        let _second = bind(&path, None).expect("stale socket replaced");
    }

    #[test]
    fn pid_file_is_exclusive() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pid = dir.path().join("stack.pid");
        let sock = dir.path().join("stack.sock");
        let held = take_pid_file(&pid, &sock).expect("first");
        let text = std::fs::read_to_string(&pid).expect("pid text");
        assert_eq!(text.trim(), std::process::id().to_string());
        // flock locks belong to the open file description: a second open
        // in the same process conflicts too.
        assert!(matches!(
            take_pid_file(&pid, &sock),
            Err(DaemonError::AlreadyRunning(_))
        ));
        drop(held);
        assert!(!pid.exists());
    }
}

//! Network namespace files: a namespace bind-mounted on a file lives as
//! long as the file is mounted, independent of any process, so a container
//! keeps its namespace (and addresses) across restarts. The engine owns
//! their lifetime (`<run>/netns/<id>`); these helpers make and remove them
//! without exec'ing `ip netns` (~2 ms less per container).

use std::os::fd::AsFd;
use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use crate::error::{NetError, Result};

/// Creates a fresh network namespace and binds it on `path` (created if
/// missing). The `unshare` happens on a dedicated short-lived thread, so
/// no other thread of the process changes namespace.
pub fn create(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(NetError::io(format!("create {}", dir.display())))?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(NetError::io(format!("create {}", path.display())))?;
    let target = path.to_path_buf();
    let made = std::thread::spawn(move || -> nix::Result<()> {
        unshare(CloneFlags::CLONE_NEWNET)?;
        mount(
            Some(Path::new("/proc/thread-self/ns/net")),
            &target,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
    })
    .join();
    match made {
        Ok(Ok(())) => Ok(()),
        Ok(Err(errno)) => {
            let _ = std::fs::remove_file(path);
            Err(NetError::io(format!("create netns {}", path.display()))(
                std::io::Error::from(errno),
            ))
        }
        Err(_) => Err(NetError::io(format!("create netns {}", path.display()))(
            std::io::Error::other("namespace thread panicked"),
        )),
    }
}

/// Unmounts and deletes a namespace file; a missing one is fine. The
/// kernel frees the namespace (and the veths in it) once nothing holds it.
pub fn remove(path: &Path) -> Result<()> {
    match umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(errno) => {
            return Err(NetError::io(format!("unmount netns {}", path.display()))(
                std::io::Error::from(errno),
            ))
        }
    }
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(NetError::io(format!(
            "remove netns file {}",
            path.display()
        ))(err)),
        _ => Ok(()),
    }
}

/// Runs `work` on a short-lived thread that has entered the network
/// namespace at `path`, and returns what it made. `setns` moves only the
/// calling thread, so no other thread of the process (no tokio worker)
/// ever changes namespace; a socket opened there (netlink, packet) stays
/// bound to that namespace after the thread ends, and may be used from
/// any thread. `what` names the work in errors.
pub fn within<T: Send>(
    path: &Path,
    what: &str,
    work: impl FnOnce() -> std::io::Result<T> + Send,
) -> Result<T> {
    let context = || format!("{what} in netns {}", path.display());
    let file = std::fs::File::open(path).map_err(NetError::io(context()))?;
    let done = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                setns(file.as_fd(), CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)?;
                work()
            })
            .join()
    });
    match done {
        Ok(result) => result.map_err(NetError::io(context())),
        Err(_) => Err(NetError::io(context())(std::io::Error::other(
            "namespace thread panicked",
        ))),
    }
}

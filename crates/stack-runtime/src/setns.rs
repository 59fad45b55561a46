//! Entering namespaces: the kernel calls behind the namespace [`Op`]s
//! that [`crate::namespaces`] plans and [`crate::kernel::Linux`] runs.
//!
//! [`Op`]: crate::kernel::Op

use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};

use nix::sched::CloneFlags;

use crate::error::{Context, Error};
use crate::spec::ContainerDir;

/// A kind of namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Namespace {
    Mount,
    Uts,
    Ipc,
    Net,
    Pid,
    Cgroup,
}

impl Namespace {
    fn flag(self) -> CloneFlags {
        match self {
            Namespace::Mount => CloneFlags::CLONE_NEWNS,
            Namespace::Uts => CloneFlags::CLONE_NEWUTS,
            Namespace::Ipc => CloneFlags::CLONE_NEWIPC,
            Namespace::Net => CloneFlags::CLONE_NEWNET,
            Namespace::Pid => CloneFlags::CLONE_NEWPID,
            Namespace::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        }
    }

    /// Its name under `/proc/<pid>/ns/`.
    pub fn proc_name(self) -> &'static str {
        match self {
            Namespace::Mount => "mnt",
            Namespace::Uts => "uts",
            Namespace::Ipc => "ipc",
            Namespace::Net => "net",
            Namespace::Pid => "pid",
            Namespace::Cgroup => "cgroup",
        }
    }

    /// What an error says it was doing with this namespace.
    fn describe(self) -> &'static str {
        match self {
            Namespace::Mount => "mount",
            Namespace::Uts => "UTS",
            Namespace::Ipc => "IPC",
            Namespace::Net => "network",
            Namespace::Pid => "PID",
            Namespace::Cgroup => "cgroup",
        }
    }
}

/// Fresh namespaces of these kinds for this process.
pub(crate) fn unshare(kinds: &[Namespace]) -> Result<(), Error> {
    let flags = kinds
        .iter()
        .fold(CloneFlags::empty(), |all, k| all | k.flag());
    let what: Vec<&str> = kinds.iter().map(|k| k.describe()).collect();
    nix::sched::unshare(flags).context(|| format!("create the {} namespaces", what.join(", ")))
}

/// Joins the namespace file at `path`.
pub(crate) fn join_file(kind: Namespace, path: &Path) -> Result<(), Error> {
    let file = std::fs::File::open(path)
        .context(|| format!("open {} namespace {}", kind.describe(), path.display()))?;
    nix::sched::setns(file, kind.flag())
        .context(|| format!("join {} namespace {}", kind.describe(), path.display()))
}

pub(crate) fn set_hostname(name: &str) -> Result<(), Error> {
    nix::unistd::sethostname(name).context(|| format!("set hostname {name:?}"))
}

/// Joins the namespace of the running container whose directory is `dir`.
pub(crate) fn join_container(kind: Namespace, dir: &Path) -> Result<(), Error> {
    let ns = namespace_of(dir, kind)?;
    nix::sched::setns(ns.as_fd(), kind.flag()).context(|| {
        format!(
            "join the {} namespace of {}",
            kind.describe(),
            dir.display()
        )
    })
}

/// The `kind` namespace of the running container whose directory is
/// `dir`, opened through its process; an error names the container when
/// it is not running, since joining needs a live member.
pub(crate) fn namespace_of(dir: &Path, kind: Namespace) -> Result<std::fs::File, Error> {
    let state = crate::state::State::load(&ContainerDir::new(dir))?;
    let pid = state
        .pid
        .filter(|_| state.container_alive())
        .ok_or_else(|| {
            Error::Setup(format!(
                "cannot share the {} namespace of the container in {}: it is not running",
                kind.proc_name(),
                dir.display()
            ))
        })?;
    let path = PathBuf::from(format!("/proc/{pid}/ns/{}", kind.proc_name()));
    std::fs::File::open(&path)
        .context(|| format!("open the {} namespace of process {pid}", kind.proc_name()))
}

/// Brings `lo` up in a new network namespace.
pub(crate) fn loopback_up() -> Result<(), Error> {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .context(|| "socket for loopback".to_string())?;
    // SAFETY: ifreq is plain data; the name is NUL-terminated.
    unsafe {
        let mut req: libc::ifreq = std::mem::zeroed();
        req.ifr_name[0] = b'l' as libc::c_char;
        req.ifr_name[1] = b'o' as libc::c_char;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) != 0 {
            return Err(Error::io("read lo flags", std::io::Error::last_os_error()));
        }
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) != 0 {
            return Err(Error::io("bring lo up", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

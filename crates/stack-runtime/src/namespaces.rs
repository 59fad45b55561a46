//! The namespaces the container's first process enters, as [`Op`]s: which
//! are fresh, which are joined (the engine's network namespace, another
//! container's IPC or PID namespace), and what is set up in them (loopback,
//! hostname). Planning is pure, so which namespace a spec gives is tested
//! without root; [`enter`] performs one step for [`crate::kernel::Linux`].

use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};

use nix::sched::CloneFlags;

use crate::error::{Context, Error};
use crate::kernel::Op;
use crate::spec::{ContainerDir, ContainerSpec, NetworkNamespace, SharedNamespace};

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

/// The steps into the container's namespaces, in order. The network comes
/// first, while the engine's namespace file is still reachable at its host
/// path (before the mount namespace is unshared); the first process is
/// single-threaded, so each `setns` moves all of it. The PID namespace is
/// the monitor's business: it is entered before the first process forks.
pub fn plan(spec: &ContainerSpec) -> Vec<Op> {
    let mut ops = Vec::new();
    match &spec.network {
        NetworkNamespace::Private => {
            ops.push(Op::Unshare {
                kinds: vec![Namespace::Net],
            });
            ops.push(Op::LoopbackUp);
        }
        NetworkNamespace::Join { path } => ops.push(Op::JoinNamespace {
            kind: Namespace::Net,
            path: path.clone(),
        }),
        NetworkNamespace::Host => {}
    }
    let mut fresh = vec![Namespace::Mount, Namespace::Uts, Namespace::Cgroup];
    match &spec.ipc {
        SharedNamespace::Private => fresh.push(Namespace::Ipc),
        SharedNamespace::Host => {}
        SharedNamespace::Container { dir } => ops.push(Op::JoinContainerNamespace {
            kind: Namespace::Ipc,
            dir: dir.clone(),
        }),
    }
    ops.push(Op::Unshare { kinds: fresh });
    ops.push(Op::SetHostname {
        name: spec.hostname.clone(),
    });
    ops
}

/// The step that puts the monitor's next child (the container's first
/// process) in its PID namespace: a fresh one, another container's, or
/// none for the host's (`pid: host`). Entered by the monitor before it
/// forks, since a process never changes its own PID namespace.
pub fn pid_plan(mode: &SharedNamespace) -> Option<Op> {
    match mode {
        SharedNamespace::Private => Some(Op::Unshare {
            kinds: vec![Namespace::Pid],
        }),
        SharedNamespace::Host => None,
        SharedNamespace::Container { dir } => Some(Op::JoinContainerNamespace {
            kind: Namespace::Pid,
            dir: dir.clone(),
        }),
    }
}

/// Performs a namespace step; `None` when `op` is not one.
pub(crate) fn enter(op: &Op) -> Option<Result<(), Error>> {
    Some(match op {
        Op::Unshare { kinds } => {
            let flags = kinds
                .iter()
                .fold(CloneFlags::empty(), |all, k| all | k.flag());
            let what: Vec<&str> = kinds.iter().map(|k| k.describe()).collect();
            nix::sched::unshare(flags)
                .context(|| format!("create the {} namespaces", what.join(", ")))
        }
        Op::JoinNamespace { kind, path } => std::fs::File::open(path)
            .context(|| format!("open {} namespace {}", kind.describe(), path.display()))
            .and_then(|file| {
                nix::sched::setns(file, kind.flag())
                    .context(|| format!("join {} namespace {}", kind.describe(), path.display()))
            }),
        Op::JoinContainerNamespace { kind, dir } => join_container(*kind, dir),
        Op::LoopbackUp => loopback_up(),
        Op::SetHostname { name } => {
            nix::unistd::sethostname(name).context(|| format!("set hostname {name:?}"))
        }
        _ => return None,
    })
}

fn join_container(kind: Namespace, dir: &Path) -> Result<(), Error> {
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
fn loopback_up() -> Result<(), Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_container_gets_fresh_namespaces_and_loopback() {
        let spec = ContainerSpec::fixture();
        assert_eq!(
            plan(&spec),
            vec![
                Op::Unshare {
                    kinds: vec![Namespace::Net]
                },
                Op::LoopbackUp,
                Op::Unshare {
                    kinds: vec![
                        Namespace::Mount,
                        Namespace::Uts,
                        Namespace::Cgroup,
                        Namespace::Ipc
                    ]
                },
                Op::SetHostname { name: "h".into() },
            ]
        );
    }

    #[test]
    fn joined_and_host_namespaces_are_not_unshared() {
        let mut spec = ContainerSpec::fixture();
        spec.network = NetworkNamespace::Join {
            path: "/run/stack/netns/c".into(),
        };
        spec.ipc = SharedNamespace::Container {
            dir: "/state/containers/db".into(),
        };
        let ops = plan(&spec);
        assert_eq!(
            ops[..2],
            [
                Op::JoinNamespace {
                    kind: Namespace::Net,
                    path: "/run/stack/netns/c".into()
                },
                Op::JoinContainerNamespace {
                    kind: Namespace::Ipc,
                    dir: "/state/containers/db".into()
                },
            ]
        );
        assert!(ops.contains(&Op::Unshare {
            kinds: vec![Namespace::Mount, Namespace::Uts, Namespace::Cgroup]
        }));
        spec.network = NetworkNamespace::Host;
        spec.ipc = SharedNamespace::Host;
        let ops = plan(&spec);
        assert!(!ops.iter().any(|op| matches!(
            op,
            Op::JoinNamespace { .. } | Op::JoinContainerNamespace { .. } | Op::LoopbackUp
        )));
    }
}

//! The namespaces the container's first process enters, as [`Op`]s: which
//! are fresh, which are joined (the engine's network namespace, another
//! container's IPC or PID namespace), and what is set up in them (loopback,
//! hostname). Planning is pure, so which namespace a spec gives is tested
//! without root; [`crate::kernel::Linux`] performs the steps.

use crate::kernel::Op;
pub use crate::setns::Namespace;
use crate::spec::{ContainerSpec, NetworkNamespace, SharedNamespace};

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

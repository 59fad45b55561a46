//! Kernel parameters a container may set for itself: only those that live
//! in one of its own namespaces, as Docker and runc allow. Anything else
//! (`vm.*`, `kernel.panic`, ...) would change the host for everyone.

use crate::error::Error;

/// IPC-namespace parameters (besides `fs.mqueue.*`).
const IPC: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// Checks that `key` is namespaced and that the container has that
/// namespace of its own (`host_network`: it shares the host's network
/// namespace; `host_ipc`: the host's IPC namespace). The error names the
/// key and why.
pub fn check(key: &str, host_network: bool, host_ipc: bool) -> Result<(), Error> {
    let refuse = |why: &str| Err(Error::invalid(format!("sysctl {key:?}"), why.to_string()));
    let well_formed = !key.is_empty()
        && key.split(['.', '/']).all(|part| {
            !part.is_empty()
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-+".contains(c))
        });
    if !well_formed {
        return refuse("not a kernel parameter name");
    }
    if IPC.contains(&key) || key.starts_with("fs.mqueue.") {
        if host_ipc {
            return refuse("it is in the IPC namespace, which this container shares with the host");
        }
        return Ok(());
    }
    if key.starts_with("net.") {
        if host_network {
            return refuse(
                "it is in the network namespace, which this container shares with the host",
            );
        }
        return Ok(());
    }
    if key == "kernel.domainname" {
        return Ok(());
    }
    refuse("it is not namespaced: setting it would change the host (allowed: net.*, fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm*, kernel.domainname)")
}

/// Where the parameter is written inside the container: `/proc/sys/` and
/// the key with dots as slashes (a slash in a key stands for a dot in an
/// interface name, as sysctl(8) has it).
pub fn proc_path(key: &str) -> String {
    let path: String = key
        .chars()
        .map(|c| match c {
            '.' => '/',
            '/' => '.',
            other => other,
        })
        .collect();
    format!("/proc/sys/{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_namespaced_keys_of_unshared_namespaces() {
        for ok in [
            "net.ipv4.ip_forward",
            "kernel.shmmax",
            "fs.mqueue.msg_max",
            "kernel.domainname",
            "net.ipv4.conf.eth0/1.forwarding",
        ] {
            check(ok, false, false).expect(ok);
        }
        for bad in [
            "vm.overcommit_memory",
            "kernel.panic",
            "kernel.hostname",
            "net..x",
            "net.ipv4/../x",
            "",
            "fs.file-max",
        ] {
            let err = check(bad, false, false).expect_err(bad);
            assert!(err.to_string().contains("sysctl"), "{err}");
        }
        assert!(check("net.core.somaxconn", true, false).is_err());
        assert!(check("kernel.sem", false, true).is_err());
    }

    #[test]
    fn keys_map_to_proc_sys() {
        assert_eq!(
            proc_path("net.core.somaxconn"),
            "/proc/sys/net/core/somaxconn"
        );
        assert_eq!(
            proc_path("net.ipv4.conf.eth0/1.forwarding"),
            "/proc/sys/net/ipv4/conf/eth0.1/forwarding"
        );
    }
}

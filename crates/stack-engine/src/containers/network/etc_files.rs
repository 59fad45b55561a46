//! The container's `/etc/hosts`, `/etc/resolv.conf` and `/etc/hostname`,
//! written into its directory before a start; the runtime bind-mounts them
//! over the image's (and leaves them alone for a joined namespace).

use std::net::IpAddr;

use stack_net::ContainerNetworking;

use super::NetworkRequest;
use crate::containers::{ContainerError, ContainerRecord};

fn write(record: &ContainerRecord, name: &str, text: &str) -> Result<(), ContainerError> {
    let path = record.dir.etc_file(name);
    std::fs::write(&path, text).map_err(|source| ContainerError::Io {
        context: format!("write {}", path.display()),
        source,
    })
}

fn hostname(record: &ContainerRecord) -> Result<(), ContainerError> {
    write(record, "hostname", &format!("{}\n", record.spec.hostname))
}

fn extra_lines(request: &NetworkRequest) -> String {
    request
        .extra_hosts
        .iter()
        .map(|(name, ip)| format!("{ip}\t{name}\n"))
        .collect()
}

fn nameservers(servers: &[IpAddr]) -> String {
    stack_net::dns::resolv_conf(servers, &[], &[])
}

/// On the stack networks: its own names at its addresses, the resolver at
/// the gateway of its first network (or `--dns` servers).
pub fn write_attached(
    record: &ContainerRecord,
    request: &NetworkRequest,
    networking: &ContainerNetworking,
) -> Result<(), ContainerError> {
    let own: Vec<_> = networking
        .endpoints
        .iter()
        .map(|e| {
            let mut names = vec![record.spec.hostname.clone()];
            names.extend(
                e.names
                    .iter()
                    .filter(|n| **n != record.spec.hostname)
                    .cloned(),
            );
            (e.address, names)
        })
        .collect();
    write(
        record,
        "hosts",
        &stack_net::dns::hosts_file(&own, &request.extra_hosts),
    )?;
    let servers: Vec<IpAddr> = if request.dns.is_empty() {
        networking
            .endpoints
            .first()
            .map(|e| vec![IpAddr::V4(e.gateway)])
            .unwrap_or_default()
    } else {
        request.dns.clone()
    };
    write(record, "resolv.conf", &nameservers(&servers))?;
    hostname(record)
}

/// In the host's namespace: the host's files, plus `--add-host` lines.
pub fn write_host(
    record: &ContainerRecord,
    request: &NetworkRequest,
) -> Result<(), ContainerError> {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    write(record, "hosts", &(hosts + &extra_lines(request)))?;
    let resolv = if request.dns.is_empty() {
        std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default()
    } else {
        nameservers(&request.dns)
    };
    write(record, "resolv.conf", &resolv)?;
    hostname(record)
}

/// In another container's namespace: that container's files.
pub fn copy_from(record: &ContainerRecord, other: &ContainerRecord) -> Result<(), ContainerError> {
    for name in ["hosts", "resolv.conf"] {
        let text = std::fs::read_to_string(other.dir.etc_file(name)).unwrap_or_default();
        write(record, name, &text)?;
    }
    hostname(record)
}

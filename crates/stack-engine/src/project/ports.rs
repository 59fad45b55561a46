//! `port`: where a container port is published on the host, read from the
//! container's network record (what the network layer made when it
//! connected the container, with ephemeral host ports already chosen).

use std::net::Ipv4Addr;
use std::path::Path;

use stack_net::model::{ContainerNetworking, PortMapping};

use super::ProjectError;

/// One published container port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
}

impl std::fmt::Display for Published {
    /// `HOST_IP:HOST_PORT`, `0.0.0.0` for every address, as Docker prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}",
            self.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED),
            self.host_port
        )
    }
}

/// The container's published ports, one per port of each range; none when
/// it has no network record (not connected, or `network_mode: none`).
/// The record is the network store's `networks/containers/<id>.json`, read
/// directly so asking for a port creates nothing.
pub fn published(state_root: &Path, container_id: &str) -> Result<Vec<Published>, ProjectError> {
    let path = state_root
        .join("networks")
        .join("containers")
        .join(format!("{container_id}.json"));
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(ProjectError::Invalid(format!(
                "read {}: {e}",
                path.display()
            )))
        }
    };
    let record: ContainerNetworking = serde_json::from_slice(&bytes)
        .map_err(|e| ProjectError::Invalid(format!("{}: {e}", path.display())))?;
    Ok(expand(&record.ports))
}

/// Every (host port, container port) pair of the mappings.
pub fn expand(mappings: &[PortMapping]) -> Vec<Published> {
    mappings
        .iter()
        .flat_map(|m| {
            m.pairs().map(move |(host_port, container_port)| Published {
                host_ip: m.host_ip,
                host_port,
                container_port,
                protocol: m.protocol.as_str().to_string(),
            })
        })
        .collect()
}

/// The binding of `private_port`/`protocol`, the first when it is
/// published more than once.
pub fn find<'a>(
    published: &'a [Published],
    private_port: u16,
    protocol: &str,
) -> Option<&'a Published> {
    published
        .iter()
        .find(|p| p.container_port == private_port && p.protocol.eq_ignore_ascii_case(protocol))
}

#[cfg(test)]
mod tests {
    use super::*;
    use stack_net::model::{PortRange, Protocol};

    #[test]
    fn expands_ranges_and_finds_by_port_and_protocol() {
        let mappings = [
            PortMapping::tcp(8080, 80),
            PortMapping {
                host_ip: Some(Ipv4Addr::LOCALHOST),
                host_ports: PortRange {
                    start: 9000,
                    end: 9001,
                },
                container_ports: PortRange { start: 53, end: 54 },
                protocol: Protocol::Udp,
            },
        ];
        let all = expand(&mappings);
        assert_eq!(all.len(), 3);
        assert_eq!(
            find(&all, 80, "tcp").map(ToString::to_string).as_deref(),
            Some("0.0.0.0:8080")
        );
        assert_eq!(
            find(&all, 54, "udp").map(ToString::to_string).as_deref(),
            Some("127.0.0.1:9001")
        );
        assert_eq!(find(&all, 54, "tcp"), None);
        assert_eq!(find(&all, 81, "tcp"), None);
    }

    #[test]
    fn a_container_without_a_network_record_has_no_ports() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(published(dir.path(), "abc").expect("no record").is_empty());
    }
}

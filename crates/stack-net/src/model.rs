//! The typed inputs the engine hands to this crate, and the records it keeps.
//!
//! Addresses are IPv4 today. Each record is a serde struct with named
//! fields, so IPv6 subnets and addresses can be added as new optional fields
//! without changing the meaning of any existing state file.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::error::NetError;
use crate::ranges;

/// Why an address pool of the config file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error("address pool base {base:?} is not an IPv4 CIDR")]
    NotCidr { base: String },
    #[error("address pool {base}: {source}")]
    Range {
        base: Ipv4Net,
        #[source]
        source: ranges::RangeError,
    },
    #[error("address pool {base}: size /{size} must lie between /{} and /30", base.prefix_len())]
    Size { base: Ipv4Net, size: u8 },
}

/// Why a port mapping was refused; each names the mapping as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("port mapping {mapping}: empty range or port 0")]
    Empty { mapping: String },
    #[error("port mapping {mapping}: host range has {host} ports, container range {container}")]
    Lengths {
        mapping: String,
        host: u32,
        container: u32,
    },
}

/// A pool that network subnets are carved from, e.g. `10.89.0.0/16` in /24s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressPool {
    pub base: Ipv4Net,
    /// Prefix length of each subnet taken from the pool.
    pub size: u8,
}

impl AddressPool {
    /// Parses the shape of the config file (`base = "10.89.0.0/16"`, `size = 24`).
    pub fn parse(base: &str, size: u8) -> Result<AddressPool, PoolError> {
        let base: Ipv4Net = base.parse().map_err(|_| PoolError::NotCidr {
            base: base.to_string(),
        })?;
        ranges::check_subnet(&base).map_err(|source| PoolError::Range { base, source })?;
        if size < base.prefix_len() || size > ranges::MAX_PREFIX {
            return Err(PoolError::Size { base, size });
        }
        Ok(AddressPool {
            base: base.trunc(),
            size,
        })
    }

    /// The pool every installation starts with.
    pub fn default_pools() -> Vec<AddressPool> {
        vec![AddressPool {
            base: Ipv4Net::new(Ipv4Addr::new(10, 89, 0, 0), 16).unwrap_or_default(),
            size: 24,
        }]
    }
}

/// What the engine asks for when a network is declared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkSpec {
    /// Full name, e.g. `<project>_<name>`.
    pub name: String,
    /// `ipam.config[].subnet`; allocated from the pools when absent.
    pub subnet: Option<Ipv4Net>,
    /// `ipam.config[].gateway`; the first host address when absent.
    pub gateway: Option<Ipv4Addr>,
    /// `internal: true`: no route out, no masquerade, no published ports.
    pub internal: bool,
    /// `external: true` in a stack file: attach to a network that already
    /// exists (made by `stack network create`); never create one.
    pub external: bool,
    /// Made on its own (`stack network create`) rather than by a project:
    /// its bridge stays when its last endpoint goes.
    pub standalone: bool,
}

impl NetworkSpec {
    /// The rules of [`crate::ranges`] for a subnet and gateway the user gave,
    /// as an error naming the network. Every way of making a network passes
    /// here ([`crate::NetworkManager::create_network`] calls it), and front
    /// ends call it first to answer with a clear refusal.
    pub fn validate(&self) -> Result<(), NetError> {
        let checked = match &self.subnet {
            Some(subnet) => ranges::check_network(subnet, self.gateway, None),
            None => Ok(()),
        };
        checked.map_err(|e| NetError::Invalid {
            network: self.name.clone(),
            reason: e.to_string(),
        })
    }
}

/// A network as made and persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub name: String,
    /// Host bridge, `stk-…`.
    pub bridge: String,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub internal: bool,
    /// Made by `stack network create`: projects use it as `external`, and
    /// its bridge is kept when its last endpoint goes.
    pub external: bool,
}

/// Transport protocol of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// An inclusive port range; a single port has `start == end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl PortRange {
    pub fn single(port: u16) -> PortRange {
        PortRange {
            start: port,
            end: port,
        }
    }

    pub fn len(self) -> u32 {
        u32::from(self.end.saturating_sub(self.start)) + 1
    }

    pub fn is_empty(self) -> bool {
        self.end < self.start
    }
}

/// One published port or range (`[IP:]HOST:CONTAINER[/PROTO]`, or the long
/// syntax), as the engine parsed it from the stack file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMapping {
    /// Host address to listen on; every local address when `None`.
    pub host_ip: Option<Ipv4Addr>,
    pub host_ports: PortRange,
    pub container_ports: PortRange,
    pub protocol: Protocol,
}

impl PortMapping {
    pub fn tcp(host_port: u16, container_port: u16) -> PortMapping {
        PortMapping {
            host_ip: None,
            host_ports: PortRange::single(host_port),
            container_ports: PortRange::single(container_port),
            protocol: Protocol::Tcp,
        }
    }

    /// Checks the mapping; ranges must have equal lengths (one host port
    /// per container port, as Compose requires).
    pub fn validate(&self) -> Result<(), MappingError> {
        let (h, c) = (self.host_ports, self.container_ports);
        if h.is_empty() || c.is_empty() || h.start == 0 || c.start == 0 {
            return Err(MappingError::Empty {
                mapping: self.to_string(),
            });
        }
        if h.len() != c.len() {
            return Err(MappingError::Lengths {
                mapping: self.to_string(),
                host: h.len(),
                container: c.len(),
            });
        }
        Ok(())
    }

    /// Each (host port, container port) pair of the mapping.
    pub fn pairs(&self) -> impl Iterator<Item = (u16, u16)> {
        let offset = self.container_ports.start;
        (self.host_ports.start..=self.host_ports.end).zip(offset..=self.container_ports.end)
    }
}

impl std::fmt::Display for PortMapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(ip) = self.host_ip {
            write!(f, "{ip}:")?;
        }
        let range = |r: PortRange| {
            if r.start == r.end {
                r.start.to_string()
            } else {
                format!("{}-{}", r.start, r.end)
            }
        };
        write!(
            f,
            "{}:{}/{}",
            range(self.host_ports),
            range(self.container_ports),
            self.protocol.as_str()
        )
    }
}

/// One network a container joins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attachment {
    pub network: String,
    /// `ipv4_address` from the stack file.
    pub ipv4_address: Option<Ipv4Addr>,
    /// Names the container answers to on this network: service name,
    /// container name, aliases.
    pub names: Vec<String>,
}

/// Everything needed to connect one container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachRequest {
    pub container_id: String,
    /// The container's network namespace file (e.g. `<run>/netns/<id>`),
    /// which outlives the container's processes and is reused on restart.
    pub netns: PathBuf,
    pub attachments: Vec<Attachment>,
    /// Published ports, forwarded to the address on the first network.
    pub ports: Vec<PortMapping>,
}

/// One interface of a container on one network, as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub network: String,
    pub address: Ipv4Addr,
    pub prefix_len: u8,
    pub gateway: Ipv4Addr,
    /// Host side of the veth pair, `stkv…`.
    pub host_veth: String,
    /// Name inside the container: `eth0`, `eth1`, …
    pub container_ifname: String,
    pub names: Vec<String>,
}

/// A connected container, as persisted under `<state>/networks/endpoints/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerNetworking {
    pub container_id: String,
    pub netns: PathBuf,
    pub endpoints: Vec<Endpoint>,
    pub ports: Vec<PortMapping>,
}

impl ContainerNetworking {
    /// Where published ports are forwarded to.
    pub fn port_target(&self) -> Option<&Endpoint> {
        self.endpoints.first()
    }
}

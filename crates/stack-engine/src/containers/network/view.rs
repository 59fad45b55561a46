//! A container's networking as `container inspect` and `container ls` show
//! it: its mode, one entry per interface, and its published ports.

use std::collections::BTreeMap;

use serde::Serialize;
use stack_net::{ContainerNetworking, PortMapping};

use super::{NetworkRequest, RequestedMode};
use crate::containers::ContainerRecord;

/// `NetworkSettings` of `container inspect`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkView {
    /// `bridge` networks by name, `none`, `host` or `container:X`.
    pub network_mode: String,
    /// Keyed by network name, as Docker's `NetworkSettings.Networks`, so
    /// `{{.NetworkSettings.Networks.demo_default.IPAddress}}` habits work.
    pub networks: BTreeMap<String, InterfaceView>,
    pub ports: Vec<PortMapping>,
}

/// The container's endpoint on one network, in Docker's field names.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InterfaceView {
    /// The network's id (as `network inspect` shows it).
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    /// The interface inside the container (`eth0`); stack's own field.
    pub interface: String,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    pub gateway: String,
    /// Read from the kernel while the container's namespace exists; empty
    /// otherwise, as Docker leaves it.
    pub mac_address: String,
    pub aliases: Vec<String>,
}

/// What is known of a container's networking (records only, plus the MAC
/// address from sysfs of its namespace when it still exists).
pub fn describe(state_root: &std::path::Path, record: &ContainerRecord) -> NetworkView {
    let request = NetworkRequest::load(record.dir.path()).ok().flatten();
    let network_mode = match request.as_ref().map(|r| &r.mode) {
        None | Some(RequestedMode::None) => "none".to_string(),
        Some(RequestedMode::Host) => "host".into(),
        Some(RequestedMode::Container(x)) => format!("container:{x}"),
        Some(RequestedMode::Networks(joins)) => joins
            .iter()
            .map(|j| j.network.clone())
            .collect::<Vec<_>>()
            .join(","),
    };
    let attached = attachments(state_root);
    let networks = interfaces(request.as_ref(), attached_to(&attached, record), true);
    NetworkView {
        network_mode,
        networks,
        ports: request.map(|r| r.ports).unwrap_or_default(),
    }
}

/// Every container's attachment, read once for a listing.
pub fn attachments(state_root: &std::path::Path) -> Vec<ContainerNetworking> {
    stack_net::store::Store::open(state_root)
        .and_then(|s| s.containers())
        .unwrap_or_default()
}

/// The attachment of `record` among `all`.
pub fn attached_to<'a>(
    all: &'a [ContainerNetworking],
    record: &ContainerRecord,
) -> Option<&'a ContainerNetworking> {
    all.iter().find(|c| c.container_id == record.spec.id)
}

/// One entry per network the container joins: those its request names
/// (known before its first start and after it stops, as Docker shows a
/// created container's networks, without an address), filled from its
/// attachment while it has one. `with_mac` reads each MAC address from
/// the kernel (one thread entering the namespace per interface).
pub fn interfaces(
    request: Option<&NetworkRequest>,
    attached: Option<&ContainerNetworking>,
    with_mac: bool,
) -> BTreeMap<String, InterfaceView> {
    let mut out = BTreeMap::new();
    if let Some(RequestedMode::Networks(joins)) = request.map(|r| &r.mode) {
        for j in joins {
            out.insert(
                j.network.clone(),
                InterfaceView {
                    network_id: super::admin::network_id(&j.network),
                    interface: String::new(),
                    ip_address: String::new(),
                    ip_prefix_len: 0,
                    gateway: String::new(),
                    mac_address: String::new(),
                    aliases: j.aliases.clone(),
                },
            );
        }
    }
    for e in attached.map(|a| a.endpoints.as_slice()).unwrap_or_default() {
        let mac = attached
            .filter(|_| with_mac)
            .and_then(|a| mac_of(&a.netns, &e.container_ifname));
        out.insert(
            e.network.clone(),
            InterfaceView {
                network_id: super::admin::network_id(&e.network),
                interface: e.container_ifname.clone(),
                ip_address: e.address.to_string(),
                ip_prefix_len: e.prefix_len,
                gateway: e.gateway.to_string(),
                mac_address: mac.unwrap_or_default(),
                aliases: e.names.clone(),
            },
        );
    }
    out
}

/// A container's published ports, from its saved request only (cheap
/// enough for `container ls`).
pub fn published_ports(record: &ContainerRecord) -> Vec<PortMapping> {
    NetworkRequest::load(record.dir.path())
        .ok()
        .flatten()
        .map(|r| r.ports)
        .unwrap_or_default()
}

/// `0.0.0.0:8080->80/tcp, ...` as `docker ps` prints ports.
pub fn ports_text(ports: &[PortMapping]) -> String {
    ports
        .iter()
        .map(|p| {
            let range = |r: stack_net::PortRange| {
                if r.start == r.end {
                    r.start.to_string()
                } else {
                    format!("{}-{}", r.start, r.end)
                }
            };
            let ip = p
                .host_ip
                .map_or_else(|| "0.0.0.0".to_string(), |ip| ip.to_string());
            format!(
                "{ip}:{}->{}/{}",
                range(p.host_ports),
                range(p.container_ports),
                p.protocol.as_str()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The MAC of an interface inside a namespace file, read with an ioctl on
/// a short-lived thread that enters the namespace (a network namespace may
/// be entered by one thread of a threaded process).
fn mac_of(netns: &std::path::Path, ifname: &str) -> Option<String> {
    stack_net::netns::within(netns, "read a MAC address", || Ok(hardware_address(ifname)))
        .ok()
        .flatten()
}

fn hardware_address(ifname: &str) -> Option<String> {
    use std::os::fd::AsRawFd;
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    let bytes = ifname.as_bytes();
    if bytes.len() >= libc::IFNAMSIZ {
        return None;
    }
    // SAFETY: ifreq is plain data; the name is NUL-terminated; the ioctl
    // only writes into the struct.
    unsafe {
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in bytes.iter().enumerate() {
            req.ifr_name[i] = *b as libc::c_char;
        }
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFHWADDR, &mut req) != 0 {
            return None;
        }
        let data = req.ifr_ifru.ifru_hwaddr.sa_data;
        Some(
            data[..6]
                .iter()
                .map(|b| format!("{:02x}", *b as u8))
                .collect::<Vec<_>>()
                .join(":"),
        )
    }
}

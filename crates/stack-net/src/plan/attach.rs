//! Planning an attachment: which address, MAC and interface names a
//! container gets on each of its networks, which route and which names.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use crate::dns::DnsEntry;
use crate::error::{NetError, Result};
use crate::garp;
use crate::ipam;
use crate::model::{AttachRequest, ContainerNetworking, Endpoint, Network};
use crate::plan::network::BridgePlan;

/// One network of an attachment, as it will be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfacePlan {
    /// The network's bridge, made on demand (it goes when idle).
    pub bridge: BridgePlan,
    /// The interface as it will be recorded (address, veth names, names).
    pub endpoint: Endpoint,
    /// The container end's MAC, derived from the address so a recreated
    /// container keeps the MAC its peers have cached.
    pub mac: [u8; 6],
}

/// Everything [`crate::NetworkManager::attach`] will do for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachPlan {
    /// The container's namespace file.
    pub netns: PathBuf,
    /// One entry per requested network, in request order (`eth0`, `eth1`, …).
    pub interfaces: Vec<InterfacePlan>,
    /// Gateway of the first network that is not internal: internal networks
    /// have no way out, so they must not take the default route.
    pub default_gateway: Option<Ipv4Addr>,
    /// Host veths of an earlier attachment of the same container (its
    /// namespace was recreated); deleted before the new ones are made.
    pub stale_veths: Vec<String>,
    /// Whether the firewall must be re-applied: the container publishes
    /// ports now, or published some before.
    pub firewall_changes: bool,
    /// The record stored once the interfaces are up.
    pub record: ContainerNetworking,
}

impl AttachPlan {
    /// Host veths to delete when the attachment fails half-way: every veth
    /// of the plan (deleting one that was never made is harmless), which
    /// also takes the container ends along.
    pub fn rollback_veths(&self) -> Vec<String> {
        self.interfaces
            .iter()
            .map(|i| i.endpoint.host_veth.clone())
            .collect()
    }
}

/// Refuses published ports that cannot be forwarded, before anything is
/// read or made.
pub fn check_ports(request: &AttachRequest) -> Result<()> {
    for mapping in &request.ports {
        mapping.validate().map_err(|reason| NetError::Invalid {
            network: request.container_id.clone(),
            reason: reason.to_string(),
        })?;
    }
    Ok(())
}

/// Plans an attachment from the current records.
///
/// `containers` holds every stored record, the requesting container's own
/// included: a re-attachment (after a restart) keeps the addresses it had,
/// unless the request asks for others. `host_veth_name` names a host veth
/// for (container, network); the real one is fresh on every call because a
/// veth of a deleted namespace lingers for a while.
pub fn plan_attach(
    request: &AttachRequest,
    networks: &[Network],
    containers: &[ContainerNetworking],
    mut host_veth_name: impl FnMut(&str, &str) -> String,
) -> Result<AttachPlan> {
    check_ports(request)?;
    let previous = containers
        .iter()
        .find(|c| c.container_id == request.container_id);
    let others: Vec<&ContainerNetworking> = containers
        .iter()
        .filter(|c| c.container_id != request.container_id)
        .collect();
    let mut interfaces = Vec::new();
    let mut default_gateway = None;
    for (i, attachment) in request.attachments.iter().enumerate() {
        let network = networks
            .iter()
            .find(|n| n.name == attachment.network)
            .ok_or_else(|| NetError::NoSuchNetwork(attachment.network.clone()))?;
        let used: BTreeSet<Ipv4Addr> = others
            .iter()
            .flat_map(|c| c.endpoints.iter())
            .filter(|e| e.network == network.name)
            .map(|e| e.address)
            .collect();
        let kept = previous
            .and_then(|p| p.endpoints.iter().find(|e| e.network == network.name))
            .map(|e| e.address);
        let wanted = attachment.ipv4_address.or(kept);
        let address = ipam::allocate_address(&network.subnet, network.gateway, &used, wanted)
            .map_err(|err| NetError::AddressUnavailable {
                network: network.name.clone(),
                address: wanted.map_or_else(|| "an address".to_string(), |a| a.to_string()),
                reason: err.describe(&network.subnet),
            })?;
        if default_gateway.is_none() && !network.internal {
            default_gateway = Some(network.gateway);
        }
        interfaces.push(InterfacePlan {
            bridge: BridgePlan::of(network),
            mac: garp::container_mac(address),
            endpoint: Endpoint {
                network: network.name.clone(),
                address,
                prefix_len: network.subnet.prefix_len(),
                gateway: network.gateway,
                host_veth: host_veth_name(&request.container_id, &network.name),
                container_ifname: format!("eth{i}"),
                names: attachment.names.clone(),
            },
        });
    }
    let record = ContainerNetworking {
        container_id: request.container_id.clone(),
        netns: request.netns.clone(),
        endpoints: interfaces.iter().map(|i| i.endpoint.clone()).collect(),
        ports: request.ports.clone(),
    };
    Ok(AttachPlan {
        netns: request.netns.clone(),
        default_gateway,
        stale_veths: previous
            .map(|p| p.endpoints.iter().map(|e| e.host_veth.clone()).collect())
            .unwrap_or_default(),
        firewall_changes: !record.ports.is_empty() || previous.is_some_and(|p| !p.ports.is_empty()),
        interfaces,
        record,
    })
}

/// The names a container answers to, per network, for the DNS registry.
pub fn dns_entries(record: &ContainerNetworking) -> Vec<DnsEntry> {
    record
        .endpoints
        .iter()
        .map(|e| DnsEntry {
            network: e.network.clone(),
            address: e.address,
            names: e.names.clone(),
        })
        .collect()
}

#[cfg(test)]
#[path = "attach_tests.rs"]
mod tests;

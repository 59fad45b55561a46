//! Planning a new network: whether one must be made at all, its subnet,
//! gateway and bridge, and the refusals (overlap, bad gateway, other
//! settings under the same name).

use ipnet::Ipv4Net;

use crate::error::{NetError, Result};
use crate::ipam;
use crate::model::{AddressPool, Network, NetworkSpec};
use crate::names;

/// A network's bridge as the kernel must hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgePlan {
    /// `stk-…`, stable for the network's name so it is found again.
    pub name: String,
    /// Pinned (see [`names::bridge_mac`]) so the bridge does not take the
    /// MAC of its lowest port, which changes as ports come and go.
    pub mac: [u8; 6],
    /// The gateway address the bridge carries, with the subnet's prefix.
    pub gateway: std::net::Ipv4Addr,
    pub prefix_len: u8,
}

impl BridgePlan {
    /// The bridge of `network`.
    pub fn of(network: &Network) -> BridgePlan {
        BridgePlan {
            name: network.bridge.clone(),
            mac: names::bridge_mac(&network.bridge),
            gateway: network.gateway,
            prefix_len: network.subnet.prefix_len(),
        }
    }
}

/// What [`crate::NetworkManager::create_network`] does for a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkPlan {
    /// A network of that name exists with the same settings: return it
    /// (creating is idempotent).
    Reuse(Network),
    /// Nothing exists yet: a new network must be planned with
    /// [`plan_new_network`]; `needs_host_routes` says whether the host's
    /// routes must be read first (only to choose a subnet from the pools).
    Create { needs_host_routes: bool },
}

/// Decides whether `spec` names a network to reuse or one to make, and
/// refuses what can never be made: the same name with other settings, an
/// `external` network that does not exist, an invalid subnet or gateway.
pub fn plan_network(spec: &NetworkSpec, existing: &[Network]) -> Result<NetworkPlan> {
    if let Some(found) = existing.iter().find(|n| n.name == spec.name) {
        return check_same(found, spec).map(|()| NetworkPlan::Reuse(found.clone()));
    }
    if spec.external {
        return Err(NetError::NoSuchNetwork(spec.name.clone()));
    }
    spec.validate()?;
    Ok(NetworkPlan::Create {
        needs_host_routes: spec.subnet.is_none(),
    })
}

/// The network to make for `spec`: its subnet (the given one unless it
/// overlaps another network, else the first free one of `pools` that
/// overlaps neither a network nor a route in `host_routes`), its gateway
/// (the given one if it is a host address of the subnet, else the first
/// host address) and its bridge name.
pub fn plan_new_network(
    spec: &NetworkSpec,
    existing: &[Network],
    pools: &[AddressPool],
    host_routes: &[Ipv4Net],
) -> Result<Network> {
    let invalid = |reason: String| NetError::Invalid {
        network: spec.name.clone(),
        reason,
    };
    let subnet = match spec.subnet {
        Some(subnet) => {
            if let Some(other) = existing.iter().find(|n| ipam::overlaps(&n.subnet, &subnet)) {
                return Err(invalid(format!(
                    "subnet {subnet} overlaps network {:?} ({})",
                    other.name, other.subnet
                )));
            }
            subnet.trunc()
        }
        None => {
            let mut taken: Vec<Ipv4Net> = existing.iter().map(|n| n.subnet).collect();
            taken.extend_from_slice(host_routes);
            ipam::allocate_subnet(pools, &taken).ok_or_else(|| NetError::PoolsExhausted {
                network: spec.name.clone(),
                pools: format!("{:?}", pools.iter().map(|p| p.base).collect::<Vec<_>>()),
            })?
        }
    };
    let gateway = match spec.gateway {
        Some(gw) => {
            if !subnet.contains(&gw) || gw == subnet.network() || gw == subnet.broadcast() {
                return Err(invalid(format!(
                    "gateway {gw} is not a host address of {subnet}"
                )));
            }
            gw
        }
        None => ipam::default_gateway(&subnet)
            .ok_or_else(|| invalid(format!("subnet {subnet} has no host addresses")))?,
    };
    Ok(Network {
        name: spec.name.clone(),
        bridge: names::bridge_name(&spec.name),
        subnet,
        gateway,
        internal: spec.internal,
        external: spec.standalone,
    })
}

/// An existing network answers a spec only with the same settings; what
/// the spec leaves open (no subnet, no gateway) matches anything, and an
/// `external` spec takes the network as it is.
fn check_same(found: &Network, spec: &NetworkSpec) -> Result<()> {
    let differs = spec.subnet.is_some_and(|s| s.trunc() != found.subnet)
        || spec.gateway.is_some_and(|g| g != found.gateway)
        || (!spec.external && spec.internal != found.internal);
    if differs {
        return Err(NetError::NetworkExists(format!(
            "{} (with other settings: subnet {}, gateway {}, internal {})",
            found.name, found.subnet, found.gateway, found.internal
        )));
    }
    Ok(())
}

#[cfg(test)]
#[path = "network_tests.rs"]
mod tests;

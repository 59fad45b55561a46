//! Planning the removal of a network and the detachment of a container:
//! what is refused, which veths go and which bridges become idle.

use crate::error::{NetError, Result};
use crate::model::{ContainerNetworking, Network};

/// Finds the network to remove, or `None` when it is already gone
/// (removing is idempotent). Refused while containers are attached to it:
/// its bridge would go from under them.
pub fn plan_remove_network(
    name: &str,
    networks: &[Network],
    containers: &[ContainerNetworking],
) -> Result<Option<Network>> {
    let Some(network) = networks.iter().find(|n| n.name == name) else {
        return Ok(None);
    };
    let users: Vec<&str> = containers
        .iter()
        .filter(|c| c.endpoints.iter().any(|e| e.network == name))
        .map(|c| c.container_id.as_str())
        .collect();
    if !users.is_empty() {
        return Err(NetError::InUse {
            network: name.to_string(),
            containers: users.join(", "),
        });
    }
    Ok(Some(network.clone()))
}

/// What detaching one container does, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachPlan {
    /// The record being removed.
    pub record: ContainerNetworking,
    /// Whether the firewall must be re-applied: only published ports of
    /// the container appear in the rules.
    pub firewall_changes: bool,
    /// Host veths to delete; empty when the caller leaves them to the
    /// namespace that is about to be deleted (see
    /// [`crate::NetworkManager::release`]).
    pub veths: Vec<String>,
}

/// Plans the detachment of `container_id`, or `None` when it is not
/// attached (detaching is idempotent).
pub fn plan_detach(
    container_id: &str,
    containers: &[ContainerNetworking],
    delete_veths: bool,
) -> Option<DetachPlan> {
    let record = containers.iter().find(|c| c.container_id == container_id)?;
    Some(DetachPlan {
        firewall_changes: !record.ports.is_empty(),
        veths: if delete_veths {
            record
                .endpoints
                .iter()
                .map(|e| e.host_veth.clone())
                .collect()
        } else {
            Vec::new()
        },
        record: record.clone(),
    })
}

/// Bridges of the networks `departed` was on that no container in
/// `remaining` uses any more. Standalone networks (made by `stack network
/// create`) keep their bridge; the network itself (record, rules) stays
/// either way until it is removed.
pub fn idle_bridges(
    departed: &ContainerNetworking,
    networks: &[Network],
    remaining: &[ContainerNetworking],
) -> Vec<String> {
    networks
        .iter()
        .filter(|network| {
            let was_on = departed.endpoints.iter().any(|e| e.network == network.name);
            let in_use = remaining
                .iter()
                .any(|c| c.endpoints.iter().any(|e| e.network == network.name));
            was_on && !in_use && !network.external
        })
        .map(|network| network.bridge.clone())
        .collect()
}

#[cfg(test)]
#[path = "teardown_tests.rs"]
mod tests;

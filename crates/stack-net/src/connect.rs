//! Carrying out an [`AttachPlan`] through [`Links`]: the bridges, the veth
//! pairs with their MACs, addresses, the default route, and the container's
//! announcement of itself (see [`crate::garp`]). Nothing is decided here;
//! the plan says what, this module only keeps the kernel's order: a bridge
//! before its ports, an interface up before its address, the addresses
//! before the route through them.

use crate::error::Result;
use crate::links::{Announcement, Links, VethPair};
use crate::plan::attach::AttachPlan;

/// Connects the namespace of `plan` to its networks. Stops at the first
/// failure and leaves the undoing to the caller (see
/// [`AttachPlan::rollback_veths`]).
pub async fn connect<L: Links>(links: &L, plan: &AttachPlan) -> Result<()> {
    let inside = links.open_namespace(&plan.netns)?;
    links.set_up_inside(&inside, "lo").await?;
    let mut announcements = Vec::new();
    for interface in &plan.interfaces {
        let endpoint = &interface.endpoint;
        let bridge = links.ensure_bridge(&interface.bridge).await?;
        let pair = VethPair {
            host_name: &endpoint.host_veth,
            peer_name: &endpoint.container_ifname,
            peer_mac: interface.mac,
        };
        links.create_veth(&pair, bridge, &inside).await?;
        let index = links
            .set_up_inside(&inside, &endpoint.container_ifname)
            .await?;
        links
            .add_address_inside(
                &inside,
                index,
                &endpoint.container_ifname,
                endpoint.address,
                endpoint.prefix_len,
            )
            .await?;
        announcements.push(Announcement {
            index,
            ifname: endpoint.container_ifname.clone(),
            host_veth: endpoint.host_veth.clone(),
            mac: interface.mac,
            address: endpoint.address,
        });
    }
    if let Some(gateway) = plan.default_gateway {
        links.add_default_route_inside(&inside, gateway).await?;
    }
    if !announcements.is_empty() {
        links.announce(&inside, &announcements).await?;
    }
    Ok(())
}

//! The kernel side of an attachment: the bridge, the veth pair with its
//! MAC derived from the address, addresses, the default route, and the
//! container's announcement of itself (see [`crate::garp`]).

use std::time::Duration;

use crate::error::{NetError, Result};
use crate::garp;
use crate::model::{AttachRequest, Endpoint, Network};
use crate::names;
use crate::netlink::{write_sysctl, Netlink};

/// The longest wait for a bridge port to forward before a container's
/// gratuitous ARP goes out.
const PORT_FORWARDING_WAIT: Duration = Duration::from_millis(200);

/// Makes (or finds) the bridge of `network` with its pinned MAC and
/// gateway address; forwarding on. Returns its index.
pub async fn ensure_bridge(host: &Netlink, network: &Network) -> Result<u32> {
    let index = host
        .ensure_bridge(
            &network.bridge,
            names::bridge_mac(&network.bridge),
            network.gateway,
            network.subnet.prefix_len(),
        )
        .await?;
    write_sysctl("net/ipv4/ip_forward", "1")?;
    // 127.0.0.1 → published port leaves through the bridge (see firewall).
    write_sysctl(
        &format!("net/ipv4/conf/{}/route_localnet", network.bridge),
        "1",
    )?;
    Ok(index)
}

/// Connects the namespace of `request` to the networks of `plan`.
pub async fn connect(
    host: &Netlink,
    request: &AttachRequest,
    plan: &[(&Network, Endpoint)],
) -> Result<()> {
    let netns_file = std::fs::File::open(&request.netns).map_err(NetError::io(format!(
        "open netns {}",
        request.netns.display()
    )))?;
    let inside = Netlink::in_netns(&request.netns)?;
    inside.set_up_by_name("lo").await?;
    let mut default_route = None;
    let mut interfaces = Vec::new();
    for (network, endpoint) in plan {
        let bridge = ensure_bridge(host, network).await?;
        let mac = garp::container_mac(endpoint.address);
        host.create_veth(
            &endpoint.host_veth,
            bridge,
            &endpoint.container_ifname,
            mac,
            &netns_file,
        )
        .await?;
        let index = inside.set_up_by_name(&endpoint.container_ifname).await?;
        inside
            .add_address(
                index,
                endpoint.address,
                endpoint.prefix_len,
                &endpoint.container_ifname,
            )
            .await?;
        interfaces.push((index, mac, endpoint));
        if default_route.is_none() && !network.internal {
            default_route = Some(network.gateway);
        }
    }
    if let Some(gateway) = default_route {
        inside.add_default_route(gateway).await?;
    }
    if !interfaces.is_empty() {
        let announcer = garp::Announcer::open(&request.netns)?;
        for (index, mac, endpoint) in interfaces {
            // Usually forwarding already. After the wait it goes out
            // regardless: without it, peers learn the MAC when their entry
            // expires.
            host.wait_port_forwarding(&endpoint.host_veth, PORT_FORWARDING_WAIT)
                .await?;
            announcer.announce(index, &endpoint.container_ifname, mac, endpoint.address)?;
        }
    }
    Ok(())
}

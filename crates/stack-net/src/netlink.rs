//! Links, addresses and routes through rtnetlink.
//!
//! A netlink socket stays bound to the network namespace it was opened in.
//! So the socket for a container's namespace is opened on a short-lived,
//! dedicated OS thread that has entered that namespace; the thread ends right
//! after, and the socket is then driven from any tokio task. No tokio worker
//! ever calls `setns` (it moves only the calling thread, and tasks migrate).

use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::path::Path;

use futures::TryStreamExt;
use ipnet::Ipv4Net;
use rtnetlink::packet_route::link::{
    BridgePortState, InfoBridgePort, InfoData, InfoKind, InfoPortData, InfoVeth, LinkAttribute,
    LinkInfo,
};
use rtnetlink::packet_route::route::{RouteAddress, RouteAttribute};
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::{Handle, LinkBridge, LinkMessageBuilder, LinkUnspec, RouteMessageBuilder};

use crate::error::{NetError, Result};

const EEXIST: i32 = 17;
const ENODEV: i32 = 19;
const ENOENT: i32 = 2;

/// The errno of a netlink error reply, if it was one.
fn errno(err: &rtnetlink::Error) -> Option<i32> {
    match err {
        rtnetlink::Error::NetlinkError(msg) => msg.code.map(|c| -c.get()),
        _ => None,
    }
}

/// A route-netlink connection bound to one network namespace.
#[derive(Clone)]
pub struct Netlink {
    handle: Handle,
}

impl Netlink {
    /// A connection in the calling thread's namespace (the host's).
    /// Must be called inside a tokio runtime.
    pub fn host() -> Result<Netlink> {
        let (conn, handle, _) =
            rtnetlink::new_connection().map_err(NetError::io("open netlink socket"))?;
        tokio::spawn(conn);
        Ok(Netlink { handle })
    }

    /// A connection inside the namespace at `netns` (see the module docs).
    /// Must be called inside a tokio runtime.
    pub fn in_netns(netns: &Path) -> Result<Netlink> {
        let runtime = tokio::runtime::Handle::current();
        let (conn, handle, _) = crate::netns::within(netns, "netlink", || {
            let _entered = runtime.enter();
            rtnetlink::new_connection()
        })?;
        tokio::spawn(conn);
        Ok(Netlink { handle })
    }

    /// The index of link `name`, or `None` when there is no such link.
    pub async fn link_index(&self, name: &str) -> Result<Option<u32>> {
        let mut links = self
            .handle
            .link()
            .get()
            .match_name(name.to_string())
            .execute();
        match links.try_next().await {
            Ok(link) => Ok(link.map(|l| l.header.index)),
            Err(err) if matches!(errno(&err), Some(ENODEV)) => Ok(None),
            Err(err) => Err(NetError::netlink(format!("look up link {name}"))(err)),
        }
    }

    /// Creates bridge `name` with a pinned MAC unless it exists, gives it
    /// `gateway/prefix` and sets it up. Returns its index.
    pub async fn ensure_bridge(
        &self,
        name: &str,
        mac: [u8; 6],
        gateway: Ipv4Addr,
        prefix: u8,
    ) -> Result<u32> {
        let index = match self.link_index(name).await? {
            Some(index) => index,
            None => {
                let message = LinkBridge::new(name).address(mac.to_vec()).build();
                match self.handle.link().add(message).execute().await {
                    Err(err) if errno(&err) != Some(EEXIST) => {
                        return Err(NetError::netlink(format!("create bridge {name}"))(err))
                    }
                    _ => {}
                }
                self.link_index(name).await?.ok_or_else(|| {
                    NetError::Firewall(format!("bridge {name} vanished right after it was created"))
                })?
            }
        };
        self.add_address(index, gateway, prefix, name).await?;
        self.set_up(index, name).await?;
        Ok(index)
    }

    /// Creates a veth pair: `host_name` in this namespace, attached to the
    /// bridge and up; `peer_name` with MAC `peer_mac` created directly
    /// inside `netns` (no temporary name in the host, no move step).
    pub async fn create_veth(
        &self,
        host_name: &str,
        bridge_index: u32,
        peer_name: &str,
        peer_mac: [u8; 6],
        netns: &std::fs::File,
    ) -> Result<()> {
        let peer = LinkMessageBuilder::<LinkUnspec>::new()
            .name(peer_name.to_string())
            .address(peer_mac.to_vec())
            .setns_by_fd(netns.as_raw_fd())
            .build();
        let message = LinkMessageBuilder::<LinkUnspec>::new_with_info_kind(InfoKind::Veth)
            .name(host_name.to_string())
            .controller(bridge_index)
            .up()
            .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
            .build();
        self.handle
            .link()
            .add(message)
            .execute()
            .await
            .map_err(NetError::netlink(format!(
                "create veth {host_name} with peer {peer_name}"
            )))
    }

    /// Whether bridge port `name` forwards frames. The bridge moves a port
    /// to forwarding on the carrier event of its link, after the link came
    /// up; a frame that arrives before is dropped.
    pub async fn port_forwards(&self, name: &str) -> Result<bool> {
        let mut links = self
            .handle
            .link()
            .get()
            .match_name(name.to_string())
            .execute();
        let link = match links.try_next().await {
            Ok(Some(link)) => link,
            Ok(None) => return Ok(false),
            Err(err) if matches!(errno(&err), Some(ENODEV)) => return Ok(false),
            Err(err) => return Err(NetError::netlink(format!("look up link {name}"))(err)),
        };
        Ok(link.attributes.iter().any(|a| match a {
            LinkAttribute::LinkInfo(infos) => infos.iter().any(|i| {
                matches!(i, LinkInfo::PortData(InfoPortData::BridgePort(port))
                    if port.contains(&InfoBridgePort::State(BridgePortState::Forwarding)))
            }),
            _ => false,
        }))
    }

    /// Waits up to `max` until bridge port `name` forwards; `false` when
    /// it did not in that time.
    pub async fn wait_port_forwarding(&self, name: &str, max: std::time::Duration) -> Result<bool> {
        let deadline = tokio::time::Instant::now() + max;
        loop {
            if self.port_forwards(name).await? {
                return Ok(true);
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    /// Deletes link `name`; `false` when it did not exist.
    pub async fn delete_link(&self, name: &str) -> Result<bool> {
        let Some(index) = self.link_index(name).await? else {
            return Ok(false);
        };
        match self.handle.link().del(index).execute().await {
            Ok(()) => Ok(true),
            Err(err) if matches!(errno(&err), Some(ENODEV)) => Ok(false),
            Err(err) => Err(NetError::netlink(format!("delete link {name}"))(err)),
        }
    }

    /// Names of links whose controller (master) is `bridge_index`.
    pub async fn ports_of(&self, bridge_index: u32) -> Result<Vec<String>> {
        let mut links = self.handle.link().get().execute();
        let mut ports = Vec::new();
        while let Some(link) = links
            .try_next()
            .await
            .map_err(NetError::netlink("list links"))?
        {
            let attrs = &link.attributes;
            if attrs
                .iter()
                .any(|a| matches!(a, LinkAttribute::Controller(i) if *i == bridge_index))
            {
                if let Some(name) = attrs.iter().find_map(|a| match a {
                    LinkAttribute::IfName(n) => Some(n.clone()),
                    _ => None,
                }) {
                    ports.push(name);
                }
            }
        }
        Ok(ports)
    }

    /// Adds an address; one already present is fine.
    pub async fn add_address(
        &self,
        index: u32,
        addr: Ipv4Addr,
        prefix: u8,
        link: &str,
    ) -> Result<()> {
        match self
            .handle
            .address()
            .add(index, addr.into(), prefix)
            .execute()
            .await
        {
            Err(err) if errno(&err) != Some(EEXIST) => Err(NetError::netlink(format!(
                "add address {addr}/{prefix} to {link}"
            ))(err)),
            _ => Ok(()),
        }
    }

    pub async fn set_up(&self, index: u32, link: &str) -> Result<()> {
        self.handle
            .link()
            .set(LinkUnspec::new_with_index(index).up().build())
            .execute()
            .await
            .map_err(NetError::netlink(format!("set {link} up")))
    }

    /// Sets up link `name` (e.g. `lo`, or a veth peer) and returns its index.
    pub async fn set_up_by_name(&self, name: &str) -> Result<u32> {
        let index = self.link_index(name).await?.ok_or_else(|| NetError::Io {
            context: format!("set {name} up"),
            source: std::io::Error::from_raw_os_error(ENODEV),
        })?;
        self.set_up(index, name).await?;
        Ok(index)
    }

    /// Adds the default route via `gateway`; one already present is kept.
    pub async fn add_default_route(&self, gateway: Ipv4Addr) -> Result<()> {
        let route = RouteMessageBuilder::<Ipv4Addr>::new()
            .gateway(gateway)
            .build();
        match self.handle.route().add(route).execute().await {
            Err(err) if errno(&err) != Some(EEXIST) => Err(NetError::netlink(format!(
                "add default route via {gateway}"
            ))(err)),
            _ => Ok(()),
        }
    }

    /// Every IPv4 destination routed in this namespace, except the default
    /// route: what new subnets must not overlap.
    pub async fn ipv4_route_destinations(&self) -> Result<Vec<Ipv4Net>> {
        let query = RouteMessageBuilder::<Ipv4Addr>::new().build();
        let mut routes = self.handle.route().get(query).execute();
        let mut found = Vec::new();
        while let Some(route) = routes
            .try_next()
            .await
            .map_err(NetError::netlink("list routes"))?
        {
            if route.header.address_family != AddressFamily::Inet
                || route.header.destination_prefix_length == 0
            {
                continue;
            }
            for attr in &route.attributes {
                if let RouteAttribute::Destination(RouteAddress::Inet(addr)) = attr {
                    if let Ok(net) = Ipv4Net::new(*addr, route.header.destination_prefix_length) {
                        // Host routes of local addresses (table local) are
                        // /32s; they still count: an address in use.
                        found.push(net.trunc());
                    }
                }
            }
        }
        Ok(found)
    }
}

/// Was this a "no such object" error (already gone)?
pub fn is_gone(err: &NetError) -> bool {
    match err {
        NetError::Netlink { source, .. } => matches!(errno(source), Some(ENODEV | ENOENT)),
        _ => false,
    }
}

/// Writes a sysctl under /proc/sys (the calling thread's network namespace
/// for `net/*` keys).
pub fn write_sysctl(key: &str, value: &str) -> Result<()> {
    let path = format!("/proc/sys/{key}");
    std::fs::write(&path, value).map_err(NetError::io(format!("write {value} to {path}")))
}

//! The kernel operations an attachment and a network need, behind a
//! trait: [`SystemLinks`] performs them through [`crate::netlink`], and the
//! manager's tests drive a recording fake instead, so the order of the
//! steps (and what a failure undoes) is tested without root.

use std::future::Future;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use ipnet::Ipv4Net;

use crate::error::{NetError, Result};
use crate::garp;
use crate::netlink::{write_sysctl, Netlink};
use crate::plan::network::BridgePlan;

#[cfg(test)]
pub(crate) mod fake;

/// The longest wait for a bridge port to forward before a container's
/// gratuitous ARP goes out.
const PORT_FORWARDING_WAIT: Duration = Duration::from_millis(200);

/// The two ends of a container's veth pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VethPair<'a> {
    /// Host end, `stkv…`, a port of the bridge.
    pub host_name: &'a str,
    /// Container end (`eth0`, …), made directly inside the namespace.
    pub peer_name: &'a str,
    /// MAC of the container end.
    pub peer_mac: [u8; 6],
}

/// A container interface that announces itself once it is up (see
/// [`crate::garp`] for why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Index of the interface inside the namespace.
    pub index: u32,
    pub ifname: String,
    /// Its host end: the announcement waits until that bridge port forwards.
    pub host_veth: String,
    pub mac: [u8; 6],
    pub address: Ipv4Addr,
}

/// Link, address and route operations on the host and inside container
/// namespaces: only those the manager performs.
pub trait Links: Send + Sync {
    /// A handle on a container's network namespace.
    type Namespace: Send + Sync;

    /// Makes (or finds) a bridge with its pinned MAC and gateway address,
    /// up, with forwarding on. Returns its index.
    fn ensure_bridge(&self, bridge: &BridgePlan) -> impl Future<Output = Result<u32>> + Send;

    /// Opens the namespace at `netns` for the operations below.
    fn open_namespace(&self, netns: &Path) -> Result<Self::Namespace>;

    /// Creates a veth pair: the host end a port of bridge `bridge_index`
    /// and up, the peer inside `namespace`.
    fn create_veth(
        &self,
        pair: &VethPair<'_>,
        bridge_index: u32,
        namespace: &Self::Namespace,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Sets link `name` inside `namespace` up; returns its index.
    fn set_up_inside(
        &self,
        namespace: &Self::Namespace,
        name: &str,
    ) -> impl Future<Output = Result<u32>> + Send;

    /// Adds `address/prefix_len` to interface `index` (`ifname` for
    /// errors) inside `namespace`.
    fn add_address_inside(
        &self,
        namespace: &Self::Namespace,
        index: u32,
        ifname: &str,
        address: Ipv4Addr,
        prefix_len: u8,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Adds the default route via `gateway` inside `namespace`.
    fn add_default_route_inside(
        &self,
        namespace: &Self::Namespace,
        gateway: Ipv4Addr,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Sends each interface's gratuitous ARP from inside `namespace`.
    fn announce(
        &self,
        namespace: &Self::Namespace,
        interfaces: &[Announcement],
    ) -> impl Future<Output = Result<()>> + Send;

    /// Deletes host link `name`; `false` when it did not exist.
    fn delete_link(&self, name: &str) -> impl Future<Output = Result<bool>> + Send;

    /// Every IPv4 destination routed on the host except the default route:
    /// what a new subnet must not overlap.
    fn ipv4_route_destinations(&self) -> impl Future<Output = Result<Vec<Ipv4Net>>> + Send;
}

/// The real kernel, through a netlink connection in the host namespace.
#[derive(Clone)]
pub struct SystemLinks {
    host: Netlink,
}

impl SystemLinks {
    /// Connects to the host namespace. Must be called inside a tokio runtime.
    pub fn host() -> Result<SystemLinks> {
        Ok(SystemLinks {
            host: Netlink::host()?,
        })
    }
}

/// A container namespace as [`SystemLinks`] uses it: the open file (to
/// create veth peers in) and a netlink connection inside.
pub struct SystemNamespace {
    path: std::path::PathBuf,
    file: std::fs::File,
    inside: Netlink,
}

impl Links for SystemLinks {
    type Namespace = SystemNamespace;

    async fn ensure_bridge(&self, bridge: &BridgePlan) -> Result<u32> {
        let index = self
            .host
            .ensure_bridge(&bridge.name, bridge.mac, bridge.gateway, bridge.prefix_len)
            .await?;
        write_sysctl("net/ipv4/ip_forward", "1")?;
        // 127.0.0.1 → published port leaves through the bridge (see firewall).
        write_sysctl(
            &format!("net/ipv4/conf/{}/route_localnet", bridge.name),
            "1",
        )?;
        Ok(index)
    }

    fn open_namespace(&self, netns: &Path) -> Result<SystemNamespace> {
        let file = std::fs::File::open(netns)
            .map_err(NetError::io(format!("open netns {}", netns.display())))?;
        let inside = Netlink::in_netns(netns)?;
        Ok(SystemNamespace {
            path: netns.to_path_buf(),
            file,
            inside,
        })
    }

    async fn create_veth(
        &self,
        pair: &VethPair<'_>,
        bridge_index: u32,
        namespace: &SystemNamespace,
    ) -> Result<()> {
        self.host
            .create_veth(
                pair.host_name,
                bridge_index,
                pair.peer_name,
                pair.peer_mac,
                &namespace.file,
            )
            .await
    }

    async fn set_up_inside(&self, namespace: &SystemNamespace, name: &str) -> Result<u32> {
        namespace.inside.set_up_by_name(name).await
    }

    async fn add_address_inside(
        &self,
        namespace: &SystemNamespace,
        index: u32,
        ifname: &str,
        address: Ipv4Addr,
        prefix_len: u8,
    ) -> Result<()> {
        namespace
            .inside
            .add_address(index, address, prefix_len, ifname)
            .await
    }

    async fn add_default_route_inside(
        &self,
        namespace: &SystemNamespace,
        gateway: Ipv4Addr,
    ) -> Result<()> {
        namespace.inside.add_default_route(gateway).await
    }

    async fn announce(
        &self,
        namespace: &SystemNamespace,
        interfaces: &[Announcement],
    ) -> Result<()> {
        let announcer = garp::Announcer::open(&namespace.path)?;
        for interface in interfaces {
            // Usually forwarding already. After the wait it goes out
            // regardless: without it, peers learn the MAC when their entry
            // expires.
            self.host
                .wait_port_forwarding(&interface.host_veth, PORT_FORWARDING_WAIT)
                .await?;
            announcer.announce(
                interface.index,
                &interface.ifname,
                interface.mac,
                interface.address,
            )?;
        }
        Ok(())
    }

    async fn delete_link(&self, name: &str) -> Result<bool> {
        self.host.delete_link(name).await
    }

    async fn ipv4_route_destinations(&self) -> Result<Vec<Ipv4Net>> {
        self.host.ipv4_route_destinations().await
    }
}

//! A recording stand-in for the kernel: keeps the links that would exist
//! on the host and inside each namespace, logs every operation in order,
//! and fails the operation a test picks.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ipnet::Ipv4Net;

use super::{Announcement, Links, VethPair};
use crate::error::{NetError, Result};
use crate::plan::network::BridgePlan;

/// One operation asked of [`FakeLinks`], as it was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOp {
    EnsureBridge(String),
    OpenNamespace(PathBuf),
    CreateVeth {
        host: String,
        peer: String,
        peer_mac: [u8; 6],
        bridge: String,
    },
    SetUpInside(String),
    AddAddressInside {
        ifname: String,
        address: Ipv4Addr,
        prefix_len: u8,
    },
    AddDefaultRouteInside(Ipv4Addr),
    Announce(Vec<String>),
    DeleteLink(String),
    RouteDestinations,
}

type FailWhen = Box<dyn Fn(&LinkOp) -> bool + Send + Sync>;

#[derive(Default)]
struct State {
    ops: Vec<LinkOp>,
    next_index: u32,
    /// Host links by name → index (bridges and host veth ends).
    host: BTreeMap<String, u32>,
    /// Host veth → (namespace, peer name): deleting one end deletes both.
    peers: BTreeMap<String, (PathBuf, String)>,
    /// Links inside each namespace (besides `lo`).
    inside: BTreeMap<PathBuf, BTreeSet<String>>,
    routes: Vec<Ipv4Net>,
    fail_when: Option<FailWhen>,
}

/// The fake kernel; clones share one state, so a test keeps a clone to
/// look at after handing one to the manager.
#[derive(Clone, Default)]
pub struct FakeLinks {
    state: Arc<Mutex<State>>,
}

/// A namespace of [`FakeLinks`]: just its path.
pub struct FakeNamespace(PathBuf);

impl FakeLinks {
    pub fn new() -> FakeLinks {
        FakeLinks::default()
    }

    /// Host routes reported to subnet allocation.
    pub fn with_routes(self, routes: Vec<Ipv4Net>) -> FakeLinks {
        self.lock().routes = routes;
        self
    }

    /// Makes every operation for which `when` holds fail (after it was
    /// logged, as a kernel refusal would be).
    pub fn fail_when(&self, when: impl Fn(&LinkOp) -> bool + Send + Sync + 'static) {
        self.lock().fail_when = Some(Box::new(when));
    }

    /// Every operation so far, in order.
    pub fn ops(&self) -> Vec<LinkOp> {
        self.lock().ops.clone()
    }

    /// Names of the links on the host, sorted.
    pub fn host_links(&self) -> Vec<String> {
        self.lock().host.keys().cloned().collect()
    }

    /// Names of the links inside namespace `netns` (without `lo`), sorted.
    pub fn links_inside(&self, netns: &Path) -> Vec<String> {
        self.lock()
            .inside
            .get(netns)
            .map(|links| links.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A test that panicked while holding the lock fails anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Logs `op` and fails it if the test asked for that.
    fn record(&self, op: LinkOp) -> Result<std::sync::MutexGuard<'_, State>> {
        let mut state = self.lock();
        let fails = state.fail_when.as_ref().is_some_and(|when| when(&op));
        let what = format!("{op:?}");
        state.ops.push(op);
        if fails {
            return Err(NetError::Io {
                context: format!("fake kernel refused {what}"),
                source: std::io::Error::other("injected failure"),
            });
        }
        Ok(state)
    }
}

fn no_such_link(name: &str) -> NetError {
    NetError::Io {
        context: format!("set {name} up"),
        source: std::io::Error::other("no such device"),
    }
}

impl Links for FakeLinks {
    type Namespace = FakeNamespace;

    async fn ensure_bridge(&self, bridge: &BridgePlan) -> Result<u32> {
        let mut state = self.record(LinkOp::EnsureBridge(bridge.name.clone()))?;
        if let Some(index) = state.host.get(&bridge.name) {
            return Ok(*index);
        }
        state.next_index += 1;
        let index = state.next_index;
        state.host.insert(bridge.name.clone(), index);
        Ok(index)
    }

    fn open_namespace(&self, netns: &Path) -> Result<FakeNamespace> {
        drop(self.record(LinkOp::OpenNamespace(netns.to_path_buf()))?);
        Ok(FakeNamespace(netns.to_path_buf()))
    }

    async fn create_veth(
        &self,
        pair: &VethPair<'_>,
        bridge_index: u32,
        namespace: &FakeNamespace,
    ) -> Result<()> {
        let bridge = {
            let state = self.lock();
            state
                .host
                .iter()
                .find(|(_, index)| **index == bridge_index)
                .map(|(name, _)| name.clone())
                .unwrap_or_default()
        };
        let mut state = self.record(LinkOp::CreateVeth {
            host: pair.host_name.to_string(),
            peer: pair.peer_name.to_string(),
            peer_mac: pair.peer_mac,
            bridge,
        })?;
        let taken_inside = state
            .inside
            .get(&namespace.0)
            .is_some_and(|links| links.contains(pair.peer_name));
        if state.host.contains_key(pair.host_name) || taken_inside {
            return Err(NetError::Io {
                context: format!("create veth {}", pair.host_name),
                source: std::io::Error::other("file exists"),
            });
        }
        state.next_index += 1;
        let index = state.next_index;
        state.host.insert(pair.host_name.to_string(), index);
        state.peers.insert(
            pair.host_name.to_string(),
            (namespace.0.clone(), pair.peer_name.to_string()),
        );
        state
            .inside
            .entry(namespace.0.clone())
            .or_default()
            .insert(pair.peer_name.to_string());
        Ok(())
    }

    async fn set_up_inside(&self, namespace: &FakeNamespace, name: &str) -> Result<u32> {
        let mut state = self.record(LinkOp::SetUpInside(name.to_string()))?;
        let exists = name == "lo"
            || state
                .inside
                .get(&namespace.0)
                .is_some_and(|links| links.contains(name));
        if !exists {
            return Err(no_such_link(name));
        }
        state.next_index += 1;
        Ok(state.next_index)
    }

    async fn add_address_inside(
        &self,
        _namespace: &FakeNamespace,
        _index: u32,
        ifname: &str,
        address: Ipv4Addr,
        prefix_len: u8,
    ) -> Result<()> {
        self.record(LinkOp::AddAddressInside {
            ifname: ifname.to_string(),
            address,
            prefix_len,
        })
        .map(drop)
    }

    async fn add_default_route_inside(
        &self,
        _namespace: &FakeNamespace,
        gateway: Ipv4Addr,
    ) -> Result<()> {
        self.record(LinkOp::AddDefaultRouteInside(gateway))
            .map(drop)
    }

    async fn announce(
        &self,
        _namespace: &FakeNamespace,
        interfaces: &[Announcement],
    ) -> Result<()> {
        let names = interfaces.iter().map(|i| i.ifname.clone()).collect();
        self.record(LinkOp::Announce(names)).map(drop)
    }

    async fn delete_link(&self, name: &str) -> Result<bool> {
        let mut state = self.record(LinkOp::DeleteLink(name.to_string()))?;
        let existed = state.host.remove(name).is_some();
        if let Some((netns, peer)) = state.peers.remove(name) {
            if let Some(links) = state.inside.get_mut(&netns) {
                links.remove(&peer);
            }
        }
        Ok(existed)
    }

    async fn ipv4_route_destinations(&self) -> Result<Vec<Ipv4Net>> {
        let state = self.record(LinkOp::RouteDestinations)?;
        Ok(state.routes.clone())
    }
}

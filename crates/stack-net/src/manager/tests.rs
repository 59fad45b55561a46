//! The manager's sequencing against the recording fake kernel and a fake
//! iptables: what is made, in which order, and what a failure undoes.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::*;
use crate::links::fake::{FakeLinks, LinkOp};
use crate::model::{Attachment, PortMapping};

/// iptables that only records what it is fed.
#[derive(Clone, Default)]
struct RecordingIptables {
    restores: Arc<Mutex<Vec<String>>>,
}

impl RecordingIptables {
    fn restore_count(&self) -> usize {
        self.restores.lock().expect("lock").len()
    }
}

impl IptablesRunner for RecordingIptables {
    async fn save(&self) -> Result<String> {
        Ok(String::new())
    }
    async fn restore(&self, input: String) -> Result<()> {
        self.restores.lock().expect("lock").push(input);
        Ok(())
    }
}

/// A state root of its own, removed when the test ends.
struct StateDir(PathBuf);

impl StateDir {
    fn new() -> StateDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "stack-net-manager-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        StateDir(dir)
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Setup {
    manager: NetworkManager<RecordingIptables, FakeLinks>,
    links: FakeLinks,
    iptables: RecordingIptables,
    _state: StateDir,
}

async fn setup(links: FakeLinks) -> Setup {
    let state = StateDir::new();
    let options = ManagerOptions {
        state_root: state.0.clone(),
        pools: AddressPool::default_pools(),
        dns_bind: None,
        upstreams: vec![],
        external_dns_port: None,
        refresh_on_open: false,
    };
    let iptables = RecordingIptables::default();
    let manager = NetworkManager::open_with_links(options, iptables.clone(), links.clone())
        .await
        .expect("open manager");
    Setup {
        manager,
        links,
        iptables,
        _state: state,
    }
}

fn spec(name: &str) -> NetworkSpec {
    NetworkSpec {
        name: name.into(),
        ..NetworkSpec::default()
    }
}

fn request(id: &str, networks: &[&str]) -> AttachRequest {
    AttachRequest {
        container_id: id.into(),
        netns: PathBuf::from(format!("/run/netns/{id}")),
        attachments: networks
            .iter()
            .map(|n| Attachment {
                network: (*n).into(),
                ipv4_address: None,
                names: vec![format!("svc-{id}")],
            })
            .collect(),
        ports: vec![],
    }
}

/// Whether the container at `querier` gets an address for `name`.
fn resolves(s: &Setup, querier: Ipv4Addr, name: &str) -> bool {
    matches!(
        s.manager.registry().lookup(querier.into(), name),
        crate::dns::registry::Answer::Addresses(_)
    )
}

fn host_veths(record: &ContainerNetworking) -> Vec<String> {
    record
        .endpoints
        .iter()
        .map(|e| e.host_veth.clone())
        .collect()
}

#[tokio::test]
async fn attach_makes_the_links_in_order_and_detach_leaves_none() {
    let s = setup(FakeLinks::new()).await;
    let network = s
        .manager
        .create_network(&spec("p_front"))
        .await
        .expect("network");
    assert_eq!(s.links.host_links(), vec![network.bridge.clone()]);

    let before = s.links.ops().len();
    let record = s
        .manager
        .attach(&request("a", &["p_front"]))
        .await
        .expect("attach");
    let veth = record.endpoints[0].host_veth.clone();
    let netns = Path::new("/run/netns/a");
    assert_eq!(
        s.links.ops()[before..].to_vec(),
        vec![
            LinkOp::OpenNamespace(netns.to_path_buf()),
            LinkOp::SetUpInside("lo".into()),
            LinkOp::EnsureBridge(network.bridge.clone()),
            LinkOp::CreateVeth {
                host: veth.clone(),
                peer: "eth0".into(),
                peer_mac: [0x02, 0x42, 10, 89, 0, 2],
                bridge: network.bridge.clone(),
            },
            LinkOp::SetUpInside("eth0".into()),
            LinkOp::AddAddressInside {
                ifname: "eth0".into(),
                address: Ipv4Addr::new(10, 89, 0, 2),
                prefix_len: 24,
            },
            LinkOp::AddDefaultRouteInside(Ipv4Addr::new(10, 89, 0, 1)),
            LinkOp::Announce(vec!["eth0".into()]),
        ]
    );
    assert_eq!(s.links.links_inside(netns), vec!["eth0"]);
    assert_eq!(s.manager.container("a").expect("read"), Some(record));
    assert!(resolves(&s, Ipv4Addr::new(10, 89, 0, 2), "svc-a"));

    s.manager.detach("a").await.expect("detach");
    assert_eq!(
        s.links.host_links(),
        Vec::<String>::new(),
        "veth and idle bridge gone"
    );
    assert_eq!(s.links.links_inside(netns), Vec::<String>::new());
    assert_eq!(s.manager.container("a").expect("read"), None);
    assert!(!resolves(&s, Ipv4Addr::new(10, 89, 0, 2), "svc-a"));
    // The network itself stays until it is removed.
    assert_eq!(s.manager.networks().expect("read").len(), 1);
}

#[tokio::test]
async fn a_failure_mid_attach_undoes_what_was_made() {
    let s = setup(FakeLinks::new()).await;
    s.manager
        .create_network(&spec("p_front"))
        .await
        .expect("network");
    s.manager
        .create_network(&spec("p_back"))
        .await
        .expect("network");
    s.links
        .fail_when(|op| matches!(op, LinkOp::CreateVeth { peer, .. } if peer == "eth1"));

    let failed = s
        .manager
        .attach(&request("a", &["p_front", "p_back"]))
        .await;
    assert!(failed.is_err(), "{failed:?}");
    let bridges: Vec<String> = s
        .manager
        .networks()
        .expect("read")
        .into_iter()
        .map(|n| n.bridge)
        .collect();
    let mut remaining = s.links.host_links();
    remaining.sort();
    let mut expected = bridges;
    expected.sort();
    assert_eq!(remaining, expected, "only the bridges are left");
    assert_eq!(
        s.links.links_inside(Path::new("/run/netns/a")),
        Vec::<String>::new()
    );
    assert_eq!(s.manager.container("a").expect("read"), None);
    assert!(!resolves(&s, Ipv4Addr::new(10, 89, 0, 2), "svc-a"));

    // Both planned veths were deleted, the one that was never made too.
    let deleted: Vec<LinkOp> = s
        .links
        .ops()
        .into_iter()
        .filter(|op| matches!(op, LinkOp::DeleteLink(_)))
        .collect();
    assert_eq!(deleted.len(), 2, "{deleted:?}");

    // The address is free again for the next container.
    s.links.fail_when(|_| false);
    let next = s
        .manager
        .attach(&request("b", &["p_front"]))
        .await
        .expect("attach");
    assert_eq!(next.endpoints[0].address, Ipv4Addr::new(10, 89, 0, 2));
}

#[tokio::test]
async fn a_reattached_container_keeps_its_address_and_loses_its_old_veth_first() {
    let s = setup(FakeLinks::new()).await;
    s.manager
        .create_network(&spec("p_front"))
        .await
        .expect("network");
    let first = s
        .manager
        .attach(&request("a", &["p_front"]))
        .await
        .expect("attach");
    s.manager
        .attach(&request("b", &["p_front"]))
        .await
        .expect("attach");

    let before = s.links.ops().len();
    let again = s
        .manager
        .attach(&request("a", &["p_front"]))
        .await
        .expect("attach");
    assert_eq!(again.endpoints[0].address, first.endpoints[0].address);
    assert_ne!(host_veths(&again), host_veths(&first));
    let ops = s.links.ops()[before..].to_vec();
    assert_eq!(
        ops[0],
        LinkOp::DeleteLink(first.endpoints[0].host_veth.clone())
    );
    assert!(!s.links.host_links().contains(&first.endpoints[0].host_veth));
    assert!(s.links.host_links().contains(&again.endpoints[0].host_veth));
}

#[tokio::test]
async fn release_leaves_the_veths_to_the_namespace_but_drops_idle_bridges() {
    let s = setup(FakeLinks::new()).await;
    let network = s
        .manager
        .create_network(&spec("p_front"))
        .await
        .expect("network");
    let record = s
        .manager
        .attach(&request("a", &["p_front"]))
        .await
        .expect("attach");
    let before = s.links.ops().len();
    s.manager.release("a").await.expect("release");
    assert_eq!(
        s.links.ops()[before..].to_vec(),
        vec![LinkOp::DeleteLink(network.bridge.clone())]
    );
    assert_eq!(s.links.host_links(), host_veths(&record));
}

#[tokio::test]
async fn a_bridge_stays_while_another_container_uses_it_or_when_standalone() {
    let s = setup(FakeLinks::new()).await;
    let front = s
        .manager
        .create_network(&spec("p_front"))
        .await
        .expect("network");
    let shared = s
        .manager
        .create_network(&NetworkSpec {
            standalone: true,
            ..spec("shared")
        })
        .await
        .expect("network");
    s.manager
        .attach(&request("a", &["p_front", "shared"]))
        .await
        .expect("attach");
    s.manager
        .attach(&request("b", &["p_front"]))
        .await
        .expect("attach");

    s.manager.detach("a").await.expect("detach");
    let links = s.links.host_links();
    assert!(links.contains(&front.bridge) && links.contains(&shared.bridge));

    s.manager.detach("b").await.expect("detach");
    assert_eq!(s.links.host_links(), vec![shared.bridge]);
}

#[tokio::test]
async fn a_network_in_use_is_kept_and_a_free_one_removed() {
    let s = setup(FakeLinks::new()).await;
    let network = s
        .manager
        .create_network(&spec("p_front"))
        .await
        .expect("network");
    s.manager
        .attach(&request("a", &["p_front"]))
        .await
        .expect("attach");
    assert!(matches!(
        s.manager.remove_network("p_front").await,
        Err(NetError::InUse { .. })
    ));
    assert_eq!(s.manager.networks().expect("read"), vec![network.clone()]);

    s.manager.release("a").await.expect("release");
    s.manager.remove_network("p_front").await.expect("remove");
    assert_eq!(s.manager.networks().expect("read"), vec![]);
    assert!(!s.links.host_links().contains(&network.bridge));
    s.manager
        .remove_network("p_front")
        .await
        .expect("removing again is fine");
}

#[tokio::test]
async fn a_failed_bridge_leaves_no_network_behind() {
    let s = setup(FakeLinks::new()).await;
    s.links
        .fail_when(|op| matches!(op, LinkOp::EnsureBridge(_)));
    let failed = s.manager.create_network(&spec("p_front")).await;
    assert!(failed.is_err(), "{failed:?}");
    assert_eq!(s.manager.networks().expect("read"), vec![]);
    let bridge = names::bridge_name("p_front");
    assert!(s.links.ops().contains(&LinkOp::DeleteLink(bridge)));
    assert_eq!(s.links.host_links(), Vec::<String>::new());
}

#[tokio::test]
async fn new_subnets_avoid_host_routes_which_are_read_only_when_needed() {
    let links = FakeLinks::new().with_routes(vec!["10.89.0.0/24".parse().expect("cidr")]);
    let s = setup(links).await;
    let chosen = s
        .manager
        .create_network(&spec("p_front"))
        .await
        .expect("network");
    assert_eq!(chosen.subnet, "10.89.1.0/24".parse().expect("cidr"));
    let reads = |s: &Setup| {
        s.links
            .ops()
            .iter()
            .filter(|op| **op == LinkOp::RouteDestinations)
            .count()
    };
    assert_eq!(reads(&s), 1);
    let given = NetworkSpec {
        subnet: Some("172.30.0.0/24".parse().expect("cidr")),
        ..spec("p_given")
    };
    s.manager.create_network(&given).await.expect("network");
    assert_eq!(reads(&s), 1, "a given subnet needs no routes");
    // Idempotent: the same spec gives the same network, nothing made.
    let again = s
        .manager
        .create_network(&spec("p_front"))
        .await
        .expect("network");
    assert_eq!(again, chosen);
    assert_eq!(reads(&s), 1);
}

#[tokio::test]
async fn the_firewall_is_touched_only_for_published_ports() {
    let s = setup(FakeLinks::new()).await;
    s.manager
        .create_network(&spec("p_front"))
        .await
        .expect("network");
    let after_create = s.iptables.restore_count();
    assert!(after_create > 0);

    s.manager
        .attach(&request("plain", &["p_front"]))
        .await
        .expect("attach");
    assert_eq!(s.iptables.restore_count(), after_create);

    let mut publishing = request("web", &["p_front"]);
    publishing.ports.push(PortMapping::tcp(8080, 80));
    s.manager.attach(&publishing).await.expect("attach");
    assert_eq!(s.iptables.restore_count(), after_create + 1);
    let last = s.iptables.restores.lock().expect("lock").last().cloned();
    assert!(last.is_some_and(|rules| rules.contains("10.89.0.3")));

    s.manager.detach("plain").await.expect("detach");
    assert_eq!(s.iptables.restore_count(), after_create + 1);
    s.manager.detach("web").await.expect("detach");
    assert_eq!(s.iptables.restore_count(), after_create + 2);
}

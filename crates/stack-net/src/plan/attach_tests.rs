use std::net::Ipv4Addr;
use std::path::PathBuf;

use super::*;
use crate::model::{Attachment, PortMapping};
use crate::names;

fn network(name: &str, subnet: &str, internal: bool) -> Network {
    let subnet: ipnet::Ipv4Net = subnet.parse().expect("cidr");
    Network {
        name: name.into(),
        bridge: names::bridge_name(name),
        subnet,
        gateway: ipam::default_gateway(&subnet).expect("gateway"),
        internal,
        external: false,
    }
}

fn networks() -> Vec<Network> {
    vec![
        network("p_front", "10.89.0.0/24", false),
        network("p_back", "10.89.1.0/24", true),
    ]
}

fn request(id: &str, on: &[(&str, &[&str])]) -> AttachRequest {
    AttachRequest {
        container_id: id.into(),
        netns: PathBuf::from(format!("/run/netns/{id}")),
        attachments: on
            .iter()
            .map(|(network, names)| Attachment {
                network: (*network).into(),
                ipv4_address: None,
                names: names.iter().map(|n| (*n).to_string()).collect(),
            })
            .collect(),
        ports: vec![],
    }
}

/// Veth names that say whose they are, so tests can check them.
fn veth(container: &str, network: &str) -> String {
    format!("v-{container}-{network}")
}

fn plan(request: &AttachRequest, containers: &[ContainerNetworking]) -> Result<AttachPlan> {
    plan_attach(request, &networks(), containers, veth)
}

fn addresses(plan: &AttachPlan) -> Vec<Ipv4Addr> {
    plan.interfaces.iter().map(|i| i.endpoint.address).collect()
}

#[test]
fn containers_get_successive_addresses_after_the_gateway() {
    let mut stored = Vec::new();
    for (id, expected) in [("a", 2), ("b", 3), ("c", 4)] {
        let plan = plan(&request(id, &[("p_front", &[])]), &stored).expect("plan");
        assert_eq!(addresses(&plan), vec![Ipv4Addr::new(10, 89, 0, expected)]);
        stored.push(plan.record);
    }
    // A freed address is given out again, lowest first.
    stored.retain(|c| c.container_id != "b");
    let plan = plan(&request("d", &[("p_front", &[])]), &stored).expect("plan");
    assert_eq!(addresses(&plan), vec![Ipv4Addr::new(10, 89, 0, 3)]);
}

#[test]
fn addresses_are_counted_per_network() {
    let first = plan(&request("a", &[("p_front", &[])]), &[]).expect("plan");
    let second = plan(&request("b", &[("p_back", &[])]), &[first.record]).expect("plan");
    assert_eq!(addresses(&second), vec![Ipv4Addr::new(10, 89, 1, 2)]);
}

#[test]
fn a_reattached_container_keeps_its_addresses_and_drops_its_old_veths() {
    let other = plan(&request("other", &[("p_front", &[])]), &[]).expect("plan");
    let first = plan(
        &request("a", &[("p_front", &[]), ("p_back", &[])]),
        std::slice::from_ref(&other.record),
    )
    .expect("plan");
    let mut old = first.record.clone();
    old.endpoints[0].host_veth = "stkv-old0".into();
    old.endpoints[1].host_veth = "stkv-old1".into();
    let again = plan(
        &request("a", &[("p_front", &[]), ("p_back", &[])]),
        &[other.record, old],
    )
    .expect("plan");
    assert_eq!(addresses(&again), addresses(&first));
    assert_eq!(again.stale_veths, vec!["stkv-old0", "stkv-old1"]);
    assert!(first.stale_veths.is_empty());
}

#[test]
fn a_requested_address_wins_and_a_taken_one_is_refused() {
    let mut wanted = request("a", &[("p_front", &[])]);
    wanted.attachments[0].ipv4_address = Some(Ipv4Addr::new(10, 89, 0, 50));
    let first = plan(&wanted, &[]).expect("plan");
    assert_eq!(addresses(&first), vec![Ipv4Addr::new(10, 89, 0, 50)]);

    let mut clash = request("b", &[("p_front", &[])]);
    clash.attachments[0].ipv4_address = Some(Ipv4Addr::new(10, 89, 0, 50));
    match plan(&clash, &[first.record]) {
        Err(NetError::AddressUnavailable {
            network, address, ..
        }) => {
            assert_eq!(
                (network.as_str(), address.as_str()),
                ("p_front", "10.89.0.50")
            );
        }
        other => panic!("expected AddressUnavailable, got {other:?}"),
    }

    let mut gateway = request("c", &[("p_front", &[])]);
    gateway.attachments[0].ipv4_address = Some(Ipv4Addr::new(10, 89, 0, 1));
    assert!(matches!(
        plan(&gateway, &[]),
        Err(NetError::AddressUnavailable { .. })
    ));
}

#[test]
fn a_full_subnet_is_refused() {
    let tiny = vec![network("p_tiny", "10.89.9.0/30", false)];
    let first = plan_attach(&request("a", &[("p_tiny", &[])]), &tiny, &[], veth).expect("plan");
    assert_eq!(addresses(&first), vec![Ipv4Addr::new(10, 89, 9, 2)]);
    let full = plan_attach(
        &request("b", &[("p_tiny", &[])]),
        &tiny,
        &[first.record],
        veth,
    );
    assert!(
        matches!(full, Err(NetError::AddressUnavailable { ref address, .. }) if address == "an address"),
        "{full:?}"
    );
}

#[test]
fn the_mac_is_derived_from_the_planned_address() {
    let plan = plan(&request("a", &[("p_front", &[]), ("p_back", &[])]), &[]).expect("plan");
    for interface in &plan.interfaces {
        let [a, b, c, d] = interface.endpoint.address.octets();
        assert_eq!(interface.mac, [0x02, 0x42, a, b, c, d]);
    }
}

#[test]
fn interfaces_are_named_in_request_order_with_the_network_bridge() {
    let plan = plan(&request("a", &[("p_back", &[]), ("p_front", &[])]), &[]).expect("plan");
    let seen: Vec<(&str, &str, &str)> = plan
        .interfaces
        .iter()
        .map(|i| {
            (
                i.endpoint.container_ifname.as_str(),
                i.endpoint.host_veth.as_str(),
                i.bridge.name.as_str(),
            )
        })
        .collect();
    let back = names::bridge_name("p_back");
    let front = names::bridge_name("p_front");
    assert_eq!(
        seen,
        vec![
            ("eth0", "v-a-p_back", back.as_str()),
            ("eth1", "v-a-p_front", front.as_str()),
        ]
    );
    assert_eq!(
        plan.interfaces[0].bridge.gateway,
        Ipv4Addr::new(10, 89, 1, 1)
    );
    assert_eq!(plan.interfaces[0].bridge.prefix_len, 24);
    assert_eq!(plan.interfaces[0].bridge.mac, names::bridge_mac(&back));
    assert_eq!(plan.rollback_veths(), vec!["v-a-p_back", "v-a-p_front"]);
}

#[test]
fn the_default_route_goes_through_the_first_network_that_is_not_internal() {
    let both = plan(&request("a", &[("p_back", &[]), ("p_front", &[])]), &[]).expect("plan");
    assert_eq!(both.default_gateway, Some(Ipv4Addr::new(10, 89, 0, 1)));
    let internal_only = plan(&request("b", &[("p_back", &[])]), &[]).expect("plan");
    assert_eq!(internal_only.default_gateway, None);
}

#[test]
fn names_become_dns_entries_per_network() {
    let plan = plan(
        &request("a", &[("p_front", &["web", "www"]), ("p_back", &["web"])]),
        &[],
    )
    .expect("plan");
    let entries = dns_entries(&plan.record);
    assert_eq!(
        entries,
        vec![
            DnsEntry {
                network: "p_front".into(),
                address: Ipv4Addr::new(10, 89, 0, 2),
                names: vec!["web".into(), "www".into()],
            },
            DnsEntry {
                network: "p_back".into(),
                address: Ipv4Addr::new(10, 89, 1, 2),
                names: vec!["web".into()],
            },
        ]
    );
}

#[test]
fn an_unknown_network_or_a_bad_port_is_refused() {
    assert!(matches!(
        plan(&request("a", &[("p_nowhere", &[])]), &[]),
        Err(NetError::NoSuchNetwork(name)) if name == "p_nowhere"
    ));
    let mut bad = request("a", &[("p_front", &[])]);
    let mut mapping = PortMapping::tcp(8080, 80);
    mapping.host_ports.end = 8081;
    bad.ports.push(mapping);
    assert!(matches!(plan(&bad, &[]), Err(NetError::Invalid { .. })));
}

#[test]
fn the_firewall_changes_only_with_published_ports_now_or_before() {
    let plain = plan(&request("a", &[("p_front", &[])]), &[]).expect("plan");
    assert!(!plain.firewall_changes);

    let mut publishing = request("a", &[("p_front", &[])]);
    publishing.ports.push(PortMapping::tcp(8080, 80));
    let published = plan(&publishing, &[]).expect("plan");
    assert!(published.firewall_changes);

    // Re-attached without ports: the old forward must go.
    let again = plan(&request("a", &[("p_front", &[])]), &[published.record]).expect("plan");
    assert!(again.firewall_changes);
}

use std::net::Ipv4Addr;
use std::path::PathBuf;

use super::*;
use crate::model::{Endpoint, PortMapping};

fn network(name: &str, standalone: bool) -> Network {
    Network {
        name: name.into(),
        bridge: format!("br-{name}"),
        subnet: "10.89.0.0/24".parse().expect("cidr"),
        gateway: Ipv4Addr::new(10, 89, 0, 1),
        internal: false,
        external: standalone,
    }
}

fn container(id: &str, on: &[&str]) -> ContainerNetworking {
    ContainerNetworking {
        container_id: id.into(),
        netns: PathBuf::from(format!("/run/netns/{id}")),
        endpoints: on
            .iter()
            .enumerate()
            .map(|(i, network)| Endpoint {
                network: (*network).into(),
                address: Ipv4Addr::new(10, 89, 0, 2),
                prefix_len: 24,
                gateway: Ipv4Addr::new(10, 89, 0, 1),
                host_veth: format!("v-{id}-{network}"),
                container_ifname: format!("eth{i}"),
                names: vec![],
            })
            .collect(),
        ports: vec![],
    }
}

#[test]
fn removing_an_absent_network_is_nothing_to_do() {
    assert_eq!(plan_remove_network("gone", &[], &[]).expect("plan"), None);
}

#[test]
fn a_network_in_use_is_not_removed() {
    let networks = vec![network("p_front", false), network("p_back", false)];
    let containers = vec![
        container("a", &["p_front"]),
        container("b", &["p_back", "p_front"]),
        container("c", &["p_back"]),
    ];
    match plan_remove_network("p_front", &networks, &containers) {
        Err(NetError::InUse {
            network,
            containers,
        }) => {
            assert_eq!(network, "p_front");
            assert_eq!(containers, "a, b");
        }
        other => panic!("expected InUse, got {other:?}"),
    }
    let free = plan_remove_network("p_front", &networks, &containers[2..]).expect("plan");
    assert_eq!(free, Some(networks[0].clone()));
}

#[test]
fn detach_deletes_the_veths_unless_released() {
    let mut record = container("a", &["p_front", "p_back"]);
    record.ports.push(PortMapping::tcp(8080, 80));
    let containers = vec![record.clone(), container("b", &["p_front"])];

    let detach = plan_detach("a", &containers, true).expect("attached");
    assert_eq!(detach.veths, vec!["v-a-p_front", "v-a-p_back"]);
    assert!(detach.firewall_changes);
    assert_eq!(detach.record, record);

    let release = plan_detach("a", &containers, false).expect("attached");
    assert!(release.veths.is_empty());

    let plain = plan_detach("b", &containers, true).expect("attached");
    assert!(!plain.firewall_changes);

    assert_eq!(plan_detach("nobody", &containers, true), None);
}

#[test]
fn only_bridges_left_without_endpoints_become_idle() {
    let networks = vec![
        network("p_front", false),
        network("p_back", false),
        network("p_other", false),
        network("shared", true),
    ];
    let departed = container("a", &["p_front", "p_back", "shared"]);
    let remaining = vec![container("b", &["p_back"]), container("c", &["p_other"])];
    // p_back still has b; p_other was never a's; shared is standalone.
    assert_eq!(
        idle_bridges(&departed, &networks, &remaining),
        vec!["br-p_front"]
    );
    assert_eq!(
        idle_bridges(&departed, &networks, &[]),
        vec!["br-p_front", "br-p_back"]
    );
}

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::*;

fn net(s: &str) -> Ipv4Net {
    s.parse().expect("cidr")
}

fn spec(name: &str) -> NetworkSpec {
    NetworkSpec {
        name: name.into(),
        ..NetworkSpec::default()
    }
}

fn pools() -> Vec<AddressPool> {
    vec![AddressPool {
        base: net("10.89.0.0/16"),
        size: 24,
    }]
}

fn existing() -> Vec<Network> {
    vec![Network {
        name: "p_front".into(),
        bridge: names::bridge_name("p_front"),
        subnet: net("10.89.0.0/24"),
        gateway: Ipv4Addr::new(10, 89, 0, 1),
        internal: false,
        external: false,
    }]
}

#[test]
fn the_same_spec_reuses_the_network_and_other_settings_are_refused() {
    let found = existing();
    assert_eq!(
        plan_network(&spec("p_front"), &found).expect("plan"),
        NetworkPlan::Reuse(found[0].clone())
    );
    let internal = NetworkSpec {
        internal: true,
        ..spec("p_front")
    };
    assert!(matches!(
        plan_network(&internal, &found),
        Err(NetError::NetworkExists(_))
    ));
    // An external reference takes the network as it is.
    let external = NetworkSpec {
        internal: true,
        external: true,
        ..spec("p_front")
    };
    assert!(matches!(
        plan_network(&external, &found),
        Ok(NetworkPlan::Reuse(_))
    ));
}

#[test]
fn a_missing_external_network_is_refused() {
    let external = NetworkSpec {
        external: true,
        ..spec("shared")
    };
    assert!(matches!(
        plan_network(&external, &existing()),
        Err(NetError::NoSuchNetwork(name)) if name == "shared"
    ));
}

#[test]
fn host_routes_are_read_only_to_choose_a_subnet() {
    assert_eq!(
        plan_network(&spec("p_new"), &existing()).expect("plan"),
        NetworkPlan::Create {
            needs_host_routes: true
        }
    );
    let given = NetworkSpec {
        subnet: Some(net("172.30.0.0/24")),
        ..spec("p_new")
    };
    assert_eq!(
        plan_network(&given, &existing()).expect("plan"),
        NetworkPlan::Create {
            needs_host_routes: false
        }
    );
}

#[test]
fn a_new_subnet_avoids_networks_and_host_routes() {
    let routes = [net("10.89.1.0/24"), net("10.89.2.5/32")];
    let made = plan_new_network(&spec("p_new"), &existing(), &pools(), &routes).expect("plan");
    assert_eq!(made.subnet, net("10.89.3.0/24"));
    assert_eq!(made.gateway, Ipv4Addr::new(10, 89, 3, 1));
    assert_eq!(made.bridge, names::bridge_name("p_new"));
    assert!(!made.internal && !made.external);
}

#[test]
fn exhausted_pools_are_refused() {
    let routes = [net("10.89.0.0/16")];
    assert!(matches!(
        plan_new_network(&spec("p_new"), &[], &pools(), &routes),
        Err(NetError::PoolsExhausted { .. })
    ));
}

#[test]
fn an_overlapping_subnet_is_refused() {
    let overlapping = NetworkSpec {
        subnet: Some(net("10.89.0.128/25")),
        ..spec("p_new")
    };
    match plan_new_network(&overlapping, &existing(), &pools(), &[]) {
        Err(NetError::Invalid { network, reason }) => {
            assert_eq!(network, "p_new");
            assert!(reason.contains("overlaps network \"p_front\""), "{reason}");
        }
        other => panic!("expected an overlap refusal, got {other:?}"),
    }
}

#[test]
fn a_given_subnet_is_truncated_and_its_gateway_checked() {
    let given = NetworkSpec {
        subnet: Some(net("172.30.0.7/24")),
        gateway: Some(Ipv4Addr::new(172, 30, 0, 254)),
        internal: true,
        standalone: true,
        ..spec("p_new")
    };
    let made = plan_new_network(&given, &existing(), &pools(), &[]).expect("plan");
    assert_eq!(made.subnet, net("172.30.0.0/24"));
    assert_eq!(made.gateway, Ipv4Addr::new(172, 30, 0, 254));
    assert!(made.internal && made.external);

    for bad in [
        Ipv4Addr::new(172, 31, 0, 1),
        Ipv4Addr::new(172, 30, 0, 0),
        Ipv4Addr::new(172, 30, 0, 255),
    ] {
        let spec = NetworkSpec {
            gateway: Some(bad),
            ..given.clone()
        };
        assert!(
            matches!(
                plan_new_network(&spec, &existing(), &pools(), &[]),
                Err(NetError::Invalid { .. })
            ),
            "gateway {bad} accepted"
        );
    }
}

#[test]
fn the_bridge_plan_pins_mac_and_gateway() {
    let network = &existing()[0];
    let bridge = BridgePlan::of(network);
    assert_eq!(bridge.name, network.bridge);
    assert_eq!(bridge.mac, names::bridge_mac(&network.bridge));
    assert_eq!(bridge.gateway, network.gateway);
    assert_eq!(bridge.prefix_len, 24);
}

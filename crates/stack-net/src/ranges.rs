//! Which IPv4 ranges a bridge network (or an address pool) may use. One
//! rule for every way a subnet arrives: `stack network create`, a stack
//! file's `ipam.config`, the API, and `default-address-pools` in the config
//! file.
//!
//! A bridge subnet gets a MASQUERADE rule for traffic leaving it and a
//! route on the host. `0.0.0.0/0` would masquerade all egress of the host;
//! loopback, link-local, multicast and the reserved blocks would shadow the
//! host's own routes or fail deep in netlink. A /31 or /32 has no room for
//! a gateway and a container.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// Blocks no network may overlap, with what they are.
const RESERVED: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8, "\"this network\" (0.0.0.0/8)"),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback (127.0.0.0/8)"),
    (
        Ipv4Addr::new(169, 254, 0, 0),
        16,
        "link-local (169.254.0.0/16)",
    ),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast (224.0.0.0/4)"),
    (
        Ipv4Addr::new(240, 0, 0, 0),
        4,
        "reserved and broadcast (240.0.0.0/4, 255.255.255.255)",
    ),
];

/// Longest prefix a network may have: a /30 holds a gateway and one host.
pub const MAX_PREFIX: u8 = 30;

/// Why a range or address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("subnet {subnet} is too small: a network needs at most /{MAX_PREFIX} (room for a gateway and a container)")]
    TooSmall { subnet: Ipv4Net },
    #[error("subnet {subnet} overlaps {block}, which no network may use")]
    Reserved {
        subnet: Ipv4Net,
        block: &'static str,
    },
    #[error("gateway {gateway} is not a host address of the subnet {subnet}")]
    GatewayOutside { gateway: Ipv4Addr, subnet: Ipv4Net },
    #[error("ip_range {range} is not inside the subnet {subnet}")]
    RangeOutside { range: Ipv4Net, subnet: Ipv4Net },
}

/// Checks a subnet a network would be made on (or a pool subnets would be
/// carved from): no reserved block, room for a gateway and a host.
pub fn check_subnet(subnet: &Ipv4Net) -> Result<(), RangeError> {
    if let Some(block) = reserved_overlap(subnet) {
        return Err(RangeError::Reserved {
            subnet: *subnet,
            block,
        });
    }
    if subnet.prefix_len() > MAX_PREFIX {
        return Err(RangeError::TooSmall { subnet: *subnet });
    }
    Ok(())
}

/// [`check_subnet`], plus the gateway being a host address of it and the
/// `ip_range` lying inside it.
pub fn check_network(
    subnet: &Ipv4Net,
    gateway: Option<Ipv4Addr>,
    ip_range: Option<&Ipv4Net>,
) -> Result<(), RangeError> {
    check_subnet(subnet)?;
    let subnet = subnet.trunc();
    if let Some(gateway) = gateway {
        if !subnet.contains(&gateway)
            || gateway == subnet.network()
            || gateway == subnet.broadcast()
        {
            return Err(RangeError::GatewayOutside { gateway, subnet });
        }
    }
    if let Some(range) = ip_range {
        if !subnet.contains(range) {
            return Err(RangeError::RangeOutside {
                range: *range,
                subnet,
            });
        }
    }
    Ok(())
}

fn reserved_overlap(subnet: &Ipv4Net) -> Option<&'static str> {
    RESERVED.iter().find_map(|(addr, len, what)| {
        let block = Ipv4Net::new(*addr, *len).ok()?;
        overlaps(&block, subnet).then_some(*what)
    })
}

/// True when the two networks share at least one address.
pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().expect("test CIDR")
    }

    #[test]
    fn private_ranges_pass() {
        for ok in [
            "10.89.0.0/24",
            "172.16.0.0/12",
            "192.168.1.0/30",
            "100.64.0.0/10",
            "10.0.0.0/8",
        ] {
            check_subnet(&net(ok)).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn hostile_ranges_are_refused() {
        for (bad, what) in [
            ("0.0.0.0/0", "0.0.0.0/8"),
            ("0.0.0.0/8", "0.0.0.0/8"),
            ("0.1.2.0/24", "0.0.0.0/8"),
            ("127.0.0.0/8", "loopback"),
            ("127.0.0.0/30", "loopback"),
            ("120.0.0.0/5", "loopback"),
            ("169.254.0.0/16", "link-local"),
            ("169.254.10.0/24", "link-local"),
            ("224.0.0.0/4", "multicast"),
            ("239.1.1.0/24", "multicast"),
            ("255.255.255.252/30", "255.255.255.255"),
            ("128.0.0.0/1", "link-local"),
        ] {
            let err = check_subnet(&net(bad)).expect_err(bad).to_string();
            assert!(err.contains(what) && err.contains(bad), "{bad}: {err}");
        }
        for small in ["10.0.0.0/31", "10.0.0.1/32"] {
            assert!(matches!(
                check_subnet(&net(small)),
                Err(RangeError::TooSmall { .. })
            ));
        }
    }

    #[test]
    fn gateway_and_range_must_lie_inside() {
        let s = net("10.5.0.0/24");
        assert!(check_network(
            &s,
            Some("10.5.0.1".parse().expect("ip")),
            Some(&net("10.5.0.128/25"))
        )
        .is_ok());
        for gw in ["10.6.0.1", "10.5.0.0", "10.5.0.255"] {
            let err = check_network(&s, Some(gw.parse().expect("ip")), None).expect_err(gw);
            assert!(err.to_string().contains(gw), "{err}");
        }
        let err = check_network(&s, None, Some(&net("10.5.0.0/16"))).expect_err("range");
        assert!(matches!(err, RangeError::RangeOutside { .. }), "{err}");
    }
}

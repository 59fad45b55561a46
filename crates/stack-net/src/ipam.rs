//! Address management: which subnet a new network gets and which address a
//! container gets on it. Pure functions over what is already taken, so the
//! caller decides where "taken" comes from (state files, host routes).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::model::AddressPool;
pub use crate::ranges::overlaps;

/// The first subnet from `pools`, in order, that overlaps nothing in
/// `taken` (existing networks and routes already on the host; the default
/// route must not be passed, it overlaps everything).
pub fn allocate_subnet(pools: &[AddressPool], taken: &[Ipv4Net]) -> Option<Ipv4Net> {
    pools.iter().find_map(|pool| {
        pool.base
            .subnets(pool.size)
            .ok()?
            .find(|candidate| !taken.iter().any(|t| overlaps(candidate, t)))
    })
}

/// The gateway a network gets when none is configured: the first host address.
pub fn default_gateway(subnet: &Ipv4Net) -> Option<Ipv4Addr> {
    subnet.hosts().next()
}

/// Why an address cannot be given out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    OutsideSubnet,
    Reserved,
    InUse,
    Full,
}

impl AddressError {
    pub fn describe(&self, subnet: &Ipv4Net) -> String {
        match self {
            AddressError::OutsideSubnet => format!("outside the subnet {subnet}"),
            AddressError::Reserved => {
                format!("reserved in {subnet} (network, broadcast or gateway address)")
            }
            AddressError::InUse => "already in use".to_string(),
            AddressError::Full => format!("not available: {subnet} is full"),
        }
    }
}

/// Checks that `address` can be a host address in `subnet`.
pub fn check_host_address(
    subnet: &Ipv4Net,
    gateway: Ipv4Addr,
    address: Ipv4Addr,
) -> Result<(), AddressError> {
    if !subnet.contains(&address) {
        return Err(AddressError::OutsideSubnet);
    }
    if address == subnet.network() || address == subnet.broadcast() || address == gateway {
        return Err(AddressError::Reserved);
    }
    Ok(())
}

/// Picks a container address: `requested` if it is free, else the lowest
/// free host address. The gateway is never handed out.
pub fn allocate_address(
    subnet: &Ipv4Net,
    gateway: Ipv4Addr,
    used: &BTreeSet<Ipv4Addr>,
    requested: Option<Ipv4Addr>,
) -> Result<Ipv4Addr, AddressError> {
    if let Some(address) = requested {
        check_host_address(subnet, gateway, address)?;
        if used.contains(&address) {
            return Err(AddressError::InUse);
        }
        return Ok(address);
    }
    subnet
        .hosts()
        .find(|a| *a != gateway && !used.contains(a))
        .ok_or(AddressError::Full)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().expect("test CIDR")
    }

    fn pools() -> Vec<AddressPool> {
        AddressPool::default_pools()
    }

    #[test]
    fn first_subnet_of_the_default_pool() {
        assert_eq!(allocate_subnet(&pools(), &[]), Some(net("10.89.0.0/24")));
    }

    #[test]
    fn skips_subnets_of_other_networks_and_host_routes() {
        let taken = [
            net("10.89.0.0/24"),
            net("10.89.1.128/25"),
            net("10.89.2.0/23"),
        ];
        assert_eq!(allocate_subnet(&pools(), &taken), Some(net("10.89.4.0/24")));
    }

    #[test]
    fn a_covering_route_exhausts_the_pool_and_the_next_pool_is_used() {
        let pools = vec![
            AddressPool::parse("10.89.0.0/16", 24).expect("pool"),
            AddressPool::parse("172.30.0.0/16", 20).expect("pool"),
        ];
        assert_eq!(
            allocate_subnet(&pools, &[net("10.0.0.0/8")]),
            Some(net("172.30.0.0/20"))
        );
        assert_eq!(
            allocate_subnet(&pools, &[net("10.0.0.0/8"), net("172.16.0.0/12")]),
            None
        );
    }

    #[test]
    fn pool_parse_rejects_bad_input() {
        assert!(AddressPool::parse("10.89.0.0", 24).is_err());
        assert!(AddressPool::parse("10.89.0.0/16", 8).is_err());
        assert!(AddressPool::parse("10.89.0.0/16", 31).is_err());
        assert_eq!(
            AddressPool::parse("10.89.7.0/16", 24).expect("pool").base,
            net("10.89.0.0/16")
        );
    }

    #[test]
    fn addresses_start_after_the_gateway_and_skip_used_ones() {
        let subnet = net("10.89.0.0/24");
        let gw = Ipv4Addr::new(10, 89, 0, 1);
        let mut used = BTreeSet::new();
        let a = allocate_address(&subnet, gw, &used, None).expect("first");
        assert_eq!(a, Ipv4Addr::new(10, 89, 0, 2));
        used.insert(a);
        used.insert(Ipv4Addr::new(10, 89, 0, 3));
        assert_eq!(
            allocate_address(&subnet, gw, &used, None),
            Ok(Ipv4Addr::new(10, 89, 0, 4))
        );
    }

    #[test]
    fn gateway_elsewhere_in_the_subnet_is_never_given_out() {
        let subnet = net("192.168.50.0/30");
        let gw = Ipv4Addr::new(192, 168, 50, 2);
        let used = BTreeSet::from([Ipv4Addr::new(192, 168, 50, 1)]);
        assert_eq!(
            allocate_address(&subnet, gw, &used, None),
            Err(AddressError::Full)
        );
    }

    #[test]
    fn static_addresses_are_checked() {
        let subnet = net("10.89.3.0/24");
        let gw = Ipv4Addr::new(10, 89, 3, 1);
        let used = BTreeSet::from([Ipv4Addr::new(10, 89, 3, 9)]);
        let ask = |a: [u8; 4]| allocate_address(&subnet, gw, &used, Some(Ipv4Addr::from(a)));
        assert_eq!(ask([10, 89, 3, 50]), Ok(Ipv4Addr::new(10, 89, 3, 50)));
        assert_eq!(ask([10, 89, 3, 9]), Err(AddressError::InUse));
        assert_eq!(ask([10, 89, 3, 1]), Err(AddressError::Reserved));
        assert_eq!(ask([10, 89, 3, 255]), Err(AddressError::Reserved));
        assert_eq!(ask([10, 89, 4, 5]), Err(AddressError::OutsideSubnet));
    }
}

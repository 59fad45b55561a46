//! `[network]`: the address pools that network subnets are allocated from.

use serde::Deserialize;

/// Network settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NetworkConfig {
    /// Pools, in order, that subnets of new networks are carved from.
    #[serde(default = "default_pools")]
    pub default_address_pools: Vec<AddressPool>,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            default_address_pools: default_pools(),
        }
    }
}

/// A pool such as `{ base = "10.89.0.0/16", size = 24 }` (Docker's shape).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressPool {
    pub base: String,
    pub size: u8,
}

fn default_pools() -> Vec<AddressPool> {
    vec![AddressPool {
        base: "10.89.0.0/16".into(),
        size: 24,
    }]
}

impl NetworkConfig {
    /// Each pool must pass stack-net's rules (an IPv4 CIDR outside the
    /// reserved blocks, subnets of /30 or larger): the same rules as a
    /// network's own subnet.
    pub(super) fn validate(&self) -> Result<(), stack_net::PoolError> {
        for pool in &self.default_address_pools {
            stack_net::AddressPool::parse(&pool.base, pool.size)?;
        }
        Ok(())
    }
}

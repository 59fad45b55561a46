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
    pub(super) fn validate(&self) -> Result<(), String> {
        for pool in &self.default_address_pools {
            let (addr, prefix) = pool
                .base
                .split_once('/')
                .ok_or_else(|| format!("address pool base {:?} is not a CIDR", pool.base))?;
            let ip: std::net::IpAddr = addr
                .parse()
                .map_err(|_| format!("address pool base {:?} is not a CIDR", pool.base))?;
            let prefix: u8 = prefix
                .parse()
                .map_err(|_| format!("address pool base {:?} has a bad prefix", pool.base))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            if prefix > max || pool.size > max || pool.size < prefix {
                return Err(format!(
                    "address pool {:?}: size /{} must lie between /{} and /{}",
                    pool.base, pool.size, prefix, max
                ));
            }
        }
        Ok(())
    }
}

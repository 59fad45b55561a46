//! The host's rules handed to the stack-file loader
//! ([`stack_spec::LoadOptions::checks`]), so a stack file's `ipam.config`
//! is refused by the same rule as `stack network create` and the API
//! (stack-net's [`stack_net::ranges`]), with the file, line and column.

use std::net::Ipv4Addr;
use std::sync::Arc;

use ipnet::Ipv4Net;
use stack_net::NetError;
use stack_spec::{CheckError, HostChecks, IpamPool};

/// The rules of this engine's subsystems.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineChecks;

/// What every front end puts in [`stack_spec::LoadOptions::checks`].
pub fn spec_checks() -> Arc<dyn HostChecks> {
    Arc::new(EngineChecks)
}

impl HostChecks for EngineChecks {
    fn ipam_pool(&self, network: &str, pool: &IpamPool) -> Result<(), CheckError> {
        let invalid = |reason: NotA| NetError::Invalid {
            network: network.to_string(),
            reason: reason.to_string(),
        };
        let subnet = parse::<Ipv4Net>(pool.subnet.as_deref(), "subnet", "an IPv4 CIDR (a.b.c.d/n)")
            .map_err(invalid)?;
        let gateway = parse::<Ipv4Addr>(pool.gateway.as_deref(), "gateway", "an IPv4 address")
            .map_err(invalid)?;
        let range = parse::<Ipv4Net>(pool.ip_range.as_deref(), "ip_range", "an IPv4 CIDR")
            .map_err(invalid)?;
        let Some(subnet) = subnet else {
            if gateway.is_some() || range.is_some() {
                return Err(NetError::Invalid {
                    network: network.to_string(),
                    reason: "gateway and ip_range need a subnet".into(),
                }
                .into());
            }
            return Ok(());
        };
        stack_net::ranges::check_network(&subnet, gateway, range.as_ref()).map_err(|e| {
            NetError::Invalid {
                network: network.to_string(),
                reason: e.to_string(),
            }
            .into()
        })
    }
}

/// A value of `ipam.config` that does not parse as what its key needs.
#[derive(Debug, thiserror::Error)]
#[error("{key} {text:?} is not {what}")]
struct NotA {
    key: &'static str,
    text: String,
    what: &'static str,
}

fn parse<T: std::str::FromStr>(
    text: Option<&str>,
    key: &'static str,
    what: &'static str,
) -> Result<Option<T>, NotA> {
    text.map(|t| {
        t.parse().map_err(|_| NotA {
            key,
            text: t.to_string(),
            what,
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(subnet: &str, gateway: Option<&str>) -> IpamPool {
        IpamPool {
            subnet: Some(subnet.into()),
            gateway: gateway.map(Into::into),
            ..IpamPool::default()
        }
    }

    #[test]
    fn refuses_what_stack_net_refuses_and_names_the_network() {
        let err = EngineChecks
            .ipam_pool("demo_x", &pool("224.0.0.0/4", None))
            .expect_err("multicast");
        assert!(err.to_string().contains("network \"demo_x\""), "{err}");
        assert!(err.to_string().contains("224.0.0.0/4"), "{err}");
        assert!(EngineChecks
            .ipam_pool("n", &pool("10.1.0.0/24", Some("10.2.0.1")))
            .is_err());
        assert!(EngineChecks
            .ipam_pool("n", &pool("10.1.0.0/24", Some("10.1.0.1")))
            .is_ok());
        assert!(EngineChecks
            .ipam_pool("n", &pool("nonsense", None))
            .is_err());
    }
}

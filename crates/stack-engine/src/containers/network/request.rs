//! What `run` asked for, checked at create time and kept in the container
//! directory (`network.json`), so every later start connects the same way.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use serde::{Deserialize, Serialize};
use stack_net::PortMapping;

use super::publish::parse_publish;
use super::DEFAULT_NETWORK;
use crate::containers::{ContainerError, NetworkMode, NetworkOptions};

/// File name of the request inside a container directory.
pub const REQUEST_FILE: &str = "network.json";

/// A checked, persisted network request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRequest {
    pub mode: RequestedMode,
    #[serde(default)]
    pub ports: Vec<PortMapping>,
    #[serde(default)]
    pub dns: Vec<IpAddr>,
    #[serde(default)]
    pub extra_hosts: Vec<(String, IpAddr)>,
}

/// `network_mode` / `--network`, with the default resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestedMode {
    None,
    Host,
    /// Networks in order; the first gets the published ports.
    Networks(Vec<JoinRecord>),
    /// Another container's namespace, by id or name.
    Container(String),
}

/// One network to join.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRecord {
    pub network: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub ipv4_address: Option<Ipv4Addr>,
}

impl NetworkRequest {
    /// Checks `run`'s options: known networks (the default one is made on
    /// demand), well-formed ports, DNS servers and extra hosts. Each error
    /// names the value at fault.
    pub fn check(
        options: &NetworkOptions,
        known_network: impl Fn(&str) -> bool,
        known_container: impl Fn(&str) -> bool,
    ) -> Result<NetworkRequest, ContainerError> {
        let invalid = ContainerError::Invalid;
        let mode = match &options.mode {
            NetworkMode::Default => RequestedMode::Networks(vec![JoinRecord {
                network: DEFAULT_NETWORK.to_string(),
                aliases: Vec::new(),
                ipv4_address: None,
            }]),
            NetworkMode::None => RequestedMode::None,
            NetworkMode::Host => RequestedMode::Host,
            NetworkMode::Container(other) => {
                if !known_container(other) {
                    return Err(invalid(format!(
                        "network mode container:{other}: no such container: {other}"
                    )));
                }
                RequestedMode::Container(other.clone())
            }
            NetworkMode::Networks(joins) => {
                let mut records = Vec::new();
                for join in joins {
                    if join.network != DEFAULT_NETWORK && !known_network(&join.network) {
                        return Err(invalid(format!("network {} not found", join.network)));
                    }
                    if records
                        .iter()
                        .any(|r: &JoinRecord| r.network == join.network)
                    {
                        return Err(invalid(format!(
                            "network {} is given more than once",
                            join.network
                        )));
                    }
                    records.push(JoinRecord {
                        network: join.network.clone(),
                        aliases: join.aliases.clone(),
                        ipv4_address: join.ipv4_address,
                    });
                }
                RequestedMode::Networks(records)
            }
        };
        let ports = options
            .publish
            .iter()
            .map(|p| parse_publish(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(e.to_string()))?;
        if !ports.is_empty() && matches!(mode, RequestedMode::None | RequestedMode::Container(_)) {
            return Err(invalid(format!(
                "published ports ({}) need a network of the container's own",
                options.publish.join(", ")
            )));
        }
        let dns = options
            .dns
            .iter()
            .map(|d| {
                d.parse::<IpAddr>()
                    .map_err(|_| invalid(format!("--dns {d:?} is not an IP address")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let extra_hosts = options
            .extra_hosts
            .iter()
            .map(|h| parse_extra_host(h).map_err(|e| invalid(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NetworkRequest {
            mode,
            ports,
            dns,
            extra_hosts,
        })
    }

    /// Reads the request of a container directory; `None` for a container
    /// made before networks existed (it keeps its private namespace).
    pub fn load(dir: &Path) -> Result<Option<NetworkRequest>, ContainerError> {
        let path = dir.join(REQUEST_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(ContainerError::Io {
                    context: format!("read {}", path.display()),
                    source: e,
                })
            }
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ContainerError::Invalid(format!("{}: {e}", path.display())))
    }

    pub fn save(&self, dir: &Path) -> Result<(), ContainerError> {
        let path = dir.join(REQUEST_FILE);
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| ContainerError::Invalid(format!("network request: {e}")))?;
        std::fs::write(&path, bytes).map_err(|source| ContainerError::Io {
            context: format!("write {}", path.display()),
            source,
        })
    }
}

/// An `--add-host` value that is not `NAME:IP`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--add-host {0:?}: expected NAME:IP")]
pub struct ExtraHostError(pub String);

/// `NAME:IP` (Docker also takes `NAME=IP`); `host-gateway` is not known here.
pub fn parse_extra_host(text: &str) -> Result<(String, IpAddr), ExtraHostError> {
    let bad = || ExtraHostError(text.to_string());
    let (name, ip) = text
        .split_once('=')
        .or_else(|| text.split_once(':'))
        .ok_or_else(bad)?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    if name.is_empty() {
        return Err(bad());
    }
    let ip = ip.parse::<IpAddr>().map_err(|_| bad())?;
    Ok((name.to_string(), ip))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::NetworkJoin;

    fn options(mode: NetworkMode) -> NetworkOptions {
        NetworkOptions {
            mode,
            ..Default::default()
        }
    }

    #[test]
    fn default_mode_joins_the_default_network() {
        let r = NetworkRequest::check(&options(NetworkMode::Default), |_| false, |_| false)
            .expect("default");
        assert_eq!(
            r.mode,
            RequestedMode::Networks(vec![JoinRecord {
                network: DEFAULT_NETWORK.into(),
                aliases: vec![],
                ipv4_address: None
            }])
        );
    }

    #[test]
    fn unknown_network_and_container_are_named() {
        let mode = NetworkMode::Networks(vec![NetworkJoin {
            network: "nowhere".into(),
            ..Default::default()
        }]);
        let err = NetworkRequest::check(&options(mode), |_| false, |_| false).expect_err("unknown");
        assert!(
            err.to_string().contains("network nowhere not found"),
            "{err}"
        );
        let err = NetworkRequest::check(
            &options(NetworkMode::Container("ghost".into())),
            |_| true,
            |_| false,
        )
        .expect_err("unknown container");
        assert!(err.to_string().contains("ghost"), "{err}");
    }

    #[test]
    fn ports_dns_and_hosts_are_checked() {
        let mut o = options(NetworkMode::Default);
        o.publish = vec!["8080:80".into(), "bad:port".into()];
        let err = NetworkRequest::check(&o, |_| true, |_| true).expect_err("bad port");
        assert!(err.to_string().contains("bad:port"), "{err}");
        o.publish = vec!["8080:80".into()];
        o.dns = vec!["10.0.0.53".into()];
        o.extra_hosts = vec!["db:10.1.2.3".into(), "v6=::1".into()];
        let r = NetworkRequest::check(&o, |_| true, |_| true).expect("good");
        assert_eq!(r.ports.len(), 1);
        assert_eq!(r.extra_hosts[1].0, "v6");
        o.dns = vec!["resolver".into()];
        assert!(NetworkRequest::check(&o, |_| true, |_| true).is_err());
        let mut none = options(NetworkMode::None);
        none.publish = vec!["80:80".into()];
        assert!(NetworkRequest::check(&none, |_| true, |_| true).is_err());
        assert!(parse_extra_host("nocolon").is_err());
        assert!(parse_extra_host(":1.2.3.4").is_err());
    }
}

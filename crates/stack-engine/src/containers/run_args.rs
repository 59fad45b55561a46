//! The options of a new container as `docker run`'s words give them: the
//! one place they are read, used by `stack run`'s flags and by the Docker
//! API's `POST /containers/create` (whose request carries the same words
//! in JSON). Each error names the option at fault with the `stack run`
//! flag; the Docker mapping says which JSON field it came from.

use std::collections::BTreeMap;

use stack_runtime::spec::{Backend, RestartSpec, Rlimit, SecuritySpec};
use stack_runtime::supervise::RestartPolicy;

use super::{ContainerError, NetworkJoin, NetworkMode};
use crate::paths::HostPaths;

fn invalid(message: String) -> ContainerError {
    ContainerError::Invalid(message)
}

/// `--network` values (with `--network-alias` and `--ip`, which apply to
/// the first network) as a network mode.
pub fn network_mode(
    networks: &[String],
    aliases: &[String],
    ip: Option<&str>,
) -> Result<NetworkMode, ContainerError> {
    let ip = ip
        .map(|ip| {
            ip.parse::<std::net::Ipv4Addr>()
                .map_err(|_| invalid(format!("--ip {ip:?} is not an IPv4 address")))
        })
        .transpose()?;
    let special = |n: &str| n == "none" || n == "host" || n.starts_with("container:");
    if networks.len() > 1 {
        if let Some(n) = networks.iter().find(|n| special(n)) {
            return Err(invalid(format!(
                "--network {n} cannot be combined with other networks"
            )));
        }
    }
    let first = networks.first().map(String::as_str);
    let joins_nothing = matches!(first, Some(n) if special(n));
    if joins_nothing && (ip.is_some() || !aliases.is_empty()) {
        return Err(invalid(format!(
            "--ip and --network-alias need a network; --network {} has none",
            first.unwrap_or_default()
        )));
    }
    Ok(match first {
        None if aliases.is_empty() && ip.is_none() => NetworkMode::Default,
        None => NetworkMode::Networks(vec![NetworkJoin {
            network: super::network::DEFAULT_NETWORK.into(),
            aliases: aliases.to_vec(),
            ipv4_address: ip,
        }]),
        Some("none") => NetworkMode::None,
        Some("host") => NetworkMode::Host,
        Some(n) if n.starts_with("container:") => {
            let other = &n["container:".len()..];
            if other.is_empty() {
                return Err(invalid(
                    "--network container: needs a container name or id".into(),
                ));
            }
            NetworkMode::Container(other.to_string())
        }
        Some(_) => NetworkMode::Networks(
            networks
                .iter()
                .enumerate()
                .map(|(i, n)| NetworkJoin {
                    network: n.clone(),
                    aliases: if i == 0 { aliases.to_vec() } else { Vec::new() },
                    ipv4_address: if i == 0 { ip } else { None },
                })
                .collect(),
        ),
    })
}

/// `--privileged`, `--cap-add`, `--cap-drop` and `--security-opt`
/// (`no-new-privileges`, `seccomp=unconfined`; anything else is refused).
pub fn security(
    privileged: bool,
    cap_add: Vec<String>,
    cap_drop: Vec<String>,
    security_opts: &[String],
) -> Result<SecuritySpec, ContainerError> {
    let mut security = SecuritySpec {
        privileged,
        cap_add,
        cap_drop,
        ..Default::default()
    };
    for opt in security_opts {
        match opt.as_str() {
            "no-new-privileges" | "no-new-privileges:true" | "no-new-privileges=true" => {
                security.no_new_privileges = true
            }
            "seccomp=unconfined" | "seccomp:unconfined" => security.seccomp_unconfined = true,
            other => {
                return Err(invalid(format!(
                    "--security-opt {other:?} is not supported"
                )))
            }
        }
    }
    Ok(security)
}

/// `nofile=1024:2048` or `nproc=512` (`-1` or `unlimited`: no limit).
pub fn parse_ulimit(text: &str) -> Result<Rlimit, ContainerError> {
    let bad = || invalid(format!("--ulimit {text:?}: expected NAME=SOFT[:HARD]"));
    let (name, values) = text.split_once('=').ok_or_else(bad)?;
    let (soft, hard) = values.split_once(':').unwrap_or((values, values));
    let parse = |v: &str| {
        if v == "-1" || v == "unlimited" {
            Ok(u64::MAX)
        } else {
            v.parse::<u64>().map_err(|_| bad())
        }
    };
    Ok(Rlimit {
        name: name.to_string(),
        soft: parse(soft)?,
        hard: parse(hard)?,
    })
}

/// `--restart POLICY` (`no`, `always`, `on-failure[:N]`,
/// `unless-stopped`); with `--rm` only `no` is allowed, as in Docker.
pub fn restart(
    policy: &str,
    auto_remove: bool,
    when_unhealthy: bool,
) -> Result<RestartSpec, ContainerError> {
    let policy: RestartPolicy = policy
        .parse()
        .map_err(|e| invalid(format!("--restart: {e}")))?;
    if auto_remove && policy != RestartPolicy::No {
        return Err(invalid(format!(
            "conflicting options: --restart {policy} and --rm (a removed container cannot be restarted)"
        )));
    }
    Ok(RestartSpec {
        policy,
        when_unhealthy,
    })
}

/// `--sysctl KEY=VALUE` values as a map.
pub fn sysctls(entries: &[String]) -> Result<BTreeMap<String, String>, ContainerError> {
    let mut map = BTreeMap::new();
    for entry in entries {
        let (key, value) = entry
            .split_once('=')
            .ok_or_else(|| invalid(format!("--sysctl {entry:?}: expected KEY=VALUE")))?;
        map.insert(key.to_string(), value.to_string());
    }
    Ok(map)
}

/// `--label KEY=VALUE` or `KEY` (an empty value), as Docker's labels.
pub fn parse_label(text: &str) -> Result<(String, String), ContainerError> {
    let (key, value) = text.split_once('=').unwrap_or((text, ""));
    if key.trim().is_empty() {
        return Err(invalid(format!("{text:?}: the label has no key")));
    }
    Ok((key.trim().to_string(), value.to_string()))
}

/// The backend a container gets when none is asked for: the host
/// config's `runtime.default`.
pub fn default_backend(paths: &HostPaths) -> Result<Backend, ContainerError> {
    let config =
        crate::config::Config::load(&paths.config_file).map_err(|e| invalid(e.to_string()))?;
    config
        .runtime
        .default
        .parse::<Backend>()
        .map_err(|e| invalid(format!("{}: {e}", paths.config_file.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn network_flags() {
        assert_eq!(
            network_mode(&[], &[], None).ok(),
            Some(NetworkMode::Default)
        );
        assert_eq!(
            network_mode(&strings(&["none"]), &[], None).ok(),
            Some(NetworkMode::None)
        );
        assert_eq!(
            network_mode(&strings(&["host"]), &[], None).ok(),
            Some(NetworkMode::Host)
        );
        assert_eq!(
            network_mode(&strings(&["container:web"]), &[], None).ok(),
            Some(NetworkMode::Container("web".into()))
        );
        let Ok(NetworkMode::Networks(joins)) = network_mode(
            &strings(&["front", "back"]),
            &strings(&["api"]),
            Some("10.5.0.9"),
        ) else {
            panic!("expected networks");
        };
        assert_eq!(joins.len(), 2);
        assert_eq!(joins[0].aliases, strings(&["api"]));
        assert_eq!(joins[0].ipv4_address, Some("10.5.0.9".parse().expect("ip")));
        assert!(joins[1].aliases.is_empty() && joins[1].ipv4_address.is_none());
        let Ok(NetworkMode::Networks(joins)) = network_mode(&[], &strings(&["db"]), None) else {
            panic!("expected networks");
        };
        assert_eq!(joins[0].network, "bridge");
        assert!(network_mode(&strings(&["none", "front"]), &[], None).is_err());
        assert!(network_mode(&strings(&["host"]), &[], Some("10.0.0.2")).is_err());
        assert!(network_mode(&strings(&["front"]), &[], Some("ten")).is_err());
        assert!(network_mode(&strings(&["container:"]), &[], None).is_err());
    }

    #[test]
    fn ulimits_security_restart_and_labels() {
        let r = parse_ulimit("nofile=1024:2048").expect("ulimit");
        assert_eq!((r.soft, r.hard), (1024, 2048));
        assert_eq!(parse_ulimit("core=-1").expect("unlimited").soft, u64::MAX);
        assert!(parse_ulimit("nofile").is_err());
        let s = security(false, vec![], vec![], &strings(&["no-new-privileges"])).expect("ok");
        assert!(s.no_new_privileges);
        let err = security(false, vec![], vec![], &strings(&["apparmor=x"])).expect_err("no");
        assert!(err.to_string().contains("apparmor=x"), "{err}");
        assert!(restart("on-failure:2", false, false).is_ok());
        assert!(restart("always", true, false)
            .expect_err("--rm")
            .to_string()
            .contains("--rm"));
        assert!(restart("sometimes", false, false).is_err());
        assert_eq!(
            parse_label("a=b=c").expect("label"),
            ("a".into(), "b=c".into())
        );
        assert!(parse_label("=x").is_err());
        assert_eq!(sysctls(&strings(&["net.a=1"])).expect("map")["net.a"], "1");
        assert!(sysctls(&strings(&["net.a"])).is_err());
    }
}

//! `POST /containers/create`: Docker's `Config`, `HostConfig` and
//! `NetworkingConfig` mapped onto the run options `stack run` builds from
//! its flags, through the same functions (`containers::run_args`). An
//! option stack does not map is refused with its JSON name when it is set
//! to anything but Docker's default; it is never dropped silently.

use std::collections::BTreeMap;

use serde_json::Value;
use stack_api::docker::create::{
    Config, ContainerCreateRequest, ContainerCreateResponse, EndpointConfig, Healthcheck,
    HostConfig, NetworkingConfig,
};
use stack_api::docker::is_unset;
use stack_runtime::spec::{HealthcheckSpec, Rlimit};

use super::super::{parse_signal, Engine, EngineError};
use crate::containers::run_args;
use crate::containers::{
    ImageSource, NetworkJoin, NetworkMode, NetworkOptions, ProcessOverrides, RunOptions,
};

/// Options whose value only shapes the client's side of an attach, and
/// so have no meaning for the container: accepted, not applied.
const CLIENT_SIDE: &[&str] = &["ConsoleSize"];

impl Engine {
    /// Makes a container from a Docker create request. The image must be
    /// present (Docker's 404 `No such image` is what makes its clients
    /// pull and ask again).
    pub fn docker_create(
        &self,
        name: Option<&str>,
        req: &ContainerCreateRequest,
    ) -> Result<ContainerCreateResponse, EngineError> {
        let (source, opts, warnings) = run_options(self, name, req)?;
        if let ImageSource::Image(reference) = &source {
            match self.images()?.store().find(reference) {
                Ok(_) => {}
                Err(crate::images::ImageError::ImageNotFound(_)) => {
                    return Err(EngineError::NotFound(format!(
                        "No such image: {}",
                        familiar(reference)
                    )))
                }
                Err(err) => return Err(err.into()),
            }
        }
        let mut record = self.create_container(&source, &opts)?;
        if req.config.open_stdin {
            // Attachers write its stdin through a FIFO (`docker run -i`).
            record.spec.process.stdin_once = req.config.stdin_once;
            let made = record
                .spec
                .save(&record.dir)
                .and_then(|()| stack_runtime::input::make(&record.dir));
            if let Err(err) = made {
                let _ = self.containers().remove(&record, true);
                return Err(err.into());
            }
        }
        Ok(ContainerCreateResponse {
            id: record.spec.id,
            warnings,
        })
    }
}

/// `busybox` as Docker names it in messages: `busybox:latest`.
fn familiar(reference: &str) -> String {
    crate::images::Reference::parse(reference)
        .map(|r| r.familiar())
        .unwrap_or_else(|_| reference.to_string())
}

fn invalid(message: String) -> EngineError {
    EngineError::Invalid(message)
}

/// Whether a field has the value Docker's clients send when the option
/// is left alone: Go's zero value, or Docker's own default (`-1` for
/// `MemorySwappiness`: the kernel's).
fn is_default(key: &str, value: &Value) -> bool {
    is_unset(value) || (key == "MemorySwappiness" && value.as_i64() == Some(-1))
}

/// Refuses the first field of `unmapped` set to a non-default value.
pub(crate) fn refuse_unmapped(
    part: &str,
    unmapped: &BTreeMap<String, Value>,
) -> Result<(), EngineError> {
    match unmapped
        .iter()
        .find(|(k, v)| !is_default(k, v) && !CLIENT_SIDE.contains(&k.as_str()))
    {
        Some((key, value)) => Err(invalid(format!(
            "{part}{key} is not supported by stack (got {value})"
        ))),
        None => Ok(()),
    }
}

/// The request as `stack run`'s options, plus warnings for what was
/// accepted but not applied.
pub fn run_options(
    engine: &Engine,
    name: Option<&str>,
    req: &ContainerCreateRequest,
) -> Result<(ImageSource, RunOptions, Vec<String>), EngineError> {
    let c = &req.config;
    let mut config_unmapped = c.unmapped.clone();
    let declared_volumes = config_unmapped.remove("Volumes");
    refuse_unmapped("", &config_unmapped)?;
    if !c.domainname.is_empty() {
        return Err(invalid("Domainname is not supported by stack".into()));
    }
    if c.image.is_empty() {
        return Err(invalid("Config.Image: an image is required".into()));
    }
    let default_host = HostConfig::default();
    let h = req.host_config.as_ref().unwrap_or(&default_host);
    refuse_unmapped("HostConfig.", &h.unmapped)?;
    let mut warnings = Vec::new();
    if h.unmapped.get("ConsoleSize").is_some_and(|v| !is_unset(v)) {
        warnings.push("HostConfig.ConsoleSize is not applied: a tty starts at 24x80".to_string());
    }
    let backend = match h.runtime.as_str() {
        "" => run_args::default_backend(&engine.paths)?,
        other => other.parse().map_err(|_| {
            invalid(format!(
                "HostConfig.Runtime {other:?}: stack runs stack or runc"
            ))
        })?,
    };
    let restart = {
        let p = &h.restart_policy;
        let policy = match (p.name.as_str(), p.maximum_retry_count) {
            ("on-failure", n) if n > 0 => format!("on-failure:{n}"),
            (name, _) => name.to_string(),
        };
        run_args::restart(&policy, h.auto_remove, false)?
    };
    let security = run_args::security(
        h.privileged,
        h.cap_add.clone().unwrap_or_default(),
        h.cap_drop.clone().unwrap_or_default(),
        h.security_opt.as_deref().unwrap_or_default(),
    )?;
    log_config(h)?;
    let stop_signal = c
        .stop_signal
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(parse_signal)
        .transpose()?
        .map(|s| s as i32);
    let stop_timeout = c
        .stop_timeout
        .map(|t| u64::try_from(t).map_err(|_| invalid(format!("StopTimeout {t} is negative"))))
        .transpose()?;
    let positive = |field: &str, v: i64| -> Result<Option<String>, EngineError> {
        match v {
            0 => Ok(None),
            v if v > 0 => Ok(Some(v.to_string())),
            v => Err(invalid(format!("HostConfig.{field} {v} is negative"))),
        }
    };
    let mounted = super::mounts::mount_args(h.mounts.as_deref().unwrap_or_default())?;
    let mut volumes: Vec<String> = h
        .binds
        .iter()
        .flatten()
        .cloned()
        .chain(mounted.volumes)
        .collect();
    let tmpfs: Vec<String> = tmpfs(h).into_iter().chain(mounted.tmpfs).collect();
    volumes.extend(super::mounts::declared_volumes(
        declared_volumes.as_ref(),
        &volumes,
        &tmpfs,
    )?);
    let opts = RunOptions {
        name: name.map(|n| n.trim_start_matches('/').to_string()),
        process: ProcessOverrides {
            entrypoint: None,
            cmd: Vec::new(),
            env_files: Vec::new(),
            env: c.env.clone().unwrap_or_default(),
            user: Some(c.user.clone()).filter(|u| !u.is_empty()),
            workdir: Some(c.working_dir.clone()).filter(|w| !w.is_empty()),
        },
        volumes,
        tmpfs,
        read_only: h.readonly_rootfs,
        memory: positive("Memory", h.memory)?,
        memory_reservation: positive("MemoryReservation", h.memory_reservation)?,
        cpus: (h.nano_cpus > 0).then(|| h.nano_cpus as f64 / 1e9),
        cpu_shares: u64::try_from(h.cpu_shares).ok().filter(|s| *s > 0),
        pids_limit: h.pids_limit.filter(|l| *l > 0),
        security,
        init: h.init.unwrap_or(false),
        interactive: c.open_stdin,
        tty: c.tty,
        auto_remove: h.auto_remove,
        backend,
        stop_signal,
        stop_timeout,
        rlimits: ulimits(h)?,
        network: network(h, req.networking_config.as_ref())?,
        hostname: Some(c.hostname.clone()).filter(|n| !n.is_empty()),
        restart,
        healthcheck: healthcheck(c.healthcheck.as_ref())?,
        labels: c.labels.clone().unwrap_or_default(),
        devices: Vec::new(),
        device_cgroup_rules: Vec::new(),
        sysctls: h.sysctls.clone().unwrap_or_default(),
        pid: Some(h.pid_mode.clone()).filter(|m| !m.is_empty()),
        ipc: Some(h.ipc_mode.clone()).filter(|m| !m.is_empty() && m != "private"),
        shm_size: positive("ShmSize", h.shm_size)?,
    };
    let opts = with_command(opts, c);
    Ok((ImageSource::Image(c.image.clone()), opts, warnings))
}

/// `Entrypoint` and `Cmd` over the image's, Docker's rule: a given
/// entrypoint drops the image's CMD; the engine takes a whole argument
/// list as the command after a cleared entrypoint.
fn with_command(mut opts: RunOptions, c: &Config) -> RunOptions {
    let cmd = c.cmd.clone().unwrap_or_default();
    // `[]` and `[""]` both clear the image's entrypoint.
    let clears = |ep: &[String]| ep.iter().all(String::is_empty);
    match &c.entrypoint {
        Some(ep) if !clears(ep) => {
            opts.process.entrypoint = Some(String::new());
            opts.process.cmd = ep.iter().chain(&cmd).cloned().collect();
        }
        Some(_) => {
            opts.process.entrypoint = Some(String::new());
            opts.process.cmd = cmd;
        }
        None => opts.process.cmd = cmd,
    }
    opts
}

fn log_config(h: &HostConfig) -> Result<(), EngineError> {
    let log = &h.log_config;
    if !matches!(log.kind.as_str(), "" | "json-file") {
        return Err(invalid(format!(
            "HostConfig.LogConfig.Type {:?} is not supported: stack keeps a json-file log",
            log.kind
        )));
    }
    if let Some((k, _)) = log.config.iter().flatten().next() {
        return Err(invalid(format!(
            "HostConfig.LogConfig.Config {k:?} is not supported"
        )));
    }
    Ok(())
}

/// `{"/run": "size=64m"}` as `--tmpfs /run:size=64m`.
fn tmpfs(h: &HostConfig) -> Vec<String> {
    h.tmpfs
        .iter()
        .flatten()
        .map(|(path, opts)| {
            if opts.is_empty() {
                path.clone()
            } else {
                format!("{path}:{opts}")
            }
        })
        .collect()
}

fn ulimits(h: &HostConfig) -> Result<Vec<Rlimit>, EngineError> {
    let value = |v: i64| if v < 0 { u64::MAX } else { v as u64 };
    h.ulimits
        .iter()
        .flatten()
        .map(|u| {
            if u.name.is_empty() {
                return Err(invalid("HostConfig.Ulimits: a limit has no Name".into()));
            }
            Ok(Rlimit {
                name: u.name.clone(),
                soft: value(u.soft),
                hard: value(u.hard),
            })
        })
        .collect()
}

/// `NetworkMode`, every endpoint's aliases and address (API 1.44 takes
/// all the networks at create: the one `NetworkMode` names first, then the
/// others), published ports, DNS servers and extra hosts.
fn network(h: &HostConfig, net: Option<&NetworkingConfig>) -> Result<NetworkOptions, EngineError> {
    let mode = match h.network_mode.as_str() {
        "" | "default" => None,
        m => Some(m.to_string()),
    };
    let expected = mode.as_deref().unwrap_or("bridge");
    let default_names = ["default", "bridge"];
    let is_primary = |network: &str| {
        network == expected
            || (default_names.contains(&network) && default_names.contains(&expected))
    };
    let endpoints = net
        .and_then(|n| n.endpoints_config.as_ref())
        .map(|e| {
            e.iter()
                .map(|(network, endpoint)| {
                    let field = format!("NetworkingConfig.EndpointsConfig.{network}.");
                    Ok((network, endpoint_options(&field, endpoint)?))
                })
                .collect::<Result<Vec<_>, EngineError>>()
        })
        .transpose()?
        .unwrap_or_default();
    let (aliases, ip) = endpoints
        .iter()
        .find(|(network, _)| is_primary(network))
        .map(|(_, (aliases, ip))| (aliases.clone(), ip.clone()))
        .unwrap_or_default();
    let networks: Vec<String> = mode.iter().cloned().collect();
    let mut mode = run_args::network_mode(&networks, &aliases, ip.as_deref())?;
    let others: Vec<_> = endpoints
        .iter()
        .filter(|(network, _)| !is_primary(network))
        .collect();
    if !others.is_empty() {
        if matches!(mode, NetworkMode::Default) {
            mode = NetworkMode::Networks(vec![NetworkJoin {
                network: crate::containers::network::DEFAULT_NETWORK.into(),
                ..NetworkJoin::default()
            }]);
        }
        let NetworkMode::Networks(joins) = &mut mode else {
            return Err(invalid(format!(
                "NetworkingConfig.EndpointsConfig names {:?}, but NetworkMode {expected:?} joins no network",
                others[0].0
            )));
        };
        for (network, (aliases, ip)) in others {
            joins.push(NetworkJoin {
                network: network.to_string(),
                aliases: aliases.clone(),
                ipv4_address: ip
                    .as_deref()
                    .map(|ip| {
                        ip.parse().map_err(|_| {
                            invalid(format!(
                                "NetworkingConfig.EndpointsConfig.{network}.IPAMConfig.IPv4Address {ip:?} is not an IPv4 address"
                            ))
                        })
                    })
                    .transpose()?,
            });
        }
    }
    let mut publish = Vec::new();
    for (port, bindings) in h.port_bindings.iter().flatten() {
        let (container, proto) = port.split_once('/').unwrap_or((port, "tcp"));
        for b in bindings.iter().flatten() {
            let host = match (b.host_ip.as_str(), b.host_port.as_str()) {
                ("", "") => String::new(),
                ("", hp) => format!("{hp}:"),
                (ip, hp) => format!("{ip}:{hp}:"),
            };
            publish.push(format!("{host}{container}/{proto}"));
        }
    }
    Ok(NetworkOptions {
        mode,
        publish,
        dns: h.dns.clone().unwrap_or_default(),
        extra_hosts: h.extra_hosts.clone().unwrap_or_default(),
    })
}

/// One endpoint's aliases and IPv4 address; anything else set is refused
/// by name (`field` is where the endpoint sits in the request, with its
/// trailing dot).
pub(super) fn endpoint_options(
    field: &str,
    endpoint: &EndpointConfig,
) -> Result<(Vec<String>, Option<String>), EngineError> {
    refuse_unmapped(field, &endpoint.unmapped)?;
    let mut ip = None;
    if let Some(ipam) = &endpoint.ipam_config {
        if !ipam.ipv6_address.is_empty() {
            return Err(invalid(format!(
                "{field}IPAMConfig.IPv6Address: stack networks are IPv4"
            )));
        }
        ip = Some(ipam.ipv4_address.clone()).filter(|a| !a.is_empty());
    }
    if !endpoint.ip_address.is_empty() && ip.as_deref() != Some(endpoint.ip_address.as_str()) {
        return Err(invalid(format!(
            "{field}IPAddress is not supported by stack (set IPAMConfig.IPv4Address)"
        )));
    }
    Ok((endpoint.aliases.clone().unwrap_or_default(), ip))
}

/// `Config.Healthcheck`: `["NONE"]` turns the image's off, an empty test
/// keeps it; durations are nanoseconds.
fn healthcheck(h: Option<&Healthcheck>) -> Result<Option<HealthcheckSpec>, EngineError> {
    let Some(h) = h else { return Ok(None) };
    let test = h.test.clone().unwrap_or_default();
    if test.is_empty() {
        return Ok(None);
    }
    if !matches!(test[0].as_str(), "NONE" | "CMD" | "CMD-SHELL") {
        return Err(invalid(format!(
            "Healthcheck.Test must start with NONE, CMD or CMD-SHELL, not {:?}",
            test[0]
        )));
    }
    let ms = |field: &str, ns: i64| {
        u64::try_from(ns / 1_000_000)
            .map_err(|_| invalid(format!("Healthcheck.{field} {ns} is negative")))
    };
    Ok(Some(HealthcheckSpec {
        interval_ms: ms("Interval", h.interval)?,
        timeout_ms: ms("Timeout", h.timeout)?,
        retries: u32::try_from(h.retries)
            .map_err(|_| invalid(format!("Healthcheck.Retries {} is out of range", h.retries)))?,
        start_period_ms: ms("StartPeriod", h.start_period)?,
        start_interval_ms: ms("StartInterval", h.start_interval)?,
        test,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::HostPaths;
    use serde_json::json;

    fn engine(dir: &std::path::Path) -> Engine {
        Engine::new(HostPaths::resolve(
            Some(dir.into()),
            Some(dir.join("run")),
            Some(dir.join("none.toml")),
        ))
    }

    fn map(value: Value) -> Result<(ImageSource, RunOptions, Vec<String>), EngineError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let req: ContainerCreateRequest = serde_json::from_value(value).expect("request");
        run_options(&engine(dir.path()), Some("/web"), &req)
    }

    #[test]
    fn a_docker_run_request_becomes_run_options() {
        let (source, opts, warnings) = map(json!({
            "Image": "busybox", "Cmd": ["sleep", "9"], "Env": ["A=1"], "User": "1:2",
            "Labels": {"k": "v"}, "Tty": false, "OpenStdin": true, "StopSignal": "SIGINT",
            "StopTimeout": 3, "MacAddress": "", "OnBuild": null,
            "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 1_000_000_000i64},
            "HostConfig": {
                "Binds": ["/tmp:/data:ro"], "NetworkMode": "front",
                "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]},
                "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2},
                "Memory": 67108864, "NanoCpus": 500000000, "PidsLimit": 50,
                "CapAdd": ["NET_ADMIN"], "SecurityOpt": ["no-new-privileges"],
                "Tmpfs": {"/run": "size=1m"}, "Init": true, "ShmSize": 0,
                "LogConfig": {"Type": "", "Config": {}}, "ConsoleSize": [24, 80],
                "OomScoreAdj": 0, "MemorySwappiness": -1, "Ulimits": [{"Name": "nofile", "Soft": 10, "Hard": 20}],
            },
            "NetworkingConfig": {"EndpointsConfig": {"front": {"Aliases": ["api"], "MacAddress": ""}}},
        }))
        .expect("mapped");
        assert_eq!(source, ImageSource::Image("busybox".into()));
        assert_eq!(opts.name.as_deref(), Some("web"));
        assert_eq!(opts.process.cmd, ["sleep", "9"]);
        assert_eq!(opts.volumes, ["/tmp:/data:ro"]);
        assert_eq!(opts.network.publish, ["8080:80/tcp"]);
        assert_eq!(opts.memory.as_deref(), Some("67108864"));
        assert_eq!(opts.cpus, Some(0.5));
        assert_eq!(opts.tmpfs, ["/run:size=1m"]);
        assert_eq!(opts.stop_signal, Some(libc::SIGINT));
        assert!(opts.init && opts.interactive && opts.security.no_new_privileges);
        assert_eq!(opts.rlimits[0].hard, 20);
        assert_eq!(opts.healthcheck.expect("check").interval_ms, 1000);
        let crate::containers::NetworkMode::Networks(joins) = &opts.network.mode else {
            panic!("networks");
        };
        assert_eq!(joins[0].aliases, ["api"]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn an_unsupported_option_is_named() {
        let err = map(json!({"Image": "busybox", "HostConfig": {"OomScoreAdj": 500}}))
            .expect_err("refused");
        assert_eq!(
            err.to_string(),
            "HostConfig.OomScoreAdj is not supported by stack (got 500)"
        );
        let err = map(json!({"Image": "busybox", "Volumes": ["/data"]})).expect_err("refused");
        assert!(err.to_string().starts_with("Volumes must map"), "{err}");
        let err = map(json!({"Image": "busybox", "HostConfig": {"LogConfig": {"Type": "syslog"}}}))
            .expect_err("refused");
        assert!(err.to_string().contains("syslog"), "{err}");
        let err = map(json!({"Image": "busybox", "HostConfig": {"RestartPolicy": {"Name": "always"}, "AutoRemove": true}}))
            .expect_err("refused");
        assert!(err.to_string().contains("--rm"), "{err}");
    }

    #[test]
    fn every_endpoint_at_create_is_a_network_to_join() {
        let (_, opts, _) = map(json!({
            "Image": "busybox", "HostConfig": {"NetworkMode": "p_front"},
            "NetworkingConfig": {"EndpointsConfig": {
                "p_back": {"Aliases": ["p-web-1", "web"], "IPAMConfig": {"IPv4Address": "10.9.0.5"}, "IPAddress": "10.9.0.5"},
                "p_front": {"Aliases": ["p-web-1", "web"], "IPAddress": "", "NetworkID": ""},
            }},
        }))
        .expect("mapped");
        let NetworkMode::Networks(joins) = &opts.network.mode else {
            panic!("networks");
        };
        let names: Vec<&str> = joins.iter().map(|j| j.network.as_str()).collect();
        assert_eq!(names, ["p_front", "p_back"], "NetworkMode's first");
        assert_eq!(joins[1].aliases, ["p-web-1", "web"]);
        assert_eq!(joins[1].ipv4_address, Some([10, 9, 0, 5].into()));
        let err = map(json!({
            "Image": "busybox", "HostConfig": {"NetworkMode": "none"},
            "NetworkingConfig": {"EndpointsConfig": {"p_back": {}}},
        }))
        .expect_err("none joins nothing");
        assert!(err.to_string().contains("p_back"), "{err}");
        let err = map(json!({
            "Image": "busybox", "HostConfig": {"NetworkMode": "p_front"},
            "NetworkingConfig": {"EndpointsConfig": {"p_front": {"IPAddress": "10.0.0.9"}}},
        }))
        .expect_err("an address outside IPAMConfig");
        assert!(err.to_string().contains("p_front.IPAddress"), "{err}");
        let err = map(json!({
            "Image": "busybox", "HostConfig": {"NetworkMode": "p_front"},
            "NetworkingConfig": {"EndpointsConfig": {"p_front": {"MacAddress": "02:42:ac:11:00:02"}}},
        }))
        .expect_err("a MAC address");
        assert!(err.to_string().contains("p_front.MacAddress"), "{err}");
    }

    #[test]
    fn an_entrypoint_replaces_the_images_and_its_cmd() {
        let (_, opts, _) =
            map(json!({"Image": "busybox", "Entrypoint": ["sh", "-c"], "Cmd": ["echo hi"]}))
                .expect("mapped");
        assert_eq!(opts.process.entrypoint.as_deref(), Some(""));
        assert_eq!(opts.process.cmd, ["sh", "-c", "echo hi"]);
    }
}

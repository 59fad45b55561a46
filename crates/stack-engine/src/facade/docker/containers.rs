//! Containers in Docker's shapes: the list rows and the inspect document,
//! filled from the container's record, its state and its network view.

use std::collections::BTreeMap;
use std::time::UNIX_EPOCH;

use stack_api::docker::containers::{
    ContainerInspect, ContainerState, ContainerSummary, EndpointSettings, Health, HealthProbe,
    MountPoint, NetworkSettings, Port, SummaryHostConfig, SummaryNetworks,
};
use stack_api::docker::create::{
    Config, Healthcheck, HostConfig, LogConfig, PortBinding, RestartPolicy,
};
use stack_api::docker::filters::{labels_match, Filters};
use stack_runtime::spec::{ContainerSpec, MountKind};
use stack_runtime::state::Status;

use super::super::status_text::{docker_status, StatusFacts};
use super::super::{view, Engine, EngineError};
use crate::containers::network::view::{
    attached_to, attachments, describe, interfaces, published_ports, InterfaceView,
};
use crate::containers::network::NetworkRequest;
use crate::containers::ContainerRecord;
use stack_net::ContainerNetworking;
use stack_runtime::timefmt;

/// The filters `GET /containers/json` takes.
const LIST_FILTERS: &[&str] = &["id", "name", "label", "status", "exited"];

impl Engine {
    /// `GET /containers/json`: newest first, running ones only unless
    /// `all`, at most `limit` (a limit implies `all`, as in Docker); with
    /// `size`, what each wrote and that with its image (`docker ps -s`).
    pub fn docker_containers(
        &self,
        all: bool,
        limit: Option<usize>,
        size: bool,
        filters: &Filters,
    ) -> Result<Vec<ContainerSummary>, EngineError> {
        if let Some(name) = filters.keys().find(|k| !LIST_FILTERS.contains(&k.as_str())) {
            return Err(EngineError::Invalid(format!("invalid filter '{name}'")));
        }
        let mut records = self.containers.list();
        records.sort_by_key(|r| std::cmp::Reverse(created_secs(r)));
        let all = all || limit.is_some() || filters.contains_key("status");
        let attached = attachments(&self.paths.state_root);
        let mut rows = Vec::new();
        for record in &records {
            let status = record.state.effective_status();
            if !all && !matches!(status, Status::Running | Status::Restarting) {
                continue;
            }
            if !list_filters_match(filters, record, status) {
                continue;
            }
            let mut row = summary(record, status, attached_to(&attached, record));
            if size {
                let written = crate::disk_usage::bytes_below(&record.dir.upper()) as i64;
                row.size_rw = Some(written);
                row.size_root_fs = Some(written + self.image_size(&row.image_id));
            }
            rows.push(row);
            if limit.is_some_and(|l| rows.len() >= l) {
                break;
            }
        }
        Ok(rows)
    }

    /// `GET /containers/{id}/json`.
    pub fn docker_inspect(&self, key: &str) -> Result<ContainerInspect, EngineError> {
        let record = self.find(key)?;
        Ok(inspect(&self.paths.state_root, &record))
    }
}

fn list_filters_match(filters: &Filters, record: &ContainerRecord, status: Status) -> bool {
    let spec = &record.spec;
    let any = |name: &str, test: &dyn Fn(&str) -> bool| {
        filters
            .get(name)
            .is_none_or(|values| values.iter().any(|v| test(v)))
    };
    any("id", &|v| spec.id.starts_with(v))
        && any("name", &|v| spec.name.contains(v.trim_start_matches('/')))
        && any("status", &|v| v == view::word_of(&record.state, status))
        && any("exited", &|v| {
            status == Status::Exited
                && record.state.exit_code.map(|c| c.to_string()).as_deref() == Some(v)
        })
        && filters
            .get("label")
            .is_none_or(|wanted| labels_match(wanted, &spec.labels))
}

/// Unix seconds of the container's creation (its record's time for
/// records made before the spec kept it).
fn created_secs(record: &ContainerRecord) -> i64 {
    let from_spec = record.spec.created.as_deref().and_then(timefmt::parse);
    let from_file = || {
        std::fs::metadata(record.dir.path())
            .and_then(|m| m.modified())
            .ok()
    };
    from_spec
        .or_else(from_file)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64)
}

fn created_text(record: &ContainerRecord) -> String {
    record.spec.created.clone().unwrap_or_else(|| {
        let secs = created_secs(record).max(0) as u64;
        stack_runtime::timefmt::format(UNIX_EPOCH + std::time::Duration::from_secs(secs))
    })
}

fn image_of(spec: &ContainerSpec) -> (String, String) {
    match &spec.image {
        Some(origin) => (origin.reference.clone(), origin.id.clone()),
        None => (String::new(), String::new()),
    }
}

fn summary(
    record: &ContainerRecord,
    status: Status,
    attached: Option<&ContainerNetworking>,
) -> ContainerSummary {
    let spec = &record.spec;
    let st = &record.state;
    let health = st.health.as_ref().map(|h| h.status.as_str());
    let status_text = docker_status(&StatusFacts {
        status: view::word_of(st, status),
        exit_code: st.exit_code,
        oom_killed: st.oom_killed,
        health,
        started_at: st.started_at.as_deref(),
        finished_at: st.finished_at.as_deref(),
    });
    let (image, image_id) = image_of(spec);
    let ports = published_ports(record)
        .iter()
        .flat_map(|p| {
            let hosts = p.host_ports.start..=p.host_ports.end;
            let inside = p.container_ports.start..=p.container_ports.end;
            hosts.zip(inside).map(move |(public, private)| Port {
                ip: Some(
                    p.host_ip
                        .map_or_else(|| "0.0.0.0".into(), |ip| ip.to_string()),
                ),
                private_port: private,
                public_port: Some(public),
                kind: p.protocol.as_str().to_string(),
            })
        })
        .collect();
    let network_mode = network_mode_of(record);
    ContainerSummary {
        id: spec.id.clone(),
        names: vec![format!("/{}", spec.name)],
        image,
        image_id,
        command: spec.process.args.join(" "),
        created: created_secs(record),
        ports,
        labels: spec.labels.clone(),
        state: view::word_of(st, status).to_string(),
        status: status_text,
        host_config: SummaryHostConfig { network_mode },
        // Compose compares each endpoint's NetworkID with the networks
        // the service wants, and recreates a container missing one.
        network_settings: SummaryNetworks {
            networks: interfaces(
                NetworkRequest::load(record.dir.path())
                    .ok()
                    .flatten()
                    .as_ref(),
                attached,
                false,
            )
            .iter()
            .map(|(name, v)| (name.clone(), endpoint(v)))
            .collect(),
        },
        mounts: mounts(spec),
        size_rw: None,
        size_root_fs: None,
    }
}

/// `HostConfig.NetworkMode`: Docker's `default` stands for stack's
/// default network.
fn network_mode_of(record: &ContainerRecord) -> String {
    crate::containers::network::NetworkRequest::load(record.dir.path())
        .ok()
        .flatten()
        .map(|r| match &r.mode {
            crate::containers::network::RequestedMode::None => "none".to_string(),
            crate::containers::network::RequestedMode::Host => "host".into(),
            crate::containers::network::RequestedMode::Container(x) => format!("container:{x}"),
            crate::containers::network::RequestedMode::Networks(joins) => joins
                .first()
                .map_or_else(|| "none".into(), |j| j.network.clone()),
        })
        .unwrap_or_else(|| "none".into())
}

fn mounts(spec: &ContainerSpec) -> Vec<MountPoint> {
    spec.mounts
        .iter()
        .map(|m| {
            let (kind, name, source, propagation) = match &m.kind {
                MountKind::Bind {
                    source,
                    propagation,
                } => (
                    "bind",
                    None,
                    source.display().to_string(),
                    propagation.clone().unwrap_or_else(|| "rprivate".into()),
                ),
                MountKind::Tmpfs { .. } => ("tmpfs", None, String::new(), String::new()),
                MountKind::Volume { source, .. } => {
                    // `<volumes>/<name>/_data`.
                    let name = source
                        .parent()
                        .and_then(|p| p.file_name())
                        .map(|n| n.to_string_lossy().into_owned());
                    ("volume", name, source.display().to_string(), String::new())
                }
            };
            MountPoint {
                kind: kind.to_string(),
                driver: if kind == "volume" {
                    "local".into()
                } else {
                    String::new()
                },
                name,
                source,
                destination: m.destination.clone(),
                mode: if m.read_only {
                    "ro".into()
                } else {
                    String::new()
                },
                rw: !m.read_only,
                propagation,
            }
        })
        .collect()
}

fn endpoint(view: &InterfaceView) -> EndpointSettings {
    EndpointSettings {
        aliases: Some(view.aliases.clone()),
        mac_address: view.mac_address.clone(),
        network_id: view.network_id.clone(),
        endpoint_id: String::new(),
        gateway: view.gateway.clone(),
        ip_address: view.ip_address.clone(),
        ip_prefix_len: view.ip_prefix_len,
        dns_names: Some(view.aliases.clone()),
        ..EndpointSettings::default()
    }
}

fn state(record: &ContainerRecord) -> ContainerState {
    let st = &record.state;
    let status = st.effective_status();
    ContainerState {
        status: view::word_of(st, status).to_string(),
        running: status == Status::Running,
        paused: status == Status::Running && st.paused,
        restarting: status == Status::Restarting,
        oom_killed: st.oom_killed,
        dead: false,
        pid: st.pid.filter(|_| status == Status::Running).unwrap_or(0),
        exit_code: st.exit_code.unwrap_or(0),
        error: st.error.clone().unwrap_or_default(),
        started_at: st
            .started_at
            .clone()
            .unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
        finished_at: st
            .finished_at
            .clone()
            .unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
        health: st.health.as_ref().map(|h| Health {
            status: h.status.as_str().to_string(),
            failing_streak: h.failing_streak,
            log: h
                .log
                .iter()
                .map(|p| HealthProbe {
                    start: p.start.clone(),
                    end: p.end.clone(),
                    exit_code: p.exit_code.unwrap_or(-1),
                    output: p.output.clone(),
                })
                .collect(),
        }),
    }
}

fn signal_name(number: i32) -> Option<String> {
    nix::sys::signal::Signal::try_from(number)
        .ok()
        .map(|s| s.as_str().to_string())
}

fn inspect(state_root: &std::path::Path, record: &ContainerRecord) -> ContainerInspect {
    let spec = &record.spec;
    let net = describe(state_root, record);
    let (image, image_id) = image_of(spec);
    let mut ports: BTreeMap<String, Option<Vec<PortBinding>>> = BTreeMap::new();
    for p in &net.ports {
        let hosts = p.host_ports.start..=p.host_ports.end;
        let inside = p.container_ports.start..=p.container_ports.end;
        for (public, private) in hosts.zip(inside) {
            let key = format!("{private}/{}", p.protocol.as_str());
            ports
                .entry(key)
                .or_insert_with(|| Some(Vec::new()))
                .get_or_insert_with(Vec::new)
                .push(PortBinding {
                    host_ip: p
                        .host_ip
                        .map_or_else(|| "0.0.0.0".into(), |ip| ip.to_string()),
                    host_port: public.to_string(),
                });
        }
    }
    let port_bindings = ports.clone();
    let networks: BTreeMap<String, EndpointSettings> = net
        .networks
        .iter()
        .map(|(name, v)| (name.clone(), endpoint(v)))
        .collect();
    let (path, args) = match spec.process.args.split_first() {
        Some((first, rest)) => (first.clone(), rest.to_vec()),
        None => (String::new(), Vec::new()),
    };
    let dir = record.dir.path();
    let res = &spec.resources;
    let host_config = HostConfig {
        binds: None,
        network_mode: network_mode_of(record),
        port_bindings: Some(port_bindings),
        restart_policy: restart_policy(spec),
        auto_remove: spec.auto_remove,
        log_config: LogConfig {
            kind: "json-file".into(),
            config: Some(BTreeMap::new()),
        },
        cap_add: Some(spec.security.cap_add.clone()),
        cap_drop: Some(spec.security.cap_drop.clone()),
        privileged: spec.security.privileged,
        readonly_rootfs: spec.read_only,
        shm_size: spec.shm_size.unwrap_or(64 << 20) as i64,
        sysctls: Some(spec.sysctls.clone()),
        init: Some(spec.init),
        memory: res.memory.unwrap_or(0) as i64,
        memory_reservation: res.memory_reservation.unwrap_or(0) as i64,
        nano_cpus: res.cpus.map_or(0, |c| (c * 1e9) as i64),
        cpu_shares: res.cpu_shares.unwrap_or(0) as i64,
        pids_limit: res.pids_limit,
        runtime: match spec.backend {
            stack_runtime::spec::Backend::Stack => "stack".into(),
            stack_runtime::spec::Backend::Runc => "runc".into(),
        },
        ..HostConfig::default()
    };
    let config = Config {
        hostname: spec.hostname.clone(),
        user: spec.process.user.clone(),
        tty: spec.process.tty,
        open_stdin: spec.process.stdin,
        env: Some(spec.process.env.clone()),
        cmd: Some(spec.process.args.clone()),
        healthcheck: spec.healthcheck.as_ref().map(|h| Healthcheck {
            test: Some(h.test.clone()),
            interval: h.interval_ms as i64 * 1_000_000,
            timeout: h.timeout_ms as i64 * 1_000_000,
            retries: i64::from(h.retries),
            start_period: h.start_period_ms as i64 * 1_000_000,
            start_interval: h.start_interval_ms as i64 * 1_000_000,
        }),
        image,
        working_dir: spec.process.cwd.clone(),
        labels: Some(spec.labels.clone()),
        stop_signal: signal_name(spec.stop_signal),
        stop_timeout: Some(spec.stop_timeout as i64),
        ..Config::default()
    };
    ContainerInspect {
        id: spec.id.clone(),
        created: created_text(record),
        path,
        args,
        state: state(record),
        image: image_id,
        resolv_conf_path: dir.join("resolv.conf").display().to_string(),
        hostname_path: dir.join("hostname").display().to_string(),
        hosts_path: dir.join("hosts").display().to_string(),
        log_path: record.dir.log().display().to_string(),
        name: format!("/{}", spec.name),
        restart_count: record.state.restart_count,
        driver: "overlay".into(),
        platform: "linux".into(),
        mount_label: String::new(),
        process_label: String::new(),
        app_armor_profile: String::new(),
        exec_ids: None,
        host_config,
        mounts: mounts(spec),
        config,
        network_settings: NetworkSettings {
            bridge: String::new(),
            sandbox_id: String::new(),
            sandbox_key: String::new(),
            ports,
            networks,
        },
    }
}

fn restart_policy(spec: &ContainerSpec) -> RestartPolicy {
    use stack_runtime::supervise::RestartPolicy as P;
    let (name, max) = match spec.restart.policy {
        P::No => ("no", 0),
        P::Always => ("always", 0),
        P::UnlessStopped => ("unless-stopped", 0),
        P::OnFailure { max_retries } => ("on-failure", max_retries.unwrap_or(0)),
    };
    RestartPolicy {
        name: name.into(),
        maximum_retry_count: i64::from(max),
    }
}

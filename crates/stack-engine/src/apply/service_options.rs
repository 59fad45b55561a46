//! One service of the stack file -> the [`RunOptions`] of one of its
//! containers. Pure: the same service and replica give the same options, so
//! every Compose rule here is unit-tested without root.

use std::collections::BTreeMap;
use std::path::PathBuf;

use stack_runtime::spec::{HealthcheckSpec, RestartSpec, Rlimit, SecuritySpec};
use stack_spec::{MountType, Project, Service};

use crate::containers::{NetworkJoin, NetworkMode, NetworkOptions, ProcessOverrides, RunOptions};
use crate::error_class::{Classify, ErrorClass};
use crate::labels;
use crate::supervise::{self, HealthTest, HealthTestError};

/// Label listing a container's dependencies (`db:service_healthy:false,…`,
/// Compose's own format), so `down` orders containers without the file.
pub const DEPENDS_ON_LABEL: &str = "com.docker.compose.depends_on";
/// Label holding the digest of the image the container was made from.
pub const IMAGE_LABEL: &str = "com.docker.compose.image";

/// Why a service cannot become a container's options. Each names the
/// service and the key at fault, so the stack file can be fixed.
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    #[error(
        "service {service}: `{key}` is not supported by stack yet; remove it or run this service elsewhere"
    )]
    Unsupported { service: String, key: String },
    #[error("service {service}: healthcheck: {source}")]
    Healthcheck {
        service: String,
        #[source]
        source: HealthTestError,
    },
    #[error("service {service}: stop_signal: unknown {signal:?}")]
    StopSignal { service: String, signal: String },
    #[error(
        "service {service}: device_cgroup_rules must be a list of strings such as \"c 1:3 rwm\""
    )]
    DeviceCgroupRules { service: String },
    #[error("service {service}: bind mount to {target} has no source")]
    BindWithoutSource { service: String, target: String },
    /// The bind source did not exist and could not be made.
    #[error("service {service}: create bind source {}: {source}", path.display())]
    CreateBindSource {
        service: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("service {service}: volume type of {target} is not supported")]
    VolumeType { service: String, target: String },
    #[error("service {service}: security_opt {option:?} is not supported")]
    SecurityOpt { service: String, option: String },
}

/// A fault of the stack file, but for a bind source the host could not make.
impl Classify for OptionsError {
    fn class(&self) -> ErrorClass {
        match self {
            OptionsError::CreateBindSource { .. } => ErrorClass::Internal,
            _ => ErrorClass::InvalidInput,
        }
    }
}

/// Who a container is within its project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot<'a> {
    pub name: &'a str,
    pub replica: u32,
    pub config_hash: &'a str,
    pub image_digest: Option<&'a str>,
}

/// The options of replica `slot` of `service`. Fails with a message naming
/// the service and the key at fault.
pub fn run_options(
    project: &Project,
    service: &Service,
    slot: &Slot<'_>,
) -> Result<RunOptions, OptionsError> {
    refuse_unsupported(service)?;
    let healthcheck = supervise::healthcheck(service, None)
        .map_err(|source| OptionsError::Healthcheck {
            service: service.name.clone(),
            source,
        })?
        .map(|h| HealthcheckSpec {
            test: match h.test {
                HealthTest::Cmd(args) => std::iter::once("CMD".to_string()).chain(args).collect(),
                HealthTest::CmdShell(line) => vec!["CMD-SHELL".into(), line],
                HealthTest::None => vec!["NONE".into()],
            },
            interval_ms: millis(h.interval),
            timeout_ms: millis(h.timeout),
            retries: h.retries,
            start_period_ms: millis(h.start_period),
            start_interval_ms: millis(h.start_interval),
        });
    let (memory, cpus, pids) = limits(service);
    Ok(RunOptions {
        name: Some(slot.name.to_string()),
        process: process(service),
        volumes: volumes(project, service)?,
        tmpfs: tmpfs(service),
        read_only: service.read_only,
        memory,
        cpus,
        pids_limit: pids,
        security: security(service)?,
        init: service.init.unwrap_or(false),
        interactive: service.stdin_open,
        tty: service.tty,
        stop_signal: service
            .stop_signal
            .as_deref()
            .map(|s| {
                signal_number(s).ok_or_else(|| OptionsError::StopSignal {
                    service: service.name.clone(),
                    signal: s.to_string(),
                })
            })
            .transpose()?,
        stop_timeout: service.stop_grace_period.map(|d| d.0.as_secs()),
        rlimits: ulimits(service),
        network: network(project, service),
        hostname: service.hostname.clone(),
        labels: container_labels(project, service, slot),
        restart: RestartSpec {
            policy: runtime_restart(supervise::restart_policy(service)),
            when_unhealthy: supervise::restart_on_unhealthy(service),
        },
        healthcheck,
        devices: service.devices.clone(),
        device_cgroup_rules: device_cgroup_rules(service)?,
        sysctls: service.sysctls.clone(),
        pid: shared_namespace(project, service.pid.as_deref()),
        ipc: shared_namespace(project, service.ipc.as_deref()),
        shm_size: service.shm_size.map(|b| b.0.to_string()),
        ..Default::default()
    })
}

/// Keys stack reads but does not carry out yet. Each is refused, naming
/// the key, rather than accepted and silently ignored: a service that
/// relies on one would otherwise start without it.
fn refuse_unsupported(service: &Service) -> Result<(), OptionsError> {
    let refuse = |key: &str| {
        Err(OptionsError::Unsupported {
            service: service.name.clone(),
            key: key.to_string(),
        })
    };
    for key in service.other.keys() {
        if !key.starts_with("x-") && key != "device_cgroup_rules" {
            return refuse(key);
        }
    }
    for (key, used) in [
        ("secrets", !service.secrets.is_empty()),
        ("configs", !service.configs.is_empty()),
        ("dns_search", !service.dns_search.is_empty()),
        ("dns_opt", !service.dns_opt.is_empty()),
        ("domainname", service.domainname.is_some()),
    ] {
        if used {
            return refuse(key);
        }
    }
    for settings in service.networks.values().flatten() {
        for (key, used) in [
            ("networks.*.ipv6_address", settings.ipv6_address.is_some()),
            (
                "networks.*.interface_name",
                settings.interface_name.is_some(),
            ),
            (
                "networks.*.link_local_ips",
                !settings.link_local_ips.is_empty(),
            ),
            ("networks.*.mac_address", settings.mac_address.is_some()),
            ("networks.*.driver_opts", !settings.driver_opts.is_empty()),
        ] {
            if used {
                return refuse(key);
            }
        }
    }
    if let Some(logging) = &service.logging {
        let driver = logging.driver.as_deref().unwrap_or("json-file");
        if !matches!(driver, "json-file" | "local") || !logging.options.is_empty() {
            return refuse("logging");
        }
    }
    Ok(())
}

/// `device_cgroup_rules:` (kept as written by the loader): a list of rule
/// strings, checked when the container is made.
fn device_cgroup_rules(service: &Service) -> Result<Vec<String>, OptionsError> {
    let Some(value) = service.other.get("device_cgroup_rules") else {
        return Ok(Vec::new());
    };
    let not_strings = || OptionsError::DeviceCgroupRules {
        service: service.name.clone(),
    };
    value
        .as_array()
        .ok_or_else(not_strings)?
        .iter()
        .map(|v| v.as_str().map(str::to_string).ok_or_else(not_strings))
        .collect()
}

/// `pid`/`ipc`: `service:X` is the first container of service X, as
/// `network_mode: service:X` is.
fn shared_namespace(project: &Project, value: Option<&str>) -> Option<String> {
    value.map(|v| match v.strip_prefix("service:") {
        Some(service) => format!("container:{}-{service}-1", project.name),
        None => v.to_string(),
    })
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Compose's `entrypoint`/`command` over the image's: an `entrypoint`
/// drops the image's CMD unless `command` is given.
fn process(service: &Service) -> ProcessOverrides {
    let env = service
        .environment
        .iter()
        // A key without a value after loading means "unset".
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
    let (entrypoint, cmd) = match (&service.entrypoint, &service.command) {
        (None, None) => (None, Vec::new()),
        (None, Some(cmd)) => (None, cmd.clone()),
        // An empty entrypoint override clears the image's, then the full
        // argument list travels as the command.
        (Some(ep), cmd) => (
            Some(String::new()),
            ep.iter().chain(cmd.iter().flatten()).cloned().collect(),
        ),
    };
    ProcessOverrides {
        entrypoint,
        cmd,
        env_files: Vec::new(),
        env,
        user: service.user.clone(),
        workdir: service.working_dir.clone(),
    }
}

/// `SRC:DST[:ro]` strings for the container store: named volumes under
/// their full name, binds by absolute path (made first when Compose would).
fn volumes(project: &Project, service: &Service) -> Result<Vec<String>, OptionsError> {
    let mut out = Vec::new();
    for v in &service.volumes {
        let suffix = if v.read_only { ":ro" } else { "" };
        match v.kind {
            MountType::Volume => {
                let Some(source) = v.source.as_deref().filter(|s| !s.is_empty()) else {
                    // Anonymous volume: one per container, named after it.
                    continue;
                };
                let name = project
                    .volumes
                    .get(source)
                    .map(|vol| vol.name.clone())
                    .unwrap_or_else(|| source.to_string());
                out.push(format!("{name}:{}{suffix}", v.target));
            }
            MountType::Bind => {
                let Some(source) = v.source.as_deref() else {
                    return Err(OptionsError::BindWithoutSource {
                        service: service.name.clone(),
                        target: v.target.clone(),
                    });
                };
                let path = project.working_dir.join(source);
                let create = v.bind.as_ref().is_none_or(|b| b.create_host_path);
                if create && !path.exists() {
                    std::fs::create_dir_all(&path).map_err(|source| {
                        OptionsError::CreateBindSource {
                            service: service.name.clone(),
                            path: path.clone(),
                            source,
                        }
                    })?;
                }
                out.push(format!("{}:{}{suffix}", path.display(), v.target));
            }
            MountType::Tmpfs => {}
            _ => {
                return Err(OptionsError::VolumeType {
                    service: service.name.clone(),
                    target: v.target.clone(),
                })
            }
        }
    }
    Ok(out)
}

fn tmpfs(service: &Service) -> Vec<String> {
    let mut out = service.tmpfs.clone();
    for v in service
        .volumes
        .iter()
        .filter(|v| v.kind == MountType::Tmpfs)
    {
        let mut opts = Vec::new();
        if let Some(t) = &v.tmpfs {
            if let Some(size) = t.size {
                opts.push(format!("size={}", size.0));
            }
            if let Some(mode) = t.mode {
                opts.push(format!("mode={mode:o}"));
            }
        }
        if v.read_only {
            opts.push("ro".into());
        }
        if opts.is_empty() {
            out.push(v.target.clone());
        } else {
            out.push(format!("{}:{}", v.target, opts.join(",")));
        }
    }
    out
}

/// `mem_limit`/`cpus`/`pids_limit`, or `deploy.resources.limits`.
fn limits(service: &Service) -> (Option<String>, Option<f64>, Option<i64>) {
    let deploy = service
        .deploy
        .as_ref()
        .and_then(|d| d.resources.as_ref())
        .and_then(|r| r.limits.as_ref());
    let memory = service
        .mem_limit
        .or_else(|| deploy.and_then(|l| l.memory))
        .map(|b| b.0.to_string());
    let cpus = service.cpus.or_else(|| deploy.and_then(|l| l.cpus));
    let pids = service.pids_limit.or_else(|| deploy.and_then(|l| l.pids));
    (memory, cpus, pids)
}

fn security(service: &Service) -> Result<SecuritySpec, OptionsError> {
    let mut security = SecuritySpec {
        privileged: service.privileged,
        cap_add: service.cap_add.clone(),
        cap_drop: service.cap_drop.clone(),
        ..Default::default()
    };
    for opt in &service.security_opt {
        match opt.as_str() {
            "no-new-privileges" | "no-new-privileges:true" | "no-new-privileges=true" => {
                security.no_new_privileges = true
            }
            "seccomp=unconfined" | "seccomp:unconfined" => security.seccomp_unconfined = true,
            other => {
                return Err(OptionsError::SecurityOpt {
                    service: service.name.clone(),
                    option: other.to_string(),
                })
            }
        }
    }
    Ok(security)
}

fn ulimits(service: &Service) -> Vec<Rlimit> {
    let value = |v: i64| u64::try_from(v).unwrap_or(u64::MAX);
    service
        .ulimits
        .iter()
        .map(|(name, u)| {
            let (soft, hard) = match u {
                stack_spec::Ulimit::Single(n) => (value(*n), value(*n)),
                stack_spec::Ulimit::Pair { soft, hard } => (value(*soft), value(*hard)),
            };
            Rlimit {
                name: name.clone(),
                soft,
                hard,
            }
        })
        .collect()
}

/// `network_mode`, or the service's networks with their aliases (the
/// service name is always one) and fixed addresses, by full network name.
fn network(project: &Project, service: &Service) -> NetworkOptions {
    let mode = match service.network_mode.as_deref() {
        Some("none") => NetworkMode::None,
        Some("host") => NetworkMode::Host,
        Some(other) => match other
            .strip_prefix("service:")
            .map(|s| format!("{}-{s}-1", project.name))
            .or_else(|| other.strip_prefix("container:").map(str::to_string))
        {
            Some(target) => NetworkMode::Container(target),
            None => NetworkMode::Default,
        },
        None => {
            let mut joins = Vec::new();
            let keys: Vec<String> = if service.networks.is_empty() {
                vec!["default".into()]
            } else {
                service.networks.keys().cloned().collect()
            };
            for key in keys {
                let settings = service.networks.get(&key).and_then(Option::as_ref);
                let mut aliases = vec![service.name.clone()];
                if let Some(s) = settings {
                    aliases.extend(s.aliases.iter().cloned());
                }
                joins.push(NetworkJoin {
                    network: project
                        .networks
                        .get(&key)
                        .map(|n| n.name.clone())
                        .unwrap_or_else(|| format!("{}_{key}", project.name)),
                    aliases,
                    ipv4_address: settings
                        .and_then(|s| s.ipv4_address.as_deref())
                        .and_then(|a| a.parse().ok()),
                });
            }
            NetworkMode::Networks(joins)
        }
    };
    NetworkOptions {
        mode,
        publish: service.ports.iter().map(port_text).collect(),
        dns: service.dns.clone(),
        extra_hosts: service
            .extra_hosts
            .iter()
            .flat_map(|(host, ips)| ips.iter().map(move |ip| format!("{host}:{ip}")))
            .collect(),
    }
}

/// A port in Docker's short syntax: `[IP:][PUBLISHED:]TARGET/PROTO`.
pub fn port_text(p: &stack_spec::Port) -> String {
    let mut out = String::new();
    if let Some(ip) = p.host_ip.as_deref().filter(|ip| !ip.is_empty()) {
        if ip.contains(':') {
            out.push_str(&format!("[{ip}]:"));
        } else {
            out.push_str(&format!("{ip}:"));
        }
        // An IP needs the published part, even if empty (ephemeral).
        out.push_str(p.published.as_deref().unwrap_or(""));
        out.push(':');
    } else if let Some(published) = p.published.as_deref().filter(|s| !s.is_empty()) {
        out.push_str(published);
        out.push(':');
    }
    out.push_str(&format!("{}/{}", p.target, p.protocol));
    out
}

fn container_labels(
    project: &Project,
    service: &Service,
    slot: &Slot<'_>,
) -> BTreeMap<String, String> {
    let mut l = service.labels.clone();
    l.insert(labels::PROJECT.into(), project.name.clone());
    l.insert(labels::SERVICE.into(), service.name.clone());
    l.insert(labels::CONTAINER_NUMBER.into(), slot.replica.to_string());
    l.insert(labels::CONFIG_HASH.into(), slot.config_hash.to_string());
    l.insert(labels::ONEOFF.into(), "False".into());
    l.insert(
        labels::WORKING_DIR.into(),
        project.working_dir.display().to_string(),
    );
    let files: Vec<String> = project
        .config_files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    l.insert(labels::CONFIG_FILES.into(), files.join(","));
    let deps: Vec<String> = service
        .depends_on
        .iter()
        .map(|(name, d)| {
            let condition = match d.condition {
                stack_spec::DependencyCondition::ServiceStarted => "service_started",
                stack_spec::DependencyCondition::ServiceHealthy => "service_healthy",
                stack_spec::DependencyCondition::ServiceCompletedSuccessfully => {
                    "service_completed_successfully"
                }
            };
            format!("{name}:{condition}:{}", d.restart)
        })
        .collect();
    l.insert(DEPENDS_ON_LABEL.into(), deps.join(","));
    if let Some(digest) = slot.image_digest {
        l.insert(IMAGE_LABEL.into(), digest.to_string());
    }
    l
}

/// The services named by a [`DEPENDS_ON_LABEL`] value.
pub fn depends_on_from_label(value: &str) -> Vec<String> {
    value
        .split(',')
        .filter_map(|entry| entry.split(':').next())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn runtime_restart(p: supervise::RestartPolicy) -> stack_runtime::spec::RestartPolicy {
    use stack_runtime::spec::RestartPolicy as R;
    match p {
        supervise::RestartPolicy::No => R::No,
        supervise::RestartPolicy::Always => R::Always,
        supervise::RestartPolicy::UnlessStopped => R::UnlessStopped,
        supervise::RestartPolicy::OnFailure { max_retries } => R::OnFailure { max_retries },
    }
}

/// `SIGTERM`, `TERM` or `15`.
pub fn signal_number(text: &str) -> Option<i32> {
    use std::str::FromStr;
    if let Ok(n) = text.parse::<i32>() {
        return nix::sys::signal::Signal::try_from(n).ok().map(|s| s as i32);
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    nix::sys::signal::Signal::from_str(&name)
        .ok()
        .map(|s| s as i32)
}

#[cfg(test)]
#[path = "service_options_tests.rs"]
mod tests;

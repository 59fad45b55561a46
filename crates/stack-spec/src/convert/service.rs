//! One service mapping -> [`Service`].

use std::collections::BTreeMap;

use super::nested::{
    deploy, develop, extra_hosts, file_refs, healthcheck, logging, pull_policy, ulimits,
};
use super::ports::port_entry;
use super::volumes::{byte_size, volume_entry};
use super::{command, duration, seq, Ctx};
use crate::model::{
    Dependency, DependencyCondition, EnvFile, RestartPolicy, Service, ServiceNetwork,
};
use crate::yaml::{Node, Value};

/// Keys stack models (CORE and COMMON in the research table, plus the ones
/// the dependency graph needs).
pub const MODELED: &[&str] = &[
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "ports",
    "expose",
    "volumes",
    "volumes_from",
    "networks",
    "network_mode",
    "depends_on",
    "links",
    "restart",
    "healthcheck",
    "container_name",
    "labels",
    "hostname",
    "domainname",
    "user",
    "working_dir",
    "extra_hosts",
    "dns",
    "dns_search",
    "dns_opt",
    "cap_add",
    "cap_drop",
    "read_only",
    "tmpfs",
    "init",
    "stop_signal",
    "stop_grace_period",
    "security_opt",
    "deploy",
    "scale",
    "profiles",
    "secrets",
    "configs",
    "develop",
    "ulimits",
    "sysctls",
    "shm_size",
    "stdin_open",
    "tty",
    "privileged",
    "devices",
    "logging",
    "pull_policy",
    "platform",
    "ipc",
    "pid",
    "cpus",
    "mem_limit",
    "pids_limit",
    "extends",
];

/// Keys of the Compose schema stack accepts and keeps as written.
pub const RARE: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "cpu_count",
    "cpu_percent",
    "cpu_shares",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_runtime",
    "cpu_rt_period",
    "cpuset",
    "cgroup",
    "cgroup_parent",
    "credential_spec",
    "device_cgroup_rules",
    "external_links",
    "gpus",
    "group_add",
    "isolation",
    "label_file",
    "mac_address",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "oom_kill_disable",
    "oom_score_adj",
    "post_start",
    "pre_stop",
    "pre_start",
    "provider",
    "pull_refresh_after",
    "runtime",
    "storage_opt",
    "use_api_socket",
    "userns_mode",
    "uts",
];

/// Converts `services.<name>`. `lookup` answers environment pass-throughs.
pub fn service(
    ctx: &mut Ctx,
    name: &str,
    node: &Node,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Option<Service> {
    let context = format!("service `{name}`");
    let m = ctx.map(node, &context)?;
    let mut s = Service {
        name: name.to_string(),
        ..Service::default()
    };
    let all_keys: Vec<&str> = MODELED.iter().chain(RARE).copied().collect();
    for (k, v) in m.iter() {
        let key = k.name.as_str();
        let cx = format!("service `{name}` {key}");
        match key {
            "image" => s.image = ctx.string(v, &cx),
            "build" => s.build = Some(build_section(ctx, v, &cx)),
            "command" => s.command = command(ctx, v, &cx),
            "entrypoint" => s.entrypoint = command(ctx, v, &cx),
            "environment" => {
                for (k, val) in ctx.key_values(v, &cx) {
                    // `KEY` alone passes the host's value through.
                    let val = val.or_else(|| lookup(&k));
                    s.environment.insert(k, val);
                }
            }
            "env_file" => s.env_file = env_files(ctx, v, &cx),
            "ports" => {
                for item in seq(ctx, v, &cx) {
                    s.ports.extend(port_entry(ctx, item, name));
                }
            }
            "expose" => s.expose = ctx.string_list(v, &cx),
            "volumes" => {
                for item in seq(ctx, v, &cx) {
                    s.volumes.extend(volume_entry(ctx, item, name));
                }
            }
            "volumes_from" => s.volumes_from = ctx.string_list(v, &cx),
            "networks" => s.networks = networks(ctx, v, &cx),
            "network_mode" => s.network_mode = ctx.string(v, &cx),
            "depends_on" => s.depends_on = depends_on(ctx, v, &cx),
            "links" => s.links = ctx.string_list(v, &cx),
            "restart" => {
                if let Some(text) = ctx.string(v, &cx) {
                    match RestartPolicy::parse(&text) {
                        Ok(r) => s.restart = Some(r),
                        Err(e) => {
                            // Compose prints it as written and leaves it to
                            // the container runtime; stack runs the service
                            // without a restart policy.
                            if ctx.stricter_than_compose(
                                v.span,
                                e.to_string(),
                                "bad restart policy",
                            ) {
                                s.other.insert("restart".into(), v.to_json());
                            }
                        }
                    }
                }
            }
            "healthcheck" => s.healthcheck = healthcheck(ctx, v, &cx),
            "container_name" => s.container_name = ctx.string(v, &cx),
            "labels" => s.labels = ctx.string_map(v, &cx),
            "hostname" => s.hostname = ctx.string(v, &cx),
            "domainname" => s.domainname = ctx.string(v, &cx),
            "user" => s.user = ctx.string(v, &cx),
            "working_dir" => s.working_dir = ctx.string(v, &cx),
            "extra_hosts" => s.extra_hosts = extra_hosts(ctx, v, &cx),
            "dns" => s.dns = ctx.string_list(v, &cx),
            "dns_search" => s.dns_search = ctx.string_list(v, &cx),
            "dns_opt" => s.dns_opt = ctx.string_list(v, &cx),
            "cap_add" => s.cap_add = ctx.string_list(v, &cx),
            "cap_drop" => s.cap_drop = ctx.string_list(v, &cx),
            "read_only" => s.read_only = ctx.bool(v, &cx).unwrap_or(false),
            "tmpfs" => s.tmpfs = ctx.string_list(v, &cx),
            "init" => s.init = ctx.bool(v, &cx),
            "stop_signal" => s.stop_signal = ctx.string(v, &cx),
            "stop_grace_period" => s.stop_grace_period = duration(ctx, v, &cx),
            "security_opt" => s.security_opt = ctx.string_list(v, &cx),
            "deploy" => s.deploy = deploy(ctx, v, &cx),
            "scale" => s.scale = ctx.uint(v, &cx),
            "profiles" => s.profiles = ctx.string_list(v, &cx),
            "secrets" => s.secrets = file_refs(ctx, v, &cx),
            "configs" => s.configs = file_refs(ctx, v, &cx),
            "develop" => s.develop = develop(ctx, v, &cx),
            "ulimits" => s.ulimits = ulimits(ctx, v, &cx),
            "sysctls" => s.sysctls = ctx.string_map(v, &cx),
            "shm_size" => s.shm_size = byte_size(ctx, v, &cx),
            "stdin_open" => s.stdin_open = ctx.bool(v, &cx).unwrap_or(false),
            "tty" => s.tty = ctx.bool(v, &cx).unwrap_or(false),
            "privileged" => s.privileged = ctx.bool(v, &cx).unwrap_or(false),
            "devices" => s.devices = ctx.string_list(v, &cx),
            "logging" => s.logging = logging(ctx, v, &cx),
            "pull_policy" => s.pull_policy = pull_policy(ctx, v, &cx),
            "platform" => s.platform = ctx.string(v, &cx),
            "ipc" => s.ipc = ctx.string(v, &cx),
            "pid" => s.pid = ctx.string(v, &cx),
            "cpus" => s.cpus = ctx.float(v, &cx),
            "mem_limit" => s.mem_limit = byte_size(ctx, v, &cx),
            "pids_limit" => s.pids_limit = ctx.int(v, &cx),
            "extends" => {} // resolved before conversion
            key if key.starts_with("x-") || RARE.contains(&key) => {
                s.other.insert(key.to_string(), v.to_json());
            }
            key => ctx.unknown_key(k.span, key, &context, &all_keys),
        }
    }
    // A bad `image` or a failed `extends` was reported already.
    let reported = m.get("image").is_some() || m.get("extends").is_some();
    if s.image.is_none() && s.build.is_none() && !reported {
        ctx.error_with(
            m.entries.first().map(|(k, _)| k.span).unwrap_or(node.span),
            format!("{context} has neither `image` nor `build`"),
            "this service",
        );
    }
    Some(s)
}

fn env_files(ctx: &mut Ctx, node: &Node, context: &str) -> Vec<EnvFile> {
    let items: Vec<&Node> = match &node.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut out = Vec::new();
    for item in items {
        if let Value::Map(m) = &item.value {
            let mut file = EnvFile {
                path: String::new(),
                required: true,
                format: None,
            };
            for (k, v) in m.iter() {
                match k.name.as_str() {
                    "path" => file.path = ctx.string(v, context).unwrap_or_default(),
                    "required" => file.required = ctx.bool(v, context).unwrap_or(true),
                    "format" => file.format = ctx.string(v, context),
                    key => ctx.unknown_key(k.span, key, context, &["path", "required", "format"]),
                }
            }
            if file.path.is_empty() {
                ctx.error(
                    item.span,
                    format!("{context}: an env_file entry needs a `path`"),
                );
            } else {
                out.push(file);
            }
        } else if let Some(path) = ctx.string(item, context) {
            out.push(EnvFile {
                path,
                required: true,
                format: None,
            });
        }
    }
    out
}

fn networks(ctx: &mut Ctx, node: &Node, context: &str) -> BTreeMap<String, Option<ServiceNetwork>> {
    let mut out = BTreeMap::new();
    match &node.value {
        Value::Seq(_) => {
            for name in ctx.string_list(node, context) {
                out.insert(name, None);
            }
        }
        Value::Map(m) => {
            for (k, v) in m.iter() {
                let opts = if v.is_null() {
                    None
                } else {
                    service_network(ctx, v, context)
                };
                out.insert(k.name.clone(), opts);
            }
        }
        _ => ctx.expected(node, "a list or a mapping", context),
    }
    out
}

fn service_network(ctx: &mut Ctx, node: &Node, context: &str) -> Option<ServiceNetwork> {
    const KEYS: &[&str] = &[
        "aliases",
        "ipv4_address",
        "ipv6_address",
        "interface_name",
        "link_local_ips",
        "mac_address",
        "driver_opts",
        "gw_priority",
        "priority",
    ];
    let m = ctx.map(node, context)?;
    let mut n = ServiceNetwork::default();
    for (k, v) in m.iter() {
        match k.name.as_str() {
            "aliases" => n.aliases = ctx.string_list(v, context),
            "ipv4_address" => n.ipv4_address = ctx.string(v, context),
            "ipv6_address" => n.ipv6_address = ctx.string(v, context),
            "interface_name" => n.interface_name = ctx.string(v, context),
            "link_local_ips" => n.link_local_ips = ctx.string_list(v, context),
            "mac_address" => n.mac_address = ctx.string(v, context),
            "driver_opts" => n.driver_opts = ctx.string_map(v, context),
            "gw_priority" => n.gw_priority = ctx.int(v, context),
            "priority" => n.priority = ctx.int(v, context),
            key if key.starts_with("x-") => {}
            key => ctx.unknown_key(k.span, key, context, KEYS),
        }
    }
    Some(n)
}

fn depends_on(ctx: &mut Ctx, node: &Node, context: &str) -> BTreeMap<String, Dependency> {
    let mut out = BTreeMap::new();
    let short = Dependency {
        condition: DependencyCondition::ServiceStarted,
        restart: false,
        required: true,
        from_link: false,
    };
    match &node.value {
        Value::Seq(_) => {
            for name in ctx.string_list(node, context) {
                out.insert(name, short.clone());
            }
        }
        Value::Map(m) => {
            for (k, v) in m.iter() {
                let mut dep = short.clone();
                if let Some(dm) = ctx.map(v, context) {
                    for (dk, dv) in dm.iter() {
                        match dk.name.as_str() {
                            "condition" => match ctx.string(dv, context).as_deref() {
                                Some("service_started") => {}
                                Some("service_healthy") => {
                                    dep.condition = DependencyCondition::ServiceHealthy
                                }
                                Some("service_completed_successfully") => {
                                    dep.condition = DependencyCondition::ServiceCompletedSuccessfully
                                }
                                _ => ctx.error_with(
                                    dv.span,
                                    format!("{context}: condition must be service_started, service_healthy or service_completed_successfully"),
                                    "bad condition",
                                ),
                            },
                            "restart" => dep.restart = ctx.bool(dv, context).unwrap_or(false),
                            "required" => dep.required = ctx.bool(dv, context).unwrap_or(true),
                            key => ctx.unknown_key(dk.span, key, context, &["condition", "restart", "required"]),
                        }
                    }
                }
                out.insert(k.name.clone(), dep);
            }
        }
        _ => ctx.expected(node, "a list or a mapping", context),
    }
    out
}

/// `build:` kept as written, but with Compose's types where it reads
/// them: `no_cache` and `pull` are booleans also when written (or
/// interpolated) as `"true"`/`"false"`, and `tags` are strings, a number
/// taken as written. Anything else there is an error at its position,
/// never a value the builder would drop or read as false.
fn build_section(ctx: &mut Ctx, node: &Node, context: &str) -> serde_json::Value {
    let Value::Map(m) = &node.value else {
        return node.to_json();
    };
    let mut out = serde_json::Map::new();
    for (k, v) in m.iter() {
        let key = k.name.as_str();
        let cx = format!("{context}.{key}");
        let value = match key {
            "no_cache" | "pull" => match ctx.bool(v, &cx) {
                Some(b) => serde_json::Value::Bool(b),
                None => serde_json::Value::Null,
            },
            "tags" => match &v.value {
                Value::Seq(items) => serde_json::Value::Array(
                    items
                        .iter()
                        .filter_map(|item| match &item.value {
                            Value::Scalar(_) => ctx.string(item, &cx),
                            _ => {
                                ctx.expected(item, "a string", &cx);
                                None
                            }
                        })
                        .map(serde_json::Value::String)
                        .collect(),
                ),
                _ if v.is_null() => serde_json::Value::Null,
                _ => {
                    ctx.expected(v, "a list of strings", &cx);
                    serde_json::Value::Null
                }
            },
            _ => v.to_json(),
        };
        out.insert(key.to_string(), value);
    }
    serde_json::Value::Object(out)
}

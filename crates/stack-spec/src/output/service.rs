//! One service as Compose prints it: its fields in the order of Compose's
//! `ServiceConfig`, with Compose's defaults and shapes.

use std::collections::BTreeMap;

use super::node::{clean_path, Flavor, Node, Obj};
use super::parts::{
    build, bytes_field, deploy, devices, file_ref, healthcheck, hooks, json_field, shell_command,
    ulimit, watch_rule, Context,
};
use crate::model::{Dependency, DependencyCondition, MountType, Port, Service, ServiceVolume};

/// Service keys of Compose's `ServiceConfig`, in its order, that stack keeps
/// as written (in [`Service::other`]) rather than modelling.
const BEFORE_BUILD: &[&str] = &["annotations", "attach"];

/// A service as a document node.
pub fn service(s: &Service, ctx: &Context, flavor: Flavor) -> Node {
    let other = |key: &str| s.other.get(key).map(|v| json_field(key, v));
    let mut o = Obj::new();
    o.strings("profiles", &s.profiles);
    for key in BEFORE_BUILD {
        o.opt(key, other(key));
    }
    o.opt("build", s.build.as_ref().map(|b| build(b, ctx, flavor)));
    o.opt(
        "develop",
        s.develop.as_ref().map(|d| {
            let mut dev = Obj::new();
            dev.nonempty(
                "watch",
                Node::Seq(d.watch.iter().map(|w| watch_rule(w, flavor)).collect()),
            );
            dev.node()
        }),
    );
    o.opt("blkio_config", other("blkio_config"));
    o.strings("cap_add", &s.cap_add);
    o.strings("cap_drop", &s.cap_drop);
    for key in [
        "cgroup_parent",
        "cgroup",
        "cpu_count",
        "cpu_percent",
        "cpu_period",
        "cpu_quota",
        "cpu_rt_period",
        "cpu_rt_runtime",
    ] {
        o.opt(key, other(key));
    }
    if let Some(cpus) = s.cpus.filter(|c| *c != 0.0) {
        o.put("cpus", Node::Float32(cpus as f32));
    }
    o.opt("cpuset", other("cpuset"));
    o.opt("cpu_shares", other("cpu_shares"));
    o.opt("command", shell_command(s.command.as_deref(), flavor));
    if !s.configs.is_empty() {
        o.put(
            "configs",
            Node::Seq(s.configs.iter().map(|r| file_ref(r, None)).collect()),
        );
    }
    o.string("container_name", s.container_name.as_deref());
    o.opt("credential_spec", other("credential_spec"));
    if !s.depends_on.is_empty() {
        o.put(
            "depends_on",
            Node::sorted_map(
                s.depends_on
                    .iter()
                    .map(|(name, d)| (name.clone(), dependency(d))),
            ),
        );
    }
    o.opt("deploy", s.deploy.as_ref().map(|d| deploy(d, flavor)));
    o.opt("device_cgroup_rules", other("device_cgroup_rules"));
    if !s.devices.is_empty() {
        o.put("devices", devices(&s.devices));
    }
    o.strings("dns", &s.dns);
    o.strings("dns_opt", &s.dns_opt);
    o.strings("dns_search", &s.dns_search);
    o.string("domainname", s.domainname.as_deref());
    o.opt("entrypoint", shell_command(s.entrypoint.as_deref(), flavor));
    o.opt("provider", other("provider"));
    if !s.environment.is_empty() {
        o.put("environment", environment(&s.environment));
    }
    // `env_file` is read into `environment` and left out, as Compose does.
    o.strings("expose", &s.expose);
    o.opt("external_links", other("external_links"));
    if !s.extra_hosts.is_empty() {
        let mut lines: Vec<String> = s
            .extra_hosts
            .iter()
            .flat_map(|(host, ips)| ips.iter().map(move |ip| format!("{host}={ip}")))
            .collect();
        lines.sort();
        o.put("extra_hosts", Node::strs(lines));
    }
    o.opt("group_add", other("group_add"));
    o.opt("gpus", other("gpus"));
    o.string("hostname", s.hostname.as_deref());
    o.opt("healthcheck", s.healthcheck.as_ref().map(healthcheck));
    o.string("image", s.image.as_deref());
    o.opt("init", s.init.map(Node::Bool));
    o.string("ipc", s.ipc.as_deref());
    o.opt("isolation", other("isolation"));
    if !s.labels.is_empty() {
        o.put("labels", Node::string_map(&s.labels));
    }
    o.opt("label_file", other("label_file"));
    o.strings("links", &s.links);
    o.opt(
        "logging",
        s.logging.as_ref().map(|l| {
            let mut lo = Obj::new();
            lo.string("driver", l.driver.as_deref());
            if !l.options.is_empty() {
                lo.put("options", Node::string_map(&l.options));
            }
            lo.node()
        }),
    );
    if let Some(m) = s.mem_limit.filter(|m| m.0 != 0) {
        o.put("mem_limit", Node::str(m.0.to_string()));
    }
    for key in ["mem_reservation", "memswap_limit", "mem_swappiness"] {
        o.opt(key, s.other.get(key).and_then(bytes_field));
    }
    o.opt("mac_address", other("mac_address"));
    o.opt("models", other("models"));
    o.string("network_mode", s.network_mode.as_deref());
    if !s.networks.is_empty() {
        o.put(
            "networks",
            Node::sorted_map(s.networks.iter().map(|(name, n)| {
                let node = match n {
                    None => Node::Null,
                    Some(n) => {
                        let mut no = Obj::new();
                        no.strings("aliases", &n.aliases);
                        if !n.driver_opts.is_empty() {
                            no.put("driver_opts", Node::string_map(&n.driver_opts));
                        }
                        no.opt(
                            "gw_priority",
                            n.gw_priority.filter(|p| *p != 0).map(Node::Int),
                        );
                        no.string("interface_name", n.interface_name.as_deref());
                        no.string("ipv4_address", n.ipv4_address.as_deref());
                        no.string("ipv6_address", n.ipv6_address.as_deref());
                        no.strings("link_local_ips", &n.link_local_ips);
                        no.string("mac_address", n.mac_address.as_deref());
                        no.opt("priority", n.priority.filter(|p| *p != 0).map(Node::Int));
                        no.node()
                    }
                };
                (name.clone(), node)
            })),
        );
    }
    o.opt("oom_kill_disable", other("oom_kill_disable"));
    o.opt("oom_score_adj", other("oom_score_adj"));
    o.string("pid", s.pid.as_deref());
    o.opt(
        "pids_limit",
        s.pids_limit.filter(|p| *p != 0).map(Node::Int),
    );
    o.string("platform", s.platform.as_deref());
    if !s.ports.is_empty() {
        o.put("ports", Node::Seq(s.ports.iter().map(port).collect()));
    }
    o.flag("privileged", s.privileged);
    o.string("pull_policy", s.pull_policy.as_deref());
    o.flag("read_only", s.read_only);
    // A policy stack does not know, kept as written (--compatibility).
    let restart = s.restart.map(|r| Node::str(r.to_string()));
    o.opt("restart", restart.or_else(|| other("restart")));
    o.opt("runtime", other("runtime"));
    o.opt("scale", s.scale.map(|n| Node::Int(i64::from(n))));
    if !s.secrets.is_empty() {
        o.put(
            "secrets",
            Node::Seq(
                s.secrets
                    .iter()
                    .map(|r| file_ref(r, Some("/run/secrets/")))
                    .collect(),
            ),
        );
    }
    o.strings("security_opt", &s.security_opt);
    if let Some(m) = s.shm_size.filter(|m| m.0 != 0) {
        o.put("shm_size", Node::str(m.0.to_string()));
    }
    o.flag("stdin_open", s.stdin_open);
    o.opt(
        "stop_grace_period",
        s.stop_grace_period.map(|d| Node::str(d.to_string())),
    );
    o.string("stop_signal", s.stop_signal.as_deref());
    o.opt("storage_opt", other("storage_opt"));
    if !s.sysctls.is_empty() {
        o.put("sysctls", Node::string_map(&s.sysctls));
    }
    o.strings("tmpfs", &s.tmpfs);
    o.flag("tty", s.tty);
    if !s.ulimits.is_empty() {
        o.put(
            "ulimits",
            Node::sorted_map(
                s.ulimits
                    .iter()
                    .map(|(k, u)| (k.clone(), ulimit(u, flavor))),
            ),
        );
    }
    o.opt("use_api_socket", other("use_api_socket"));
    o.string("user", s.user.as_deref());
    o.opt("userns_mode", other("userns_mode"));
    o.opt("uts", other("uts"));
    if !s.volumes.is_empty() {
        let clean = ctx.normalize;
        let mounts = s.volumes.iter().map(|v| volume(v, clean)).collect();
        o.put("volumes", Node::Seq(mounts));
    }
    o.strings("volumes_from", &s.volumes_from);
    o.string("working_dir", s.working_dir.as_deref());
    for key in ["post_start", "pre_stop"] {
        o.opt(key, s.other.get(key).map(|v| hooks(v, flavor)));
    }
    // Keys Compose does not know land with the extensions, sorted.
    let known = |k: &str| KNOWN_OTHER.contains(&k);
    o.extensions(flavor, s.other.iter().filter(|(k, _)| !known(k)));
    o.node()
}

/// The keys of [`Service::other`] placed by [`service`].
const KNOWN_OTHER: &[&str] = &[
    "restart",
    "annotations",
    "attach",
    "blkio_config",
    "cgroup_parent",
    "cgroup",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpuset",
    "cpu_shares",
    "credential_spec",
    "device_cgroup_rules",
    "provider",
    "external_links",
    "group_add",
    "gpus",
    "isolation",
    "label_file",
    "mem_reservation",
    "memswap_limit",
    "mem_swappiness",
    "mac_address",
    "models",
    "oom_kill_disable",
    "oom_score_adj",
    "runtime",
    "storage_opt",
    "use_api_socket",
    "userns_mode",
    "uts",
    "post_start",
    "pre_stop",
];

fn environment(env: &BTreeMap<String, Option<String>>) -> Node {
    Node::sorted_map(env.iter().map(|(k, v)| {
        let value = match v {
            Some(v) => Node::str(v),
            None => Node::Null,
        };
        (k.clone(), value)
    }))
}

fn dependency(d: &Dependency) -> Node {
    let condition = match d.condition {
        DependencyCondition::ServiceStarted => "service_started",
        DependencyCondition::ServiceHealthy => "service_healthy",
        DependencyCondition::ServiceCompletedSuccessfully => "service_completed_successfully",
    };
    let mut o = Obj::new();
    o.put("condition", Node::str(condition));
    // Compose restarts a service with its links: a link implies `restart`.
    o.flag("restart", d.restart || d.from_link);
    o.put("required", Node::Bool(d.required));
    o.node()
}

fn port(p: &Port) -> Node {
    let mut o = Obj::new();
    o.string("name", p.name.as_deref());
    o.string("mode", Some(&p.mode));
    o.string("host_ip", p.host_ip.as_deref());
    if p.target != 0 {
        o.put("target", Node::Int(i64::from(p.target)));
    }
    o.string("published", p.published.as_deref());
    o.string("protocol", Some(&p.protocol));
    o.string("app_protocol", p.app_protocol.as_deref());
    o.node()
}

/// `clean`: the target cleaned as a path, as Compose's normalization does.
fn volume(v: &ServiceVolume, clean: bool) -> Node {
    let kind = match v.kind {
        MountType::Bind => "bind",
        MountType::Volume => "volume",
        MountType::Tmpfs => "tmpfs",
        MountType::Image => "image",
        MountType::Npipe => "npipe",
        MountType::Cluster => "cluster",
    };
    let mut o = Obj::new();
    o.put("type", Node::str(kind));
    o.string("source", v.source.as_deref());
    // Compose cleans the target as a path; the source is left as written.
    let target = if clean {
        clean_path(&v.target)
    } else {
        v.target.clone()
    };
    o.string("target", Some(&target));
    o.flag("read_only", v.read_only);
    o.string("consistency", v.consistency.as_deref());
    if let Some(b) = &v.bind {
        let mut bo = Obj::new();
        bo.string("selinux", b.selinux.as_deref());
        bo.string("propagation", b.propagation.as_deref());
        bo.flag("create_host_path", b.create_host_path);
        o.put("bind", bo.node());
    }
    if let Some(vo) = &v.volume {
        let mut vv = Obj::new();
        vv.flag("nocopy", vo.nocopy);
        vv.string("subpath", vo.subpath.as_deref());
        o.put("volume", vv.node());
    }
    if let Some(t) = &v.tmpfs {
        let mut to = Obj::new();
        if let Some(size) = t.size.filter(|s| s.0 != 0) {
            to.put("size", Node::str(size.0.to_string()));
        }
        to.opt(
            "mode",
            t.mode.filter(|m| *m != 0).map(|m| Node::Int(i64::from(m))),
        );
        o.put("tmpfs", to.node());
    }
    o.node()
}

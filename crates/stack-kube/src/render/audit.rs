//! Every key of the stack file is either translated or reported.
//!
//! The check works on the model's serialized form (the normal form `stack
//! config` prints), so a key the model gains later, or a rare key it keeps
//! as written, shows up here as "not translated" instead of vanishing.

use serde::Serialize;
use stack_spec::{Deploy, Service};

use super::Context;

/// Service keys whose meaning the renderer carries over (some partially;
/// those parts are reported where they are handled).
const TRANSLATED: &[&str] = &[
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "ports",
    "expose",
    "volumes",
    "networks",
    "depends_on",
    "restart",
    "healthcheck",
    "labels",
    "hostname",
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
    "stop_grace_period",
    "security_opt",
    "deploy",
    "scale",
    "profiles",
    "secrets",
    "configs",
    "shm_size",
    "stdin_open",
    "tty",
    "privileged",
    "pull_policy",
    "platform",
    "cpus",
    "mem_limit",
];

/// Why a known key has no Kubernetes counterpart.
fn reason(key: &str) -> &'static str {
    match key {
        "container_name" => "pod names are chosen by Kubernetes",
        "links" => "every service already resolves by its name; link aliases are lost",
        "volumes_from" => "pods cannot share volumes with other pods this way",
        "network_mode" => "every pod has its own network namespace",
        "domainname" => "no pod equivalent",
        "stop_signal" => "Kubernetes stops containers with the image's STOPSIGNAL or SIGTERM",
        "develop" => "the watch loop belongs to `stack watch`",
        "ulimits" => "Kubernetes has no per-pod ulimits",
        "sysctls" => "pods may only set sysctls the kubelet allows; set them in the cluster",
        "devices" => "devices need a device plugin in the cluster",
        "logging" => "the cluster's log collection applies",
        "ipc" | "pid" => "no per-pod equivalent",
        "pids_limit" => "the kubelet sets PID limits per node",
        _ => "not translated to Kubernetes",
    }
}

/// Reports the project-level keys that have no Kubernetes meaning.
pub(super) fn project_keys(ctx: &mut Context<'_>) {
    for name in ctx.project.networks.keys() {
        if name != "default" {
            ctx.warnings.push(
                format!("networks.{name}"),
                "Kubernetes has one flat pod network: services on different networks can reach each other",
            );
        }
    }
}

/// Reports every key of `service` the renderer does not translate.
pub(super) fn service_keys(ctx: &mut Context<'_>, name: &str, service: &Service) {
    for key in present_keys(service) {
        if key.starts_with("x-") || TRANSLATED.contains(&key.as_str()) {
            continue;
        }
        ctx.warnings
            .push(format!("services.{name}.{key}"), reason(&key));
    }
    if let Some(deploy) = &service.deploy {
        deploy_keys(ctx, name, deploy);
    }
}

fn deploy_keys(ctx: &mut Context<'_>, name: &str, deploy: &Deploy) {
    for key in present_keys(deploy) {
        if !matches!(key.as_str(), "replicas" | "resources" | "labels") {
            ctx.warnings.push(
                format!("services.{name}.deploy.{key}"),
                "not translated to Kubernetes",
            );
        }
    }
    let Some(resources) = &deploy.resources else {
        return;
    };
    for (side, resource) in [
        ("limits", &resources.limits),
        ("reservations", &resources.reservations),
    ] {
        let Some(resource) = resource else { continue };
        for key in present_keys(resource) {
            if !matches!(key.as_str(), "cpus" | "memory") {
                ctx.warnings.push(
                    format!("services.{name}.deploy.resources.{side}.{key}"),
                    "not translated to Kubernetes",
                );
            }
        }
    }
}

/// Keys of the serialized form of `value` (empty if it is not a map).
fn present_keys(value: &impl Serialize) -> Vec<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => map.into_iter().map(|(key, _)| key).collect(),
        _ => Vec::new(),
    }
}

//! The nested parts of a service as Compose prints them: `build`, `deploy`,
//! `healthcheck`, hooks, devices, ulimits, and the keys stack keeps as
//! written but Compose normalizes (sizes in bytes, durations in Go's form).

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::node::{Flavor, Node, Obj};
use crate::model::{
    ByteSize, Deploy, Duration, FileReference, Healthcheck, Resource, Ulimit, WatchAction,
    WatchRule,
};

/// What shaping a service needs from its project.
pub struct Context<'a> {
    /// The project directory, absolute (a `build` without `context`).
    pub working_dir: &'a str,
    /// Variables interpolation saw (`build.args` given without a value).
    pub environment: &'a BTreeMap<String, String>,
    /// Compose's defaults are added (not under `--no-normalize`).
    pub normalize: bool,
}

/// A key stack keeps as written, as Compose prints it.
pub fn json_field(key: &str, value: &J) -> Node {
    match (key, value) {
        ("annotations", _) => key_values(value, |_| None, true),
        ("label_file", J::String(s)) => Node::strs([s]),
        ("gpus", J::Array(items)) => Node::Seq(items.iter().map(device_request).collect()),
        _ => Node::from_json(value),
    }
}

/// A size Compose keeps as a number of bytes, printed as a string.
pub fn bytes_field(value: &J) -> Option<Node> {
    let bytes = match value {
        J::Number(n) => n.to_string(),
        J::String(s) => match ByteSize::parse(s) {
            Ok(b) => b.0.to_string(),
            Err(_) => s.clone(),
        },
        _ => return Some(Node::from_json(value)),
    };
    (bytes != "0").then(|| Node::str(bytes))
}

/// A duration written in the stack file, in Go's form (`2m0s`).
fn duration_field(value: &J) -> Option<Node> {
    let text = match value {
        J::String(s) => s.clone(),
        J::Number(n) => n.to_string(),
        _ => return None,
    };
    Some(Node::str(
        Duration::parse(&text).map_or(text, |d| d.to_string()),
    ))
}

/// `command`/`entrypoint`: absent in YAML, `null` in JSON.
pub fn shell_command(command: Option<&[String]>, flavor: Flavor) -> Option<Node> {
    match (command, flavor) {
        (Some(words), _) => Some(Node::strs(words)),
        (None, Flavor::Json) => Some(Node::Null),
        (None, Flavor::Yaml) => None,
    }
}

/// A list of `KEY=VALUE` or a mapping, as a sorted mapping. A key without
/// a value is looked up with `lookup`; when that fails it is kept as null
/// if `keep_empty`, else dropped.
fn key_values(value: &J, lookup: impl Fn(&str) -> Option<String>, keep_empty: bool) -> Node {
    let mut out: Vec<(String, Node)> = Vec::new();
    let mut add = |key: &str, val: Option<String>| {
        match val.or_else(|| lookup(key)) {
            Some(v) => out.push((key.to_string(), Node::Str(v))),
            None if keep_empty => out.push((key.to_string(), Node::Null)),
            None => {}
        };
    };
    match value {
        J::Array(items) => {
            for item in items {
                let text = scalar_text(item).unwrap_or_default();
                match text.split_once('=') {
                    Some((k, v)) => add(k, Some(v.to_string())),
                    None => add(&text, None),
                }
            }
        }
        J::Object(map) => {
            for (k, v) in map {
                add(k, scalar_text(v));
            }
        }
        _ => return Node::from_json(value),
    }
    Node::sorted_map(out)
}

fn scalar_text(v: &J) -> Option<String> {
    match v {
        J::Null => None,
        J::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn string_list(v: &J) -> Node {
    match v {
        J::String(s) => Node::strs([s]),
        other => Node::from_json(other),
    }
}

/// `build`, short or long form, with Compose's defaults.
pub fn build(value: &J, ctx: &Context, flavor: Flavor) -> Node {
    let empty = serde_json::Map::new();
    let (context, m) = match value {
        J::String(s) => (s.clone(), &empty),
        J::Object(m) => (
            m.get("context")
                .and_then(J::as_str)
                .unwrap_or(ctx.working_dir)
                .to_string(),
            m,
        ),
        other => return Node::from_json(other),
    };
    let get = |k: &str| m.get(k);
    let mut o = Obj::new();
    o.put("context", Node::str(context));
    match (get("dockerfile"), get("dockerfile_inline")) {
        (Some(d), _) => {
            o.put("dockerfile", Node::from_json(d));
        }
        (None, None) if ctx.normalize => {
            o.put("dockerfile", Node::str("Dockerfile"));
        }
        (None, _) => {}
    }
    o.opt(
        "dockerfile_inline",
        get("dockerfile_inline").map(Node::from_json),
    );
    o.opt("entitlements", get("entitlements").map(Node::from_json));
    if let Some(args) = get("args") {
        let lookup = |k: &str| {
            ctx.normalize
                .then(|| ctx.environment.get(k).cloned())
                .flatten()
        };
        // Unresolved ones are dropped, or kept as null without
        // normalization, as Compose does.
        o.nonempty("args", key_values(args, lookup, !ctx.normalize));
    }
    for key in ["provenance", "sbom", "ssh"] {
        o.opt(key, get(key).map(Node::from_json));
    }
    o.opt(
        "labels",
        get("labels").map(|l| key_values(l, |_| None, false)),
    );
    for key in ["cache_from", "cache_to"] {
        o.opt(key, get(key).map(string_list));
    }
    o.opt("no_cache", get("no_cache").map(Node::from_json));
    o.opt(
        "additional_contexts",
        get("additional_contexts").map(|a| key_values(a, |_| None, true)),
    );
    o.opt("pull", get("pull").map(Node::from_json));
    o.opt("extra_hosts", get("extra_hosts").map(hosts));
    for key in ["isolation", "network", "target"] {
        o.opt(key, get(key).map(Node::from_json));
    }
    if let Some(J::Array(secrets)) = get("secrets") {
        o.put(
            "secrets",
            Node::Seq(secrets.iter().map(|s| json_file_ref(s, None)).collect()),
        );
    }
    o.opt("shm_size", get("shm_size").and_then(bytes_field));
    o.opt("tags", get("tags").map(string_list));
    o.opt("ulimits", get("ulimits").map(|u| json_ulimits(u, flavor)));
    o.opt("platforms", get("platforms").map(string_list));
    o.opt("privileged", get("privileged").map(Node::from_json));
    o.extensions(flavor, m.iter());
    o.node()
}

/// `extra_hosts` as sorted `host=ip` lines.
fn hosts(value: &J) -> Node {
    let mut lines: Vec<String> = match value {
        J::Array(items) => items
            .iter()
            .filter_map(scalar_text)
            .map(|l| match l.split_once(['=', ':']) {
                Some((h, ip)) => format!("{h}={}", unbracket(ip)),
                None => l,
            })
            .collect(),
        J::Object(map) => map
            .iter()
            .map(|(h, ip)| format!("{h}={}", unbracket(&scalar_text(ip).unwrap_or_default())))
            .collect(),
        other => return Node::from_json(other),
    };
    lines.sort();
    Node::strs(lines)
}

fn unbracket(ip: &str) -> &str {
    match ip.strip_prefix('[').and_then(|i| i.strip_suffix(']')) {
        Some(inner) if ip.len() > 2 => inner,
        _ => ip,
    }
}

fn json_ulimits(value: &J, flavor: Flavor) -> Node {
    let J::Object(map) = value else {
        return Node::from_json(value);
    };
    Node::sorted_map(map.iter().map(|(k, v)| {
        let u = match v {
            J::Object(p) => Ulimit::Pair {
                soft: p.get("soft").and_then(J::as_i64).unwrap_or(0),
                hard: p.get("hard").and_then(J::as_i64).unwrap_or(0),
            },
            other => Ulimit::Single(other.as_i64().unwrap_or(0)),
        };
        (k.clone(), ulimit(&u, flavor))
    }))
}

/// One ulimit: a number, or `soft` and `hard`.
pub fn ulimit(u: &Ulimit, _flavor: Flavor) -> Node {
    match *u {
        Ulimit::Single(n) => Node::Int(n),
        Ulimit::Pair { soft, hard } => {
            let mut o = Obj::new();
            o.put("soft", Node::Int(soft));
            o.put("hard", Node::Int(hard));
            o.node()
        }
    }
}

/// A service's use of a secret or config. Secrets without a `target` are
/// mounted at `/run/secrets/<source>`: `default_dir` says so.
pub fn file_ref(r: &FileReference, default_dir: Option<&str>) -> Node {
    let mut o = Obj::new();
    o.string("source", Some(&r.source));
    let target = r
        .target
        .clone()
        .or_else(|| default_dir.map(|d| format!("{d}{}", r.source)));
    o.string("target", target.as_deref());
    o.string("uid", r.uid.as_deref());
    o.string("gid", r.gid.as_deref());
    o.opt("mode", r.mode.map(|m| Node::str(format!("0{m:o}"))));
    o.node()
}

fn json_file_ref(value: &J, default_dir: Option<&str>) -> Node {
    match value {
        J::String(s) => file_ref(
            &FileReference {
                source: s.clone(),
                ..FileReference::default()
            },
            default_dir,
        ),
        other => Node::from_json(other),
    }
}

pub fn healthcheck(h: &Healthcheck) -> Node {
    let mut o = Obj::new();
    o.strings("test", &h.test);
    let d = |d: Option<Duration>| d.map(|d| Node::str(d.to_string()));
    o.opt("timeout", d(h.timeout));
    o.opt("interval", d(h.interval));
    o.opt("retries", h.retries.map(|r| Node::Int(r as i64)));
    o.opt("start_period", d(h.start_period));
    o.opt("start_interval", d(h.start_interval));
    // `test: [NONE]` is how the file said it; Compose does not add `disable`.
    let none = h.test.first().is_some_and(|t| t == "NONE");
    o.flag("disable", h.disable && !none);
    o.node()
}

pub fn deploy(d: &Deploy, flavor: Flavor) -> Node {
    let other = |k: &str| d.other.get(k);
    let mut o = Obj::new();
    o.opt("mode", other("mode").map(Node::from_json));
    o.opt("replicas", d.replicas.map(|r| Node::Int(i64::from(r))));
    if !d.labels.is_empty() {
        o.put("labels", Node::string_map(&d.labels));
    }
    for key in ["update_config", "rollback_config"] {
        o.opt(key, other(key).map(|u| update_config(u, flavor)));
    }
    let mut resources = Obj::new();
    if let Some(r) = &d.resources {
        resources.opt("limits", r.limits.as_ref().map(resource));
        resources.opt("reservations", r.reservations.as_ref().map(resource));
    }
    if flavor == Flavor::Json || !resources.is_empty() {
        o.put("resources", resources.node());
    }
    o.opt(
        "restart_policy",
        other("restart_policy").map(|r| restart_policy(r, flavor)),
    );
    let placement = other("placement").map(Node::from_json);
    match placement {
        Some(p) if flavor == Flavor::Json || !p.is_empty_map() => {
            o.put("placement", p);
        }
        None if flavor == Flavor::Json => {
            o.put("placement", Node::Map(Vec::new()));
        }
        _ => {}
    }
    o.opt("endpoint_mode", other("endpoint_mode").map(Node::from_json));
    o.node()
}

fn resource(r: &Resource) -> Node {
    let mut o = Obj::new();
    if let Some(cpus) = r.cpus.filter(|c| *c != 0.0) {
        o.put("cpus", Node::Float32(cpus as f32));
    }
    if let Some(m) = r.memory.filter(|m| m.0 != 0) {
        o.put("memory", Node::str(m.0.to_string()));
    }
    o.opt("pids", r.pids.filter(|p| *p != 0).map(Node::Int));
    if let Some(J::Array(devices)) = r.other.get("devices") {
        o.put(
            "devices",
            Node::Seq(devices.iter().map(device_request).collect()),
        );
    }
    o.opt(
        "generic_resources",
        r.other.get("generic_resources").map(Node::from_json),
    );
    o.node()
}

/// A GPU or device request; without `count` or `device_ids` it asks for all.
fn device_request(value: &J) -> Node {
    let J::Object(m) = value else {
        return Node::from_json(value);
    };
    let mut o = Obj::new();
    o.opt("capabilities", m.get("capabilities").map(string_list));
    o.opt("driver", m.get("driver").map(Node::from_json));
    let count = match m.get("count") {
        Some(J::String(s)) if s.eq_ignore_ascii_case("all") => Some(Node::Int(-1)),
        Some(J::String(s)) => Some(s.parse().map_or(Node::str(s), Node::Int)),
        Some(other) => Some(Node::from_json(other)),
        None if m.get("device_ids").is_none() => Some(Node::Int(-1)),
        None => None,
    };
    o.opt("count", count);
    o.opt("device_ids", m.get("device_ids").map(Node::from_json));
    o.opt(
        "options",
        m.get("options").map(|v| key_values(v, |_| None, false)),
    );
    o.node()
}

fn update_config(value: &J, flavor: Flavor) -> Node {
    let J::Object(m) = value else {
        return Node::from_json(value);
    };
    let mut o = Obj::new();
    o.opt("parallelism", m.get("parallelism").map(Node::from_json));
    o.opt(
        "delay",
        m.get("delay")
            .and_then(duration_field)
            .filter(|d| *d != Node::str("0s")),
    );
    o.opt(
        "failure_action",
        m.get("failure_action").map(Node::from_json),
    );
    o.opt(
        "monitor",
        m.get("monitor")
            .and_then(duration_field)
            .filter(|d| *d != Node::str("0s")),
    );
    o.opt(
        "max_failure_ratio",
        m.get("max_failure_ratio")
            .and_then(J::as_f64)
            .filter(|r| *r != 0.0)
            .map(|r| Node::Float32(r as f32)),
    );
    o.opt("order", m.get("order").map(Node::from_json));
    o.extensions(flavor, m.iter());
    o.node()
}

fn restart_policy(value: &J, flavor: Flavor) -> Node {
    let J::Object(m) = value else {
        return Node::from_json(value);
    };
    let mut o = Obj::new();
    o.opt("condition", m.get("condition").map(Node::from_json));
    o.opt("delay", m.get("delay").and_then(duration_field));
    o.opt("max_attempts", m.get("max_attempts").map(Node::from_json));
    o.opt("window", m.get("window").and_then(duration_field));
    o.extensions(flavor, m.iter());
    o.node()
}

/// `devices` in short syntax (`SOURCE[:TARGET[:PERMISSIONS]]`).
pub fn devices(items: &[String]) -> Node {
    Node::Seq(
        items
            .iter()
            .map(|spec| {
                let parts: Vec<&str> = spec.split(':').collect();
                let source = parts[0];
                let target = parts.get(1).copied().filter(|t| !t.is_empty());
                let permissions = parts.get(2).copied().unwrap_or("rwm");
                let mut o = Obj::new();
                o.string("source", Some(source));
                o.string("target", Some(target.unwrap_or(source)));
                o.string("permissions", Some(permissions));
                o.node()
            })
            .collect(),
    )
}

/// `post_start` / `pre_stop`: a list of hooks.
pub fn hooks(value: &J, flavor: Flavor) -> Node {
    let J::Array(items) = value else {
        return Node::from_json(value);
    };
    Node::Seq(items.iter().map(|h| hook(h, flavor)).collect())
}

fn hook(value: &J, flavor: Flavor) -> Node {
    let J::Object(m) = value else {
        return Node::from_json(value);
    };
    let command: Option<Vec<String>> = match m.get("command") {
        Some(J::String(s)) => crate::convert::shell_split(s).ok(),
        Some(J::Array(items)) => Some(items.iter().filter_map(scalar_text).collect()),
        _ => None,
    };
    let mut o = Obj::new();
    o.opt("command", shell_command(command.as_deref(), flavor));
    o.opt("user", m.get("user").map(Node::from_json));
    o.opt("privileged", m.get("privileged").map(Node::from_json));
    o.opt("working_dir", m.get("working_dir").map(Node::from_json));
    o.opt(
        "environment",
        m.get("environment").map(|e| key_values(e, |_| None, true)),
    );
    o.node()
}

pub fn watch_rule(w: &WatchRule, flavor: Flavor) -> Node {
    let action = match w.action {
        WatchAction::Rebuild => "rebuild",
        WatchAction::Sync => "sync",
        WatchAction::Restart => "restart",
        WatchAction::SyncRestart => "sync+restart",
        WatchAction::SyncExec => "sync+exec",
    };
    let mut o = Obj::new();
    o.put("path", Node::str(&w.path));
    o.put("action", Node::str(action));
    o.string("target", w.target.as_deref());
    let mut exec = Obj::new();
    if let Some(e) = &w.exec {
        exec.opt("command", shell_command(Some(&e.command), flavor));
        exec.string("user", e.user.as_deref());
        exec.flag("privileged", e.privileged);
        exec.string("working_dir", e.working_dir.as_deref());
        if !e.environment.is_empty() {
            exec.put(
                "environment",
                Node::sorted_map(
                    e.environment
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_ref().map_or(Node::Null, Node::str))),
                ),
            );
        }
    } else if flavor == Flavor::Json {
        exec.put("command", Node::Null);
    }
    if flavor == Flavor::Json || !exec.is_empty() {
        o.put("exec", exec.node());
    }
    o.strings("include", &w.include);
    o.strings("ignore", &w.ignore);
    o.flag("initial_sync", w.initial_sync);
    o.node()
}

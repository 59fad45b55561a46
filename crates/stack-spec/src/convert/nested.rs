//! Nested service settings: healthcheck, extra_hosts, deploy, secrets and
//! configs references, develop.watch, ulimits, logging, pull_policy.

use std::collections::BTreeMap;

use super::volumes::byte_size;
use super::Ctx;
use super::{command, duration, seq};
use crate::model::{
    Deploy, Develop, Duration, FileReference, Healthcheck, Logging, Resource, Resources, Ulimit,
    WatchAction, WatchExec, WatchRule,
};
use crate::yaml::{Node, ScalarKind, Value};

pub(super) fn healthcheck(ctx: &mut Ctx, node: &Node, context: &str) -> Option<Healthcheck> {
    const KEYS: &[&str] = &[
        "test",
        "interval",
        "timeout",
        "retries",
        "start_period",
        "start_interval",
        "disable",
    ];
    let m = ctx.map(node, context)?;
    let mut h = Healthcheck::default();
    for (k, v) in m.iter() {
        match k.name.as_str() {
            "test" => {
                h.test = match &v.value {
                    Value::Seq(_) => {
                        let test = ctx.string_list(v, context);
                        if !matches!(
                            test.first().map(String::as_str),
                            Some("NONE" | "CMD" | "CMD-SHELL")
                        ) {
                            ctx.error(
                                v.span,
                                format!(
                                    "{context}: a test list must start with NONE, CMD or CMD-SHELL"
                                ),
                            );
                        }
                        test
                    }
                    _ => ctx
                        .string(v, context)
                        .map(|t| vec!["CMD-SHELL".to_string(), t])
                        .unwrap_or_default(),
                }
            }
            "interval" => h.interval = duration(ctx, v, context),
            "timeout" => h.timeout = duration(ctx, v, context),
            "retries" => h.retries = ctx.uint(v, context),
            "start_period" => h.start_period = duration(ctx, v, context),
            "start_interval" => h.start_interval = duration(ctx, v, context),
            "disable" => h.disable = ctx.bool(v, context).unwrap_or(false),
            key if key.starts_with("x-") => {}
            key => ctx.unknown_key(k.span, key, context, KEYS),
        }
    }
    if h.test.first().map(String::as_str) == Some("NONE") {
        h.disable = true;
    }
    Some(h)
}

pub(super) fn extra_hosts(
    ctx: &mut Ctx,
    node: &Node,
    context: &str,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    match &node.value {
        Value::Map(m) => {
            for (k, v) in m.iter() {
                let ips = ctx.string_list(v, context);
                out.entry(k.name.clone()).or_default().extend(ips);
            }
        }
        _ => {
            for line in ctx.string_list(node, context) {
                // `host=ip` or `host:ip` (IPv6 addresses contain `:`).
                let split = line.split_once('=').or_else(|| line.split_once(':'));
                match split {
                    Some((host, ip)) => {
                        let ip = ip.trim_start_matches('[').trim_end_matches(']');
                        out.entry(host.to_string())
                            .or_default()
                            .push(ip.to_string());
                    }
                    None => ctx.error(node.span, format!("{context}: {line:?} is not host=ip")),
                }
            }
        }
    }
    out
}

pub(super) fn deploy(ctx: &mut Ctx, node: &Node, context: &str) -> Option<Deploy> {
    let m = ctx.map(node, context)?;
    let mut d = Deploy::default();
    for (k, v) in m.iter() {
        match k.name.as_str() {
            "replicas" => d.replicas = ctx.uint(v, context),
            "labels" => d.labels = ctx.string_map(v, context),
            "resources" => {
                let Some(rm) = ctx.map(v, context) else {
                    continue;
                };
                let mut r = Resources::default();
                for (rk, rv) in rm.iter() {
                    match rk.name.as_str() {
                        "limits" => r.limits = resource(ctx, rv, context),
                        "reservations" => r.reservations = resource(ctx, rv, context),
                        key => ctx.unknown_key(rk.span, key, context, &["limits", "reservations"]),
                    }
                }
                d.resources = Some(r);
            }
            "mode" | "endpoint_mode" | "placement" | "restart_policy" | "rollback_config"
            | "update_config" => {
                d.other.insert(k.name.clone(), v.to_json());
            }
            key if key.starts_with("x-") => {}
            key => ctx.unknown_key(
                k.span,
                key,
                context,
                &[
                    "replicas",
                    "labels",
                    "resources",
                    "mode",
                    "placement",
                    "restart_policy",
                ],
            ),
        }
    }
    Some(d)
}

pub(super) fn resource(ctx: &mut Ctx, node: &Node, context: &str) -> Option<Resource> {
    let m = ctx.map(node, context)?;
    let mut r = Resource::default();
    for (k, v) in m.iter() {
        match k.name.as_str() {
            "cpus" => r.cpus = ctx.float(v, context),
            "memory" => r.memory = byte_size(ctx, v, context),
            "pids" => r.pids = ctx.int(v, context),
            "devices" | "generic_resources" => {
                r.other.insert(k.name.clone(), v.to_json());
            }
            key => ctx.unknown_key(k.span, key, context, &["cpus", "memory", "pids", "devices"]),
        }
    }
    Some(r)
}

pub(super) fn file_refs(ctx: &mut Ctx, node: &Node, context: &str) -> Vec<FileReference> {
    let mut out = Vec::new();
    for item in seq(ctx, node, context) {
        match &item.value {
            Value::Map(m) => {
                let mut r = FileReference::default();
                for (k, v) in m.iter() {
                    match k.name.as_str() {
                        "source" => r.source = ctx.string(v, context).unwrap_or_default(),
                        "target" => r.target = ctx.string(v, context),
                        "uid" => r.uid = ctx.string(v, context),
                        "gid" => r.gid = ctx.string(v, context),
                        "mode" => r.mode = mode(ctx, v, context),
                        key => ctx.unknown_key(
                            k.span,
                            key,
                            context,
                            &["source", "target", "uid", "gid", "mode"],
                        ),
                    }
                }
                if r.source.is_empty() {
                    ctx.error(item.span, format!("{context}: an entry needs a `source`"));
                } else {
                    out.push(r);
                }
            }
            _ => {
                if let Some(source) = ctx.string(item, context) {
                    out.push(FileReference {
                        source,
                        ..FileReference::default()
                    });
                }
            }
        }
    }
    out
}

/// A file mode: an integer (YAML `0o440`, `288`, or `0440` read as octal as
/// YAML 1.1 and Compose read it) or an octal string `"0440"`.
pub(super) fn mode(ctx: &mut Ctx, node: &Node, context: &str) -> Option<u32> {
    match node.as_scalar() {
        Some(s) if matches!(s.kind, ScalarKind::Str) => {
            match u32::from_str_radix(s.text.trim_start_matches("0o"), 8) {
                Ok(m) => Some(m),
                Err(_) => {
                    ctx.expected(node, "an octal file mode", context);
                    None
                }
            }
        }
        // `0440` is octal to Compose's YAML 1.1 reader (and in the spec).
        Some(s)
            if matches!(s.kind, ScalarKind::Int(_))
                && s.text.len() > 1
                && s.text.starts_with('0')
                && s.text.bytes().all(|b| (b'0'..=b'7').contains(&b)) =>
        {
            u32::from_str_radix(&s.text, 8).ok()
        }
        _ => ctx.uint(node, context),
    }
}

pub(super) fn develop(ctx: &mut Ctx, node: &Node, context: &str) -> Option<Develop> {
    let m = ctx.map(node, context)?;
    let mut d = Develop::default();
    for (k, v) in m.iter() {
        match k.name.as_str() {
            "watch" => {
                for item in seq(ctx, v, context) {
                    d.watch.extend(watch_rule(ctx, item, context));
                }
            }
            key if key.starts_with("x-") => {}
            key => ctx.unknown_key(k.span, key, context, &["watch"]),
        }
    }
    Some(d)
}

pub(super) fn watch_rule(ctx: &mut Ctx, node: &Node, context: &str) -> Option<WatchRule> {
    const KEYS: &[&str] = &[
        "path",
        "action",
        "target",
        "ignore",
        "include",
        "exec",
        "initial_sync",
    ];
    let m = ctx.map(node, context)?;
    let mut path = None;
    let mut action = None;
    let mut rule_target = None;
    let (mut ignore, mut include, mut exec, mut initial_sync) =
        (Vec::new(), Vec::new(), None, false);
    for (k, v) in m.iter() {
        match k.name.as_str() {
            "path" => path = ctx.string(v, context),
            "action" => {
                let text = ctx.string(v, context).unwrap_or_default();
                action = WatchAction::parse(&text);
                if action.is_none() {
                    ctx.error_with(
                        v.span,
                        format!("{context}: action must be rebuild, sync, restart, sync+restart or sync+exec"),
                        "bad action",
                    );
                }
            }
            "target" => rule_target = ctx.string(v, context),
            "ignore" => ignore = ctx.string_list(v, context),
            "include" => include = ctx.string_list(v, context),
            "initial_sync" => initial_sync = ctx.bool(v, context).unwrap_or(false),
            "exec" => {
                let Some(em) = ctx.map(v, context) else {
                    continue;
                };
                let mut e = WatchExec::default();
                for (ek, ev) in em.iter() {
                    match ek.name.as_str() {
                        "command" => e.command = command(ctx, ev, context).unwrap_or_default(),
                        "user" => e.user = ctx.string(ev, context),
                        "privileged" => e.privileged = ctx.bool(ev, context).unwrap_or(false),
                        "working_dir" => e.working_dir = ctx.string(ev, context),
                        "environment" => e.environment = ctx.key_values(ev, context),
                        key => ctx.unknown_key(
                            ek.span,
                            key,
                            context,
                            &[
                                "command",
                                "user",
                                "privileged",
                                "working_dir",
                                "environment",
                            ],
                        ),
                    }
                }
                exec = Some(e);
            }
            key if key.starts_with("x-") => {}
            key => ctx.unknown_key(k.span, key, context, KEYS),
        }
    }
    let (Some(path), Some(action)) = (path, action) else {
        if m.get("path").is_none() || m.get("action").is_none() {
            ctx.error(
                node.span,
                format!("{context}: a watch rule needs `path` and `action`"),
            );
        }
        return None;
    };
    Some(WatchRule {
        path,
        action,
        target: rule_target,
        ignore,
        include,
        exec,
        initial_sync,
    })
}

pub(super) fn ulimits(ctx: &mut Ctx, node: &Node, context: &str) -> BTreeMap<String, Ulimit> {
    let mut out = BTreeMap::new();
    let Some(m) = ctx.map(node, context) else {
        return out;
    };
    for (k, v) in m.iter() {
        let limit = match &v.value {
            Value::Map(lm) => {
                let soft = lm.get("soft").and_then(|n| ctx.int(n, context));
                let hard = lm.get("hard").and_then(|n| ctx.int(n, context));
                match (soft, hard) {
                    (Some(soft), Some(hard)) => Some(Ulimit::Pair { soft, hard }),
                    _ => {
                        ctx.error(
                            v.span,
                            format!("{context}: `{}` needs `soft` and `hard`", k.name),
                        );
                        None
                    }
                }
            }
            _ => ctx.int(v, context).map(Ulimit::Single),
        };
        if let Some(l) = limit {
            out.insert(k.name.clone(), l);
        }
    }
    out
}

pub(super) fn logging(ctx: &mut Ctx, node: &Node, context: &str) -> Option<Logging> {
    let m = ctx.map(node, context)?;
    let mut l = Logging::default();
    for (k, v) in m.iter() {
        match k.name.as_str() {
            "driver" => l.driver = ctx.string(v, context),
            "options" => l.options = ctx.string_map(v, context),
            key => ctx.unknown_key(k.span, key, context, &["driver", "options"]),
        }
    }
    Some(l)
}

pub(super) fn pull_policy(ctx: &mut Ctx, node: &Node, context: &str) -> Option<String> {
    let text = ctx.string(node, context)?;
    let ok = matches!(
        text.as_str(),
        "always"
            | "never"
            | "missing"
            | "if_not_present"
            | "build"
            | "daily"
            | "weekly"
            | "refresh"
    ) || text
        .strip_prefix("every_")
        .is_some_and(|d| Duration::parse(d).is_ok());
    if !ok {
        ctx.error_with(
            node.span,
            format!("{context}: {text:?} is not always, never, missing, build, daily, weekly or every_<duration>"),
            "bad pull policy",
        );
        return None;
    }
    Some(if text == "if_not_present" {
        "missing".into()
    } else {
        text
    })
}

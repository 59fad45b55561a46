//! Top-level `networks`, `volumes`, `secrets` and `configs`.

use std::collections::BTreeMap;

use super::Ctx;
use crate::diag::Span;
use crate::model::{FileObject, Ipam, IpamPool, Network, Volume};
use crate::names::{check_object_name, ObjectKind};
use crate::yaml::Node;

/// `networks:`; `name` is filled with `<project>_<key>` unless given or external.
pub fn networks(ctx: &mut Ctx, node: &Node, project: &str) -> BTreeMap<String, Network> {
    const KEYS: &[&str] = &[
        "name",
        "driver",
        "driver_opts",
        "attachable",
        "enable_ipv4",
        "enable_ipv6",
        "external",
        "ipam",
        "internal",
        "labels",
    ];
    let mut out = BTreeMap::new();
    let Some(m) = ctx.map(node, "networks") else {
        return out;
    };
    for (key, v) in m.iter() {
        let context = format!("network `{}`", key.name);
        let mut n = Network::default();
        let mut name_span = key.span;
        let mut pool_spans = Vec::new();
        if !v.is_null() {
            let Some(nm) = ctx.map(v, &context) else {
                continue;
            };
            for (k, val) in nm.iter() {
                match k.name.as_str() {
                    "name" => {
                        name_span = val.span;
                        n.name = ctx.string(val, &context).unwrap_or_default();
                    }
                    "driver" => n.driver = ctx.string(val, &context),
                    "driver_opts" => n.driver_opts = ctx.string_map(val, &context),
                    "attachable" => n.attachable = ctx.bool(val, &context).unwrap_or(false),
                    "enable_ipv4" => n.enable_ipv4 = ctx.bool(val, &context),
                    "enable_ipv6" => n.enable_ipv6 = ctx.bool(val, &context),
                    "external" => n.external = external(ctx, val, &context),
                    "internal" => n.internal = ctx.bool(val, &context).unwrap_or(false),
                    "labels" => n.labels = ctx.string_map(val, &context),
                    "ipam" => n.ipam = ipam(ctx, val, &context, &mut pool_spans),
                    k2 if k2.starts_with("x-") => {}
                    k2 => ctx.unknown_key(k.span, k2, &context, KEYS),
                }
            }
        }
        if n.name.is_empty() && !ctx.no_normalize {
            n.name = if n.external {
                key.name.clone()
            } else {
                format!("{project}_{}", key.name)
            };
        }
        check_name(ctx, ObjectKind::Network, &n.name, name_span);
        check_pools(ctx, &n, &pool_spans);
        out.insert(key.name.clone(), n);
    }
    out
}

/// `external: true`, or the legacy `external: {name: x}`.
fn external(ctx: &mut Ctx, node: &Node, context: &str) -> bool {
    if node.as_map().is_some() {
        return true;
    }
    ctx.bool(node, context).unwrap_or(false)
}

/// Reports a volume or network name that breaks the naming rule, at the
/// `name:` value or, for a name made from the key, at the key.
fn check_name(ctx: &mut Ctx, kind: ObjectKind, name: &str, span: Span) {
    // Left empty by `no_normalize`: nothing to check.
    if name.is_empty() {
        return;
    }
    if let Err(e) = check_object_name(kind, name) {
        ctx.error_with(span, e.to_string(), "not a valid name");
    }
}

/// Runs the host's rules (stack-net's, through the engine) on each
/// `ipam.config` entry, reporting at the entry.
fn check_pools(ctx: &mut Ctx, network: &Network, spans: &[Span]) {
    let (Some(checks), Some(ipam)) = (ctx.checks.clone(), network.ipam.as_ref()) else {
        return;
    };
    for (pool, span) in ipam.config.iter().zip(spans) {
        if let Err(e) = checks.ipam_pool(&network.name, pool) {
            ctx.error_with(*span, e.to_string(), "refused address range");
        }
    }
}

/// `ipam:`; the place of each `config` entry (its `subnet` when it has
/// one) is pushed to `spans`, in the order of `config`.
fn ipam(ctx: &mut Ctx, node: &Node, context: &str, spans: &mut Vec<Span>) -> Option<Ipam> {
    let m = ctx.map(node, context)?;
    let mut ipam = Ipam::default();
    for (k, v) in m.iter() {
        match k.name.as_str() {
            "driver" => ipam.driver = ctx.string(v, context),
            "options" => ipam.options = ctx.string_map(v, context),
            "config" => {
                for item in v.as_seq().unwrap_or(&[]) {
                    let Some(pm) = ctx.map(item, context) else {
                        continue;
                    };
                    let mut pool = IpamPool::default();
                    let mut at = item.span;
                    for (pk, pv) in pm.iter() {
                        match pk.name.as_str() {
                            "subnet" => {
                                at = pv.span;
                                pool.subnet = ctx.string(pv, context);
                            }
                            "ip_range" => pool.ip_range = ctx.string(pv, context),
                            "gateway" => pool.gateway = ctx.string(pv, context),
                            "aux_addresses" => pool.aux_addresses = ctx.string_map(pv, context),
                            key => ctx.unknown_key(
                                pk.span,
                                key,
                                context,
                                &["subnet", "ip_range", "gateway", "aux_addresses"],
                            ),
                        }
                    }
                    ipam.config.push(pool);
                    spans.push(at);
                }
            }
            key => ctx.unknown_key(k.span, key, context, &["driver", "config", "options"]),
        }
    }
    Some(ipam)
}

/// `volumes:`; `name` is filled with `<project>_<key>` unless given or external.
pub fn volumes(ctx: &mut Ctx, node: &Node, project: &str) -> BTreeMap<String, Volume> {
    const KEYS: &[&str] = &["name", "driver", "driver_opts", "external", "labels"];
    let mut out = BTreeMap::new();
    let Some(m) = ctx.map(node, "volumes") else {
        return out;
    };
    for (key, v) in m.iter() {
        let context = format!("volume `{}`", key.name);
        let mut vol = Volume::default();
        let mut name_span = key.span;
        if !v.is_null() {
            let Some(vm) = ctx.map(v, &context) else {
                continue;
            };
            for (k, val) in vm.iter() {
                match k.name.as_str() {
                    "name" => {
                        name_span = val.span;
                        vol.name = ctx.string(val, &context).unwrap_or_default();
                    }
                    "driver" => vol.driver = ctx.string(val, &context),
                    "driver_opts" => vol.driver_opts = ctx.string_map(val, &context),
                    "external" => vol.external = external(ctx, val, &context),
                    "labels" => vol.labels = ctx.string_map(val, &context),
                    k2 if k2.starts_with("x-") => {}
                    k2 => ctx.unknown_key(k.span, k2, &context, KEYS),
                }
            }
        }
        if vol.name.is_empty() && !ctx.no_normalize {
            vol.name = if vol.external {
                key.name.clone()
            } else {
                format!("{project}_{}", key.name)
            };
        }
        check_name(ctx, ObjectKind::Volume, &vol.name, name_span);
        out.insert(key.name.clone(), vol);
    }
    out
}

/// `secrets:` or `configs:` (`kind` names which, for messages).
pub fn file_objects(
    ctx: &mut Ctx,
    node: &Node,
    project: &str,
    kind: &str,
) -> BTreeMap<String, FileObject> {
    let mut out = BTreeMap::new();
    let Some(m) = ctx.map(node, kind) else {
        return out;
    };
    let keys: &[&str] = if kind == "configs" {
        &[
            "name",
            "file",
            "environment",
            "content",
            "external",
            "labels",
        ]
    } else {
        &["name", "file", "environment", "external", "labels"]
    };
    for (key, v) in m.iter() {
        let context = format!("{} `{}`", kind.trim_end_matches('s'), key.name);
        let Some(om) = ctx.map(v, &context) else {
            continue;
        };
        let mut o = FileObject::default();
        for (k, val) in om.iter() {
            match k.name.as_str() {
                "name" => o.name = ctx.string(val, &context).unwrap_or_default(),
                "file" => o.file = ctx.string(val, &context),
                "environment" => o.environment = ctx.string(val, &context),
                "content" if kind == "configs" => o.content = ctx.string(val, &context),
                "external" => o.external = external(ctx, val, &context),
                "labels" => o.labels = ctx.string_map(val, &context),
                k2 if k2.starts_with("x-") => {}
                k2 => ctx.unknown_key(k.span, k2, &context, keys),
            }
        }
        let sources = [
            o.file.is_some(),
            o.environment.is_some(),
            o.content.is_some(),
            o.external,
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if sources != 1 {
            ctx.error_with(
                key.span,
                format!(
                    "{context} needs exactly one of `file`, `environment`{} or `external`",
                    if kind == "configs" { ", `content`" } else { "" }
                ),
                "here",
            );
        }
        if o.name.is_empty() && !ctx.no_normalize {
            o.name = if o.external {
                key.name.clone()
            } else {
                format!("{project}_{}", key.name)
            };
        }
        out.insert(key.name.clone(), o);
    }
    out
}

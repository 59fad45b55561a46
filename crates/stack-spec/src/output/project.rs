//! The whole document: the project's top-level keys in Compose's order
//! (`name`, `services`, `networks`, `volumes`, `secrets`, `configs`, then
//! extensions) and the top-level resources in Compose's shapes.

use super::node::{Flavor, Node, Obj};
use super::parts::Context;
use super::service::service;
use std::collections::BTreeSet;

use crate::model::{FileObject, MountType, Network, Project, Volume};

/// The top-level resources the enabled services use: Compose prints only
/// these (declared but unused ones are left out).
#[derive(Debug, Default)]
pub struct Used {
    pub networks: BTreeSet<String>,
    pub volumes: BTreeSet<String>,
    pub secrets: BTreeSet<String>,
    pub configs: BTreeSet<String>,
}

pub fn used(p: &Project) -> Used {
    let mut u = Used::default();
    for s in p.services.values() {
        u.networks.extend(s.networks.keys().cloned());
        for v in &s.volumes {
            if let (MountType::Volume, Some(source)) = (v.kind, &v.source) {
                u.volumes.insert(source.clone());
            }
        }
        u.secrets.extend(s.secrets.iter().map(|r| r.source.clone()));
        u.configs.extend(s.configs.iter().map(|r| r.source.clone()));
        let build_secrets = s
            .build
            .as_ref()
            .and_then(|b| b.get("secrets"))
            .and_then(serde_json::Value::as_array);
        for secret in build_secrets.into_iter().flatten() {
            let source = match secret {
                serde_json::Value::String(s) => Some(s.as_str()),
                other => other.get("source").and_then(serde_json::Value::as_str),
            };
            u.secrets.extend(source.map(str::to_string));
        }
    }
    u
}

/// The project as the document `stack config` prints.
pub fn document(p: &Project, flavor: Flavor) -> Node {
    let working_dir = p.working_dir.display().to_string();
    let ctx = Context {
        working_dir: &working_dir,
        environment: &p.environment,
        normalize: !p.skip_normalization,
    };
    let used = used(p);
    let mut o = Obj::new();
    o.string("name", Some(&p.name));
    o.put(
        "services",
        Node::sorted_map(
            p.services
                .iter()
                .map(|(name, s)| (name.clone(), service(s, &ctx, flavor))),
        ),
    );
    let section = |o: &mut Obj, key: &str, entries: Vec<(String, Node)>| {
        if !entries.is_empty() {
            o.put(key, Node::sorted_map(entries));
        }
    };
    section(
        &mut o,
        "networks",
        p.networks
            .iter()
            .filter(|(k, _)| used.networks.contains(*k))
            .map(|(k, n)| (k.clone(), network(n, flavor)))
            .collect(),
    );
    section(
        &mut o,
        "volumes",
        p.volumes
            .iter()
            .filter(|(k, _)| used.volumes.contains(*k))
            .map(|(k, v)| (k.clone(), volume(v)))
            .collect(),
    );
    section(
        &mut o,
        "secrets",
        p.secrets
            .iter()
            .filter(|(k, _)| used.secrets.contains(*k))
            .map(|(k, s)| (k.clone(), file_object(s, false)))
            .collect(),
    );
    section(
        &mut o,
        "configs",
        p.configs
            .iter()
            .filter(|(k, _)| used.configs.contains(*k))
            .map(|(k, c)| (k.clone(), file_object(c, true)))
            .collect(),
    );
    o.top_extensions(p.extensions.iter());
    o.node()
}

fn network(n: &Network, flavor: Flavor) -> Node {
    let mut o = Obj::new();
    o.string("name", Some(&n.name));
    o.string("driver", n.driver.as_deref());
    if !n.driver_opts.is_empty() {
        o.put("driver_opts", Node::string_map(&n.driver_opts));
    }
    let mut ipam = Obj::new();
    if let Some(i) = &n.ipam {
        ipam.string("driver", i.driver.as_deref());
        if !i.config.is_empty() {
            let pools = i.config.iter().map(|pool| {
                let mut po = Obj::new();
                po.string("subnet", pool.subnet.as_deref());
                po.string("gateway", pool.gateway.as_deref());
                po.string("ip_range", pool.ip_range.as_deref());
                if !pool.aux_addresses.is_empty() {
                    po.put("aux_addresses", Node::string_map(&pool.aux_addresses));
                }
                po.node()
            });
            ipam.put("config", Node::Seq(pools.collect()));
        }
    }
    // A struct, not a pointer: JSON always has it, YAML leaves it out empty.
    if flavor == Flavor::Json || !ipam.is_empty() {
        o.put("ipam", ipam.node());
    }
    o.flag("external", n.external);
    o.flag("internal", n.internal);
    o.flag("attachable", n.attachable);
    if !n.labels.is_empty() {
        o.put("labels", Node::string_map(&n.labels));
    }
    o.opt("enable_ipv4", n.enable_ipv4.map(Node::Bool));
    o.opt("enable_ipv6", n.enable_ipv6.map(Node::Bool));
    o.node()
}

fn volume(v: &Volume) -> Node {
    let mut o = Obj::new();
    o.string("name", Some(&v.name));
    o.string("driver", v.driver.as_deref());
    if !v.driver_opts.is_empty() {
        o.put("driver_opts", Node::string_map(&v.driver_opts));
    }
    o.flag("external", v.external);
    if !v.labels.is_empty() {
        o.put("labels", Node::string_map(&v.labels));
    }
    o.node()
}

/// A secret (`config == false`) or config. Compose never prints a
/// secret's `content`, nor a config's when it comes from `environment`.
fn file_object(f: &FileObject, config: bool) -> Node {
    let mut o = Obj::new();
    o.string("name", Some(&f.name));
    o.string("file", f.file.as_deref());
    o.string("environment", f.environment.as_deref());
    if config && f.environment.is_none() {
        o.string("content", f.content.as_deref());
    }
    o.flag("external", f.external);
    if !f.labels.is_empty() {
        o.put("labels", Node::string_map(&f.labels));
    }
    o.node()
}

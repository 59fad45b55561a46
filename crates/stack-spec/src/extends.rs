//! `extends: {service, file}`: a service starts from another one (in the same
//! file or another) and overrides it with the multi-file merge rules.
//! `depends_on`, `links` and `volumes_from` are not inherited.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::load::Loader;
use crate::merge::merge;
use crate::options::LoadOptions;
use crate::yaml::{Mapping, Node, Value};

/// Replaces every service that uses `extends` by its resolved form.
pub(crate) fn resolve(
    loader: &mut Loader,
    root: &mut Node,
    environment: &BTreeMap<String, String>,
    opts: &LoadOptions,
) {
    let Some(services) = root
        .as_map()
        .and_then(|m| m.get("services"))
        .and_then(Node::as_map)
        .cloned()
    else {
        return;
    };
    let mut resolved = Vec::new();
    for (key, node) in services.iter() {
        if node.as_map().is_some_and(|m| m.get("extends").is_some()) {
            let mut chain = Vec::new();
            if let Some(r) = resolve_one(
                loader,
                &services,
                None,
                &key.name,
                &mut chain,
                environment,
                opts,
            ) {
                resolved.push((key.name.clone(), r));
            }
        }
    }
    if let Some(target) = root
        .as_map_mut()
        .and_then(|m| m.get_mut("services"))
        .and_then(Node::as_map_mut)
    {
        for (name, node) in resolved {
            if let Some(slot) = target.get_mut(&name) {
                *slot = node;
            }
        }
    }
}

/// The service `name` of `services` (from `file`, `None` for the main
/// document) with its `extends` chain applied.
fn resolve_one(
    loader: &mut Loader,
    services: &Mapping,
    file: Option<&Path>,
    name: &str,
    chain: &mut Vec<(Option<PathBuf>, String)>,
    environment: &BTreeMap<String, String>,
    opts: &LoadOptions,
) -> Option<Node> {
    let node = services.get(name)?.clone();
    let Some(m) = node.as_map() else {
        return Some(node);
    };
    let Some(ext) = m.get("extends").cloned() else {
        return Some(node);
    };
    let here = (file.map(Path::to_path_buf), name.to_string());
    if chain.contains(&here) {
        let names: Vec<String> = chain
            .iter()
            .map(|(_, n)| n.clone())
            .chain([name.to_string()])
            .collect();
        let d = loader
            .sources
            .error(ext.span, format!("extends cycle: {}", names.join(" -> ")))
            .with_label("extends here");
        loader.errors.push(d);
        return None;
    }
    chain.push(here);
    let (base_name, base_file) = match &ext.value {
        Value::Map(em) => (
            em.get("service").and_then(Node::as_text).map(String::from),
            em.get("file").and_then(Node::as_text).map(PathBuf::from),
        ),
        _ => (ext.as_text().map(String::from), None),
    };
    let Some(base_name) = base_name else {
        let d = loader
            .sources
            .error(ext.span, "`extends` needs a `service`");
        loader.errors.push(d);
        return None;
    };
    let base = match &base_file {
        Some(path) => {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let tree = loader.read_tree(path, opts, &dir, environment)?;
            let other = tree
                .as_map()
                .and_then(|m| m.get("services"))
                .and_then(Node::as_map)
                .cloned()
                .unwrap_or_default();
            if other.get(&base_name).is_none() {
                let d = loader.sources.error(
                    ext.span,
                    format!(
                        "service `{name}` extends `{base_name}`, which {} does not define",
                        path.display()
                    ),
                );
                loader.errors.push(d);
                return None;
            }
            resolve_one(
                loader,
                &other,
                Some(path),
                &base_name,
                chain,
                environment,
                opts,
            )?
        }
        None => {
            if services.get(&base_name).is_none() {
                let d = loader
                    .sources
                    .error(
                        ext.span,
                        format!("service `{name}` extends unknown service `{base_name}`"),
                    )
                    .with_label("no such service");
                loader.errors.push(d);
                return None;
            }
            resolve_one(loader, services, file, &base_name, chain, environment, opts)?
        }
    };
    chain.pop();
    let mut base = base;
    if let Some(bm) = base.as_map_mut() {
        for key in ["depends_on", "links", "volumes_from", "extends"] {
            bm.remove(key);
        }
    }
    let mut child = node;
    if let Some(cm) = child.as_map_mut() {
        cm.remove("extends");
    }
    merge(&mut base, child, &["services", name]);
    Some(base)
}

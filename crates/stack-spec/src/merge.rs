//! Merging several stack files (`-f a -f b`) and `extends`, with Compose's
//! rules: mappings merge, sequences append, `command`, `entrypoint` and
//! `healthcheck.test` are replaced, `ports`/`volumes`/`secrets`/`configs`
//! merge by their unique key, list-or-map keys (`environment`, `labels`, ...)
//! merge as maps; `!reset` removes the inherited value and `!override`
//! replaces it whole.

use crate::yaml::{Key, Mapping, Node, NodeTag, Value};

/// Service keys whose list form is `KEY=VALUE` (or names) and merge as maps.
const MAP_LIKE: &[&str] = &[
    "environment",
    "labels",
    "sysctls",
    "extra_hosts",
    "depends_on",
    "networks",
    "annotations",
];

/// Merges `over` into `base`. `path` is where `base` sits in the document
/// (e.g. `["services", "web", "ports"]`).
pub fn merge(base: &mut Node, over: Node, path: &[&str]) {
    if over.tag == NodeTag::Override {
        *base = strip_tags(over);
        return;
    }
    let service_key = match path {
        ["services", _, key] => Some(*key),
        _ => None,
    };
    if let Some(key) = service_key {
        if MAP_LIKE.contains(&key) {
            to_map_form(base, key);
            let mut over = over;
            to_map_form(&mut over, key);
            return merge_values(base, over, path);
        }
        if matches!(key, "command" | "entrypoint") {
            *base = strip_tags(over);
            return;
        }
    }
    if path.len() == 4 && path[0] == "services" && path[2] == "healthcheck" && path[3] == "test" {
        *base = strip_tags(over);
        return;
    }
    merge_values(base, over, path)
}

fn merge_values(base: &mut Node, over: Node, path: &[&str]) {
    match (&mut base.value, over.value) {
        (Value::Map(b), Value::Map(o)) => merge_maps(b, o, path),
        (Value::Seq(b), Value::Seq(o)) => {
            let key_fn = match path {
                ["services", _, "ports"] => Some(port_key as fn(&Node) -> String),
                ["services", _, "volumes"] => Some(volume_key as fn(&Node) -> String),
                ["services", _, "secrets" | "configs"] => Some(file_ref_key as fn(&Node) -> String),
                _ => None,
            };
            for item in o {
                let item = strip_tags(item);
                let existing = match key_fn {
                    Some(f) => {
                        let k = f(&item);
                        b.iter().position(|x| f(x) == k)
                    }
                    // Plain lists keep one copy of identical scalars.
                    None => item
                        .as_scalar()
                        .and_then(|s| b.iter().position(|x| x.as_scalar() == Some(s))),
                };
                match existing {
                    Some(i) => b[i] = item,
                    None => b.push(item),
                }
            }
        }
        (_, value) => {
            *base = strip_tags(Node::new(value, over.span));
        }
    }
}

fn merge_maps(base: &mut Mapping, over: Mapping, path: &[&str]) {
    for (key, value) in over.entries {
        if value.tag == NodeTag::Reset {
            base.remove(&key.name);
            continue;
        }
        let mut child_path: Vec<&str> = path.to_vec();
        child_path.push(&key.name);
        match base.get_mut(&key.name) {
            Some(existing) => merge(existing, value, &child_path),
            None => base.insert(key.clone(), strip_tags(value)),
        }
    }
}

/// Removes `!reset`-tagged children and clears tags: a value with no base to
/// apply to is just a value.
pub fn strip_tags(mut node: Node) -> Node {
    node.tag = NodeTag::None;
    match &mut node.value {
        Value::Map(m) => {
            m.entries.retain(|(_, v)| v.tag != NodeTag::Reset);
            for (_, v) in m.entries.iter_mut() {
                *v = strip_tags(std::mem::replace(v, Node::null(v.span)));
            }
        }
        Value::Seq(items) => {
            items.retain(|v| v.tag != NodeTag::Reset);
            for v in items.iter_mut() {
                *v = strip_tags(std::mem::replace(v, Node::null(v.span)));
            }
        }
        Value::Scalar(_) => {}
    }
    node
}

/// Turns `["A=1", "B"]` (or `[db, cache]` for depends_on/networks) into a
/// mapping so that list and map forms merge with each other.
fn to_map_form(node: &mut Node, key: &str) {
    let Value::Seq(items) = &node.value else {
        return;
    };
    let mut m = Mapping::default();
    for item in items {
        let Some(text) = item.as_text() else {
            return; // not a list of scalars: leave it for the type checker
        };
        let split = if matches!(key, "depends_on" | "networks") {
            None
        } else if key == "extra_hosts" {
            text.split_once('=').or_else(|| text.split_once(':'))
        } else {
            text.split_once('=')
        };
        let (k, v) = match split {
            Some((k, v)) => (k.to_string(), Node::string(v, item.span)),
            None if key == "depends_on" => {
                let mut dep = Mapping::default();
                dep.insert(
                    Key {
                        name: "condition".into(),
                        span: item.span,
                    },
                    Node::string("service_started", item.span),
                );
                (text.to_string(), Node::new(Value::Map(dep), item.span))
            }
            None => (text.to_string(), Node::null(item.span)),
        };
        m.insert(
            Key {
                name: k,
                span: item.span,
            },
            v,
        );
    }
    node.value = Value::Map(m);
}

fn text_of(node: &Node, key: &str) -> String {
    node.as_map()
        .and_then(|m| m.get(key))
        .and_then(Node::as_text)
        .unwrap_or("")
        .to_string()
}

/// Ports are the same entry when IP, target, published port and protocol are.
fn port_key(node: &Node) -> String {
    match node.as_text() {
        Some(short) => match crate::convert::parse_port(short) {
            Ok(ports) if ports.len() == 1 => {
                let p = &ports[0];
                format!(
                    "{}|{}|{}|{}",
                    p.host_ip.as_deref().unwrap_or(""),
                    p.target,
                    p.published.as_deref().unwrap_or(""),
                    p.protocol
                )
            }
            _ => short.to_string(),
        },
        None => {
            let proto = text_of(node, "protocol");
            format!(
                "{}|{}|{}|{}",
                text_of(node, "host_ip"),
                text_of(node, "target"),
                text_of(node, "published"),
                if proto.is_empty() {
                    "tcp".into()
                } else {
                    proto
                }
            )
        }
    }
}

/// Mounts are the same entry when their target is.
fn volume_key(node: &Node) -> String {
    match node.as_text() {
        Some(short) => crate::convert::parse_volume(short)
            .map(|v| v.target)
            .unwrap_or_else(|_| short.to_string()),
        None => text_of(node, "target"),
    }
}

fn file_ref_key(node: &Node) -> String {
    match node.as_text() {
        Some(short) => short.to_string(),
        None => {
            let target = text_of(node, "target");
            if target.is_empty() {
                text_of(node, "source")
            } else {
                target
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::diag::Sources;

    fn doc(sources: &mut Sources, text: &str) -> Node {
        let id = sources.add(Path::new("t.yaml"), text.into());
        crate::yaml::parse(sources, id)
            .expect("valid")
            .expect("document")
    }

    fn merged(a: &str, b: &str) -> serde_json::Value {
        let mut sources = Sources::default();
        let mut base = doc(&mut sources, a);
        let over = doc(&mut sources, b);
        merge(&mut base, over, &[]);
        base.to_json()
    }

    #[test]
    fn maps_merge_lists_append_commands_replace() {
        let out = merged(
            "services:\n  web:\n    image: a\n    command: [x, y]\n    dns: [1.1.1.1]\n    environment: [A=1, B=2]\n",
            "services:\n  web:\n    image: b\n    command: [z]\n    dns: [8.8.8.8]\n    environment: {B: 3}\n",
        );
        let web = &out["services"]["web"];
        assert_eq!(web["image"], "b");
        assert_eq!(web["command"], serde_json::json!(["z"]));
        assert_eq!(web["dns"], serde_json::json!(["1.1.1.1", "8.8.8.8"]));
        assert_eq!(web["environment"], serde_json::json!({"A": "1", "B": 3}));
    }

    #[test]
    fn ports_and_volumes_merge_by_key() {
        let out = merged(
            "services:\n  web:\n    ports: ['8080:80', '443:443']\n    volumes: ['a:/data', '/x:/y']\n",
            "services:\n  web:\n    ports: ['8080:80', '9090:90']\n    volumes: ['b:/data']\n",
        );
        let web = &out["services"]["web"];
        assert_eq!(
            web["ports"],
            serde_json::json!(["8080:80", "443:443", "9090:90"])
        );
        assert_eq!(web["volumes"], serde_json::json!(["b:/data", "/x:/y"]));
    }

    #[test]
    fn reset_and_override() {
        let out = merged(
            "services:\n  web:\n    ports: ['80:80']\n    labels: {a: '1', b: '2'}\n",
            "services:\n  web:\n    ports: !reset []\n    labels: !override {c: '3'}\n",
        );
        let web = &out["services"]["web"];
        assert!(web.get("ports").is_none());
        assert_eq!(web["labels"], serde_json::json!({"c": "3"}));
    }

    #[test]
    fn healthcheck_test_is_replaced() {
        let out = merged(
            "services:\n  web:\n    healthcheck: {test: [CMD, a], retries: 3}\n",
            "services:\n  web:\n    healthcheck: {test: [CMD, b]}\n",
        );
        let hc = &out["services"]["web"]["healthcheck"];
        assert_eq!(hc["test"], serde_json::json!(["CMD", "b"]));
        assert_eq!(hc["retries"], 3);
    }
}

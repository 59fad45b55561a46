//! The per-field view of a configuration, and its hash.
//!
//! A service's normalized configuration is flattened into dotted paths whose
//! values are canonical JSON: maps are walked (`environment.DEBUG`,
//! `deploy.resources.limits.memory`), lists and scalars are leaves
//! (`command`, `ports`). The hash is SHA-256 over that sorted map, so it is
//! stable across runs, versions of serde, and key order in the stack file;
//! keeping the map itself lets a plan say *which* field changed.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Paths left out of a service's hash, as Compose leaves them out: changing
/// them never recreates a container (scaling, ordering, build and pull
/// settings, profiles).
pub const SERVICE_PATHS_NOT_HASHED: &[&str] = &[
    "build",
    "pull_policy",
    "scale",
    "deploy.replicas",
    "depends_on",
    "profiles",
];

/// A configuration as `path -> canonical JSON value`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigFields(BTreeMap<String, String>);

/// One field that differs between two configurations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldChange {
    Added(String),
    Removed(String),
    Changed(String),
}

impl FieldChange {
    pub fn path(&self) -> &str {
        match self {
            FieldChange::Added(p) | FieldChange::Removed(p) | FieldChange::Changed(p) => p,
        }
    }
}

impl fmt::Display for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldChange::Added(p) => write!(f, "{p} added"),
            FieldChange::Removed(p) => write!(f, "{p} removed"),
            FieldChange::Changed(p) => write!(f, "{p} changed"),
        }
    }
}

impl ConfigFields {
    /// Flattens a JSON value, leaving out every path in `skip` (and all
    /// below it). Nulls and empty maps are left out too, so "absent" and
    /// "empty" hash alike.
    pub fn flatten(value: &Value, skip: &[&str]) -> Self {
        let mut out = BTreeMap::new();
        walk(value, String::new(), skip, &mut out);
        ConfigFields(out)
    }

    /// Wraps an already flat map (as the store keeps it).
    pub fn from_map(map: BTreeMap<String, String>) -> Self {
        ConfigFields(map)
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.0.get(path).map(String::as_str)
    }

    /// Sets one field (a JSON value), replacing what was there.
    pub fn insert(&mut self, path: impl Into<String>, value: &Value) {
        self.0.insert(path.into(), canonical(value));
    }

    /// `sha256:<hex>` of the sorted fields.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        for (path, value) in &self.0 {
            h.update(path.as_bytes());
            h.update([0]);
            h.update(value.as_bytes());
            h.update([0]);
        }
        let digest = h.finalize();
        let mut hex = String::with_capacity(7 + 64);
        hex.push_str("sha256:");
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for byte in digest.iter() {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        hex
    }

    /// Fields that differ from `before` to `self`, in path order.
    pub fn changes_from(&self, before: &ConfigFields) -> Vec<FieldChange> {
        let mut out = Vec::new();
        for (path, value) in &self.0 {
            match before.0.get(path) {
                None => out.push(FieldChange::Added(path.clone())),
                Some(old) if old != value => out.push(FieldChange::Changed(path.clone())),
                Some(_) => {}
            }
        }
        for path in before.0.keys() {
            if !self.0.contains_key(path) {
                out.push(FieldChange::Removed(path.clone()));
            }
        }
        out.sort_by(|a, b| a.path().cmp(b.path()));
        out
    }
}

fn walk(value: &Value, path: String, skip: &[&str], out: &mut BTreeMap<String, String>) {
    if skip.contains(&path.as_str()) {
        return;
    }
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(child, child_path, skip, out);
            }
        }
        leaf => {
            out.insert(path, canonical(leaf));
        }
    }
}

/// JSON text with object keys sorted at every depth, whatever order the
/// map kept (serde_json's `preserve_order` may be on in the build).
fn canonical(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", parts.join(","))
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        scalar => scalar.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_are_walked_and_lists_are_leaves() {
        let f = ConfigFields::flatten(
            &json!({
                "image": "redis:7",
                "environment": {"DEBUG": "1", "MODE": "prod"},
                "command": ["redis-server", "--save", ""],
                "deploy": {"replicas": 3, "resources": {"limits": {"memory": "64m"}}},
                "build": {"context": "."},
                "depends_on": {"db": {"condition": "service_healthy"}},
                "healthcheck": null,
            }),
            SERVICE_PATHS_NOT_HASHED,
        );
        let keys: Vec<_> = f.as_map().keys().cloned().collect();
        assert_eq!(
            keys,
            vec![
                "command",
                "deploy.resources.limits.memory",
                "environment.DEBUG",
                "environment.MODE",
                "image"
            ]
        );
        assert_eq!(f.get("environment.DEBUG"), Some("\"1\""));
        assert_eq!(f.get("command"), Some(r#"["redis-server","--save",""]"#));
    }

    #[test]
    fn leaves_are_canonical_whatever_the_key_order() {
        let mut one = serde_json::Map::new();
        one.insert("target".into(), json!(80));
        one.insert("published".into(), json!("8080"));
        let mut two = serde_json::Map::new();
        two.insert("published".into(), json!("8080"));
        two.insert("target".into(), json!(80));
        let a = ConfigFields::flatten(&json!({"ports": [Value::Object(one)]}), &[]);
        let b = ConfigFields::flatten(&json!({"ports": [Value::Object(two)]}), &[]);
        assert_eq!(
            a.get("ports"),
            Some(r#"[{"published":"8080","target":80}]"#)
        );
        assert_eq!(a, b);
    }

    #[test]
    fn hash_ignores_key_order_and_unhashed_paths_but_not_values() {
        let a = ConfigFields::flatten(
            &json!({"image": "x", "environment": {"A": "1", "B": "2"}, "scale": 1}),
            SERVICE_PATHS_NOT_HASHED,
        );
        let b = ConfigFields::flatten(
            &json!({"environment": {"B": "2", "A": "1"}, "image": "x", "scale": 5, "profiles": ["p"]}),
            SERVICE_PATHS_NOT_HASHED,
        );
        let c = ConfigFields::flatten(
            &json!({"environment": {"B": "2", "A": "2"}, "image": "x"}),
            SERVICE_PATHS_NOT_HASHED,
        );
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
        assert!(a.hash().starts_with("sha256:") && a.hash().len() == 71);
    }

    #[test]
    fn path_and_value_cannot_run_together_in_the_hash() {
        let mut a = ConfigFields::default();
        a.insert("ab", &json!("c"));
        let mut b = ConfigFields::default();
        b.insert("a", &json!("bc"));
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn changes_name_each_field() {
        let before = ConfigFields::flatten(
            &json!({"environment": {"DEBUG": "0", "OLD": "x"}, "image": "a"}),
            &[],
        );
        let after = ConfigFields::flatten(
            &json!({"environment": {"DEBUG": "1", "NEW": "y"}, "image": "a"}),
            &[],
        );
        let changes = after.changes_from(&before);
        let text: Vec<String> = changes.iter().map(|c| c.to_string()).collect();
        assert_eq!(
            text,
            vec![
                "environment.DEBUG changed",
                "environment.NEW added",
                "environment.OLD removed"
            ]
        );
        assert!(after.changes_from(&after).is_empty());
    }
}

//! The normal form printed by `stack config`: the project as sorted JSON
//! (every map sorted by key, so output is stable), rendered as YAML or JSON.

use crate::model::Project;

/// The project as a JSON value with sorted keys.
pub fn to_value(project: &Project) -> serde_json::Value {
    // serde_json's map is ordered by key: serializing through it sorts.
    serde_json::to_value(project).unwrap_or(serde_json::Value::Null)
}

/// YAML, as `docker compose config` prints by default.
pub fn to_yaml(project: &Project) -> String {
    serde_yaml::to_string(&to_value(project)).unwrap_or_default()
}

/// Pretty JSON (`--format json`).
pub fn to_json(project: &Project) -> String {
    let mut s = serde_json::to_string_pretty(&to_value(project)).unwrap_or_default();
    s.push('\n');
    s
}

//! The normal form printed by `stack config`: the document
//! `docker compose config` (Compose v2) prints for the same file, as YAML
//! byte for byte and as JSON equal as data.
//!
//! The typed [`Project`] is shaped here, in the writer: Compose's key order
//! (its struct field order; map keys in `yaml.v3`'s order), its defaults
//! (`build.dockerfile`, a secret's `target`), its units (sizes in bytes,
//! durations as Go prints them) and the places its JSON and YAML differ
//! (`"command": null`, `"ipam": {}`). Literal `$` is written `$$` so the
//! output reads back as the same project.

mod emit;
mod node;
mod parts;
mod project;
mod scalar;
mod service;

use crate::model::Project;
use node::Flavor;

/// The project as JSON data, in the shape `--format json` prints.
pub fn to_value(project: &Project) -> serde_json::Value {
    project::document(project, Flavor::Json).to_json()
}

/// YAML, as `docker compose config` prints by default.
pub fn to_yaml(project: &Project) -> String {
    escape_dollars(&emit::to_yaml(&project::document(project, Flavor::Yaml)))
}

/// Pretty JSON (`--format json`).
pub fn to_json(project: &Project) -> String {
    let mut s = serde_json::to_string_pretty(&to_value(project)).unwrap_or_default();
    s.push('\n');
    escape_dollars(&s)
}

/// The named volumes `config --volumes` lists: those the enabled services
/// use, as Compose lists them.
pub fn volume_names(project: &Project) -> Vec<String> {
    let used = project::used(project);
    project
        .volumes
        .keys()
        .filter(|k| used.volumes.contains(*k))
        .cloned()
        .collect()
}

/// The networks `config --networks` lists: those the enabled services use.
pub fn network_names(project: &Project) -> Vec<String> {
    let used = project::used(project);
    project
        .networks
        .keys()
        .filter(|k| used.networks.contains(*k))
        .cloned()
        .collect()
}

/// Compose doubles every `$` of the interpolated output, so that reading
/// it back does not interpolate again (`end$` is printed `end$$`).
fn escape_dollars(text: &str) -> String {
    text.replace('$', "$$")
}

//! The `build:` section of a stack file's service as a build request,
//! with Compose's rules: the image is named `image:` when the service has
//! one, else `<project>-<service>`; relative paths are the loader's
//! (already absolute). A key stack does not build with yet is an error
//! that names it, never ignored.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use super::{BuildError, BuildRequest, DockerfileSource};
use crate::spec::{Project, Service};

/// Keys of `build:` this builder takes.
const SUPPORTED: &[&str] = &[
    "context",
    "dockerfile",
    "dockerfile_inline",
    "args",
    "target",
    "labels",
    "tags",
    "network",
    "no_cache",
    "pull",
];

/// The image a service with `build:` runs: `image:`, else
/// `<project>-<service>` (Compose's name).
pub fn image_name(project: &Project, service: &Service) -> String {
    service
        .image
        .clone()
        .unwrap_or_else(|| format!("{}-{}", project.name, service.name))
}

/// The build requests of `services` (all with `build:` when empty), in
/// the project's order, with `overrides` as extra build arguments.
pub fn requests_for(
    project: &Project,
    services: &[String],
    overrides: &BTreeMap<String, String>,
) -> Result<Vec<(String, BuildRequest)>, BuildError> {
    let mut out = Vec::new();
    for (name, service) in &project.services {
        if !services.is_empty() && !services.contains(name) {
            continue;
        }
        let Some(build) = &service.build else {
            continue;
        };
        let mut request = request_for(project, name, service, build)?;
        request.build_args.extend(overrides.clone());
        out.push((name.clone(), request));
    }
    Ok(out)
}

fn request_for(
    project: &Project,
    name: &str,
    service: &Service,
    build: &Value,
) -> Result<BuildRequest, BuildError> {
    let invalid = |what: String| BuildError::Invalid(format!("service {name} build: {what}"));
    let map = match build {
        Value::String(context) => {
            let mut m = serde_json::Map::new();
            m.insert("context".into(), Value::String(context.clone()));
            m
        }
        Value::Object(m) => m.clone(),
        _ => return Err(invalid("expected a path or a mapping".into())),
    };
    if let Some(key) = map
        .keys()
        .find(|k| !SUPPORTED.contains(&k.as_str()) && !k.starts_with("x-"))
    {
        return Err(BuildError::Unsupported {
            at: format!("service {name}"),
            what: format!("build.{key}"),
        });
    }
    let text = |key: &str| -> Result<Option<String>, BuildError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(invalid(format!("{key}: expected a string, found {other}"))),
        }
    };
    let flag = |key: &str| map.get(key).and_then(Value::as_bool).unwrap_or(false);
    let context = match text("context")? {
        Some(c) if c.contains("://") || c.starts_with("git@") => {
            return Err(BuildError::Unsupported {
                at: format!("service {name}"),
                what: format!("a remote build context ({c})"),
            })
        }
        Some(c) => project.working_dir.join(c),
        None => project.working_dir.clone(),
    };
    let dockerfile = match (text("dockerfile_inline")?, text("dockerfile")?) {
        (Some(inline), _) => DockerfileSource::Inline(inline),
        (None, Some(file)) => DockerfileSource::Path(PathBuf::from(file)),
        (None, None) => DockerfileSource::default(),
    };
    let mut tags = vec![image_name(project, service)];
    if let Some(Value::Array(more)) = map.get("tags") {
        tags.extend(more.iter().filter_map(|t| t.as_str().map(str::to_string)));
    }
    Ok(BuildRequest {
        context,
        dockerfile,
        build_args: string_map(map.get("args")).map_err(invalid)?,
        target: text("target")?,
        tags,
        labels: string_map(map.get("labels")).map_err(invalid)?,
        no_cache: flag("no_cache"),
        pull: flag("pull"),
        network: match text("network")?.as_deref() {
            None | Some("default" | "bridge") => None,
            Some(mode @ ("none" | "host")) => Some(mode.to_string()),
            // Checked here, before anything is built, not at the first
            // `RUN`: a network of the project is not one a step can join.
            Some(other) => {
                return Err(invalid(format!(
                    "network {other}: a build step joins default (bridge), none or host only"
                )))
            }
        },
        source_date_epoch: None,
    })
}

/// A mapping, or a list of `K=V` (a `K` alone has no value and is left
/// out, as Compose does when the environment lacks it).
fn string_map(value: Option<&Value>) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    match value {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                match v {
                    Value::Null => {}
                    Value::String(s) => {
                        out.insert(k.clone(), s.clone());
                    }
                    other => {
                        out.insert(k.clone(), other.to_string());
                    }
                }
            }
        }
        Some(Value::Array(items)) => {
            for item in items {
                let text = item.as_str().ok_or("expected K=V strings")?;
                if let Some((k, v)) = text.split_once('=') {
                    out.insert(k.to_string(), v.to_string());
                }
            }
        }
        Some(other) => return Err(format!("expected a mapping or a list, found {other}")),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(build: Value) -> Result<BuildRequest, BuildError> {
        let service = Service {
            name: "app".into(),
            build: Some(build),
            ..Service::default()
        };
        let project = Project {
            name: "demo".into(),
            ..Project::default()
        };
        request_for(
            &project,
            "app",
            &service,
            service.build.as_ref().expect("build"),
        )
    }

    #[test]
    fn a_network_no_step_can_join_is_refused_before_building() {
        let ok = request(serde_json::json!({"network": "bridge"})).expect("bridge");
        assert_eq!(ok.network, None);
        let host = request(serde_json::json!({"network": "host"})).expect("host");
        assert_eq!(host.network.as_deref(), Some("host"));
        let err = request(serde_json::json!({"network": "backend"}))
            .expect_err("refused")
            .to_string();
        assert!(
            err.contains("service app") && err.contains("network backend"),
            "{err}"
        );
    }
}

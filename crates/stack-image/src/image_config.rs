//! The image config (the JSON the manifest's `config` points at): what a
//! runtime needs, and what a build records (history, `OnBuild`, `Shell`).
//! Own types rather than oci-spec's because Docker's `Healthcheck`,
//! `OnBuild` and `Shell` are not part of the OCI spec.
//!
//! Docker writes absent lists and maps as `null` (`"OnBuild": null`,
//! `"Labels": null`); those read as empty here.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::digest::Digest;

/// An image config file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImageConfigFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default)]
    pub config: RuntimeConfig,
    pub rootfs: RootFs,
    /// One entry per build step, bottom first; entries without
    /// `empty_layer` match the layers in order.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub history: Vec<History>,
}

/// One step of an image's history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The step changed only the config and made no layer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

/// `rootfs`: the uncompressed digests of the layers, bottom first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type", default)]
    pub kind: String,
    pub diff_ids: Vec<Digest>,
}

/// How a container of this image runs, unless the stack file says otherwise.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuntimeConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub exposed_ports: BTreeMap<String, serde_json::Value>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub volumes: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// Instructions a build `FROM` this image runs first.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub on_build: Vec<String>,
    /// The shell of the shell form of RUN, CMD and ENTRYPOINT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

/// Docker's image healthcheck; durations in nanoseconds as Docker stores them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    #[serde(default)]
    pub test: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_period: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_interval: Option<i64>,
}

/// Reads `null` as the empty value, as Docker writes absent lists and maps.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_style_config() {
        let json = r#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],
          "Cmd":["redis-server"],"WorkingDir":"/data","ExposedPorts":{"6379/tcp":{}},
          "Volumes":{"/data":{}},"StopSignal":"SIGTERM","User":"redis",
          "Healthcheck":{"Test":["CMD","true"],"Interval":1000000000,"Retries":3}},
          "rootfs":{"type":"layers","diff_ids":["sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]}}"#;
        let c: ImageConfigFile = serde_json::from_str(json).expect("parse");
        assert_eq!(
            c.config.cmd.as_deref(),
            Some(&["redis-server".to_string()][..])
        );
        assert_eq!(c.config.working_dir, "/data");
        assert!(c.config.exposed_ports.contains_key("6379/tcp"));
        assert_eq!(
            c.config.healthcheck.as_ref().and_then(|h| h.retries),
            Some(3)
        );
        assert_eq!(c.rootfs.diff_ids.len(), 1);
    }

    #[test]
    fn docker_nulls_read_as_empty_and_build_fields_round_trip() {
        let json = r#"{"architecture":"amd64","os":"linux","config":{"Env":null,
          "Labels":null,"OnBuild":null,"Volumes":null,"ExposedPorts":null,"Entrypoint":null,
          "Shell":["/bin/bash","-c"]},
          "rootfs":{"type":"layers","diff_ids":[]},"history":null}"#;
        let c: ImageConfigFile = serde_json::from_str(json).expect("parse");
        assert!(c.config.env.is_empty() && c.config.labels.is_empty());
        assert!(c.config.on_build.is_empty() && c.history.is_empty());
        assert_eq!(c.config.shell.as_deref().map(<[String]>::len), Some(2));

        let mut built = c.clone();
        built.config.on_build = vec!["RUN make".into()];
        built.history = vec![History {
            created_by: Some("RUN make".into()),
            empty_layer: true,
            ..History::default()
        }];
        let text = serde_json::to_string(&built).expect("write");
        assert!(text.contains(r#""OnBuild":["RUN make"]"#), "{text}");
        assert!(text.contains(r#""empty_layer":true"#), "{text}");
        let back: ImageConfigFile = serde_json::from_str(&text).expect("read back");
        assert_eq!(back.config, built.config);
        assert_eq!(back.history, built.history);
    }
}

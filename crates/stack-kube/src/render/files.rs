//! Files shipped in the manifests: `configs` → ConfigMaps, `secrets` →
//! Secrets, both mounted as files where the service asks; and bind-mount
//! sources when the user chose ConfigMaps for them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, KeyToPath, Secret, SecretVolumeSource, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use serde::Serialize;
use stack_spec::{FileObject, FileReference, Service};

use super::storage::PodStorage;
use super::{Context, RenderError};
use crate::labels;
use crate::manifest::Object;
use crate::names;

/// The API server refuses ConfigMaps and Secrets above 1 MiB.
const MAX_OBJECT_BYTES: usize = 1 << 20;

/// The `x-stack: {kube: {...}}` settings of a stack object, empty if none.
pub(super) fn kube_extension(value: &impl Serialize) -> serde_json::Map<String, serde_json::Value> {
    let Ok(serde_json::Value::Object(mut map)) = serde_json::to_value(value) else {
        return serde_json::Map::new();
    };
    match map.remove("x-stack") {
        Some(serde_json::Value::Object(mut stack)) => match stack.remove("kube") {
            Some(serde_json::Value::Object(kube)) => kube,
            _ => serde_json::Map::new(),
        },
        _ => serde_json::Map::new(),
    }
}

/// Compose labels as annotations; keys Kubernetes refuses are reported.
pub(super) fn annotations(
    ctx: &mut Context<'_>,
    path: &str,
    labels: &BTreeMap<String, String>,
) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (key, value) in labels {
        if labels::is_qualified_key(key) {
            out.insert(key.clone(), value.clone());
        } else {
            ctx.warnings.push(
                format!("{path}.{key}"),
                "not a valid Kubernetes annotation key",
            );
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Splits file contents into text (`data`) and the rest (`binaryData`).
#[allow(clippy::type_complexity)]
pub(super) fn split_data(
    files: BTreeMap<String, Vec<u8>>,
) -> (
    Option<BTreeMap<String, String>>,
    Option<BTreeMap<String, ByteString>>,
) {
    let mut text = BTreeMap::new();
    let mut binary = BTreeMap::new();
    for (key, bytes) in files {
        match String::from_utf8(bytes) {
            Ok(content) => {
                text.insert(key, content);
            }
            Err(err) => {
                binary.insert(key, ByteString(err.into_bytes()));
            }
        }
    }
    (
        (!text.is_empty()).then_some(text),
        (!binary.is_empty()).then_some(binary),
    )
}

/// The files of a bind-mount source, by ConfigMap key.
pub(super) struct BindContent {
    pub files: BTreeMap<String, Vec<u8>>,
    /// For a single file: its key, mounted with `subPath`.
    pub single_key: Option<String>,
}

/// Reads a bind-mount source: one file, or the regular files directly in a
/// directory (ConfigMaps are flat, so subdirectories are refused).
pub(super) fn read_bind_source(
    ctx: &Context<'_>,
    path: &str,
    source: &str,
) -> Result<BindContent, RenderError> {
    let file = resolve(ctx, source);
    let io = |file: &Path, source| RenderError::File {
        path: path.to_string(),
        file: file.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(&file).map_err(|e| io(&file, e))?;
    let mut files = BTreeMap::new();
    let single_key = if meta.is_file() {
        let key = config_key(path, &file)?;
        files.insert(key.clone(), std::fs::read(&file).map_err(|e| io(&file, e))?);
        Some(key)
    } else {
        for entry in std::fs::read_dir(&file).map_err(|e| io(&file, e))? {
            let entry = entry.map_err(|e| io(&file, e))?;
            let member = entry.path();
            if !entry.file_type().map_err(|e| io(&member, e))?.is_file() {
                return Err(RenderError::Unsupported {
                    path: path.to_string(),
                    problem: format!(
                        "{} is not a regular file; a ConfigMap holds only the files directly in a directory",
                        member.display()
                    ),
                });
            }
            let key = config_key(path, &member)?;
            files.insert(key, std::fs::read(&member).map_err(|e| io(&member, e))?);
        }
        None
    };
    check_size(path, files.values().map(Vec::len).sum())?;
    Ok(BindContent { files, single_key })
}

fn resolve(ctx: &Context<'_>, source: &str) -> PathBuf {
    let path = Path::new(source);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        ctx.project.working_dir.join(path)
    }
}

fn config_key(path: &str, file: &Path) -> Result<String, RenderError> {
    let key = file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    if is_config_key(&key) {
        Ok(key)
    } else {
        Err(RenderError::Unsupported {
            path: path.to_string(),
            problem: format!(
                "file name {key:?} cannot be a ConfigMap key (letters, digits, '-', '_', '.')"
            ),
        })
    }
}

/// Keys of ConfigMaps and Secrets: `[-._a-zA-Z0-9]+`, at most 253 bytes.
fn is_config_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key != "."
        && key != ".."
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn check_size(path: &str, bytes: usize) -> Result<(), RenderError> {
    if bytes > MAX_OBJECT_BYTES {
        return Err(RenderError::Unsupported {
            path: path.to_string(),
            problem: format!("{bytes} bytes is more than a ConfigMap or Secret holds (1 MiB)"),
        });
    }
    Ok(())
}

/// Which top-level map a file object comes from.
#[derive(Clone, Copy)]
enum Store {
    Config,
    Secret,
}

impl Store {
    fn section(self) -> &'static str {
        match self {
            Store::Config => "configs",
            Store::Secret => "secrets",
        }
    }
}

/// A ConfigMap per config and a Secret per secret that an enabled service
/// uses, unless `external` (then it must already exist in the namespace).
pub(super) fn objects(ctx: &mut Context<'_>) -> Result<Vec<Object>, RenderError> {
    let mut objects = Vec::new();
    for store in [Store::Config, Store::Secret] {
        let declared = match store {
            Store::Config => &ctx.project.configs,
            Store::Secret => &ctx.project.secrets,
        };
        let used: Vec<(String, FileObject)> = declared
            .iter()
            .filter(|(key, _)| {
                ctx.project
                    .services
                    .values()
                    .any(|service| references(service, store).iter().any(|r| &r.source == *key))
            })
            .map(|(key, object)| (key.clone(), object.clone()))
            .collect();
        for (key, declared) in used {
            if declared.external {
                continue;
            }
            let path = format!("{}.{key}", store.section());
            let bytes = content(ctx, &path, &declared)?;
            check_size(&path, bytes.len())?;
            let data_key = data_key(&key)?;
            let metadata = |name: &String, ctx: &mut Context<'_>| ObjectMeta {
                name: Some(name.clone()),
                labels: Some(labels::common(&ctx.label, name)),
                annotations: annotations(ctx, &format!("{path}.labels"), &declared.labels),
                ..ObjectMeta::default()
            };
            objects.push(match store {
                Store::Config => {
                    let name = ctx.config_maps.claim_dns1123(&key)?;
                    let (data, binary_data) = split_data(BTreeMap::from([(data_key, bytes)]));
                    Object::ConfigMap(ConfigMap {
                        metadata: metadata(&name, ctx),
                        data,
                        binary_data,
                        ..ConfigMap::default()
                    })
                }
                Store::Secret => {
                    let name = ctx.secrets.claim_dns1123(&key)?;
                    Object::Secret(Secret {
                        metadata: metadata(&name, ctx),
                        type_: Some("Opaque".to_string()),
                        data: Some(BTreeMap::from([(data_key, ByteString(bytes))])),
                        ..Secret::default()
                    })
                }
            });
        }
    }
    Ok(objects)
}

fn references(service: &Service, store: Store) -> &[FileReference] {
    match store {
        Store::Config => &service.configs,
        Store::Secret => &service.secrets,
    }
}

/// The key a config or secret has inside its object.
fn data_key(key: &str) -> Result<String, RenderError> {
    if is_config_key(key) {
        Ok(key.to_string())
    } else {
        Ok(names::dns1123_label("config", key)?)
    }
}

fn content(ctx: &Context<'_>, path: &str, declared: &FileObject) -> Result<Vec<u8>, RenderError> {
    if let Some(file) = &declared.file {
        let file = resolve(ctx, file);
        return std::fs::read(&file).map_err(|source| RenderError::File {
            path: format!("{path}.file"),
            file,
            source,
        });
    }
    if let Some(text) = &declared.content {
        return Ok(text.clone().into_bytes());
    }
    if let Some(variable) = &declared.environment {
        return match ctx.project.environment.get(variable) {
            Some(value) => Ok(value.clone().into_bytes()),
            None => Err(RenderError::Unsupported {
                path: format!("{path}.environment"),
                problem: format!("variable {variable} is not set"),
            }),
        };
    }
    Err(RenderError::Unsupported {
        path: path.to_string(),
        problem: "has no file, content or environment".to_string(),
    })
}

/// Mounts the configs and secrets `service` uses, one file each.
pub(super) fn mounts(
    ctx: &mut Context<'_>,
    name: &str,
    service: &Service,
    pod: &mut PodStorage,
) -> Result<(), RenderError> {
    for store in [Store::Config, Store::Secret] {
        for (index, reference) in references(service, store).iter().enumerate() {
            let path = format!("services.{name}.{}[{index}]", store.section());
            mount_one(ctx, &path, store, reference, pod)?;
        }
    }
    Ok(())
}

fn mount_one(
    ctx: &mut Context<'_>,
    path: &str,
    store: Store,
    reference: &FileReference,
    pod: &mut PodStorage,
) -> Result<(), RenderError> {
    let declared = match store {
        Store::Config => ctx.project.configs.get(&reference.source),
        Store::Secret => ctx.project.secrets.get(&reference.source),
    };
    let Some(declared) = declared else {
        return Err(RenderError::Unsupported {
            path: path.to_string(),
            problem: format!(
                "{:?} is not declared under top-level `{}:`",
                reference.source,
                store.section()
            ),
        });
    };
    if reference.uid.is_some() || reference.gid.is_some() {
        ctx.warnings.push(
            path,
            "uid and gid of mounted files are not translated (use the pod's fsGroup)",
        );
    }
    let object = if declared.external {
        names::dns1123_label("config", &declared.name)?
    } else {
        names::dns1123_label("config", &reference.source)?
    };
    let key = data_key(&reference.source)?;
    let target = match (&reference.target, store) {
        (Some(target), _) if target.starts_with('/') => target.clone(),
        (Some(target), Store::Secret) => format!("/run/secrets/{target}"),
        (Some(target), Store::Config) => format!("/{target}"),
        (None, Store::Secret) => format!("/run/secrets/{}", reference.source),
        (None, Store::Config) => format!("/{}", reference.source),
    };
    let items = Some(vec![KeyToPath {
        key: key.clone(),
        path: key.clone(),
        mode: reference
            .mode
            .map(|mode| i32::try_from(mode & 0o777).unwrap_or(0o444)),
    }]);
    let prefix = match store {
        Store::Config => "config",
        Store::Secret => "secret",
    };
    let volume_name = names::dns1123_label("config", &format!("{prefix}-{object}"))?;
    pod.add_volume(match store {
        Store::Config => Volume {
            name: volume_name.clone(),
            config_map: Some(ConfigMapVolumeSource {
                name: object,
                items,
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        },
        Store::Secret => Volume {
            name: volume_name.clone(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(object),
                items,
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        },
    })?;
    pod.mounts.push(VolumeMount {
        name: volume_name,
        mount_path: target,
        sub_path: Some(key),
        read_only: Some(true),
        ..VolumeMount::default()
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keys() {
        assert!(is_config_key("nginx.conf"));
        assert!(is_config_key("a_b-c"));
        assert!(!is_config_key("a/b"));
        assert!(!is_config_key(".."));
        assert!(!is_config_key(""));
    }

    #[test]
    fn text_and_binary_are_split() {
        let (text, binary) = split_data(BTreeMap::from([
            ("a".to_string(), b"hello".to_vec()),
            ("b".to_string(), vec![0xff, 0x00]),
        ]));
        assert_eq!(text.expect("text")["a"], "hello");
        assert_eq!(binary.expect("binary")["b"].0, vec![0xff, 0x00]);
    }
}

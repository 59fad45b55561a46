//! Volumes: named volumes become PersistentVolumeClaims, anonymous ones and
//! tmpfs become emptyDirs, bind mounts are refused unless the user chose
//! hostPath or ConfigMap for them, `shm_size` sizes a memory-backed
//! `/dev/shm`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, EmptyDirVolumeSource, HostPathVolumeSource,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, Volume,
    VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use stack_spec::{ByteSize, MountType, Service, ServiceVolume};

use super::{files, units, BindMounts, Context, RenderError};
use crate::labels;
use crate::manifest::Object;
use crate::names::{self, NameTable};

/// Size of a claim whose volume has no `x-stack.kube.size`.
pub const DEFAULT_VOLUME_SIZE: &str = "1Gi";

/// The pod-level storage of one service.
#[derive(Default)]
pub(super) struct PodStorage {
    pub volumes: Vec<Volume>,
    pub mounts: Vec<VolumeMount>,
    /// Objects made for this service alone (ConfigMaps of bind mounts).
    pub objects: Vec<Object>,
    /// A claim is mounted: a Deployment must use the Recreate strategy, as
    /// a ReadWriteOnce claim cannot be held by the old and new pod at once.
    pub uses_claims: bool,
    names: Option<NameTable>,
}

impl PodStorage {
    /// Adds a pod volume unless one of that name exists (the same named
    /// volume mounted twice), claiming the name.
    pub fn add_volume(&mut self, volume: Volume) -> Result<(), RenderError> {
        if self.volumes.iter().any(|v| v.name == volume.name) {
            return Ok(());
        }
        let table = self
            .names
            .get_or_insert_with(|| NameTable::new("pod volume"));
        table.claim(&volume.name, volume.name.clone())?;
        self.volumes.push(volume);
        Ok(())
    }
}

/// A PersistentVolumeClaim per top-level volume that an enabled service
/// mounts, unless it is `external` (then the claim must already exist).
pub(super) fn claims(ctx: &mut Context<'_>) -> Result<Vec<Object>, RenderError> {
    let used: Vec<&String> = ctx
        .project
        .volumes
        .keys()
        .filter(|key| {
            ctx.project.services.values().any(|service| {
                service
                    .volumes
                    .iter()
                    .any(|v| v.kind == MountType::Volume && v.source.as_deref() == Some(key))
            })
        })
        .collect();
    let mut objects = Vec::new();
    for key in used {
        let volume = &ctx.project.volumes[key];
        let path = format!("volumes.{key}");
        if volume.external {
            continue;
        }
        if volume.driver.as_deref().is_some_and(|d| d != "local") {
            ctx.warnings.push(
                format!("{path}.driver"),
                "the cluster's storage class decides how claims are backed",
            );
        }
        if !volume.driver_opts.is_empty() {
            ctx.warnings.push(
                format!("{path}.driver_opts"),
                "the cluster's storage class decides how claims are backed",
            );
        }
        let kube = volume_settings(ctx, key, volume);
        let size = claim_size(&path, kube.get("size"))?;
        let name = ctx.claims.claim_dns1123(key)?;
        let storage_class = string_setting(&path, &kube, "storage_class")?;
        let access_mode =
            string_setting(&path, &kube, "access_mode")?.unwrap_or_else(|| "ReadWriteOnce".into());
        objects.push(Object::PersistentVolumeClaim(PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some(labels::common(&ctx.label, &name)),
                annotations: files::annotations(ctx, &format!("{path}.labels"), &volume.labels),
                ..ObjectMeta::default()
            },
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec![access_mode]),
                storage_class_name: storage_class,
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([("storage".to_string(), size)])),
                    ..VolumeResourceRequirements::default()
                }),
                ..PersistentVolumeClaimSpec::default()
            }),
            status: None,
        }));
    }
    Ok(objects)
}

/// `x-stack.kube` of top-level volume `key`. The project model does not
/// keep extension keys of volumes, so when its serialized form has none
/// they are read from the stack files themselves (the last file that sets
/// them wins; no interpolation).
fn volume_settings(
    ctx: &Context<'_>,
    key: &str,
    volume: &stack_spec::Volume,
) -> serde_json::Map<String, serde_json::Value> {
    let from_model = files::kube_extension(volume);
    if !from_model.is_empty() {
        return from_model;
    }
    let mut found = serde_json::Map::new();
    for file in &ctx.project.config_files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let Ok(document) = serde_yaml::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if let Some(serde_json::Value::Object(settings)) = document.pointer(&format!(
            "/volumes/{}/x-stack/kube",
            key.replace('~', "~0").replace('/', "~1")
        )) {
            found = settings.clone();
        }
    }
    found
}

/// `x-stack.kube.size`: a Kubernetes quantity (`10Gi`) or a Compose size
/// (`10g`).
fn claim_size(path: &str, value: Option<&serde_json::Value>) -> Result<Quantity, RenderError> {
    let Some(value) = value else {
        return Ok(Quantity(DEFAULT_VOLUME_SIZE.to_string()));
    };
    let text = match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Number(number) => number.to_string(),
        _ => String::new(),
    };
    if is_quantity(&text) {
        return Ok(Quantity(text));
    }
    ByteSize::parse(&text)
        .map(|size| units::bytes(size.0))
        .map_err(|problem| RenderError::Unsupported {
            path: format!("{path}.x-stack.kube.size"),
            problem: format!("{value} is not a size such as 10Gi: {problem}"),
        })
}

fn is_quantity(text: &str) -> bool {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &text[digits.len()..];
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && matches!(
            suffix,
            "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" | "k" | "M" | "G" | "T" | "P" | "E"
        )
}

fn string_setting(
    path: &str,
    kube: &serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Result<Option<String>, RenderError> {
    match kube.get(key) {
        None => Ok(None),
        Some(serde_json::Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(RenderError::Unsupported {
            path: format!("{path}.x-stack.kube.{key}"),
            problem: format!("{other} is not a string"),
        }),
    }
}

/// The pod volumes and mounts of service `name`.
pub(super) fn pod_storage(
    ctx: &mut Context<'_>,
    name: &str,
    service: &Service,
) -> Result<PodStorage, RenderError> {
    let mut pod = PodStorage::default();
    for (index, mount) in service.volumes.iter().enumerate() {
        let path = format!("services.{name}.volumes[{index}]");
        match mount.kind {
            MountType::Volume => named_or_anonymous(ctx, &mut pod, &path, index, mount)?,
            MountType::Tmpfs => {
                let size = mount.tmpfs.as_ref().and_then(|t| t.size).map(|s| s.0);
                if mount.tmpfs.as_ref().is_some_and(|t| t.mode.is_some()) {
                    ctx.warnings.push(
                        format!("{path}.tmpfs.mode"),
                        "emptyDir volumes have a fixed mode",
                    );
                }
                memory_dir(&mut pod, &format!("tmpfs-{index}"), &mount.target, size)?;
            }
            MountType::Bind => bind(ctx, &mut pod, name, &path, index, mount)?,
            MountType::Image | MountType::Npipe | MountType::Cluster => ctx.warnings.push(
                path,
                format!("{:?} mounts are not translated to Kubernetes", mount.kind),
            ),
        }
    }
    for (index, entry) in service.tmpfs.iter().enumerate() {
        let (target, options) = entry.split_once(':').unwrap_or((entry, ""));
        let size = options
            .split(',')
            .find_map(|option| option.strip_prefix("size="))
            .and_then(|size| ByteSize::parse(size).ok())
            .map(|size| size.0);
        memory_dir(&mut pod, &format!("tmpfs-s{index}"), target, size)?;
    }
    if let Some(size) = service.shm_size {
        memory_dir(&mut pod, "shm", "/dev/shm", Some(size.0))?;
    }
    Ok(pod)
}

fn named_or_anonymous(
    ctx: &mut Context<'_>,
    pod: &mut PodStorage,
    path: &str,
    index: usize,
    mount: &ServiceVolume,
) -> Result<(), RenderError> {
    let options = mount.volume.clone().unwrap_or_default();
    if options.nocopy {
        ctx.warnings.push(
            format!("{path}.volume.nocopy"),
            "Kubernetes never copies image content into a volume",
        );
    }
    let volume_name = match &mount.source {
        None => {
            let name = format!("anon-{index}");
            pod.add_volume(Volume {
                name: name.clone(),
                empty_dir: Some(EmptyDirVolumeSource::default()),
                ..Volume::default()
            })?;
            name
        }
        Some(source) => {
            let Some(declared) = ctx.project.volumes.get(source) else {
                return Err(RenderError::Unsupported {
                    path: format!("{path}.source"),
                    problem: format!(
                        "volume {source:?} is not declared under top-level `volumes:`"
                    ),
                });
            };
            let claim = if declared.external {
                names::dns1123_label("volume", &declared.name)?
            } else {
                names::dns1123_label("volume", source)?
            };
            let name = names::dns1123_label("volume", &format!("volume-{claim}"))?;
            pod.add_volume(Volume {
                name: name.clone(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: claim,
                    read_only: None,
                }),
                ..Volume::default()
            })?;
            pod.uses_claims = true;
            name
        }
    };
    pod.mounts.push(VolumeMount {
        name: volume_name,
        mount_path: mount.target.clone(),
        read_only: mount.read_only.then_some(true),
        sub_path: options.subpath,
        ..VolumeMount::default()
    });
    Ok(())
}

fn memory_dir(
    pod: &mut PodStorage,
    name: &str,
    target: &str,
    size: Option<u64>,
) -> Result<(), RenderError> {
    pod.add_volume(Volume {
        name: name.to_string(),
        empty_dir: Some(EmptyDirVolumeSource {
            medium: Some("Memory".to_string()),
            size_limit: size.filter(|s| *s > 0).map(units::bytes),
        }),
        ..Volume::default()
    })?;
    pod.mounts.push(VolumeMount {
        name: name.to_string(),
        mount_path: target.to_string(),
        ..VolumeMount::default()
    });
    Ok(())
}

fn bind(
    ctx: &mut Context<'_>,
    pod: &mut PodStorage,
    service: &str,
    path: &str,
    index: usize,
    mount: &ServiceVolume,
) -> Result<(), RenderError> {
    let source = mount.source.clone().unwrap_or_default();
    if let Some(options) = &mount.bind {
        if options.propagation.is_some() || options.selinux.is_some() {
            ctx.warnings.push(
                format!("{path}.bind"),
                "propagation and SELinux relabelling are not translated",
            );
        }
    }
    let volume_name = format!("bind-{index}");
    match ctx.options.bind_mounts {
        BindMounts::Refuse => {
            return Err(RenderError::Unsupported {
                path: path.to_string(),
                problem: format!(
                    "bind mount of {source}: cluster nodes do not have this path; \
                     use a named volume, or pass --bind-mounts host-path or --bind-mounts config-map"
                ),
            })
        }
        BindMounts::HostPath => {
            let create = mount.bind.as_ref().is_some_and(|b| b.create_host_path);
            pod.add_volume(Volume {
                name: volume_name.clone(),
                host_path: Some(HostPathVolumeSource {
                    path: source,
                    type_: create.then(|| "DirectoryOrCreate".to_string()),
                }),
                ..Volume::default()
            })?;
            pod.mounts.push(VolumeMount {
                name: volume_name,
                mount_path: mount.target.clone(),
                read_only: mount.read_only.then_some(true),
                ..VolumeMount::default()
            });
        }
        BindMounts::ConfigMap => {
            let raw = format!("{service}-bind-{index}");
            let map_name = ctx.config_maps.claim_dns1123(&raw)?;
            let content = files::read_bind_source(ctx, path, &source)?;
            if !mount.read_only {
                ctx.warnings.push(
                    path,
                    "ConfigMap volumes are read-only; writes to this path fail",
                );
            }
            let sub_path = content.single_key.clone();
            let default_mode = has_executable(std::path::Path::new(&source)).then_some(0o755);
            let (data, binary_data) = files::split_data(content.files);
            pod.objects.push(Object::ConfigMap(ConfigMap {
                metadata: ObjectMeta {
                    name: Some(map_name.clone()),
                    labels: Some(labels::common(&ctx.label, &map_name)),
                    ..ObjectMeta::default()
                },
                data,
                binary_data,
                ..ConfigMap::default()
            }));
            pod.add_volume(Volume {
                name: volume_name.clone(),
                config_map: Some(ConfigMapVolumeSource {
                    name: map_name,
                    default_mode,
                    ..ConfigMapVolumeSource::default()
                }),
                ..Volume::default()
            })?;
            pod.mounts.push(VolumeMount {
                name: volume_name,
                mount_path: mount.target.clone(),
                read_only: Some(true),
                sub_path,
                ..VolumeMount::default()
            });
        }
    }
    Ok(())
}

/// Whether a bind source is, or directly holds, an executable file: a
/// ConfigMap's files are 0644 unless told otherwise, which would turn a CGI
/// script or an entrypoint script into a permission error in the cluster.
fn has_executable(source: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let executable = |m: std::fs::Metadata| m.is_file() && m.permissions().mode() & 0o111 != 0;
    match std::fs::metadata(source) {
        Ok(m) if m.is_dir() => std::fs::read_dir(source)
            .map(|entries| {
                entries
                    .flatten()
                    .any(|e| e.metadata().map(executable).unwrap_or(false))
            })
            .unwrap_or(false),
        Ok(m) => executable(m),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let path = "volumes.data";
        assert_eq!(claim_size(path, None).expect("default").0, "1Gi");
        let ten = serde_json::json!("10Gi");
        assert_eq!(claim_size(path, Some(&ten)).expect("quantity").0, "10Gi");
        let compose = serde_json::json!("512m");
        assert_eq!(
            claim_size(path, Some(&compose)).expect("compose size").0,
            "512Mi"
        );
        let bad = serde_json::json!("lots");
        let err = claim_size(path, Some(&bad)).expect_err("not a size");
        assert!(
            err.to_string()
                .starts_with("volumes.data.x-stack.kube.size"),
            "{err}"
        );
    }
}

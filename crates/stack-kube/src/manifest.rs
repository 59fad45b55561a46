//! The rendered objects of one project, and how they are printed.
//!
//! Objects are typed (k8s-openapi) so a field name cannot be misspelt; they
//! are kept in apply order (storage and configuration before the workloads
//! that mount them), which is also the order they are printed in.
//!
//! YAML is written with serde-saphyr rather than serde_yaml: kubectl and
//! most Kubernetes tools read YAML 1.1, where an unquoted `no`, `on` or
//! `0755` is not a string, and serde-saphyr quotes such strings.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use thiserror::Error;

/// The kinds stack renders, in apply order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    ServiceAccount,
    Role,
    RoleBinding,
    ConfigMap,
    Secret,
    PersistentVolumeClaim,
    Service,
    Deployment,
    Job,
}

impl Kind {
    /// Every kind, in apply order.
    pub const ALL: [Kind; 9] = [
        Kind::ServiceAccount,
        Kind::Role,
        Kind::RoleBinding,
        Kind::ConfigMap,
        Kind::Secret,
        Kind::PersistentVolumeClaim,
        Kind::Service,
        Kind::Deployment,
        Kind::Job,
    ];

    /// The `kind` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ServiceAccount => "ServiceAccount",
            Kind::Role => "Role",
            Kind::RoleBinding => "RoleBinding",
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
            Kind::PersistentVolumeClaim => "PersistentVolumeClaim",
            Kind::Service => "Service",
            Kind::Deployment => "Deployment",
            Kind::Job => "Job",
        }
    }

    /// The lower-case name kubectl prints (`deployment/web`).
    pub fn short(self) -> &'static str {
        match self {
            Kind::ServiceAccount => "serviceaccount",
            Kind::Role => "role",
            Kind::RoleBinding => "rolebinding",
            Kind::ConfigMap => "configmap",
            Kind::Secret => "secret",
            Kind::PersistentVolumeClaim => "persistentvolumeclaim",
            Kind::Service => "service",
            Kind::Deployment => "deployment",
            Kind::Job => "job",
        }
    }
}

/// One rendered Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    ServiceAccount(ServiceAccount),
    Role(Role),
    RoleBinding(RoleBinding),
    ConfigMap(ConfigMap),
    Secret(Secret),
    PersistentVolumeClaim(PersistentVolumeClaim),
    Service(Service),
    Deployment(Deployment),
    Job(Job),
}

impl Object {
    pub fn kind(&self) -> Kind {
        match self {
            Object::ServiceAccount(_) => Kind::ServiceAccount,
            Object::Role(_) => Kind::Role,
            Object::RoleBinding(_) => Kind::RoleBinding,
            Object::ConfigMap(_) => Kind::ConfigMap,
            Object::Secret(_) => Kind::Secret,
            Object::PersistentVolumeClaim(_) => Kind::PersistentVolumeClaim,
            Object::Service(_) => Kind::Service,
            Object::Deployment(_) => Kind::Deployment,
            Object::Job(_) => Kind::Job,
        }
    }

    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Object::ServiceAccount(o) => &o.metadata,
            Object::Role(o) => &o.metadata,
            Object::RoleBinding(o) => &o.metadata,
            Object::ConfigMap(o) => &o.metadata,
            Object::Secret(o) => &o.metadata,
            Object::PersistentVolumeClaim(o) => &o.metadata,
            Object::Service(o) => &o.metadata,
            Object::Deployment(o) => &o.metadata,
            Object::Job(o) => &o.metadata,
        }
    }

    pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Object::ServiceAccount(o) => &mut o.metadata,
            Object::Role(o) => &mut o.metadata,
            Object::RoleBinding(o) => &mut o.metadata,
            Object::ConfigMap(o) => &mut o.metadata,
            Object::Secret(o) => &mut o.metadata,
            Object::PersistentVolumeClaim(o) => &mut o.metadata,
            Object::Service(o) => &mut o.metadata,
            Object::Deployment(o) => &mut o.metadata,
            Object::Job(o) => &mut o.metadata,
        }
    }

    /// `metadata.name` (always set by the renderer).
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    /// `kind/name`, as kubectl prints it.
    pub fn reference(&self) -> String {
        format!("{}/{}", self.kind().short(), self.name())
    }

    /// The object as JSON, with `apiVersion` and `kind`.
    pub fn to_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Object::ServiceAccount(o) => serde_json::to_value(o),
            Object::Role(o) => serde_json::to_value(o),
            Object::RoleBinding(o) => serde_json::to_value(o),
            Object::ConfigMap(o) => serde_json::to_value(o),
            Object::Secret(o) => serde_json::to_value(o),
            Object::PersistentVolumeClaim(o) => serde_json::to_value(o),
            Object::Service(o) => serde_json::to_value(o),
            Object::Deployment(o) => serde_json::to_value(o),
            Object::Job(o) => serde_json::to_value(o),
        }
    }

    fn to_yaml(&self) -> Result<String, serde_saphyr::ser::Error> {
        match self {
            Object::ServiceAccount(o) => serde_saphyr::to_string(o),
            Object::Role(o) => serde_saphyr::to_string(o),
            Object::RoleBinding(o) => serde_saphyr::to_string(o),
            Object::ConfigMap(o) => serde_saphyr::to_string(o),
            Object::Secret(o) => serde_saphyr::to_string(o),
            Object::PersistentVolumeClaim(o) => serde_saphyr::to_string(o),
            Object::Service(o) => serde_saphyr::to_string(o),
            Object::Deployment(o) => serde_saphyr::to_string(o),
            Object::Job(o) => serde_saphyr::to_string(o),
        }
    }
}

/// Printing manifests failed.
#[derive(Debug, Error)]
pub enum WriteError {
    #[error("cannot serialize {object} as YAML: {source}")]
    Yaml {
        object: String,
        source: serde_saphyr::ser::Error,
    },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Every object rendered for one project, in apply order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Manifests {
    pub objects: Vec<Object>,
}

impl Manifests {
    /// Puts objects in apply order (by kind, then name) so output is stable.
    pub fn sort(&mut self) {
        self.objects
            .sort_by(|a, b| (a.kind(), a.name()).cmp(&(b.kind(), b.name())));
    }

    /// The objects as one multi-document YAML stream (`---` between them),
    /// which `kubectl apply -f -` reads.
    pub fn to_yaml_stream(&self) -> Result<String, WriteError> {
        let mut out = String::new();
        for object in &self.objects {
            let yaml = object.to_yaml().map_err(|source| WriteError::Yaml {
                object: object.reference(),
                source,
            })?;
            let _ = write!(out, "---\n{yaml}");
        }
        Ok(out)
    }

    /// Writes one file per object into `dir` (created if missing), named
    /// `NN-kind-name.yaml` so `kubectl apply -f DIR` applies them in order.
    /// Returns the files written.
    pub fn write_dir(&self, dir: &Path) -> Result<Vec<PathBuf>, WriteError> {
        std::fs::create_dir_all(dir).map_err(|source| WriteError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut written = Vec::with_capacity(self.objects.len());
        for (index, object) in self.objects.iter().enumerate() {
            let yaml = object.to_yaml().map_err(|source| WriteError::Yaml {
                object: object.reference(),
                source,
            })?;
            let path = dir.join(format!(
                "{index:02}-{}-{}.yaml",
                object.kind().short(),
                object.name()
            ));
            std::fs::write(&path, yaml).map_err(|source| WriteError::Io {
                path: path.clone(),
                source,
            })?;
            written.push(path);
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_map(name: &str) -> Object {
        Object::ConfigMap(ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        })
    }

    fn service(name: &str) -> Object {
        Object::Service(Service {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                ..ObjectMeta::default()
            },
            ..Service::default()
        })
    }

    #[test]
    fn stream_has_type_meta_and_separators() {
        let manifests = Manifests {
            objects: vec![config_map("a"), service("b")],
        };
        let yaml = manifests.to_yaml_stream().expect("serializes");
        assert_eq!(yaml.matches("---\n").count(), 2);
        assert!(yaml.contains("apiVersion: v1\nkind: ConfigMap\n"), "{yaml}");
        assert!(yaml.contains("kind: Service\n"), "{yaml}");
    }

    #[test]
    fn sort_puts_configuration_before_services() {
        let mut manifests = Manifests {
            objects: vec![service("a"), config_map("z"), config_map("b")],
        };
        manifests.sort();
        let order: Vec<String> = manifests.objects.iter().map(Object::reference).collect();
        assert_eq!(order, ["configmap/b", "configmap/z", "service/a"]);
    }
}

//! The mapping from a loaded stack to Kubernetes objects.
//!
//! The rules are Kompose's, corrected where Kompose is known to break
//! Compose semantics: `entrypoint`/`command` become `command`/`args` (not
//! both `command`), every service gets a Service (headless when it has no
//! ports) so every name still resolves, and nothing is dropped without a
//! warning. `docs/kube.md` has the table.

mod audit;
mod container;
mod dependencies;
mod files;
mod job_wait;
mod probes;
mod service;
mod storage;
mod units;
mod workload;

use std::path::PathBuf;

use stack_spec::Project;
use thiserror::Error;

use crate::check;
use crate::manifest::Manifests;
use crate::names::{self, NameError, NameTable};
use crate::warnings::{Warning, Warnings};

pub use storage::DEFAULT_VOLUME_SIZE;

/// What bind mounts become; a cluster node does not have the user's files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BindMounts {
    /// Refuse the stack (the default): nothing good happens silently.
    #[default]
    Refuse,
    /// A `hostPath` volume: the path must exist on whichever node runs it.
    HostPath,
    /// The files are read now and shipped in a ConfigMap (read-only).
    ConfigMap,
}

/// How a Service with published ports is exposed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ServiceType {
    /// Reachable inside the cluster only (the default).
    #[default]
    ClusterIp,
    NodePort,
    LoadBalancer,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIp => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
        }
    }
}

/// Choices the stack file cannot express.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Put every object in this namespace (else kubectl's current one).
    pub namespace: Option<String>,
    /// Fail instead of warning when a key cannot be translated.
    pub strict: bool,
    pub bind_mounts: BindMounts,
    /// Type of the Services of services that publish ports.
    pub service_type: ServiceType,
    /// Add an initContainer per `depends_on` entry that waits until the
    /// dependency's Service answers (Kubernetes itself ignores ordering).
    pub wait_for_dependencies: bool,
    /// Image of those initContainers; it needs `sh`, `nc` and `nslookup`.
    pub init_image: String,
    /// Image of the initContainers that wait for a Job to complete; it
    /// needs `kubectl`.
    pub kubectl_image: String,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            namespace: None,
            strict: false,
            bind_mounts: BindMounts::Refuse,
            service_type: ServiceType::ClusterIp,
            wait_for_dependencies: false,
            init_image: "busybox:1.36".to_string(),
            kubectl_image: "registry.k8s.io/kubectl:v1.33.0".to_string(),
        }
    }
}

/// Why a stack cannot be rendered.
#[derive(Debug, Error)]
pub enum RenderError {
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("{path}: {problem}")]
    Unsupported { path: String, problem: String },
    #[error("{path}: cannot read {file}: {source}")]
    File {
        path: String,
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} key(s) cannot be translated to Kubernetes (--strict):\n{}", .0.len(), list(.0))]
    Strict(Vec<Warning>),
    #[error("the rendered objects break Kubernetes rules (a bug in stack):\n{}", .0.join("\n"))]
    Check(Vec<String>),
}

fn list(warnings: &[Warning]) -> String {
    let lines: Vec<String> = warnings.iter().map(|w| format!("  {w}")).collect();
    lines.join("\n")
}

/// The result of a render: the objects, and what did not make it.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The project name as it appears in labels (an RFC 1123 label).
    pub project: String,
    pub manifests: Manifests,
    /// Sorted by path.
    pub warnings: Vec<Warning>,
}

/// Names handed out while rendering one project, so two stack objects can
/// never become the same Kubernetes object.
pub(crate) struct Context<'a> {
    pub project: &'a Project,
    pub options: &'a RenderOptions,
    /// The project name as a label value.
    pub label: String,
    pub services: NameTable,
    pub claims: NameTable,
    pub config_maps: NameTable,
    pub secrets: NameTable,
    pub warnings: Warnings,
    /// Some pod waits for a Job: the project's job-reading service
    /// account is rendered.
    pub reads_jobs: bool,
}

impl Context<'_> {
    /// The Kubernetes name of service `name` (already claimed at start).
    pub fn service_name(&self, name: &str) -> Result<String, NameError> {
        names::dns1035_label("service", name)
    }
}

/// Renders `project` as Kubernetes objects.
pub fn render(project: &Project, options: &RenderOptions) -> Result<Rendered, RenderError> {
    let label = names::dns1123_label("project", &project.name)?;
    let mut ctx = Context {
        project,
        options,
        label: label.clone(),
        services: NameTable::new("service"),
        claims: NameTable::new("volume"),
        config_maps: NameTable::new("config"),
        secrets: NameTable::new("secret"),
        warnings: Warnings::default(),
        reads_jobs: false,
    };
    for name in project.services.keys() {
        ctx.services.claim_dns1035(name)?;
    }
    audit::project_keys(&mut ctx);
    let mut manifests = Manifests::default();
    manifests.objects.extend(storage::claims(&mut ctx)?);
    manifests.objects.extend(files::objects(&mut ctx)?);
    for (name, service) in &project.services {
        audit::service_keys(&mut ctx, name, service);
        let (workload, mut extra) = workload::render(&mut ctx, name, service)?;
        manifests
            .objects
            .push(service::render(&mut ctx, name, service)?);
        manifests.objects.push(workload);
        manifests.objects.append(&mut extra);
    }
    if ctx.reads_jobs {
        manifests.objects.extend(job_wait::objects(&ctx)?);
    }
    if let Some(namespace) = &options.namespace {
        for object in &mut manifests.objects {
            object.metadata_mut().namespace = Some(namespace.clone());
        }
    }
    manifests.sort();
    let problems = check::check(&manifests, &label);
    if !problems.is_empty() {
        return Err(RenderError::Check(problems));
    }
    let warnings = ctx.warnings.into_sorted();
    if options.strict && !warnings.is_empty() {
        return Err(RenderError::Strict(warnings));
    }
    Ok(Rendered {
        project: label,
        manifests,
        warnings,
    })
}

//! Talking to a cluster: connect with the user's kubeconfig, apply rendered
//! objects with server-side apply, prune this project's objects that are no
//! longer rendered, wait for rollouts, and delete everything on `down`.
//!
//! Objects go through [`kube::api::DynamicObject`], so one code path serves
//! every kind; only the rollout checks read typed objects.

mod apply;
mod progress;
mod prune;
mod wait;

use std::path::PathBuf;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{ApiResource, DynamicObject};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use thiserror::Error;

use crate::manifest::Kind;

pub use apply::{apply, ApplyOptions, ApplyReport};
pub use progress::{Event, Progress, Silent};
pub use prune::{down, DownOptions};
pub use wait::{deployment_rollout, job_rollout, Rollout};

/// How to reach the cluster, as kubectl takes it.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Kubeconfig file; default `KUBECONFIG`, then `~/.kube/config`, then
    /// the in-cluster service account.
    pub kubeconfig: Option<PathBuf>,
    /// Context of the kubeconfig; default its `current-context`.
    pub context: Option<String>,
    /// Namespace; default the context's namespace, then `default`.
    pub namespace: Option<String>,
}

/// A failure talking to the cluster.
#[derive(Debug, Error)]
pub enum ClusterError {
    #[error("cannot read the kubeconfig: {0}")]
    Kubeconfig(#[from] kube::config::KubeconfigError),
    #[error("cannot find a kubeconfig or an in-cluster service account: {0}")]
    Infer(#[from] kube::config::InferConfigError),
    #[error("cannot build a client for the cluster: {0}")]
    Client(#[source] kube::Error),
    #[error("{action} {object}: {source}")]
    Request {
        action: &'static str,
        object: String,
        #[source]
        source: kube::Error,
    },
    #[error("cannot convert {object} for the API: {source}")]
    Encode {
        object: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{object} in namespace {namespace} belongs to stack project {owner:?}; \
         use another namespace (--namespace) or remove that project first"
    )]
    OtherProject {
        object: String,
        owner: String,
        namespace: String,
    },
    #[error(
        "{object} cannot change in place (a Job's pod template is immutable); \
         delete it first (`kubectl delete {object}`) and apply again: {message}"
    )]
    JobChanged { object: String, message: String },
    #[error("{object} failed: {reason}")]
    RolloutFailed { object: String, reason: String },
    #[error("timed out after {seconds}s waiting for:\n{pending}")]
    Timeout { seconds: u64, pending: String },
}

/// A connected client and the namespace every object goes into.
#[derive(Clone)]
pub struct Cluster {
    client: Client,
    namespace: String,
}

impl Cluster {
    /// Connects as kubectl would with the same options. Nothing is sent
    /// until the first request.
    pub async fn connect(options: &ClusterOptions) -> Result<Cluster, ClusterError> {
        let config = if options.kubeconfig.is_none() && options.context.is_none() {
            Config::infer().await?
        } else {
            let kubeconfig = match &options.kubeconfig {
                Some(path) => Kubeconfig::read_from(path)?,
                None => Kubeconfig::read()?,
            };
            let choice = KubeConfigOptions {
                context: options.context.clone(),
                ..KubeConfigOptions::default()
            };
            Config::from_custom_kubeconfig(kubeconfig, &choice).await?
        };
        let namespace = options
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let client = Client::try_from(config).map_err(ClusterError::Client)?;
        Ok(Cluster { client, namespace })
    }

    /// The namespace objects are applied to.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn api(&self, kind: Kind) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), &self.namespace, &api_resource(kind))
    }

    fn typed<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.namespace)
    }
}

/// A single-threaded runtime for the cluster calls of one command: they
/// are sequential, so more threads would only cost start-up time.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Group, version and plural of `kind`, from k8s-openapi's own tables.
fn api_resource(kind: Kind) -> ApiResource {
    match kind {
        Kind::ServiceAccount => ApiResource::erase::<ServiceAccount>(&()),
        Kind::Role => ApiResource::erase::<Role>(&()),
        Kind::RoleBinding => ApiResource::erase::<RoleBinding>(&()),
        Kind::ConfigMap => ApiResource::erase::<ConfigMap>(&()),
        Kind::Secret => ApiResource::erase::<Secret>(&()),
        Kind::PersistentVolumeClaim => ApiResource::erase::<PersistentVolumeClaim>(&()),
        Kind::Service => ApiResource::erase::<Service>(&()),
        Kind::Deployment => ApiResource::erase::<Deployment>(&()),
        Kind::Job => ApiResource::erase::<Job>(&()),
    }
}

/// True for a 404 from the API server.
fn is_not_found(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 404)
}

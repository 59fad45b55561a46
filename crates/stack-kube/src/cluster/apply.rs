//! `stack kube apply`: server-side apply of every rendered object, then
//! pruning and waiting.

use std::collections::BTreeSet;
use std::time::Duration;

use kube::api::{DynamicObject, ListParams, Patch, PatchParams};

use super::progress::{Event, Progress};
use super::{prune, wait, Cluster, ClusterError};
use crate::labels;
use crate::manifest::{Kind, Manifests, Object};

/// What `apply` does besides applying.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// The (sanitized) project name the objects are labelled with.
    pub project: String,
    /// Delete this project's objects that are no longer rendered.
    pub prune: bool,
    /// Also prune PersistentVolumeClaims (their data goes with them).
    pub prune_volumes: bool,
    /// Wait for Deployments to be available and Jobs to complete.
    pub wait: bool,
    /// Longest wait for all rollouts together.
    pub timeout: Duration,
    /// Pause between two status reads.
    pub poll_interval: Duration,
}

impl ApplyOptions {
    /// Prune (except volumes) and wait up to five minutes, polling each
    /// second: what `stack kube apply` does without flags.
    pub fn new(project: &str) -> Self {
        ApplyOptions {
            project: project.to_string(),
            prune: true,
            prune_volumes: false,
            wait: true,
            timeout: Duration::from_secs(300),
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// What `apply` changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// `kind/name` of every object applied.
    pub applied: Vec<String>,
    /// `kind/name` of every object pruned.
    pub pruned: Vec<String>,
}

/// Applies `manifests` to the cluster with server-side apply (field manager
/// `stack`, `force` so that fields last set by hand with kubectl come back
/// to what the stack file says), then prunes and waits as `options` say.
pub async fn apply(
    cluster: &Cluster,
    manifests: &Manifests,
    options: &ApplyOptions,
    progress: &mut dyn Progress,
) -> Result<ApplyReport, ClusterError> {
    refuse_other_projects(cluster, manifests, &options.project).await?;
    let params = PatchParams::apply(labels::MANAGER).force();
    let mut report = ApplyReport::default();
    for object in &manifests.objects {
        let body = as_dynamic(object, cluster.namespace())?;
        cluster
            .api(object.kind())
            .patch(object.name(), &params, &Patch::Apply(&body))
            .await
            .map_err(|source| match &source {
                kube::Error::Api(status) if status.code == 422 && object.kind() == Kind::Job => {
                    ClusterError::JobChanged {
                        object: object.reference(),
                        message: status.message.clone(),
                    }
                }
                _ => ClusterError::Request {
                    action: "applying",
                    object: object.reference(),
                    source,
                },
            })?;
        progress.event(Event::Applied {
            object: object.reference(),
        });
        report.applied.push(object.reference());
    }
    if options.prune {
        let keep: BTreeSet<(Kind, String)> = manifests
            .objects
            .iter()
            .map(|object| (object.kind(), object.name().to_string()))
            .collect();
        report.pruned = prune::delete_project_objects(
            cluster,
            &options.project,
            &keep,
            options.prune_volumes,
            &|object| Event::Pruned { object },
            progress,
        )
        .await?;
    }
    if options.wait {
        wait::wait_for_rollouts(cluster, manifests, options, progress).await?;
    }
    Ok(report)
}

/// Server-side apply with `force` would silently take over an object of
/// the same name that another stack project made in this namespace; refuse
/// instead. One list per kind, by the `managed-by` label.
async fn refuse_other_projects(
    cluster: &Cluster,
    manifests: &Manifests,
    project: &str,
) -> Result<(), ClusterError> {
    let rendered: BTreeSet<(Kind, &str)> = manifests
        .objects
        .iter()
        .map(|object| (object.kind(), object.name()))
        .collect();
    let kinds: BTreeSet<Kind> = rendered.iter().map(|(kind, _)| *kind).collect();
    let params =
        ListParams::default().labels(&format!("{}={}", labels::MANAGED_BY, labels::MANAGER));
    for kind in kinds {
        let listed =
            cluster
                .api(kind)
                .list(&params)
                .await
                .map_err(|source| ClusterError::Request {
                    action: "listing",
                    object: format!("{}s made by stack", kind.short()),
                    source,
                })?;
        for item in listed.items {
            let name = item.metadata.name.unwrap_or_default();
            let owner = item
                .metadata
                .labels
                .and_then(|labels| labels.get(labels::PART_OF).cloned())
                .unwrap_or_default();
            if owner != project && rendered.contains(&(kind, name.as_str())) {
                return Err(ClusterError::OtherProject {
                    object: format!("{}/{name}", kind.short()),
                    owner,
                    namespace: cluster.namespace().to_string(),
                });
            }
        }
    }
    Ok(())
}

/// The object as the API takes it, placed in `namespace`.
fn as_dynamic(object: &Object, namespace: &str) -> Result<DynamicObject, ClusterError> {
    let encode = |source| ClusterError::Encode {
        object: object.reference(),
        source,
    };
    let mut json = object.to_json().map_err(encode)?;
    // A binding's service accounts live in the namespace it is applied to
    // (rendered manifests leave it to the namespace `kubectl` picks).
    if let Some(subjects) = json.get_mut("subjects").and_then(|s| s.as_array_mut()) {
        for subject in subjects {
            if subject["kind"] == "ServiceAccount" && subject.get("namespace").is_none() {
                subject["namespace"] = serde_json::Value::from(namespace);
            }
        }
    }
    let mut dynamic: DynamicObject = serde_json::from_value(json).map_err(encode)?;
    dynamic.metadata.namespace = Some(namespace.to_string());
    Ok(dynamic)
}

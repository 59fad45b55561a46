//! Deleting this project's objects by label: pruning after `apply` and all
//! of them on `down`.

use std::collections::BTreeSet;

use kube::api::{DeleteParams, ListParams};

use super::progress::{Event, Progress};
use super::{is_not_found, Cluster, ClusterError};
use crate::labels;
use crate::manifest::Kind;

/// What `down` removes.
#[derive(Debug, Clone)]
pub struct DownOptions {
    /// The (sanitized) project name the objects are labelled with.
    pub project: String,
    /// Also delete PersistentVolumeClaims, as `stack down --volumes` does
    /// with volumes. Without it the data survives for the next `apply`.
    pub volumes: bool,
}

/// `stack kube down`: deletes every object of the project (found by its
/// labels, so objects renamed or removed from the stack file go too).
/// Returns `kind/name` of each object deleted.
pub async fn down(
    cluster: &Cluster,
    options: &DownOptions,
    progress: &mut dyn Progress,
) -> Result<Vec<String>, ClusterError> {
    delete_project_objects(
        cluster,
        &options.project,
        &BTreeSet::new(),
        options.volumes,
        &|object| Event::Deleted { object },
        progress,
    )
    .await
}

/// Deletes the objects labelled as `project`'s that are not in `keep`,
/// workloads first (the reverse of apply order), PersistentVolumeClaims
/// only with `include_volumes`. Deletion propagates in the background so a
/// Job's or Deployment's pods go with it (a Job alone would orphan them).
pub(super) async fn delete_project_objects(
    cluster: &Cluster,
    project: &str,
    keep: &BTreeSet<(Kind, String)>,
    include_volumes: bool,
    event: &dyn Fn(String) -> Event,
    progress: &mut dyn Progress,
) -> Result<Vec<String>, ClusterError> {
    let selector = ListParams::default().labels(&labels::project_selector(project));
    let mut deleted = Vec::new();
    for kind in Kind::ALL.into_iter().rev() {
        if kind == Kind::PersistentVolumeClaim && !include_volumes {
            continue;
        }
        let api = cluster.api(kind);
        let listed = api
            .list(&selector)
            .await
            .map_err(|source| ClusterError::Request {
                action: "listing",
                object: format!("{}s of project {project}", kind.short()),
                source,
            })?;
        for item in listed.items {
            let Some(name) = item.metadata.name else {
                continue;
            };
            if keep.contains(&(kind, name.clone())) {
                continue;
            }
            let reference = format!("{}/{name}", kind.short());
            match api.delete(&name, &DeleteParams::background()).await {
                Ok(_) => {}
                Err(error) if is_not_found(&error) => continue,
                Err(source) => {
                    return Err(ClusterError::Request {
                        action: "deleting",
                        object: reference,
                        source,
                    })
                }
            }
            progress.event(event(reference.clone()));
            deleted.push(reference);
        }
    }
    Ok(deleted)
}

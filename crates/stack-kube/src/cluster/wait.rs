//! Waiting for rollouts: a Deployment is done when its controller has seen
//! the newest spec and every replica is updated and available (what
//! `kubectl rollout status` checks); a Job when its `Complete` condition is
//! true. The checks are pure functions of the object read back, so they are
//! tested without a cluster.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use tokio::time::{sleep, Instant};

use super::progress::{Event, Progress};
use super::{ApplyOptions, Cluster, ClusterError};
use crate::manifest::{Manifests, Object};

/// How far one rollout is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    Ready,
    /// Not done yet; the text says what is missing.
    Progressing(String),
    /// It will not finish without a change (a failed Job, a Deployment past
    /// its progress deadline).
    Failed(String),
}

/// Rollout state of a Deployment as read from the API server.
pub fn deployment_rollout(deployment: &Deployment) -> Rollout {
    let Some(status) = &deployment.status else {
        return Rollout::Progressing("waiting for the controller".to_string());
    };
    let generation = deployment.metadata.generation.unwrap_or(0);
    if status.observed_generation.unwrap_or(0) < generation {
        return Rollout::Progressing("waiting for the controller to see the new spec".into());
    }
    let deadline_passed = status.conditions.iter().flatten().any(|condition| {
        condition.type_ == "Progressing"
            && condition.reason.as_deref() == Some("ProgressDeadlineExceeded")
    });
    if deadline_passed {
        return Rollout::Failed("progress deadline exceeded".to_string());
    }
    let wanted = deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.replicas)
        .unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if updated < wanted {
        return Rollout::Progressing(format!("{updated} of {wanted} replicas updated"));
    }
    if total > updated {
        return Rollout::Progressing(format!(
            "{} old replicas pending termination",
            total - updated
        ));
    }
    if available < updated {
        return Rollout::Progressing(format!("{available} of {wanted} replicas available"));
    }
    Rollout::Ready
}

/// Rollout state of a Job as read from the API server.
pub fn job_rollout(job: &Job) -> Rollout {
    let Some(status) = &job.status else {
        return Rollout::Progressing("waiting for the controller".to_string());
    };
    for condition in status.conditions.iter().flatten() {
        if condition.status != "True" {
            continue;
        }
        match condition.type_.as_str() {
            "Complete" => return Rollout::Ready,
            "Failed" => {
                let reason = condition
                    .message
                    .clone()
                    .or_else(|| condition.reason.clone())
                    .unwrap_or_else(|| "failed".to_string());
                return Rollout::Failed(reason);
            }
            _ => {}
        }
    }
    let wanted = job
        .spec
        .as_ref()
        .and_then(|spec| spec.completions)
        .unwrap_or(1);
    let succeeded = status.succeeded.unwrap_or(0);
    let active = status.active.unwrap_or(0);
    Rollout::Progressing(format!(
        "{succeeded} of {wanted} completions, {active} running"
    ))
}

/// Polls every Deployment and Job in `manifests` until all are ready, one
/// fails, or the timeout passes. Reports a `Waiting` event only when the
/// state of an object changes, so the output stays short.
pub(super) async fn wait_for_rollouts(
    cluster: &Cluster,
    manifests: &Manifests,
    options: &ApplyOptions,
    progress: &mut dyn Progress,
) -> Result<(), ClusterError> {
    let deadline = Instant::now() + options.timeout;
    let mut pending: BTreeMap<String, (&Object, String)> = manifests
        .objects
        .iter()
        .filter(|object| matches!(object, Object::Deployment(_) | Object::Job(_)))
        .map(|object| (object.reference(), (object, String::new())))
        .collect();
    loop {
        let mut ready = Vec::new();
        for (reference, (object, last_detail)) in pending.iter_mut() {
            match read_rollout(cluster, object).await? {
                Rollout::Ready => ready.push(reference.clone()),
                Rollout::Failed(reason) => {
                    return Err(ClusterError::RolloutFailed {
                        object: reference.clone(),
                        reason,
                    })
                }
                Rollout::Progressing(detail) => {
                    if *last_detail != detail {
                        progress.event(Event::Waiting {
                            object: reference.clone(),
                            detail: detail.clone(),
                        });
                        *last_detail = detail;
                    }
                }
            }
        }
        for reference in ready {
            pending.remove(&reference);
            progress.event(Event::Ready { object: reference });
        }
        if pending.is_empty() {
            return Ok(());
        }
        if Instant::now() + options.poll_interval > deadline {
            let lines: Vec<String> = pending
                .iter()
                .map(|(reference, (_, detail))| format!("  {reference}: {detail}"))
                .collect();
            return Err(ClusterError::Timeout {
                seconds: options.timeout.as_secs(),
                pending: lines.join("\n"),
            });
        }
        sleep(options.poll_interval).await;
    }
}

async fn read_rollout(cluster: &Cluster, object: &Object) -> Result<Rollout, ClusterError> {
    let failed = |source| ClusterError::Request {
        action: "reading",
        object: object.reference(),
        source,
    };
    match object {
        Object::Deployment(_) => {
            let current = cluster
                .typed::<Deployment>()
                .get(object.name())
                .await
                .map_err(failed)?;
            Ok(deployment_rollout(&current))
        }
        Object::Job(_) => {
            let current = cluster
                .typed::<Job>()
                .get(object.name())
                .await
                .map_err(failed)?;
            Ok(job_rollout(&current))
        }
        _ => Ok(Rollout::Ready),
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::{DeploymentCondition, DeploymentSpec, DeploymentStatus};
    use k8s_openapi::api::batch::v1::{JobCondition, JobStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    fn deployment(generation: i64, replicas: i32, status: DeploymentStatus) -> Deployment {
        Deployment {
            metadata: ObjectMeta {
                generation: Some(generation),
                ..ObjectMeta::default()
            },
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                ..DeploymentSpec::default()
            }),
            status: Some(status),
        }
    }

    fn counts(observed: i64, total: i32, updated: i32, available: i32) -> DeploymentStatus {
        DeploymentStatus {
            observed_generation: Some(observed),
            replicas: Some(total),
            updated_replicas: Some(updated),
            available_replicas: Some(available),
            ..DeploymentStatus::default()
        }
    }

    #[test]
    fn deployment_waits_for_the_controller_to_see_the_spec() {
        let rollout = deployment_rollout(&deployment(2, 1, counts(1, 1, 1, 1)));
        assert!(matches!(rollout, Rollout::Progressing(ref d) if d.contains("new spec")));
    }

    #[test]
    fn deployment_waits_for_updates_old_pods_and_availability() {
        let cases = [
            (counts(2, 2, 1, 1), "1 of 2 replicas updated"),
            (counts(2, 3, 2, 2), "1 old replicas pending termination"),
            (counts(2, 2, 2, 1), "1 of 2 replicas available"),
        ];
        for (status, want) in cases {
            assert_eq!(
                deployment_rollout(&deployment(2, 2, status)),
                Rollout::Progressing(want.to_string())
            );
        }
        assert_eq!(
            deployment_rollout(&deployment(2, 2, counts(2, 2, 2, 2))),
            Rollout::Ready
        );
    }

    #[test]
    fn deployment_past_its_deadline_fails() {
        let mut status = counts(1, 1, 0, 0);
        status.conditions = Some(vec![DeploymentCondition {
            type_: "Progressing".into(),
            status: "False".into(),
            reason: Some("ProgressDeadlineExceeded".into()),
            ..DeploymentCondition::default()
        }]);
        assert!(matches!(
            deployment_rollout(&deployment(1, 1, status)),
            Rollout::Failed(_)
        ));
    }

    fn job(conditions: Vec<(&str, &str)>, succeeded: i32) -> Job {
        Job {
            status: Some(JobStatus {
                succeeded: Some(succeeded),
                conditions: Some(
                    conditions
                        .into_iter()
                        .map(|(type_, status)| JobCondition {
                            type_: type_.into(),
                            status: status.into(),
                            message: Some("BackoffLimitExceeded".into()),
                            ..JobCondition::default()
                        })
                        .collect(),
                ),
                ..JobStatus::default()
            }),
            ..Job::default()
        }
    }

    #[test]
    fn job_states() {
        assert_eq!(
            job_rollout(&job(vec![("Complete", "True")], 1)),
            Rollout::Ready
        );
        assert_eq!(
            job_rollout(&job(vec![("Failed", "True")], 0)),
            Rollout::Failed("BackoffLimitExceeded".into())
        );
        assert_eq!(
            job_rollout(&job(vec![("Complete", "False")], 0)),
            Rollout::Progressing("0 of 1 completions, 0 running".into())
        );
        assert!(matches!(
            job_rollout(&Job::default()),
            Rollout::Progressing(_)
        ));
    }
}

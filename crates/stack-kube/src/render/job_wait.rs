//! `--wait-for-dependencies` on a one-shot dependency: a service that
//! waits with `condition: service_completed_successfully` for a service
//! rendered as a Job gets an initContainer running
//! `kubectl wait --for=condition=complete job/NAME`. Reading a Job's status
//! takes the API, so such pods run as a service account of the project
//! that may read Jobs (and nothing else) in their namespace.
//!
//! Until the Job exists `kubectl wait` fails and the kubelet runs the
//! initContainer again with its back-off; a Job that fails leaves its
//! dependants waiting, as Compose leaves them unstarted.

use k8s_openapi::api::core::v1::{Container, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{Context, RenderError};
use crate::labels;
use crate::manifest::Object;
use crate::names;

/// The service account (and Role, RoleBinding) of the waiting pods.
pub(super) fn account(ctx: &Context<'_>) -> Result<String, RenderError> {
    Ok(names::dns1123_label(
        "service account",
        &format!("{}-job-waiter", ctx.label),
    )?)
}

/// The initContainer that waits until Job `job` has completed.
pub(super) fn init_container(ctx: &Context<'_>, job: &str) -> Result<Container, RenderError> {
    Ok(Container {
        name: names::dns1123_label("init container", &format!("wait-for-{job}"))?,
        image: Some(ctx.options.kubectl_image.clone()),
        command: Some(vec![
            "kubectl".into(),
            "wait".into(),
            "--for=condition=complete".into(),
            "--timeout=-1s".into(),
            format!("job/{job}"),
        ]),
        ..Container::default()
    })
}

/// The service account and what it may do: read Jobs.
pub(super) fn objects(ctx: &Context<'_>) -> Result<Vec<Object>, RenderError> {
    let name = account(ctx)?;
    let metadata = ObjectMeta {
        name: Some(name.clone()),
        labels: Some(labels::common(&ctx.label, &name)),
        namespace: ctx.options.namespace.clone(),
        ..ObjectMeta::default()
    };
    let account = ServiceAccount {
        metadata: metadata.clone(),
        ..ServiceAccount::default()
    };
    let role = Role {
        metadata: metadata.clone(),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec!["batch".into()]),
            resources: Some(vec!["jobs".into()]),
            verbs: vec!["get".into(), "list".into(), "watch".into()],
            ..PolicyRule::default()
        }]),
    };
    let binding = RoleBinding {
        metadata,
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: name.clone(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name,
            namespace: ctx.options.namespace.clone(),
            ..Subject::default()
        }]),
    };
    Ok(vec![
        Object::ServiceAccount(account),
        Object::Role(role),
        Object::RoleBinding(binding),
    ])
}

//! apply, prune, wait and down against the mock API server: the exact
//! requests kube-rs sends and how the results are read.
#![cfg(feature = "kube")]

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::json;
use stack_kube::cluster::{
    apply, down, ApplyOptions, Cluster, ClusterError, ClusterOptions, DownOptions, Event,
};
use stack_kube::{labels, Manifests, Object};
use support::mock_api::{Behaviour, MockApi};

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/demo/deployments";
const JOBS: &str = "/apis/batch/v1/namespaces/demo/jobs";
const SERVICES: &str = "/api/v1/namespaces/demo/services";
const CONFIG_MAPS: &str = "/api/v1/namespaces/demo/configmaps";
const CLAIMS: &str = "/api/v1/namespaces/demo/persistentvolumeclaims";

fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        labels: Some(labels::common("shop", name)),
        ..ObjectMeta::default()
    }
}

fn deployment(name: &str) -> Object {
    Object::Deployment(Deployment {
        metadata: meta(name),
        spec: Some(DeploymentSpec {
            replicas: Some(2),
            selector: LabelSelector {
                match_labels: Some(labels::selector("shop", name)),
                ..LabelSelector::default()
            },
            ..DeploymentSpec::default()
        }),
        status: None,
    })
}

fn job(name: &str) -> Object {
    Object::Job(Job {
        metadata: meta(name),
        spec: Some(JobSpec::default()),
        status: None,
    })
}

fn manifests() -> Manifests {
    Manifests {
        objects: vec![
            Object::ConfigMap(ConfigMap {
                metadata: meta("settings"),
                data: Some(BTreeMap::from([("a".to_string(), "1".to_string())])),
                ..ConfigMap::default()
            }),
            Object::Service(Service {
                metadata: meta("web"),
                ..Service::default()
            }),
            deployment("web"),
        ],
    }
}

fn labelled(name: &str, project: &str, kind: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "demo",
           "labels": labels::common(project, name)}})
}

async fn connect(mock: &MockApi, dir: &tempfile::TempDir) -> Cluster {
    let options = ClusterOptions {
        kubeconfig: Some(mock.write_kubeconfig(dir.path())),
        context: Some("mock".to_string()),
        namespace: None,
    };
    Cluster::connect(&options)
        .await
        .expect("connect to the mock")
}

fn quick(project: &str) -> ApplyOptions {
    ApplyOptions {
        timeout: Duration::from_secs(10),
        poll_interval: Duration::from_millis(10),
        ..ApplyOptions::new(project)
    }
}

#[tokio::test]
async fn apply_sends_server_side_apply_patches() {
    let mock = MockApi::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let cluster = connect(&mock, &dir).await;
    assert_eq!(
        cluster.namespace(),
        "demo",
        "namespace from the chosen context"
    );
    let options = ApplyOptions {
        prune: false,
        wait: false,
        ..quick("shop")
    };
    let mut events = Vec::new();
    let report = apply(&cluster, &manifests(), &options, &mut events)
        .await
        .expect("apply");
    assert_eq!(
        report.applied,
        ["configmap/settings", "service/web", "deployment/web"]
    );
    let requests = mock.requests();
    let lines: Vec<String> = requests.iter().map(|r| r.line()).collect();
    assert_eq!(
        lines,
        [
            format!("GET {CONFIG_MAPS}"),
            format!("GET {SERVICES}"),
            format!("GET {DEPLOYMENTS}"),
            format!("PATCH {CONFIG_MAPS}/settings"),
            format!("PATCH {SERVICES}/web"),
            format!("PATCH {DEPLOYMENTS}/web"),
        ]
    );
    for list in &requests[..3] {
        assert_eq!(
            list.query.get("labelSelector").map(String::as_str),
            Some("app.kubernetes.io/managed-by=stack"),
            "ownership check lists what stack made"
        );
    }
    let requests = &requests[3..];
    for request in requests {
        assert_eq!(
            request.content_type.as_deref(),
            Some("application/apply-patch+yaml")
        );
        assert_eq!(
            request.query,
            BTreeMap::from([
                ("fieldManager".to_string(), "stack".to_string()),
                ("force".to_string(), "true".to_string()),
            ])
        );
        assert_eq!(request.body["metadata"]["namespace"], "demo");
        assert_eq!(
            request.body["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "stack"
        );
    }
    assert_eq!(requests[2].body["apiVersion"], "apps/v1");
    assert_eq!(requests[2].body["kind"], "Deployment");
    assert_eq!(requests[2].body["spec"]["replicas"], 2);
    assert_eq!(events.len(), 3);
}

#[tokio::test]
async fn apply_prunes_only_this_projects_unrendered_objects() {
    let mock = MockApi::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    mock.seed(DEPLOYMENTS, labelled("old", "shop", "Deployment"));
    mock.seed(SERVICES, labelled("old", "shop", "Service"));
    mock.seed(DEPLOYMENTS, labelled("theirs", "other", "Deployment"));
    mock.seed(CLAIMS, labelled("data", "shop", "PersistentVolumeClaim"));
    let unmanaged = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hand",
        "labels": {"app.kubernetes.io/part-of": "shop"}}});
    mock.seed(SERVICES, unmanaged);
    let cluster = connect(&mock, &dir).await;
    let options = ApplyOptions {
        wait: false,
        ..quick("shop")
    };
    let report = apply(&cluster, &manifests(), &options, &mut Vec::new())
        .await
        .expect("apply");
    assert_eq!(report.pruned, ["deployment/old", "service/old"]);
    assert_eq!(mock.names(DEPLOYMENTS), ["theirs", "web"]);
    assert_eq!(mock.names(SERVICES), ["hand", "web"]);
    assert_eq!(mock.names(CLAIMS), ["data"], "volumes survive a prune");

    let requests = mock.requests();
    let lists: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "GET")
        .skip(3) // the ownership check
        .collect();
    assert!(!lists.is_empty());
    for list in &lists {
        assert_eq!(
            list.query.get("labelSelector").map(String::as_str),
            Some("app.kubernetes.io/part-of=shop,app.kubernetes.io/managed-by=stack"),
            "{}",
            list.line()
        );
    }
    assert!(
        !lists.iter().any(|r| r.path == CLAIMS),
        "claims are not even listed without prune_volumes"
    );
    let deletes: Vec<_> = requests.iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(deletes.len(), 2);
    for delete in deletes {
        assert_eq!(delete.body["propagationPolicy"], "Background");
    }
}

#[tokio::test]
async fn apply_waits_for_the_rollout_by_reading_status() {
    let mock = MockApi::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    mock.behave("web", Behaviour::ReadyAfter(3));
    let cluster = connect(&mock, &dir).await;
    let options = ApplyOptions {
        prune: false,
        ..quick("shop")
    };
    let mut events = Vec::new();
    apply(&cluster, &manifests(), &options, &mut events)
        .await
        .expect("apply and wait");
    let reads: Vec<String> = mock
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.query.is_empty())
        .map(|r| r.line())
        .collect();
    assert_eq!(reads, vec![format!("GET {DEPLOYMENTS}/web"); 3]);
    let tail: Vec<String> = events.iter().skip(3).map(ToString::to_string).collect();
    assert_eq!(
        tail,
        [
            "deployment/web: 0 of 2 replicas available",
            "deployment/web ready"
        ]
    );
}

#[tokio::test]
async fn wait_gives_up_at_the_timeout_naming_what_is_pending() {
    let mock = MockApi::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    mock.behave("web", Behaviour::ReadyAfter(usize::MAX));
    let cluster = connect(&mock, &dir).await;
    let options = ApplyOptions {
        prune: false,
        timeout: Duration::from_millis(200),
        ..quick("shop")
    };
    let err = apply(&cluster, &manifests(), &options, &mut Vec::new())
        .await
        .expect_err("must time out");
    assert!(matches!(err, ClusterError::Timeout { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("deployment/web: 0 of 2 replicas available"),
        "{err}"
    );
}

#[tokio::test]
async fn a_failed_job_fails_the_apply() {
    let mock = MockApi::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    mock.behave("migrate", Behaviour::JobFails);
    let cluster = connect(&mock, &dir).await;
    let with_job = Manifests {
        objects: vec![job("migrate")],
    };
    let err = apply(&cluster, &with_job, &quick("shop"), &mut Vec::new())
        .await
        .expect_err("must fail");
    assert_eq!(
        err.to_string(),
        "job/migrate failed: Job has reached the specified backoff limit"
    );
    assert!(mock
        .requests()
        .iter()
        .any(|r| r.line() == format!("GET {JOBS}/migrate")));
}

#[tokio::test]
async fn a_completed_job_is_ready() {
    let mock = MockApi::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let cluster = connect(&mock, &dir).await;
    let with_job = Manifests {
        objects: vec![job("migrate")],
    };
    let mut events = Vec::new();
    apply(&cluster, &with_job, &quick("shop"), &mut events)
        .await
        .expect("job completes");
    assert_eq!(
        events.last(),
        Some(&Event::Ready {
            object: "job/migrate".to_string()
        })
    );
}

#[tokio::test]
async fn down_deletes_by_label_and_keeps_volumes_unless_asked() {
    let mock = MockApi::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    mock.seed(DEPLOYMENTS, labelled("web", "shop", "Deployment"));
    mock.seed(SERVICES, labelled("web", "shop", "Service"));
    mock.seed(CLAIMS, labelled("data", "shop", "PersistentVolumeClaim"));
    mock.seed(SERVICES, labelled("api", "other", "Service"));
    let cluster = connect(&mock, &dir).await;
    let mut options = DownOptions {
        project: "shop".to_string(),
        volumes: false,
    };
    let deleted = down(&cluster, &options, &mut Vec::new())
        .await
        .expect("down");
    assert_eq!(deleted, ["deployment/web", "service/web"]);
    assert_eq!(
        mock.names(SERVICES),
        ["api"],
        "another project's service stays"
    );
    assert_eq!(mock.names(CLAIMS), ["data"]);

    options.volumes = true;
    let deleted = down(&cluster, &options, &mut Vec::new())
        .await
        .expect("down --volumes");
    assert_eq!(deleted, ["persistentvolumeclaim/data"]);
    assert!(mock.names(CLAIMS).is_empty());
}

#[tokio::test]
async fn the_kubeconfig_current_context_is_used_without_context() {
    let mock = MockApi::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let options = ClusterOptions {
        kubeconfig: Some(mock.write_kubeconfig(dir.path())),
        context: None,
        namespace: Some("elsewhere".to_string()),
    };
    let cluster = Cluster::connect(&options).await.expect("config loads");
    assert_eq!(cluster.namespace(), "elsewhere", "--namespace wins");
    let options = ApplyOptions {
        prune: false,
        wait: false,
        ..quick("shop")
    };
    let err = apply(&cluster, &manifests(), &options, &mut Vec::new())
        .await
        .expect_err("current context points at a closed port");
    assert!(
        err.to_string()
            .starts_with("listing configmaps made by stack"),
        "{err}"
    );
    assert!(mock.requests().is_empty(), "nothing reached the mock");
}

#[tokio::test]
async fn apply_refuses_to_take_over_another_projects_object() {
    let mock = MockApi::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    mock.seed(SERVICES, labelled("web", "blog", "Service"));
    let cluster = connect(&mock, &dir).await;
    let err = apply(&cluster, &manifests(), &quick("shop"), &mut Vec::new())
        .await
        .expect_err("service/web is the blog's");
    assert_eq!(
        err.to_string(),
        "service/web in namespace demo belongs to stack project \"blog\"; \
         use another namespace (--namespace) or remove that project first"
    );
    assert!(
        mock.requests().iter().all(|r| r.method == "GET"),
        "nothing was changed"
    );
}

#[tokio::test]
async fn a_changed_job_is_reported_with_what_to_do() {
    let mock = MockApi::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let cluster = connect(&mock, &dir).await;
    let options = ApplyOptions {
        prune: false,
        wait: false,
        ..quick("shop")
    };
    let first = Manifests {
        objects: vec![job("migrate")],
    };
    apply(&cluster, &first, &options, &mut Vec::new())
        .await
        .expect("first apply");
    apply(&cluster, &first, &options, &mut Vec::new())
        .await
        .expect("the same job again is fine");
    let mut changed = job("migrate");
    if let Object::Job(job) = &mut changed {
        let spec = job.spec.as_mut().expect("spec");
        spec.template.metadata = Some(meta("migrate"));
    }
    let err = apply(
        &cluster,
        &Manifests {
            objects: vec![changed],
        },
        &options,
        &mut Vec::new(),
    )
    .await
    .expect_err("the template changed");
    let text = err.to_string();
    assert!(
        text.starts_with("job/migrate cannot change in place")
            && text.contains("kubectl delete job/migrate"),
        "{text}"
    );
}

#[tokio::test]
async fn prune_volumes_also_removes_unrendered_claims() {
    let mock = MockApi::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    mock.seed(CLAIMS, labelled("data", "shop", "PersistentVolumeClaim"));
    mock.seed(CLAIMS, labelled("logs", "other", "PersistentVolumeClaim"));
    let cluster = connect(&mock, &dir).await;
    let options = ApplyOptions {
        wait: false,
        prune_volumes: true,
        ..quick("shop")
    };
    let report = apply(&cluster, &manifests(), &options, &mut Vec::new())
        .await
        .expect("apply");
    assert_eq!(report.pruned, ["persistentvolumeclaim/data"]);
    assert_eq!(
        mock.names(CLAIMS),
        ["logs"],
        "another project's claim stays"
    );
}

//! Against a real cluster, only when `STACK_KUBE_E2E=1` and a kubeconfig is
//! present (`KUBECONFIG` or `~/.kube/config`): apply a small stack, wait for
//! it, apply again (idempotent), then `down` and check nothing is left.
#![cfg(feature = "kube")]

mod support;

use std::time::Duration;

use stack_kube::cluster::{apply, down, ApplyOptions, Cluster, ClusterOptions, DownOptions};
use stack_kube::{render, RenderOptions};
use support::fixtures;

fn kubeconfig_present() -> bool {
    std::env::var_os("KUBECONFIG").is_some()
        || std::env::var_os("HOME")
            .map(|home| std::path::Path::new(&home).join(".kube/config").exists())
            .unwrap_or(false)
}

#[tokio::test]
async fn apply_wait_and_down_on_a_real_cluster() {
    if std::env::var("STACK_KUBE_E2E").as_deref() != Ok("1") || !kubeconfig_present() {
        eprintln!(
            "skipped: set STACK_KUBE_E2E=1 and provide a kubeconfig to run against a cluster"
        );
        return;
    }
    let namespace =
        std::env::var("STACK_KUBE_E2E_NAMESPACE").unwrap_or_else(|_| "default".to_string());
    let cluster = Cluster::connect(&ClusterOptions {
        namespace: Some(namespace.clone()),
        ..ClusterOptions::default()
    })
    .await
    .expect("connect with the kubeconfig");
    let options = RenderOptions {
        namespace: Some(namespace),
        ..RenderOptions::default()
    };
    let rendered = render(&fixtures::load("e2e"), &options).expect("renders");
    let apply_options = ApplyOptions {
        timeout: Duration::from_secs(180),
        ..ApplyOptions::new(&rendered.project)
    };
    for round in 0..2 {
        let report = apply(
            &cluster,
            &rendered.manifests,
            &apply_options,
            &mut Vec::new(),
        )
        .await
        .unwrap_or_else(|err| panic!("apply round {round}: {err}"));
        assert!(
            report.pruned.is_empty(),
            "nothing to prune: {:?}",
            report.pruned
        );
    }
    let down_options = DownOptions {
        project: rendered.project.clone(),
        volumes: true,
    };
    let deleted = down(&cluster, &down_options, &mut Vec::new())
        .await
        .expect("down");
    assert_eq!(
        deleted.len(),
        rendered.manifests.objects.len(),
        "{deleted:?}"
    );
    // Objects may still be terminating; a second down must not fail on them.
    down(&cluster, &down_options, &mut Vec::new())
        .await
        .expect("second down");
}

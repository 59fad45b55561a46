//! `stack kube` as a user runs it: the built binary renders a fixture, and
//! applies it to (and takes it down from) the mock API server that the
//! stack-kube tests use, through a kubeconfig and `--context`.

#[path = "../../stack-kube/tests/support/mock_api.rs"]
#[allow(dead_code)]
mod mock_api;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::mpsc;

use mock_api::MockApi;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../stack-kube/tests/fixtures/{name}.yaml"))
}

fn stack(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stack"))
        .args(args)
        .output()
        .expect("run stack")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Starts the mock on its own thread (the test thread blocks on `stack`).
fn start_mock() -> MockApi {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            sender
                .send(MockApi::start().await)
                .expect("hand over the mock");
            std::future::pending::<()>().await;
        });
    });
    receiver.recv().expect("mock started")
}

#[test]
fn render_prints_manifests_and_warnings() {
    let file = fixture("shop");
    let out = stack(&["kube", "render", "-f", file.to_str().expect("utf-8 path")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifests = text(&out.stdout);
    assert_eq!(manifests.matches("\n---\n").count() + 1, 12, "{manifests}");
    assert!(manifests.contains("kind: Job\n"), "{manifests}");
    assert!(
        text(&out.stderr).contains("warning: services.web.depends_on:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn strict_render_fails_listing_the_keys() {
    let file = fixture("untranslatable");
    let out = stack(&[
        "kube",
        "render",
        "--strict",
        "-f",
        file.to_str().expect("utf-8 path"),
    ]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing half-printed");
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot be translated to Kubernetes (--strict)"),
        "{err}"
    );
    assert!(err.contains("services.app.container_name"), "{err}");
}

#[test]
fn apply_then_down_against_the_mock() {
    let mock = start_mock();
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = mock.write_kubeconfig(dir.path());
    let kubeconfig = kubeconfig.to_str().expect("utf-8 path");
    let file = fixture("e2e");
    let file = file.to_str().expect("utf-8 path");
    let out = stack(&[
        "kube",
        "apply",
        "-f",
        file,
        "--kubeconfig",
        kubeconfig,
        "--context",
        "mock",
        "--timeout",
        "30s",
    ]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("applying project stack-e2e to namespace demo"),
        "{err}"
    );
    assert!(err.contains("deployment/sleeper ready"), "{err}");
    assert!(err.contains("job/once ready"), "{err}");
    let patches: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(patches.len(), 4, "two Services, a Deployment and a Job");
    for patch in &patches {
        assert_eq!(
            patch.content_type.as_deref(),
            Some("application/apply-patch+yaml")
        );
        assert_eq!(
            patch.query.get("fieldManager").map(String::as_str),
            Some("stack")
        );
        assert_eq!(patch.query.get("force").map(String::as_str), Some("true"));
    }

    let out = stack(&[
        "-p",
        "stack-e2e",
        "kube",
        "down",
        "--kubeconfig",
        kubeconfig,
        "--context",
        "mock",
    ]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    for object in [
        "job/once",
        "deployment/sleeper",
        "service/once",
        "service/sleeper",
    ] {
        assert!(
            err.contains(&format!("{object} deleted")),
            "{object}: {err}"
        );
    }
    assert!(mock
        .names("/apis/apps/v1/namespaces/demo/deployments")
        .is_empty());
}

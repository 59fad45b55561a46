//! Golden manifests: each fixture stack file rendered, with its warnings,
//! compared with the reviewed snapshot under `tests/snapshots/`.

mod support;

use stack_kube::{render, BindMounts, RenderError, RenderOptions, ServiceType};
use support::fixtures;

fn golden(name: &str, options: &RenderOptions) -> String {
    let project = fixtures::load(name);
    let rendered = render(&project, options)
        .unwrap_or_else(|err| panic!("fixture {name} does not render: {err}"));
    let mut text = rendered
        .manifests
        .to_yaml_stream()
        .expect("manifests serialize");
    // Paths are absolute after loading; keep the snapshot machine-neutral.
    let fixtures_dir = fixtures::dir().display().to_string();
    text = text.replace(&fixtures_dir, "<fixtures>");
    text.push_str("# warnings:\n");
    for warning in &rendered.warnings {
        text.push_str(&format!("# {warning}\n"));
    }
    text
}

#[test]
fn shop() {
    insta::assert_snapshot!(golden("shop", &RenderOptions::default()));
}

#[test]
fn shop_waiting_for_dependencies_in_a_namespace() {
    let options = RenderOptions {
        wait_for_dependencies: true,
        namespace: Some("shop-prod".to_string()),
        service_type: ServiceType::LoadBalancer,
        ..RenderOptions::default()
    };
    insta::assert_snapshot!(golden("shop", &options));
}

#[test]
fn options() {
    insta::assert_snapshot!(golden("options", &RenderOptions::default()));
}

#[test]
fn untranslatable() {
    insta::assert_snapshot!(golden("untranslatable", &RenderOptions::default()));
}

#[test]
fn names() {
    insta::assert_snapshot!(golden("names", &RenderOptions::default()));
}

#[test]
fn binds_as_config_maps() {
    let options = RenderOptions {
        bind_mounts: BindMounts::ConfigMap,
        ..RenderOptions::default()
    };
    insta::assert_snapshot!(golden("binds", &options));
}

#[test]
fn binds_as_host_paths() {
    let options = RenderOptions {
        bind_mounts: BindMounts::HostPath,
        ..RenderOptions::default()
    };
    insta::assert_snapshot!(golden("binds", &options));
}

#[test]
fn bind_mounts_are_refused_by_default() {
    let err = render(&fixtures::load("binds"), &RenderOptions::default())
        .expect_err("bind mounts need a choice");
    let text = err.to_string();
    assert!(
        text.starts_with("services.site.volumes[0]: bind mount of"),
        "{text}"
    );
    assert!(text.contains("--bind-mounts"), "{text}");
}

#[test]
fn colliding_names_are_refused() {
    let err = render(&fixtures::load("collision"), &RenderOptions::default())
        .expect_err("two services share a Kubernetes name");
    assert_eq!(
        err.to_string(),
        "service \"web.api\" and service \"web_api\" both become the Kubernetes name \"web-api\"; rename one of them"
    );
}

#[test]
fn strict_turns_every_warning_into_an_error() {
    let project = fixtures::load("untranslatable");
    let lenient = render(&project, &RenderOptions::default()).expect("renders with warnings");
    let strict = RenderOptions {
        strict: true,
        ..RenderOptions::default()
    };
    match render(&project, &strict) {
        Err(RenderError::Strict(warnings)) => assert_eq!(warnings, lenient.warnings),
        other => panic!("expected a strict error, got {other:?}"),
    }
}

#[test]
fn untranslatable_keys_are_all_reported() {
    let rendered =
        render(&fixtures::load("untranslatable"), &RenderOptions::default()).expect("renders");
    let paths: Vec<&str> = rendered.warnings.iter().map(|w| w.path.as_str()).collect();
    for expected in [
        "networks.back",
        "services.app.container_name",
        "services.hostnet.network_mode",
        "services.app.pid",
        "services.app.ulimits",
        "services.app.sysctls",
        "services.app.devices",
        "services.app.logging",
        "services.app.stop_signal",
        "services.app.user",
        "services.app.security_opt",
        "services.app.pull_policy",
        "services.app.deploy.placement",
        "services.app.deploy.resources.limits.pids",
        "services.app.networks.back",
        "services.app.depends_on",
        "services.helper.build",
        "services.helper.entrypoint",
        "services.helper.healthcheck.start_interval",
    ] {
        assert!(
            paths.contains(&expected),
            "no warning for {expected}: {paths:#?}"
        );
    }
}

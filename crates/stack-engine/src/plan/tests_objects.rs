//! Planner rules about images, networks, volumes, and state read from the
//! store.

use serde_json::json;

use super::*;

#[test]
fn changed_network_recreates_it_and_its_containers_only() {
    let mut before = web_redis();
    before.networks.insert(
        "back".into(),
        DesiredNetwork {
            name: "demo_back".into(),
            external: false,
            config: ConfigFields::flatten(&json!({"driver": "bridge"}), &[]),
        },
    );
    before.services.get_mut("redis").expect("redis").networks = vec!["back".into()];
    let mut after = before.clone();
    after.networks.get_mut("back").expect("back").config =
        ConfigFields::flatten(&json!({"driver": "bridge", "internal": true}), &[]);
    let plan = plan(&after, &applied(&before), &PlanOptions::default()).expect("plan");
    assert_eq!(
        lines_in_wave(&plan),
        vec![
            (0, "remove redis-1: network back recreated".to_string()),
            (1, "recreate network demo_back: internal added".to_string()),
            (2, "recreate redis-1: network back recreated".to_string()),
        ]
    );
    match &plan.actions[2].kind {
        ActionKind::RecreateContainer { old_id, .. } => assert_eq!(old_id, &None),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn pull_policies() {
    let p = web_redis();
    let seen = applied(&p);
    let always = PlanOptions {
        pull: Some(PullPolicy::Always),
        ..Default::default()
    };
    assert_eq!(
        lines(&plan(&p, &seen, &always).expect("plan")),
        vec![
            "pull image redis:1: pull policy always",
            "pull image web:1: pull policy always"
        ]
    );
    let mut missing = seen.clone();
    missing.local_images.remove("web:1");
    let never = PlanOptions {
        pull: Some(PullPolicy::Never),
        ..Default::default()
    };
    let err = plan(&p, &missing, &never).expect_err("missing image");
    assert_eq!(
        err,
        PlanError::ImageMissing {
            service: "web".into(),
            image: "web:1".into()
        }
    );
    // One pull per reference even if several services use it.
    let mut shared = web_redis();
    shared.services.get_mut("web").expect("web").image = "redis:1".into();
    let plan3 = plan(
        &shared,
        &ObservedProject::default(),
        &PlanOptions::default(),
    )
    .expect("plan");
    let pulls = plan3
        .actions
        .iter()
        .filter(|a| matches!(a.kind, ActionKind::PullImage { .. }))
        .count();
    assert_eq!(pulls, 1);
}

#[test]
fn a_built_service_is_built_when_missing_or_asked_and_never_pulled() {
    let mut p = web_redis();
    p.services.get_mut("web").expect("web").build = true;
    let mut seen = applied(&p);
    seen.local_images.remove("web:1");
    let opts = |pull, build| PlanOptions {
        pull,
        build,
        ..Default::default()
    };
    fn pulls_and_builds(
        p: &DesiredProject,
        o: &PlanOptions,
        seen: &ObservedProject,
    ) -> Vec<String> {
        lines(&plan(p, seen, o).expect("plan"))
            .into_iter()
            .filter(|l| l.starts_with("pull") || l.starts_with("build"))
            .collect()
    }
    assert_eq!(
        pulls_and_builds(&p, &opts(None, None), &seen),
        ["build image web:1: not present locally"]
    );
    // `--pull always` pulls the others but never a built image.
    assert_eq!(
        pulls_and_builds(&p, &opts(Some(PullPolicy::Always), None), &seen),
        [
            "build image web:1: not present locally",
            "pull image redis:1: pull policy always"
        ]
    );
    let err = plan(&p, &seen, &opts(None, Some(false))).expect_err("--no-build");
    assert!(matches!(err, PlanError::ImageMissing { .. }), "{err:?}");
    let present = applied(&p);
    assert!(pulls_and_builds(&p, &opts(None, None), &present).is_empty());
    assert_eq!(
        pulls_and_builds(&p, &opts(None, Some(true)), &present),
        ["build image web:1: build asked for"]
    );
    p.services.get_mut("web").expect("web").pull_policy = PullPolicy::Build;
    assert_eq!(
        pulls_and_builds(&p, &opts(None, None), &present),
        ["build image web:1: build asked for"]
    );
    assert!(pulls_and_builds(&p, &opts(None, Some(false)), &present).is_empty());
}

#[test]
fn volumes_are_created_and_never_silently_recreated() {
    let mut p = project(vec![service("db", json!({}))]);
    p.services.get_mut("db").expect("db").volumes = vec!["data".into()];
    p.volumes.insert(
        "data".into(),
        DesiredVolume {
            name: "demo_data".into(),
            external: false,
            config: ConfigFields::flatten(&json!({"driver": "local"}), &[]),
        },
    );
    let mut seen = applied(&p);
    seen.volumes.clear();
    assert_eq!(
        lines(&plan(&p, &seen, &PlanOptions::default()).expect("plan")),
        vec!["create volume demo_data"]
    );
    let mut changed = p.clone();
    changed.volumes.get_mut("data").expect("data").config = ConfigFields::flatten(
        &json!({"driver": "local", "driver_opts": {"o": "bind"}}),
        &[],
    );
    let plan2 = plan(&changed, &applied(&p), &PlanOptions::default()).expect("plan");
    assert!(plan2.is_empty());
    assert!(
        plan2.warnings[0].contains("demo_data"),
        "{:?}",
        plan2.warnings
    );
}

#[test]
fn undeclared_network_is_an_error_and_external_is_never_created() {
    let mut p = project(vec![service("app", json!({}))]);
    p.services.get_mut("app").expect("app").networks = vec!["missing".into()];
    assert_eq!(
        plan(&p, &ObservedProject::default(), &PlanOptions::default()),
        Err(PlanError::UnknownNetwork {
            service: "app".into(),
            network: "missing".into()
        })
    );
    let mut q = project(vec![service("app", json!({}))]);
    q.networks.get_mut("default").expect("default").external = true;
    let plan = plan(&q, &ObservedProject::default(), &PlanOptions::default()).expect("plan");
    assert!(!plan
        .actions
        .iter()
        .any(|a| matches!(a.kind, ActionKind::CreateNetwork { .. })));
}

#[test]
fn observed_state_read_from_the_store_plans_like_the_fixture() {
    use crate::store::{ContainerRecord, ImageRefRecord, NetworkRecord, ProjectRecord, Store};
    let p = web_redis();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    store
        .write(|w| {
            w.upsert_project(&ProjectRecord {
                name: "demo".into(),
                working_dir: None,
                config_files: vec![],
                created_at_ms: 0,
                updated_at_ms: 0,
            })?;
            let net = &p.networks["default"];
            w.insert_network(&NetworkRecord {
                name: net.name.clone(),
                project: Some("demo".into()),
                key: "default".into(),
                driver: "bridge".into(),
                config_hash: net.config.hash(),
                config_fields: net.config.as_map().clone(),
                subnet: None,
                gateway: None,
                bridge: None,
                external: false,
                created_at_ms: 0,
            })?;
            for s in p.services.values() {
                w.set_image_ref(&ImageRefRecord {
                    reference: s.image.clone(),
                    digest: format!("sha256:{}", s.name),
                    updated_at_ms: 0,
                })?;
                // web is stored with DEBUG=1, so the file's DEBUG=0 changes it.
                let config = if s.name == "web" {
                    ConfigFields::flatten(
                        &json!({"image": "web:1", "environment": {"DEBUG": "1"}}),
                        SERVICE_PATHS_NOT_HASHED,
                    )
                } else {
                    s.config.clone()
                };
                w.insert_container(&ContainerRecord {
                    id: format!("id-{}", s.name),
                    project: "demo".into(),
                    service: s.name.clone(),
                    replica: 1,
                    name: format!("demo-{}-1", s.name),
                    oneoff: false,
                    config_hash: config.hash(),
                    config_fields: config.into_map(),
                    image_ref: s.image.clone(),
                    image_digest: Some(format!("sha256:{}", s.name)),
                    state: Status::Running,
                    health: None,
                    pid: Some(1),
                    exit_code: None,
                    restart_count: 0,
                    manual_stop: false,
                    created_at_ms: 0,
                    started_at_ms: Some(0),
                    finished_at_ms: None,
                    depends_on: vec![],
                })?;
            }
            Ok(())
        })
        .expect("seed store");
    let images: Vec<&str> = p.services.values().map(|s| s.image.as_str()).collect();
    let seen = store
        .read(|r| observe_from_store(r, "demo", images.iter().copied()))
        .expect("observe");
    assert_eq!(seen.local_images.len(), 2);
    let plan = plan(&p, &seen, &PlanOptions::default()).expect("plan");
    assert_eq!(
        lines(&plan),
        vec!["recreate web-1: environment.DEBUG changed"]
    );
}

#[test]
fn a_network_used_by_services_outside_this_up_is_not_recreated() {
    let before = web_redis();
    let mut after = before.clone();
    after.networks.get_mut("default").expect("default").config =
        ConfigFields::flatten(&json!({"driver": "bridge", "internal": true}), &[]);
    let only_web = PlanOptions {
        services: vec!["web".into()],
        no_deps: true,
        ..Default::default()
    };
    let plan = plan(&after, &applied(&before), &only_web).expect("plan");
    assert!(plan.is_empty(), "{:?}", lines(&plan));
    assert!(
        plan.warnings[0].contains("demo_default") && plan.warnings[0].contains("redis"),
        "{:?}",
        plan.warnings
    );
    let all = plan_all(&after, &applied(&before));
    assert!(lines(&all).contains(&"recreate network demo_default: internal added".to_string()));
}

fn plan_all(p: &DesiredProject, o: &ObservedProject) -> Plan {
    plan(p, o, &PlanOptions::default()).expect("plan")
}

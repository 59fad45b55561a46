//! Planner rules, one test per rule, on small hand-made projects.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::supervise::Condition;
use stack_runtime::state::Status;

fn service(name: &str, env: serde_json::Value) -> DesiredService {
    DesiredService {
        name: name.into(),
        image: format!("{name}:1"),
        replicas: 1,
        container_name: None,
        config: ConfigFields::flatten(
            &json!({"image": format!("{name}:1"), "environment": env}),
            SERVICE_PATHS_NOT_HASHED,
        ),
        depends_on: vec![],
        networks: vec!["default".into()],
        volumes: vec![],
        shares_with: vec![],
        pull_policy: PullPolicy::Missing,
        build: false,
    }
}

fn depends(on: &str, condition: Condition) -> DesiredDependency {
    DesiredDependency {
        service: on.into(),
        condition,
        required: true,
        restart: false,
    }
}

fn project(services: Vec<DesiredService>) -> DesiredProject {
    let mut p = DesiredProject {
        name: "demo".into(),
        ..Default::default()
    };
    p.networks.insert(
        "default".into(),
        DesiredNetwork {
            name: "demo_default".into(),
            external: false,
            config: ConfigFields::flatten(&json!({"driver": "bridge"}), &[]),
        },
    );
    for s in services {
        p.services.insert(s.name.clone(), s);
    }
    p
}

/// What the store would hold after `project` was applied as planned.
fn applied(p: &DesiredProject) -> ObservedProject {
    let mut o = ObservedProject::default();
    for net in p.networks.values() {
        o.networks.insert(
            net.name.clone(),
            ObservedObject {
                external: false,
                config_hash: net.config.hash(),
                config: net.config.clone(),
            },
        );
    }
    for v in p.volumes.values() {
        o.volumes.insert(
            v.name.clone(),
            ObservedObject {
                external: false,
                config_hash: v.config.hash(),
                config: v.config.clone(),
            },
        );
    }
    for s in p.services.values() {
        o.local_images
            .insert(s.image.clone(), format!("sha256:{}", s.name));
        for replica in 1..=s.replicas {
            o.containers.push(ObservedContainer {
                id: format!("id-{}-{replica}", s.name),
                name: format!("demo-{}-{replica}", s.name),
                service: s.name.clone(),
                replica,
                oneoff: false,
                config_hash: s.config.hash(),
                config: s.config.clone(),
                image_digest: Some(format!("sha256:{}", s.name)),
                state: Status::Running,
                depends_on: vec![],
            });
        }
    }
    o
}

fn lines(plan: &Plan) -> Vec<String> {
    plan.actions.iter().map(|a| a.to_string()).collect()
}

fn lines_in_wave(plan: &Plan) -> Vec<(usize, String)> {
    plan.actions
        .iter()
        .map(|a| (a.wave, a.to_string()))
        .collect()
}

fn web_redis() -> DesiredProject {
    let mut web = service("web", json!({"DEBUG": "0"}));
    web.depends_on = vec![depends("redis", Condition::Healthy)];
    project(vec![web, service("redis", json!({}))])
}

#[test]
fn first_up_pulls_creates_network_then_starts_in_dependency_waves() {
    let p = web_redis();
    let plan = plan(&p, &ObservedProject::default(), &PlanOptions::default()).expect("plan");
    assert_eq!(
        lines_in_wave(&plan),
        vec![
            (0, "pull image redis:1: not present locally".to_string()),
            (0, "pull image web:1: not present locally".to_string()),
            (1, "create network demo_default".to_string()),
            (2, "create redis-1".to_string()),
            (3, "create web-1".to_string()),
        ]
    );
    match &plan.actions[4].kind {
        ActionKind::CreateContainer { name, .. } => assert_eq!(name, "demo-web-1"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn nothing_changed_means_an_empty_plan() {
    let p = web_redis();
    let plan = plan(&p, &applied(&p), &PlanOptions::default()).expect("plan");
    assert!(plan.is_empty(), "{:?}", lines(&plan));
    assert_eq!(plan.unchanged, vec!["redis-1", "web-1"]);
}

#[test]
fn changed_environment_recreates_only_that_service_and_names_the_field() {
    let before = web_redis();
    let mut after = before.clone();
    let web = after.services.get_mut("web").expect("web");
    web.config = ConfigFields::flatten(
        &json!({"image": "web:1", "environment": {"DEBUG": "1"}}),
        SERVICE_PATHS_NOT_HASHED,
    );
    let plan = plan(&after, &applied(&before), &PlanOptions::default()).expect("plan");
    assert_eq!(
        lines(&plan),
        vec!["recreate web-1: environment.DEBUG changed"]
    );
    assert_eq!(plan.unchanged, vec!["redis-1"]);
    match &plan.actions[0].kind {
        ActionKind::RecreateContainer { old_id, .. } => {
            assert_eq!(old_id.as_deref(), Some("id-web-1"))
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn many_changed_fields_are_summarized() {
    let before = project(vec![service(
        "app",
        json!({"A": "1", "B": "1", "C": "1", "D": "1"}),
    )]);
    let after = project(vec![service(
        "app",
        json!({"A": "2", "B": "2", "C": "2", "E": "1"}),
    )]);
    let plan = plan(&after, &applied(&before), &PlanOptions::default()).expect("plan");
    assert_eq!(
        lines(&plan),
        vec!["recreate app-1: environment.A changed, environment.B changed, environment.C changed and 2 more"]
    );
}

#[test]
fn unknown_old_fields_still_recreate_on_a_changed_hash() {
    let p = project(vec![service("app", json!({"A": "1"}))]);
    let mut seen = applied(&p);
    seen.containers[0].config = ConfigFields::default();
    seen.containers[0].config_hash = "sha256:old".into();
    let plan = plan(&p, &seen, &PlanOptions::default()).expect("plan");
    assert_eq!(lines(&plan), vec!["recreate app-1: configuration changed"]);
}

#[test]
fn new_image_digest_recreates() {
    let p = project(vec![service("app", json!({}))]);
    let mut seen = applied(&p);
    seen.local_images
        .insert("app:1".into(), "sha256:ffffffffffffffffffff".into());
    let plan = plan(&p, &seen, &PlanOptions::default()).expect("plan");
    assert_eq!(
        lines(&plan),
        vec!["recreate app-1: image changed (sha256:app -> sha256:ffffffffffff)"]
    );
}

#[test]
fn depends_on_scale_and_pull_policy_changes_never_recreate() {
    let before = web_redis();
    let mut after = before.clone();
    let web = after.services.get_mut("web").expect("web");
    web.depends_on = vec![];
    web.pull_policy = PullPolicy::Never;
    web.config = ConfigFields::flatten(
        &json!({"image": "web:1", "environment": {"DEBUG": "0"}, "depends_on": {"x": {}}, "scale": 1, "pull_policy": "never"}),
        SERVICE_PATHS_NOT_HASHED,
    );
    let plan = plan(&after, &applied(&before), &PlanOptions::default()).expect("plan");
    assert!(plan.is_empty(), "{:?}", lines(&plan));
}

#[test]
fn stopped_unchanged_container_is_started_not_recreated() {
    let p = web_redis();
    let mut seen = applied(&p);
    seen.containers[0].state = Status::Exited;
    let plan = plan(&p, &seen, &PlanOptions::default()).expect("plan");
    assert_eq!(lines(&plan), vec!["start redis-1: stopped"]);
}

#[test]
fn force_recreate_recreates_all_and_no_recreate_none() {
    let before = web_redis();
    let mut after = before.clone();
    after.services.get_mut("web").expect("web").config = ConfigFields::default();
    let forced = PlanOptions {
        force_recreate: true,
        ..Default::default()
    };
    let plan1 = plan(&before, &applied(&before), &forced).expect("plan");
    assert_eq!(
        lines_in_wave(&plan1),
        vec![
            (0, "recreate redis-1: --force-recreate".to_string()),
            (1, "recreate web-1: --force-recreate".to_string())
        ]
    );
    let never = PlanOptions {
        no_recreate: true,
        ..Default::default()
    };
    let plan2 = plan(&after, &applied(&before), &never).expect("plan");
    assert!(plan2.is_empty(), "{:?}", lines(&plan2));
    let both = PlanOptions {
        force_recreate: true,
        no_recreate: true,
        ..Default::default()
    };
    assert!(matches!(
        plan(&before, &applied(&before), &both),
        Err(PlanError::ConflictingOptions(_))
    ));
}

#[test]
fn orphans_are_reported_and_removed_only_when_asked() {
    let p = web_redis();
    let mut seen = applied(&p);
    seen.containers.push(ObservedContainer {
        id: "id-old-1".into(),
        name: "demo-old-1".into(),
        service: "old".into(),
        replica: 1,
        oneoff: false,
        config_hash: "x".into(),
        config: ConfigFields::default(),
        image_digest: None,
        state: Status::Running,
        depends_on: vec![],
    });
    let kept = plan(&p, &seen, &PlanOptions::default()).expect("plan");
    assert!(kept.is_empty());
    assert_eq!(kept.warnings.len(), 1);
    assert!(
        kept.warnings[0].contains("demo-old-1") && kept.warnings[0].contains("--remove-orphans")
    );

    let opts = PlanOptions {
        remove_orphans: true,
        ..Default::default()
    };
    let removed = plan(&p, &seen, &opts).expect("plan");
    assert_eq!(
        lines(&removed),
        vec!["remove old-1: orphan (service no longer in the stack file)"]
    );
    assert!(removed.warnings.is_empty());
}

#[test]
fn scale_up_and_down_keep_stable_replica_numbers() {
    let mut p = project(vec![service("worker", json!({}))]);
    p.services.get_mut("worker").expect("worker").replicas = 4;
    let mut seen = applied(&p);
    // Replica 2 is gone (removed by hand): scaling to 4 refills 2.
    seen.containers.retain(|c| c.replica != 2);
    let up = plan(&p, &seen, &PlanOptions::default()).expect("plan");
    assert_eq!(lines(&up), vec!["create worker-2"]);
    assert_eq!(up.unchanged, vec!["worker-1", "worker-3", "worker-4"]);

    let opts = PlanOptions {
        scale: BTreeMap::from([("worker".to_string(), 2)]),
        ..Default::default()
    };
    let down = plan(&p, &applied(&p), &opts).expect("plan");
    assert_eq!(
        lines(&down),
        vec![
            "remove worker-3: scaled down",
            "remove worker-4: scaled down"
        ]
    );
    assert_eq!(down.unchanged, vec!["worker-1", "worker-2"]);
}

#[test]
fn container_name_forbids_scaling() {
    let mut p = project(vec![service("db", json!({}))]);
    let db = p.services.get_mut("db").expect("db");
    db.container_name = Some("primary-db".into());
    let first = plan(&p, &ObservedProject::default(), &PlanOptions::default()).expect("plan");
    assert!(first.actions.iter().any(|a| matches!(
        &a.kind,
        ActionKind::CreateContainer { name, .. } if name == "primary-db"
    )));
    p.services.get_mut("db").expect("db").replicas = 2;
    let err = plan(&p, &ObservedProject::default(), &PlanOptions::default()).expect_err("error");
    assert!(err.to_string().contains("container_name"), "{err}");
}

#[test]
fn sharing_a_recreated_service_namespace_recreates_the_sharer() {
    let mut sidecar = service("sidecar", json!({}));
    sidecar.networks = vec![];
    sidecar.shares_with = vec!["app".into()];
    let before = project(vec![service("app", json!({"V": "1"})), sidecar]);
    let mut after = before.clone();
    after.services.get_mut("app").expect("app").config = ConfigFields::flatten(
        &json!({"image": "app:1", "environment": {"V": "2"}}),
        SERVICE_PATHS_NOT_HASHED,
    );
    let plan = plan(&after, &applied(&before), &PlanOptions::default()).expect("plan");
    assert_eq!(
        lines_in_wave(&plan),
        vec![
            (0, "recreate app-1: environment.V changed".to_string()),
            (
                1,
                "recreate sidecar-1: app recreated (shares its namespace)".to_string()
            ),
        ]
    );
}

#[test]
fn depends_on_restart_restarts_a_dependent_without_recreating_it() {
    let mut before = web_redis();
    before.services.get_mut("web").expect("web").depends_on[0].restart = true;
    let mut after = before.clone();
    after.services.get_mut("redis").expect("redis").config = ConfigFields::flatten(
        &json!({"image": "redis:1", "command": ["redis-server"]}),
        SERVICE_PATHS_NOT_HASHED,
    );
    let plan = plan(&after, &applied(&before), &PlanOptions::default()).expect("plan");
    assert_eq!(
        lines(&plan),
        vec![
            "recreate redis-1: command added".to_string(),
            "restart web-1: redis replaced (depends_on restart)".to_string(),
        ]
    );
}

#[test]
fn dependents_are_not_recreated_in_cascade() {
    let before = web_redis();
    let mut after = before.clone();
    after.services.get_mut("redis").expect("redis").config =
        ConfigFields::flatten(&json!({"image": "redis:2"}), SERVICE_PATHS_NOT_HASHED);
    let plan = plan(&after, &applied(&before), &PlanOptions::default()).expect("plan");
    assert_eq!(lines(&plan), vec!["recreate redis-1: image changed"]);
}

#[test]
fn named_services_bring_their_dependencies_unless_no_deps() {
    let mut db = service("db", json!({}));
    db.networks = vec![];
    let mut api = service("api", json!({}));
    api.depends_on = vec![depends("db", Condition::Started)];
    let mut front = service("front", json!({}));
    front.depends_on = vec![depends("api", Condition::Started)];
    let p = project(vec![db, api, front, service("other", json!({}))]);
    let mut seen = applied(&p);
    seen.containers.clear();
    let with_deps = PlanOptions {
        services: vec!["api".into()],
        ..Default::default()
    };
    let plan1 = plan(&p, &seen, &with_deps).expect("plan");
    assert_eq!(lines(&plan1), vec!["create db-1", "create api-1"]);
    let no_deps = PlanOptions {
        no_deps: true,
        ..with_deps
    };
    let plan2 = plan(&p, &seen, &no_deps).expect("plan");
    assert_eq!(lines(&plan2), vec!["create api-1"]);
    let unknown = PlanOptions {
        services: vec!["nope".into()],
        ..Default::default()
    };
    assert_eq!(
        plan(&p, &seen, &unknown),
        Err(PlanError::UnknownService("nope".into()))
    );
}

#[test]
fn independent_services_share_a_wave() {
    let mut a = service("a", json!({}));
    a.depends_on = vec![depends("base", Condition::Started)];
    let mut b = service("b", json!({}));
    b.depends_on = vec![depends("base", Condition::Started)];
    let mut top = service("top", json!({}));
    top.depends_on = vec![
        depends("a", Condition::Started),
        depends("base", Condition::Started),
    ];
    let p = project(vec![a, b, top, service("base", json!({}))]);
    let mut seen = applied(&p);
    seen.containers.clear();
    let plan = plan(&p, &seen, &PlanOptions::default()).expect("plan");
    let waves: Vec<Vec<String>> = plan
        .waves()
        .iter()
        .map(|w| w.iter().map(|a| a.object()).collect())
        .collect();
    assert_eq!(
        waves,
        vec![vec!["base-1"], vec!["a-1", "b-1"], vec!["top-1"]]
    );
}

#[test]
fn cycles_are_refused_naming_the_services() {
    let mut a = service("a", json!({}));
    a.depends_on = vec![depends("b", Condition::Started)];
    let mut b = service("b", json!({}));
    b.depends_on = vec![depends("a", Condition::Started)];
    let p = project(vec![a, b, service("c", json!({}))]);
    assert_eq!(
        plan(&p, &ObservedProject::default(), &PlanOptions::default()),
        Err(PlanError::Cycle(vec!["a".into(), "b".into()]))
    );
}

#[test]
fn dry_run_text() {
    let before = web_redis();
    let mut after = before.clone();
    after.services.get_mut("web").expect("web").config = ConfigFields::flatten(
        &json!({"image": "web:1", "environment": {"DEBUG": "1"}}),
        SERVICE_PATHS_NOT_HASHED,
    );
    let mut seen = applied(&before);
    seen.containers[0].state = Status::Exited;
    let text = plan(&after, &seen, &PlanOptions::default())
        .expect("plan")
        .render_text();
    assert_eq!(
        text,
        "project demo: 2 actions, 0 up to date\n\
         wave 1:\n  start redis-1: stopped\n\
         wave 2:\n  recreate web-1: environment.DEBUG changed\n"
    );
}

#[path = "tests_objects.rs"]
mod objects;

#[path = "tests_converge.rs"]
mod converge;

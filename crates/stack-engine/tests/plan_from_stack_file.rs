//! From a real stack file through the loader, the store and the planner:
//! the first `up` creates everything in dependency waves; after changing one
//! variable only the service that uses it is recreated, with the field named.

use std::collections::BTreeMap;
use std::path::Path;

use stack_engine::plan::{
    desired_from_spec, observe_from_store, plan, ActionKind, DesiredProject, Plan, PlanOptions,
};
use stack_engine::store::{ContainerRecord, ImageRefRecord, NetworkRecord, ProjectRecord, Store};
use stack_runtime::state::Status;
use stack_spec::LoadOptions;

const STACK_FILE: &str = r#"
name: visits
services:
  web:
    image: busybox:latest
    command: ["httpd", "-f", "-p", "8080"]
    environment:
      DEBUG: ${DEBUG}
    ports: ["8080:8080"]
    depends_on:
      redis:
        condition: service_healthy
  redis:
    image: redis:7
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 1s
  migrate:
    image: busybox:latest
    command: ["true"]
    depends_on:
      redis:
        condition: service_started
"#;

fn load(dir: &Path, debug: &str) -> DesiredProject {
    let file = dir.join("compose.yaml");
    std::fs::write(&file, STACK_FILE).expect("write stack file");
    let opts = LoadOptions {
        files: vec![file],
        working_dir: dir.to_path_buf(),
        environment: BTreeMap::from([("DEBUG".to_string(), debug.to_string())]),
        ..LoadOptions::default()
    };
    let project = stack_spec::load(&opts).expect("stack file loads");
    desired_from_spec(&project).expect("desired project")
}

/// Records in the store what applying `plan` would have made.
fn record_applied(store: &Store, desired: &DesiredProject, plan: &Plan) {
    store
        .write(|w| {
            w.upsert_project(&ProjectRecord {
                name: desired.name.clone(),
                working_dir: None,
                config_files: vec![],
                created_at_ms: 0,
                updated_at_ms: 0,
            })?;
            for action in &plan.actions {
                match &action.kind {
                    ActionKind::PullImage { reference } => w.set_image_ref(&ImageRefRecord {
                        reference: reference.clone(),
                        digest: format!("sha256:{reference}"),
                        updated_at_ms: 0,
                    })?,
                    ActionKind::CreateNetwork { key, name } => {
                        let net = &desired.networks[key];
                        w.insert_network(&NetworkRecord {
                            name: name.clone(),
                            project: Some(desired.name.clone()),
                            key: key.clone(),
                            driver: "bridge".into(),
                            config_hash: net.config.hash(),
                            config_fields: net.config.as_map().clone(),
                            subnet: None,
                            gateway: None,
                            bridge: None,
                            external: false,
                            created_at_ms: 0,
                        })?
                    }
                    ActionKind::CreateContainer {
                        service,
                        replica,
                        name,
                    } => {
                        let s = &desired.services[service];
                        w.insert_container(&ContainerRecord {
                            id: format!("id-{name}"),
                            project: desired.name.clone(),
                            service: service.clone(),
                            replica: *replica,
                            name: name.clone(),
                            oneoff: false,
                            config_hash: s.config.hash(),
                            config_fields: s.config.as_map().clone(),
                            image_ref: s.image.clone(),
                            image_digest: Some(format!("sha256:{}", s.image)),
                            state: Status::Running,
                            health: None,
                            pid: None,
                            exit_code: None,
                            restart_count: 0,
                            manual_stop: false,
                            created_at_ms: 0,
                            started_at_ms: Some(0),
                            finished_at_ms: None,
                            depends_on: s.depends_on.iter().map(|d| d.service.clone()).collect(),
                        })?
                    }
                    other => panic!("a first up only creates, got {other:?}"),
                }
            }
            Ok(())
        })
        .expect("record applied plan");
}

fn plan_against_store(store: &Store, desired: &DesiredProject) -> Plan {
    let images: Vec<&str> = desired
        .services
        .values()
        .map(|s| s.image.as_str())
        .collect();
    let observed = store
        .read(|r| observe_from_store(r, &desired.name, images.iter().copied()))
        .expect("observe");
    plan(desired, &observed, &PlanOptions::default()).expect("plan")
}

#[test]
fn first_up_then_a_changed_variable_recreates_only_its_service() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("state")).expect("store");

    let desired = load(dir.path(), "0");
    let first = plan_against_store(&store, &desired);
    assert_eq!(
        first.render_text(),
        "project visits: 6 actions, 0 up to date\n\
         wave 1:\n  pull image busybox:latest: not present locally\n  pull image redis:7: not present locally\n\
         wave 2:\n  create network visits_default\n\
         wave 3:\n  create redis-1\n\
         wave 4:\n  create migrate-1\n  create web-1\n"
    );
    record_applied(&store, &desired, &first);

    let again = plan_against_store(&store, &desired);
    assert!(again.is_empty(), "{}", again.render_text());
    assert_eq!(again.unchanged, vec!["redis-1", "migrate-1", "web-1"]);

    let changed = load(dir.path(), "1");
    let second = plan_against_store(&store, &changed);
    assert_eq!(
        second.render_text(),
        "project visits: 1 action, 2 up to date\n\
         wave 1:\n  recreate web-1: environment.DEBUG changed\n\
         up to date: redis-1, migrate-1\n"
    );
}

#[test]
fn supervision_settings_come_from_the_stack_file() {
    use stack_engine::supervise::{self, HealthTest, RestartPolicy};
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("compose.yaml");
    std::fs::write(
        &file,
        r#"
services:
  redis:
    image: redis:7
    restart: on-failure:3
    x-stack-restart-on-unhealthy: true
    healthcheck:
      test: redis-cli ping
      interval: 2s
      retries: 5
      start_period: 10s
      start_interval: 250ms
  plain:
    image: busybox
"#,
    )
    .expect("write");
    let project = stack_spec::load(&LoadOptions {
        files: vec![file],
        working_dir: dir.path().to_path_buf(),
        ..LoadOptions::default()
    })
    .expect("loads");
    let redis = &project.services["redis"];
    assert_eq!(
        supervise::restart_policy(redis),
        RestartPolicy::OnFailure {
            max_retries: Some(3)
        }
    );
    assert!(supervise::restart_on_unhealthy(redis));
    let check = supervise::healthcheck(redis, None)
        .expect("valid")
        .expect("has a check");
    assert_eq!(check.test, HealthTest::CmdShell("redis-cli ping".into()));
    assert_eq!(check.interval, std::time::Duration::from_secs(2));
    assert_eq!(check.retries, 5);
    assert_eq!(check.start_period, std::time::Duration::from_secs(10));
    assert_eq!(check.start_interval, std::time::Duration::from_millis(250));

    let plain = &project.services["plain"];
    assert_eq!(supervise::restart_policy(plain), RestartPolicy::No);
    assert!(!supervise::restart_on_unhealthy(plain));
    assert_eq!(supervise::healthcheck(plain, None).expect("valid"), None);
}

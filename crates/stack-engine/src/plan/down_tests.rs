use super::*;
use crate::plan::{ConfigFields, ObservedObject};
use stack_runtime::state::Status;

fn container(service: &str, replica: u32, depends_on: &[&str]) -> ObservedContainer {
    ObservedContainer {
        id: format!("id-{service}-{replica}"),
        name: format!("demo-{service}-{replica}"),
        service: service.into(),
        replica,
        oneoff: false,
        config_hash: "h".into(),
        config: ConfigFields::default(),
        image_digest: None,
        state: Status::Running,
        depends_on: depends_on.iter().map(|s| s.to_string()).collect(),
    }
}

fn object(external: bool) -> ObservedObject {
    ObservedObject {
        external,
        config_hash: "h".into(),
        config: ConfigFields::default(),
    }
}

fn observed() -> ObservedProject {
    let mut o = ObservedProject {
        containers: vec![
            container("web", 1, &["api"]),
            container("web", 2, &["api"]),
            container("api", 1, &["db", "cache"]),
            container("db", 1, &[]),
            container("cache", 1, &[]),
            container("worker", 1, &["db"]),
        ],
        ..Default::default()
    };
    o.networks.insert("demo_default".into(), object(false));
    o.networks.insert("shared".into(), object(true));
    o.volumes.insert("demo_data".into(), object(false));
    o.volumes.insert("outside".into(), object(true));
    o
}

fn waves(plan: &Plan) -> Vec<Vec<String>> {
    plan.waves()
        .iter()
        .map(|w| w.iter().map(|a| a.to_string()).collect())
        .collect()
}

#[test]
fn down_without_a_file_stops_dependents_first_then_removes_networks() {
    let plan = plan_down("demo", &observed(), &DownOptions::default());
    assert_eq!(
        waves(&plan),
        vec![
            vec!["remove web-1", "remove web-2", "remove worker-1"],
            vec!["remove api-1"],
            vec!["remove cache-1", "remove db-1"],
            vec!["remove network demo_default"],
        ]
    );
    assert!(plan.warnings.is_empty());
}

#[test]
fn volumes_only_with_v_and_never_external() {
    let opts = DownOptions {
        remove_volumes: true,
        ..Default::default()
    };
    let plan = plan_down("demo", &observed(), &opts);
    let last = waves(&plan).pop().expect("a last wave");
    assert_eq!(
        last,
        vec!["remove network demo_default", "remove volume demo_data"]
    );
}

#[test]
fn orphans_are_kept_with_their_networks_unless_asked() {
    let with_file = DownOptions {
        file_services: Some(["web", "api", "db", "cache"].map(String::from).into()),
        ..Default::default()
    };
    let plan = plan_down("demo", &observed(), &with_file);
    let all: Vec<String> = plan.actions.iter().map(|a| a.to_string()).collect();
    assert!(!all
        .iter()
        .any(|a| a.contains("worker") || a.contains("network")));
    assert!(
        plan.warnings[0].contains("demo-worker-1"),
        "{:?}",
        plan.warnings
    );

    let remove = DownOptions {
        remove_orphans: true,
        ..with_file
    };
    let plan = plan_down("demo", &observed(), &remove);
    let all: Vec<String> = plan.actions.iter().map(|a| a.to_string()).collect();
    assert!(
        all.contains(&"remove worker-1: orphan (service no longer in the stack file)".to_string())
    );
    assert!(all.contains(&"remove network demo_default".to_string()));
}

#[test]
fn a_stored_cycle_cannot_block_down() {
    let o = ObservedProject {
        containers: vec![
            container("a", 1, &["b"]),
            container("b", 1, &["a"]),
            container("front", 1, &["a"]),
            container("solo", 1, &[]),
        ],
        ..Default::default()
    };
    let plan = plan_down("demo", &o, &DownOptions::default());
    assert_eq!(
        waves(&plan),
        vec![
            vec!["remove front-1", "remove solo-1"],
            vec!["remove a-1", "remove b-1"]
        ]
    );
}

#[test]
fn empty_project_gives_an_empty_plan() {
    let plan = plan_down("demo", &ObservedProject::default(), &DownOptions::default());
    assert!(plan.is_empty());
}

use std::collections::BTreeMap;

use stack_spec::{
    Dependency, DependencyCondition, Network, Project, Service, ServiceVolume, Volume,
};

use super::*;
use crate::plan::{plan, ObservedContainer, ObservedObject, ObservedProject, PlanOptions};
use stack_runtime::state::Status;

fn web(debug: &str) -> Service {
    Service {
        name: "web".into(),
        image: Some("busybox:latest".into()),
        command: Some(vec!["httpd".into(), "-f".into()]),
        environment: BTreeMap::from([("DEBUG".to_string(), Some(debug.to_string()))]),
        depends_on: BTreeMap::from([(
            "redis".to_string(),
            Dependency {
                condition: DependencyCondition::ServiceHealthy,
                restart: false,
                required: true,
                from_link: false,
            },
        )]),
        ..Service::default()
    }
}

fn redis() -> Service {
    Service {
        name: "redis".into(),
        image: Some("redis:7".into()),
        ..Service::default()
    }
}

fn project(services: Vec<Service>) -> Project {
    Project {
        name: "demo".into(),
        services: services.into_iter().map(|s| (s.name.clone(), s)).collect(),
        ..Project::default()
    }
}

/// The store after applying `desired` exactly.
fn applied(desired: &DesiredProject) -> ObservedProject {
    let mut o = ObservedProject::default();
    for net in desired.networks.values() {
        o.networks.insert(
            net.name.clone(),
            ObservedObject {
                external: false,
                config_hash: net.config.hash(),
                config: net.config.clone(),
            },
        );
    }
    for s in desired.services.values() {
        o.local_images.insert(s.image.clone(), "sha256:1".into());
        o.containers.push(ObservedContainer {
            id: format!("id-{}", s.name),
            name: format!("demo-{}-1", s.name),
            service: s.name.clone(),
            replica: 1,
            oneoff: false,
            config_hash: s.config.hash(),
            config: s.config.clone(),
            image_digest: Some("sha256:1".into()),
            state: Status::Running,
            depends_on: s.depends_on.iter().map(|d| d.service.clone()).collect(),
        });
    }
    o
}

#[test]
fn services_join_the_default_network_which_is_made_implicitly() {
    let d = desired_from_spec(&project(vec![web("0"), redis()])).expect("desired");
    let w = &d.services["web"];
    assert_eq!(w.image, "busybox:latest");
    assert_eq!(w.replicas, 1);
    assert_eq!(w.networks, vec!["default"]);
    assert_eq!(
        w.depends_on,
        vec![DesiredDependency {
            service: "redis".into(),
            condition: Condition::Healthy,
            required: true,
            restart: false
        }]
    );
    assert_eq!(d.networks["default"].name, "demo_default");
    assert_eq!(w.config.get("environment.DEBUG"), Some("\"0\""));
    assert_eq!(w.config.get("depends_on.redis.condition"), None);
}

#[test]
fn a_changed_variable_in_the_model_recreates_only_that_service() {
    let before = desired_from_spec(&project(vec![web("0"), redis()])).expect("desired");
    let after = desired_from_spec(&project(vec![web("1"), redis()])).expect("desired");
    let p = plan(&after, &applied(&before), &PlanOptions::default()).expect("plan");
    let lines: Vec<String> = p.actions.iter().map(|a| a.to_string()).collect();
    assert_eq!(lines, vec!["recreate web-1: environment.DEBUG changed"]);
    assert_eq!(p.unchanged, vec!["redis-1"]);
}

#[test]
fn scale_and_depends_on_do_not_change_the_hash() {
    let base = desired_from_spec(&project(vec![web("0"), redis()])).expect("desired");
    let mut scaled_web = web("0");
    scaled_web.scale = Some(3);
    scaled_web.depends_on.clear();
    scaled_web.pull_policy = Some("always".into());
    let scaled = desired_from_spec(&project(vec![scaled_web, redis()])).expect("desired");
    assert_eq!(scaled.services["web"].replicas, 3);
    assert_eq!(scaled.services["web"].pull_policy, PullPolicy::Always);
    assert_eq!(
        scaled.services["web"].config.hash(),
        base.services["web"].config.hash()
    );
}

#[test]
fn shared_namespaces_and_volumes_from_are_structural_dependencies() {
    let mut sidecar = Service {
        name: "sidecar".into(),
        image: Some("busybox".into()),
        network_mode: Some("service:web".into()),
        volumes_from: vec!["redis:ro".into(), "container:other".into()],
        ..Service::default()
    };
    sidecar.pid = Some("service:web".into());
    let d = desired_from_spec(&project(vec![web("0"), redis(), sidecar])).expect("desired");
    let s = &d.services["sidecar"];
    assert_eq!(s.shares_with, vec!["redis", "web"]);
    assert!(s.networks.is_empty());
}

#[test]
fn named_volumes_and_declared_networks_are_carried_over() {
    let mut db = redis();
    db.volumes = vec![
        ServiceVolume {
            kind: stack_spec::MountType::Volume,
            source: Some("data".into()),
            target: "/data".into(),
            read_only: false,
            bind: None,
            volume: None,
            tmpfs: None,
            consistency: None,
        },
        ServiceVolume {
            kind: stack_spec::MountType::Bind,
            source: Some("/srv".into()),
            target: "/srv".into(),
            read_only: true,
            bind: None,
            volume: None,
            tmpfs: None,
            consistency: None,
        },
    ];
    db.networks = BTreeMap::from([("back".to_string(), None)]);
    let mut p = project(vec![db]);
    p.volumes.insert(
        "data".into(),
        Volume {
            name: "demo_data".into(),
            ..Volume::default()
        },
    );
    p.networks.insert(
        "back".into(),
        Network {
            name: "demo_back".into(),
            internal: true,
            ..Network::default()
        },
    );
    let d = desired_from_spec(&p).expect("desired");
    assert_eq!(d.services["redis"].volumes, vec!["data"]);
    assert_eq!(d.services["redis"].networks, vec!["back"]);
    assert!(!d.networks.contains_key("default"));
    assert_eq!(d.networks["back"].config.get("internal"), Some("true"));
    let first = plan(&d, &ObservedProject::default(), &PlanOptions::default()).expect("plan");
    let lines: Vec<String> = first.actions.iter().map(|a| a.to_string()).collect();
    assert!(
        lines.contains(&"create network demo_back".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"create volume demo_data".to_string()),
        "{lines:?}"
    );
}

#[test]
fn a_service_without_image_is_refused() {
    let mut s = redis();
    s.image = None;
    assert_eq!(
        desired_from_spec(&project(vec![s])),
        Err(PlanError::NoImage("redis".into()))
    );
}

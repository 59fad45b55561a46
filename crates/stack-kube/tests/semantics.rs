//! Rules schemas do not see, checked on the rendered fixtures directly
//! (independently of the renderer's own `check`).

mod support;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodTemplateSpec;
use stack_kube::names::{is_dns1035_label, is_dns1123_label};
use stack_kube::{render, Object, RenderOptions};
use support::fixtures;

fn rendered(name: &str) -> Vec<Object> {
    render(&fixtures::load(name), &RenderOptions::default())
        .expect("fixture renders")
        .manifests
        .objects
}

fn pod_labels(template: &PodTemplateSpec) -> BTreeMap<String, String> {
    template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
}

/// Template labels and restart policy of each workload, by name.
fn workloads(objects: &[Object]) -> BTreeMap<String, (BTreeMap<String, String>, String)> {
    let mut out = BTreeMap::new();
    for object in objects {
        let (template, selector) = match object {
            Object::Deployment(d) => {
                let spec = d.spec.as_ref().expect("spec");
                (&spec.template, spec.selector.match_labels.clone())
            }
            Object::Job(j) => (&j.spec.as_ref().expect("spec").template, None),
            _ => continue,
        };
        let labels = pod_labels(template);
        if let Some(selector) = selector {
            for (key, value) in &selector {
                assert_eq!(
                    labels.get(key),
                    Some(value),
                    "{} selector",
                    object.reference()
                );
            }
        }
        let restart = template
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.clone())
            .unwrap_or_default();
        out.insert(object.name().to_string(), (labels, restart));
    }
    out
}

#[test]
fn every_service_resolves_and_selects_its_pods() {
    for fixture in fixtures::RENDERABLE {
        let project = fixtures::load(fixture);
        let objects = rendered(fixture);
        let workloads = workloads(&objects);
        let services: Vec<_> = objects
            .iter()
            .filter_map(|o| match o {
                Object::Service(s) => Some(s),
                _ => None,
            })
            .collect();
        assert_eq!(
            services.len(),
            project.services.len(),
            "{fixture}: one Service each"
        );
        assert_eq!(
            workloads.len(),
            project.services.len(),
            "{fixture}: one workload each"
        );
        for service in services {
            let name = service.metadata.name.clone().expect("name");
            assert!(is_dns1035_label(&name), "{fixture}: {name}");
            let spec = service.spec.as_ref().expect("spec");
            let (labels, _) = &workloads[&name];
            for (key, value) in spec.selector.as_ref().expect("selector") {
                assert_eq!(labels.get(key), Some(value), "{fixture}: service/{name}");
            }
            let ports = spec.ports.clone().unwrap_or_default();
            if ports.is_empty() {
                assert_eq!(
                    spec.cluster_ip.as_deref(),
                    Some("None"),
                    "{fixture}: headless"
                );
            }
            for port in ports {
                assert!((1..=65535).contains(&port.port), "{fixture}: {name} port");
            }
        }
        for object in &objects {
            assert!(
                is_dns1123_label(object.name()),
                "{fixture}: {}",
                object.reference()
            );
        }
    }
}

#[test]
fn restart_decides_job_or_deployment() {
    let objects = rendered("shop");
    let kinds: BTreeMap<&str, &str> = objects
        .iter()
        .filter(|o| matches!(o, Object::Deployment(_) | Object::Job(_)))
        .map(|o| (o.name(), o.kind().as_str()))
        .collect();
    assert_eq!(
        kinds,
        BTreeMap::from([
            ("cache", "Deployment"),
            ("db", "Deployment"),
            ("migrate", "Job"),
            ("web", "Deployment"),
            ("worker", "Job"),
        ])
    );
    let workloads = workloads(&objects);
    assert_eq!(workloads["web"].1, "Always");
    assert_eq!(workloads["migrate"].1, "Never");
    assert_eq!(workloads["worker"].1, "OnFailure");
    let Some(Object::Job(worker)) = objects.iter().find(|o| o.reference() == "job/worker") else {
        panic!("worker job");
    };
    let spec = worker.spec.as_ref().expect("spec");
    assert_eq!(spec.backoff_limit, Some(3), "on-failure:3");
    assert_eq!(spec.completions, Some(2), "scale: 2");
}

#[test]
fn entrypoint_is_command_and_command_is_args() {
    let objects = rendered("shop");
    let Some(Object::Job(migrate)) = objects.iter().find(|o| o.reference() == "job/migrate") else {
        panic!("migrate job");
    };
    let pod = migrate.spec.as_ref().and_then(|s| s.template.spec.as_ref());
    let container = &pod.expect("pod").containers[0];
    assert_eq!(container.command, Some(vec!["/app/manage".to_string()]));
    assert_eq!(
        container.args,
        Some(vec!["migrate".to_string(), "--noinput".to_string()])
    );
}

#[test]
fn named_volumes_force_the_recreate_strategy() {
    for object in rendered("shop") {
        if let Object::Deployment(d) = &object {
            let strategy = d
                .spec
                .as_ref()
                .and_then(|s| s.strategy.as_ref())
                .and_then(|s| s.type_.clone());
            let expected =
                (d.metadata.name.as_deref() == Some("db")).then(|| "Recreate".to_string());
            assert_eq!(strategy, expected, "{}", object.reference());
        }
    }
}

/// The Job's restart policy and backoff limit, when `name` renders as one.
fn job_of(objects: &[Object], name: &str) -> Option<(String, Option<i32>)> {
    objects.iter().find_map(|o| match o {
        Object::Job(j) if o.name() == name => {
            let spec = j.spec.as_ref().expect("spec");
            let restart = spec
                .template
                .spec
                .as_ref()
                .and_then(|p| p.restart_policy.clone())
                .unwrap_or_default();
            Some((restart, spec.backoff_limit))
        }
        _ => None,
    })
}

#[test]
fn a_one_shot_dependency_is_a_job_that_runs_once() {
    let objects = rendered("migration");
    // No `restart`, but `app` waits for it to complete: a migration.
    assert_eq!(
        job_of(&objects, "migrate"),
        Some(("Never".to_string(), Some(0)))
    );
    assert_eq!(
        job_of(&objects, "cleanup"),
        Some(("OnFailure".to_string(), Some(2)))
    );
    // Servers stay Deployments.
    for server in ["app", "proxy", "db", "cache"] {
        assert!(
            objects
                .iter()
                .any(|o| matches!(o, Object::Deployment(_)) && o.name() == server),
            "{server} is a Deployment"
        );
    }
}

#[test]
fn an_always_restarting_one_shot_dependency_is_named() {
    let mut project = fixtures::load("migration");
    let migrate = project.services.get_mut("migrate").expect("migrate");
    migrate.restart = Some(stack_spec::RestartPolicy::Always);
    let rendered = render(&project, &RenderOptions::default()).expect("renders");
    assert!(job_of(&rendered.manifests.objects, "migrate").is_none());
    let warned = rendered
        .warnings
        .iter()
        .any(|w| w.path == "services.migrate.restart" && w.reason.contains("never start"));
    assert!(warned, "{:?}", rendered.warnings);
}

#[test]
fn waiting_for_a_one_shot_dependency_waits_for_its_job() {
    let options = RenderOptions {
        wait_for_dependencies: true,
        ..RenderOptions::default()
    };
    let rendered = render(&fixtures::load("migration"), &options).expect("renders");
    let objects = &rendered.manifests.objects;
    let app = objects
        .iter()
        .find_map(|o| match o {
            Object::Deployment(d) if o.name() == "app" => d.spec.as_ref(),
            _ => None,
        })
        .expect("app Deployment");
    let pod = app.template.spec.as_ref().expect("pod");
    let inits = pod.init_containers.as_ref().expect("init containers");
    let waits: Vec<Vec<String>> = inits
        .iter()
        .filter_map(|c| c.command.clone())
        .filter(|c| c.first().map(String::as_str) == Some("kubectl"))
        .collect();
    let wait = |job: &str| {
        vec![
            "kubectl".to_string(),
            "wait".into(),
            "--for=condition=complete".into(),
            "--timeout=-1s".into(),
            format!("job/{job}"),
        ]
    };
    assert_eq!(waits, vec![wait("cleanup"), wait("migrate")]);
    // Reading a Job takes the API: the pod's account may read Jobs, no more.
    assert_eq!(pod.service_account_name.as_deref(), Some("blog-job-waiter"));
    let role = objects
        .iter()
        .find_map(|o| match o {
            Object::Role(r) => Some(r),
            _ => None,
        })
        .expect("Role");
    let rules = role.rules.as_ref().expect("rules");
    assert_eq!(rules.len(), 1);
    assert_eq!(
        rules[0].resources.as_deref(),
        Some(&["jobs".to_string()][..])
    );
    assert_eq!(rules[0].verbs, ["get", "list", "watch"]);
    assert!(objects
        .iter()
        .any(|o| matches!(o, Object::RoleBinding(_)) && o.name() == "blog-job-waiter"));
    assert!(objects
        .iter()
        .any(|o| matches!(o, Object::ServiceAccount(_)) && o.name() == "blog-job-waiter"));
    // No pod that waits for no Job runs as that account.
    let proxy = objects
        .iter()
        .find_map(|o| match o {
            Object::Deployment(d) if o.name() == "proxy" => d.spec.as_ref(),
            _ => None,
        })
        .expect("proxy Deployment");
    let proxy_pod = proxy.template.spec.as_ref().expect("pod");
    assert_eq!(proxy_pod.service_account_name, None);
    assert!(!rendered
        .warnings
        .iter()
        .any(|w| w.reason.contains("cannot wait for a Job")));
}

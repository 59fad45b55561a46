//! Planner speed on a large project: 1000 services, each depending on up to
//! three earlier ones, 2 replicas each, against a state where every tenth
//! service changed an environment variable and every hundredth is stopped.
//!
//! Run: `cargo bench -p stack-engine --bench plan`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use stack_engine::plan::{
    plan, ConfigFields, DesiredDependency, DesiredNetwork, DesiredProject, DesiredService,
    ObservedContainer, ObservedObject, ObservedProject, PlanOptions, PullPolicy,
    SERVICE_PATHS_NOT_HASHED,
};
use stack_engine::supervise::Condition;
use stack_runtime::state::Status;

const SERVICES: usize = 1000;

fn config(i: usize, debug: &str) -> ConfigFields {
    ConfigFields::flatten(
        &json!({
            "image": "busybox:1",
            "command": ["httpd", "-f", "-p", format!("{}", 8000 + i)],
            "environment": {"DEBUG": debug, "INDEX": i.to_string(), "MODE": "bench"},
            "healthcheck": {"test": ["CMD", "true"], "interval": "1s"},
            "ports": [{"target": 80, "published": (10000 + i).to_string()}],
        }),
        SERVICE_PATHS_NOT_HASHED,
    )
}

fn desired() -> DesiredProject {
    let mut p = DesiredProject {
        name: "bench".into(),
        ..Default::default()
    };
    p.networks.insert(
        "default".into(),
        DesiredNetwork {
            name: "bench_default".into(),
            external: false,
            config: ConfigFields::flatten(&json!({"driver": "bridge"}), &[]),
        },
    );
    for i in 0..SERVICES {
        let depends_on = [1, 7, 31]
            .iter()
            .filter(|d| i >= **d)
            .map(|d| DesiredDependency {
                service: format!("svc{:04}", i - d),
                condition: Condition::Started,
                required: true,
                restart: false,
            })
            .collect();
        let name = format!("svc{i:04}");
        p.services.insert(
            name.clone(),
            DesiredService {
                name,
                image: "busybox:1".into(),
                replicas: 2,
                container_name: None,
                config: config(i, "1"),
                depends_on,
                networks: vec!["default".into()],
                volumes: vec![],
                shares_with: vec![],
                pull_policy: PullPolicy::Missing,
                build: false,
            },
        );
    }
    p
}

fn observed(p: &DesiredProject) -> ObservedProject {
    let mut o = ObservedProject::default();
    o.local_images
        .insert("busybox:1".into(), "sha256:busybox".into());
    let net = &p.networks["default"];
    o.networks.insert(
        net.name.clone(),
        ObservedObject {
            external: false,
            config_hash: net.config.hash(),
            config: net.config.clone(),
        },
    );
    for (i, s) in p.services.values().enumerate() {
        let stored = if i % 10 == 0 {
            config(i, "0")
        } else {
            s.config.clone()
        };
        for replica in 1..=s.replicas {
            o.containers.push(ObservedContainer {
                id: format!("{}-{replica}", s.name),
                name: format!("bench-{}-{replica}", s.name),
                service: s.name.clone(),
                replica,
                oneoff: false,
                config_hash: stored.hash(),
                config: stored.clone(),
                image_digest: Some("sha256:busybox".into()),
                state: if i % 100 == 5 {
                    Status::Exited
                } else {
                    Status::Running
                },
                depends_on: s.depends_on.iter().map(|d| d.service.clone()).collect(),
            });
        }
    }
    o
}

fn bench(c: &mut Criterion) {
    let p = desired();
    let seen = observed(&p);
    let opts = PlanOptions::default();
    let first = plan(&p, &seen, &opts).expect("plan");
    assert_eq!(first.actions.len(), 200 + 20);
    c.bench_function("plan 1000 services, 2000 containers", |b| {
        b.iter(|| plan(black_box(&p), black_box(&seen), &opts).expect("plan"))
    });
    c.bench_function("plan 1000 services from scratch", |b| {
        let empty = ObservedProject::default();
        b.iter(|| plan(black_box(&p), black_box(&empty), &opts).expect("plan"))
    });
    c.bench_function("render 1000-service plan", |b| {
        b.iter(|| black_box(&first).render_text())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

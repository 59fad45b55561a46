//! State store costs on the paths `up` and the supervisor take: one small
//! write transaction (a state change), a 100-container project written in
//! one transaction, and reading a 100-container project back.
//!
//! Run: `cargo bench -p stack-engine --bench store`.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use stack_engine::store::{ContainerRecord, ProjectRecord, Store};
use stack_runtime::state::Status;

fn project(name: &str) -> ProjectRecord {
    ProjectRecord {
        name: name.into(),
        working_dir: None,
        config_files: vec![],
        created_at_ms: 0,
        updated_at_ms: 0,
    }
}

fn container(project: &str, i: u32) -> ContainerRecord {
    ContainerRecord {
        id: format!("{project}-{i:040}"),
        project: project.into(),
        service: format!("svc{i}"),
        replica: 1,
        name: format!("{project}-svc{i}-1"),
        oneoff: false,
        config_hash: "sha256:0000000000000000000000000000000000000000000000000000000000000000"
            .into(),
        config_fields: BTreeMap::from([
            ("image".into(), "\"busybox\"".into()),
            ("command".into(), "[\"httpd\",\"-f\"]".into()),
            ("environment.DEBUG".into(), "\"0\"".into()),
        ]),
        image_ref: "busybox:latest".into(),
        image_digest: Some("sha256:ff".into()),
        state: Status::Created,
        health: None,
        pid: None,
        exit_code: None,
        restart_count: 0,
        manual_stop: false,
        created_at_ms: 0,
        started_at_ms: None,
        finished_at_ms: None,
        depends_on: vec![],
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    store
        .write(|w| {
            w.upsert_project(&project("big"))?;
            for i in 0..100 {
                w.insert_container(&container("big", i))?;
            }
            Ok(())
        })
        .expect("seed");

    let mut running = container("big", 0);
    c.bench_function("write: one container state change", |b| {
        b.iter(|| {
            running.state = Status::Running;
            running.pid = Some(running.pid.unwrap_or(0) + 1);
            store
                .write(|w| w.update_container(&running))
                .expect("write")
        })
    });

    let mut n = 0u32;
    c.bench_function("write: 100 new containers in one transaction", |b| {
        b.iter_batched(
            || {
                n += 1;
                format!("p{n}")
            },
            |name| {
                store
                    .write(|w| {
                        w.upsert_project(&project(&name))?;
                        for i in 0..100 {
                            w.insert_container(&container(&name, i))?;
                        }
                        Ok(())
                    })
                    .expect("write")
            },
            BatchSize::SmallInput,
        )
    });

    c.bench_function("read: 100-container project", |b| {
        b.iter(|| {
            let all = store
                .read(|r| r.containers_of(black_box("big")))
                .expect("read");
            assert_eq!(all.len(), 100);
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

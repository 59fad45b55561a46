use std::collections::BTreeMap;

use stack_runtime::state::Status;

use super::*;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open store");
    (dir, store)
}

fn project(name: &str) -> ProjectRecord {
    ProjectRecord {
        name: name.into(),
        working_dir: Some("/srv/app".into()),
        config_files: vec!["compose.yaml".into()],
        created_at_ms: 1,
        updated_at_ms: 1,
    }
}

pub(crate) fn container(project: &str, service: &str, replica: u32) -> ContainerRecord {
    ContainerRecord {
        id: format!("{project}-{service}-{replica}-id"),
        project: project.into(),
        service: service.into(),
        replica,
        name: format!("{project}-{service}-{replica}"),
        oneoff: false,
        config_hash: "h1".into(),
        config_fields: BTreeMap::from([("environment.DEBUG".into(), "\"1\"".into())]),
        image_ref: "busybox:latest".into(),
        image_digest: Some("sha256:aa".into()),
        state: Status::Created,
        health: None,
        pid: None,
        exit_code: None,
        restart_count: 0,
        manual_stop: false,
        created_at_ms: 10,
        started_at_ms: None,
        finished_at_ms: None,
        depends_on: vec![],
    }
}

#[test]
fn new_database_is_at_current_schema_in_wal_mode() {
    let (dir, store) = store();
    assert_eq!(store.schema_version().expect("version"), schema_version());
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("open");
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .expect("journal mode");
    assert_eq!(mode, "wal");
}

#[test]
fn reopening_keeps_data_and_does_not_migrate_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open(dir.path()).expect("open");
        store
            .write(|w| w.upsert_project(&project("demo")))
            .expect("write");
    }
    let store = Store::open(dir.path()).expect("reopen");
    let got = store.read(|r| r.project("demo")).expect("read");
    assert_eq!(got, Some(project("demo")));
}

#[test]
fn database_from_a_newer_stack_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(Store::open(dir.path()).expect("open"));
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).expect("open");
    conn.pragma_update(None, "user_version", schema_version() + 1)
        .expect("bump");
    drop(conn);
    let err = Store::open(dir.path()).err().expect("must refuse");
    assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
    assert!(err.to_string().contains("newer"), "{err}");
}

#[test]
fn container_round_trips_every_field() {
    let (_dir, store) = store();
    let mut c = container("demo", "web", 1);
    c.state = Status::Running;
    c.health = Some(HealthStatus::Starting);
    c.pid = Some(4242);
    c.exit_code = Some(137);
    c.restart_count = 3;
    c.manual_stop = true;
    c.started_at_ms = Some(20);
    c.finished_at_ms = Some(30);
    store
        .write(|w| {
            w.upsert_project(&project("demo"))?;
            w.insert_container(&c)
        })
        .expect("write");
    let got = store.read(|r| r.container(&c.id)).expect("read");
    assert_eq!(got.as_ref(), Some(&c));
    let by_name = store.read(|r| r.container_by_name(&c.name)).expect("read");
    assert_eq!(by_name, got);
}

#[test]
fn container_needs_its_project() {
    let (_dir, store) = store();
    let err = store
        .write(|w| w.insert_container(&container("ghost", "web", 1)))
        .expect_err("must fail");
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("ghost-web-1"), "{err}");
}

#[test]
fn replica_slot_and_name_are_unique_but_oneoffs_are_not_replicas() {
    let (_dir, store) = store();
    store
        .write(|w| {
            w.upsert_project(&project("demo"))?;
            w.insert_container(&container("demo", "web", 1))
        })
        .expect("first");
    let mut same_slot = container("demo", "web", 1);
    same_slot.id = "other".into();
    same_slot.name = "other".into();
    let err = store.write(|w| w.insert_container(&same_slot)).err();
    assert!(matches!(err, Some(StoreError::Conflict { .. })));

    let mut oneoff = same_slot.clone();
    oneoff.oneoff = true;
    store
        .write(|w| w.insert_container(&oneoff))
        .expect("a one-off may share the replica number");
}

#[test]
fn failed_closure_rolls_back_every_row() {
    let (_dir, store) = store();
    let result: Result<(), StoreError> = store.write(|w| {
        w.upsert_project(&project("demo"))?;
        w.insert_container(&container("demo", "web", 1))?;
        Err(StoreError::NotFound {
            what: "something".into(),
        })
    });
    assert!(result.is_err());
    let (p, cs) = store
        .read(|r| Ok((r.project("demo")?, r.containers_of("demo")?)))
        .expect("read");
    assert_eq!(p, None);
    assert!(cs.is_empty());
}

#[test]
fn update_of_missing_container_is_not_found() {
    let (_dir, store) = store();
    let err = store
        .write(|w| w.update_container(&container("demo", "web", 1)))
        .expect_err("must fail");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
}

#[test]
fn project_cannot_be_removed_while_it_owns_containers() {
    let (_dir, store) = store();
    let c = container("demo", "web", 1);
    store
        .write(|w| {
            w.upsert_project(&project("demo"))?;
            w.insert_container(&c)
        })
        .expect("write");
    assert!(store.write(|w| w.remove_project("demo")).is_err());
    store
        .write(|w| {
            w.remove_container(&c.id)?;
            w.remove_project("demo")
        })
        .expect("remove in order");
    assert_eq!(store.read(|r| r.projects()).expect("read"), vec![]);
}

fn network(name: &str) -> NetworkRecord {
    NetworkRecord {
        name: name.into(),
        project: Some("demo".into()),
        key: "default".into(),
        driver: "bridge".into(),
        config_hash: "n1".into(),
        config_fields: BTreeMap::from([("driver".into(), "\"bridge\"".into())]),
        subnet: Some("10.89.0.0/24".into()),
        gateway: Some("10.89.0.1".into()),
        bridge: Some("stk-1".into()),
        external: false,
        created_at_ms: 5,
    }
}

#[test]
fn an_address_is_given_once_per_network_and_freed_with_its_container() {
    let (_dir, store) = store();
    let web = container("demo", "web", 1);
    let db = container("demo", "db", 1);
    let alloc = |c: &ContainerRecord, addr: &str| IpAllocation {
        network: "demo_default".into(),
        address: addr.into(),
        container_id: c.id.clone(),
    };
    store
        .write(|w| {
            w.upsert_project(&project("demo"))?;
            w.insert_network(&network("demo_default"))?;
            w.insert_container(&web)?;
            w.insert_container(&db)?;
            w.record_ip(&alloc(&web, "10.89.0.2"))
        })
        .expect("write");
    let taken = store.write(|w| w.record_ip(&alloc(&db, "10.89.0.2")));
    assert!(matches!(taken, Err(StoreError::Conflict { .. })));
    let second = store.write(|w| w.record_ip(&alloc(&web, "10.89.0.3")));
    assert!(
        matches!(second, Err(StoreError::Conflict { .. })),
        "one address per container per network"
    );
    store
        .write(|w| w.record_ip(&alloc(&db, "10.89.0.3")))
        .expect("free address");
    store
        .write(|w| w.remove_container(&web.id).map(|_| ()))
        .expect("remove");
    let left = store
        .read(|r| r.ip_allocations("demo_default"))
        .expect("read");
    assert_eq!(left, vec![alloc(&db, "10.89.0.3")]);
    assert_eq!(store.write(|w| w.release_ips(&db.id)).expect("release"), 1);
}

#[test]
fn networks_volumes_and_image_refs_round_trip() {
    let (_dir, store) = store();
    let vol = VolumeRecord {
        name: "demo_data".into(),
        project: Some("demo".into()),
        key: "data".into(),
        driver: "local".into(),
        config_hash: "v1".into(),
        config_fields: BTreeMap::new(),
        external: false,
        created_at_ms: 7,
    };
    let img = ImageRefRecord {
        reference: "docker.io/library/redis:7".into(),
        digest: "sha256:01".into(),
        updated_at_ms: 9,
    };
    store
        .write(|w| {
            w.upsert_project(&project("demo"))?;
            w.insert_network(&network("demo_default"))?;
            w.insert_volume(&vol)?;
            w.set_image_ref(&img)
        })
        .expect("write");
    let newer = ImageRefRecord {
        digest: "sha256:02".into(),
        updated_at_ms: 10,
        ..img.clone()
    };
    store.write(|w| w.set_image_ref(&newer)).expect("repoint");
    let (nets, vols, got_img, users) = store
        .read(|r| {
            Ok((
                r.networks_of("demo")?,
                r.volumes_of("demo")?,
                r.image_ref(&img.reference)?,
                r.references_to("sha256:02")?,
            ))
        })
        .expect("read");
    assert_eq!(nets, vec![network("demo_default")]);
    assert_eq!(vols, vec![vol]);
    assert_eq!(got_img, Some(newer));
    assert_eq!(users, vec![img.reference.clone()]);
    let stored = store
        .read(|r| r.volume("demo_data"))
        .expect("read")
        .expect("stored");
    let again = store.write(|w| w.insert_volume(&stored));
    assert!(matches!(again, Err(StoreError::Conflict { .. })));
}

#[test]
fn health_history_keeps_the_newest_probes() {
    let (_dir, store) = store();
    let c = container("demo", "db", 1);
    store
        .write(|w| {
            w.upsert_project(&project("demo"))?;
            w.insert_container(&c)
        })
        .expect("write");
    for i in 0..8 {
        let probe = HealthProbeRecord {
            started_ms: i,
            ended_ms: i + 1,
            exit_code: Some(i as i32 % 2),
            outcome: if i % 2 == 0 {
                ProbeOutcome::Passed
            } else {
                ProbeOutcome::Failed
            },
            output: format!("probe {i}"),
        };
        store
            .write(|w| w.append_health_probe(&c.id, &probe, 5))
            .expect("append");
    }
    let history = store.read(|r| r.health_history(&c.id)).expect("read");
    let starts: Vec<i64> = history.iter().map(|p| p.started_ms).collect();
    assert_eq!(starts, vec![3, 4, 5, 6, 7]);
    assert_eq!(history[0].outcome, ProbeOutcome::Failed);
    store.write(|w| w.remove_container(&c.id)).expect("remove");
    assert!(store
        .read(|r| r.health_history(&c.id))
        .expect("read")
        .is_empty());
}

#[test]
fn writer_lock_is_held_during_a_write_and_released_after() {
    let (dir, store) = store();
    let lock_path = dir.path().join(LOCK_FILE);
    store
        .write(|_| {
            let other = WriterLock::try_acquire(&lock_path).expect("try lock");
            assert!(other.is_none(), "a second writer must wait");
            Ok(())
        })
        .expect("write");
    assert!(WriterLock::try_acquire(&lock_path)
        .expect("try lock")
        .is_some());
}

#[test]
fn a_panic_inside_a_write_rolls_back_and_the_store_stays_usable() {
    let (_dir, store) = store();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: Result<(), StoreError> = store.write(|w| {
            w.upsert_project(&project("demo"))?;
            panic!("boom");
        });
    }));
    assert!(outcome.is_err());
    assert_eq!(store.read(|r| r.project("demo")).expect("read"), None);
    store
        .write(|w| w.upsert_project(&project("demo")))
        .expect("still writable");
}

/// A state database overwritten with garbage: the error names the file and
/// the way out, and the file is left as it was.
#[test]
fn a_damaged_database_is_named_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join(DB_FILE);
    let garbage = vec![0x5a_u8; 8192];
    std::fs::write(&db, &garbage).expect("garbage");
    let err = Store::open(dir.path()).err().expect("refused");
    let text = err.to_string();
    assert!(matches!(err, StoreError::Damaged { .. }), "{text}");
    assert!(text.contains(&db.display().to_string()), "{text}");
    assert!(text.contains("stack system check --repair"), "{text}");
    assert_eq!(std::fs::read(&db).expect("still there"), garbage);
}

//! The state store under concurrent writers and a writer killed halfway.
//!
//! Child processes are this same test binary, re-run with an environment
//! variable that makes one test act as the child.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stack_engine::store::{ContainerRecord, ProjectRecord, Store, StoreError};
use stack_runtime::state::Status;

const CHILD_ROLE: &str = "STACK_STORE_TEST_ROLE";
const CHILD_ROOT: &str = "STACK_STORE_TEST_ROOT";

fn project(name: &str) -> ProjectRecord {
    ProjectRecord {
        name: name.into(),
        working_dir: None,
        config_files: vec![],
        created_at_ms: 0,
        updated_at_ms: 0,
    }
}

fn container(project: &str, service: &str, replica: u32) -> ContainerRecord {
    ContainerRecord {
        id: format!("{project}.{service}.{replica}"),
        project: project.into(),
        service: service.into(),
        replica,
        name: format!("{project}-{service}-{replica}"),
        oneoff: false,
        config_hash: "h".into(),
        config_fields: BTreeMap::new(),
        image_ref: "busybox".into(),
        image_digest: None,
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

/// Re-runs this test binary as a child playing `role` on the store at `root`.
fn spawn_child(test_name: &str, role: &str, root: &Path) -> Child {
    Command::new(std::env::current_exe().expect("test binary path"))
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ROLE, role)
        .env(CHILD_ROOT, root)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child test process")
}

fn child_role() -> Option<(String, PathBuf)> {
    let role = std::env::var(CHILD_ROLE).ok()?;
    let root = std::env::var_os(CHILD_ROOT)?;
    Some((role, PathBuf::from(root)))
}

/// One read-modify-write of the counter kept in the restart count of
/// `demo-counter-1`. Without a single writer, increments would be lost.
fn increment(store: &Store) -> Result<(), StoreError> {
    store.write(|w| {
        let mut c = w
            .read()
            .container("demo.counter.1")?
            .expect("counter container");
        c.restart_count += 1;
        w.update_container(&c)
    })
}

fn seed_counter(store: &Store) {
    store
        .write(|w| {
            w.upsert_project(&project("demo"))?;
            w.insert_container(&container("demo", "counter", 1))
        })
        .expect("seed");
}

fn counter(store: &Store) -> u32 {
    store
        .read(|r| r.container("demo.counter.1"))
        .expect("read")
        .expect("counter")
        .restart_count
}

#[test]
fn concurrent_writer_threads_lose_no_update() {
    let dir = tempfile::tempdir().expect("tempdir");
    seed_counter(&Store::open(dir.path()).expect("open"));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let root = dir.path().to_path_buf();
            std::thread::spawn(move || {
                let store = Store::open(&root).expect("open per thread");
                for _ in 0..50 {
                    increment(&store).expect("increment");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer thread");
    }
    assert_eq!(counter(&Store::open(dir.path()).expect("open")), 200);
}

#[test]
fn concurrent_writer_processes_lose_no_update() {
    if let Some((role, root)) = child_role() {
        if role == "increment" {
            let store = Store::open(&root).expect("child open");
            for _ in 0..40 {
                increment(&store).expect("child increment");
            }
        }
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    seed_counter(&Store::open(dir.path()).expect("open"));
    let children: Vec<_> = (0..3)
        .map(|_| {
            spawn_child(
                "concurrent_writer_processes_lose_no_update",
                "increment",
                dir.path(),
            )
        })
        .collect();
    for mut child in children {
        assert!(child.wait().expect("wait child").success());
    }
    assert_eq!(counter(&Store::open(dir.path()).expect("open")), 120);
}

/// A writer that stores a project and 200 containers in one transaction is
/// killed (SIGKILL) after writing half of them. The store must hold none of
/// that transaction, keep what was committed before, and take new writers.
#[test]
fn writer_killed_mid_transaction_leaves_nothing_half_made() {
    if let Some((role, root)) = child_role() {
        if role == "crash" {
            let store = Store::open(&root).expect("child open");
            let _: Result<(), StoreError> = store.write(|w| {
                w.upsert_project(&project("half"))?;
                for replica in 1..=200 {
                    w.insert_container(&container("half", "web", replica))?;
                    if replica == 100 {
                        std::fs::write(root.join("halfway"), b"").expect("signal halfway");
                        std::thread::sleep(Duration::from_secs(120));
                    }
                }
                Ok(())
            });
        }
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    seed_counter(&Store::open(dir.path()).expect("open"));
    let mut child = spawn_child(
        "writer_killed_mid_transaction_leaves_nothing_half_made",
        "crash",
        dir.path(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !dir.path().join("halfway").exists() {
        assert!(Instant::now() < deadline, "child never reached halfway");
        assert!(
            child.try_wait().expect("poll child").is_none(),
            "child exited early"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL the writer");
    child.wait().expect("reap");

    let store = Store::open(dir.path()).expect("reopen after crash");
    let (half_project, half_containers) = store
        .read(|r| Ok((r.project("half")?, r.containers_of("half")?)))
        .expect("read");
    assert_eq!(half_project, None);
    assert!(half_containers.is_empty());
    assert_eq!(counter(&store), 0, "earlier commit kept");
    increment(&store).expect("the lock died with its holder");
    assert_eq!(counter(&store), 1);
    assert_eq!(store.check_integrity().expect("integrity check"), Ok(()));
}

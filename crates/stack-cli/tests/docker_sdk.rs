//! The Docker SDK for Python (PyPI `docker`, installed by `cargo xtask
//! deps`) against `stack daemon`: images, containers, logs streamed, exec,
//! archives, export, stats, volumes, networks, events, prunes and disk
//! usage, as `tests/fixtures/docker_sdk.py` uses them.

mod daemon_support;
mod docker_support;
mod run_support;

use std::process::Command;

use docker_support::daemon_with_busybox;
use run_support::describe;

/// The checks the script prints, in order.
const CHECKS: &[&str] = &[
    "system",
    "images",
    "containers and logs",
    "exec, top and stats",
    "archive and export",
    "stop, wait and remove",
    "run and volumes",
    "networks",
    "events, prune and df",
];

#[test]
fn the_python_sdk_works_against_the_daemon() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (_registry, daemon, docker) = daemon_with_busybox(&sb);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/docker_sdk.py");
    let out = Command::new("python3")
        .arg(script)
        .env("DOCKER_HOST", &docker.host)
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("DOCKER_CERT_PATH")
        .output()
        .expect("python3 runs (cargo xtask deps installs the docker package)");
    assert!(
        out.status.success(),
        "{}\ndaemon log:\n{}",
        describe(&out),
        daemon.log_text()
    );
    let passed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("ok ").map(str::to_string))
        .collect();
    assert_eq!(passed, CHECKS, "{}", describe(&out));
}

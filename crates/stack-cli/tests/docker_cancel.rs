//! A Docker API client that leaves stops its work: `docker build`
//! killed while a `RUN` sleeps leaves no step container, no temporary
//! directory, no lease and no image; `docker push` killed while the
//! registry is silent drops the daemon's connection to the registry at
//! once, not when the registry's timeout runs out.

mod daemon_support;
mod docker_support;
mod run_support;

use std::io::Read;
use std::net::TcpListener;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use docker_support::{daemon_with_busybox, eventually};
use run_support::stack;
use stack_testkit::Sandbox;

/// `stack container ls -a`, read from the sandbox's state root.
fn containers(sb: &Sandbox) -> String {
    let out = stack(sb, &["container", "ls", "-a"]);
    assert!(out.status.success(), "{}", run_support::describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The entries of a directory of the state root.
fn entries(sb: &Sandbox, dir: &str) -> Vec<String> {
    std::fs::read_dir(sb.state_root.join(dir))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_build_whose_client_leaves_is_cancelled() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (_registry, daemon, docker) = daemon_with_busybox(&sb);
    let ctx = sb.dir().join("ctx");
    std::fs::create_dir_all(&ctx).expect("ctx");
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nRUN sleep 300\n").expect("Dockerfile");
    let mut client = docker
        .command(&["build", "-t", "never:1", &ctx.to_string_lossy()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker build");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !containers(&sb).contains("sleep 300") {
        assert!(Instant::now() < deadline, "the step never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        entries(&sb, "build-tmp").len(),
        2,
        "a context and a scratch tree"
    );
    client.kill().expect("kill the client");
    client.wait().expect("reap the client");

    eventually("the step container is removed", || {
        !containers(&sb).contains("sleep 300")
    });
    eventually("build-tmp is empty", || {
        entries(&sb, "build-tmp").is_empty()
    });
    let leases = entries(&sb, "images/leases");
    assert!(
        !leases.iter().any(|l| l.starts_with("build-")),
        "{leases:?}"
    );
    let missing = docker.run(&["image", "inspect", "never:1"]);
    assert!(!missing.status.success(), "nothing is tagged");
    drop(daemon);
    assert!(stack(&sb, &["network", "prune"]).status.success());
    sb.assert_no_leaks();
}

#[test]
fn a_push_whose_client_leaves_lets_go_of_the_registry() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    // A registry that takes connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("listener");
    let addr = silent.local_addr().expect("addr");
    let (connected_tx, connected) = mpsc::channel();
    let (closed_tx, closed) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in silent.incoming().flatten() {
            let _ = connected_tx.send(());
            let closed_tx = closed_tx.clone();
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
                let _ = closed_tx.send(Instant::now());
            });
        }
    });
    let (registry, _daemon, docker) = daemon_with_busybox(&sb);
    // Plain HTTP to the silent one too (the daemon reads its config per
    // request).
    std::fs::write(
        &sb.config_file,
        format!(
            "registry-mirrors = [\"{}\"]\ninsecure-registries = [\"{}\", \"{addr}\"]\n",
            registry.url(),
            registry.addr
        ),
    )
    .expect("config");
    let name = format!("{addr}/team/app:1");
    docker.ok(&["tag", "busybox", &name]);
    let mut client = docker
        .command(&["push", &name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker push");
    connected
        .recv_timeout(Duration::from_secs(30))
        .expect("the push reached the registry");
    client.kill().expect("kill the client");
    let left = Instant::now();
    client.wait().expect("reap the client");
    // Without cancelling, the request would wait out the registry idle
    // timeout (30 s).
    let at = closed
        .recv_timeout(Duration::from_secs(10))
        .expect("the daemon let go of the registry");
    assert!(at.duration_since(left) < Duration::from_secs(10));
    sb.assert_no_leaks();
}

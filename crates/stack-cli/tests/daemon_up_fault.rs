//! `kill -9` of the daemon in the middle of an `up` of 20 services: once
//! a daemon runs again, `stack up -d` converges to exactly one running
//! container per service, and `down` leaves nothing behind.

mod daemon_support;
mod run_support;
mod up_support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use daemon_support::Daemon;
use up_support::{describe, env};

const SERVICES: usize = 20;

fn stack_file() -> String {
    let mut yaml = String::from("name: demo\nservices:\n");
    for i in 0..SERVICES {
        yaml.push_str(&format!(
            "  s{i:02}:\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n    stop_grace_period: 1s\n"
        ));
    }
    yaml
}

#[test]
fn kill_9_during_up_then_up_again_converges_without_duplicates() {
    let Some(e) = env(false) else { return };
    e.write(&stack_file());
    // Pull first, so the killed `up` is busy creating containers.
    let pulled = run_support::stack(&e.sb, &["--no-daemon", "pull", "busybox"]);
    assert!(pulled.status.success(), "{}", describe(&pulled));
    let daemon = Daemon::start(&e.sb, &[]);

    let file = e.dir.join("compose.yaml");
    let mut up =
        e.sb.command(env!("CARGO_BIN_EXE_stack"))
            .arg("-f")
            .arg(&file)
            .args(["up", "-d", "--parallel", "2"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn stack up");
    let stderr = up.stderr.take().expect("stderr");
    let mut seen = Vec::new();
    let mut created = 0;
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("stderr line");
        if line.starts_with(" Container ") && line.ends_with("  Started") {
            created += 1;
        }
        seen.push(line);
        if created == 3 {
            break;
        }
    }
    assert_eq!(created, 3, "up ended early: {seen:?}");
    daemon.kill_hard();
    let status = up.wait().expect("wait for up");
    assert!(!status.success(), "up must fail when its daemon dies");

    // Not everything was made before the kill.
    let before = e.names();
    assert!(
        before.len() < SERVICES,
        "up finished before the kill: {before:?}"
    );
    eprintln!(
        "{} of {SERVICES} containers existed when the daemon was killed",
        before.len()
    );

    let daemon = Daemon::start(&e.sb, &[]);
    let (_, err) = e.ok(&["up", "-d"]);
    let rows = e.ps();
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["Name"].as_str().expect("name"))
        .collect();
    let ids: BTreeSet<&str> = rows.iter().map(|r| r["ID"].as_str().expect("id")).collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(names.len(), SERVICES, "{names:?}\n{err}");
    assert_eq!(unique.len(), SERVICES, "duplicate names: {names:?}");
    assert_eq!(ids.len(), SERVICES, "duplicate ids: {rows:?}");
    for i in 0..SERVICES {
        let name = format!("demo-s{i:02}-1");
        let row = rows
            .iter()
            .find(|r| r["Name"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} missing: {names:?}"));
        assert_eq!(row["State"], "running", "{row}");
    }
    // Converged: another up has nothing to do.
    let again = e.stack(&["up", "-d", "--dry-run"]);
    assert!(
        String::from_utf8_lossy(&again.stdout).starts_with("project demo: 0 actions"),
        "{}",
        describe(&again)
    );

    e.ok(&["down", "-t", "0"]);
    assert!(e.names().is_empty());
    daemon.terminate();
    e.sb.assert_no_leaks();
}

/// A client that leaves in the middle of `up` (Ctrl-C, a lost connection)
/// does not stop the daemon's apply half-way: it runs to the end, and the
/// project is whole without another `up`.
#[test]
fn a_client_leaving_mid_up_leaves_the_daemon_applying_to_the_end() {
    let Some(e) = env(false) else { return };
    let services = 10;
    let mut yaml = String::from("name: demo\nservices:\n");
    for i in 0..services {
        yaml.push_str(&format!(
            "  s{i:02}:\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n    stop_grace_period: 1s\n"
        ));
    }
    e.write(&yaml);
    let pulled = run_support::stack(&e.sb, &["--no-daemon", "pull", "busybox"]);
    assert!(pulled.status.success(), "{}", describe(&pulled));
    let daemon = Daemon::start(&e.sb, &[]);
    let file = e.dir.join("compose.yaml");
    let mut up =
        e.sb.command(env!("CARGO_BIN_EXE_stack"))
            .arg("-f")
            .arg(&file)
            .args(["up", "-d", "--parallel", "1"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn stack up");
    let stderr = up.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut created = 0;
    while created < 2 {
        let line = lines.next().expect("up ended early").expect("line");
        if line.starts_with(" Container ") && line.ends_with("  Started") {
            created += 1;
        }
    }
    up.kill().expect("kill the client");
    let _ = up.wait();
    drop(lines);

    // The daemon finishes: the project stops being busy (409 to a plan
    // while it applies), and then its plan is empty.
    let project = stack_spec::load(&stack_spec::LoadOptions {
        files: vec![file.clone()],
        working_dir: e.dir.clone(),
        ..Default::default()
    })
    .expect("load");
    let body = serde_json::to_vec(&stack_api::projects::UpRequest::new(
        &project,
        Default::default(),
        None,
    ))
    .expect("body");
    let client = daemon.client();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (status, _, answer) = client
            .raw(
                stack_api::client::Method::POST,
                "/v1/projects/demo/plan",
                Some(body.clone()),
            )
            .expect("plan");
        if status.as_u16() != 409 {
            let plan: serde_json::Value = serde_json::from_slice(&answer).expect("plan json");
            assert_eq!(status.as_u16(), 200, "{plan}");
            assert_eq!(plan["actions"], serde_json::json!([]), "{plan}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the apply never ended"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let rows = e.ps();
    assert_eq!(rows.len(), services, "{rows:?}");
    assert!(rows.iter().all(|r| r["State"] == "running"), "{rows:?}");
    assert!(
        daemon.log_text().contains("client left; applying on"),
        "{}",
        daemon.log_text()
    );
    e.ok(&["down", "-t", "0"]);
    daemon.terminate();
    e.sb.assert_no_leaks();
}

/// Attached `up` through a daemon that dies: the session ends with an
/// error naming the daemon, the containers keep running, and a new daemon
/// takes them down.
#[test]
fn attached_up_fails_when_its_daemon_dies_and_the_containers_stay() {
    let Some(e) = env(false) else { return };
    e.write(
        r#"
name: demo
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo ready; exec sleep 1000"]
    stop_grace_period: 1s
"#,
    );
    let daemon = Daemon::start(&e.sb, &[]);
    let file = e.dir.join("compose.yaml");
    let mut up =
        e.sb.command(env!("CARGO_BIN_EXE_stack"))
            .arg("-f")
            .arg(&file)
            .arg("up")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn stack up");
    let stdout = up.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let header = lines.next().expect("the header").expect("line");
    assert_eq!(header, "Attaching to demo-web-1");
    let first = lines.next().expect("a log line").expect("line");
    assert!(first.ends_with("ready"), "{first}");
    daemon.kill_hard();
    let out = up.wait_with_output().expect("up ends");
    assert!(!out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stack daemon at"), "{err}");

    let daemon = Daemon::start(&e.sb, &[]);
    let rows = e.ps();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["State"], "running", "{rows:?}");
    e.ok(&["down", "-t", "0"]);
    daemon.terminate();
    e.sb.assert_no_leaks();
}

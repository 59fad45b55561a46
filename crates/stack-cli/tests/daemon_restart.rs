//! The daemon does not own containers: `kill -9` of it leaves them running,
//! and a new daemon adopts them and reports the exit code of one that ended
//! while no daemon was running.

mod daemon_support;
mod run_support;

use std::time::Duration;

use daemon_support::Daemon;
use run_support::{busybox_rootfs, describe, stack};
use stack_daemon::api::ContainerSummary;

fn status_of(sb: &stack_testkit::Sandbox, name: &str) -> serde_json::Value {
    let out = stack(sb, &["--no-daemon", "container", "inspect", name]);
    assert!(out.status.success(), "{}", describe(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("inspect json");
    doc[0]["State"].clone()
}

#[test]
fn kill_9_leaves_containers_running_and_a_new_daemon_recovers_exit_codes() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let daemon = Daemon::start(&sb, &[]);
    for (name, script) in [
        ("steady", "exec sleep 100"),
        ("doomed", "trap 'exit 7' TERM; while :; do sleep 0.05; done"),
    ] {
        let out = stack(
            &sb,
            &[
                "run",
                "-d",
                "--network",
                "none",
                "--name",
                name,
                "--rootfs",
                root.to_str().expect("path"),
                "sh",
                "-c",
                script,
            ],
        );
        assert!(out.status.success(), "{}", describe(&out));
    }
    std::thread::sleep(Duration::from_millis(300));
    // The daemon has seen both running (it looks every second).
    std::thread::sleep(Duration::from_millis(1200));
    daemon.kill_hard();
    assert!(
        sb.run_dir.join("stack.sock").exists(),
        "a SIGKILLed daemon leaves its socket"
    );

    assert_eq!(status_of(&sb, "steady")["Status"], "running");
    assert_eq!(status_of(&sb, "doomed")["Status"], "running");
    let out = stack(
        &sb,
        &["--no-daemon", "container", "kill", "-s", "TERM", "doomed"],
    );
    assert!(out.status.success(), "{}", describe(&out));
    for _ in 0..200 {
        if status_of(&sb, "doomed")["Status"] == "exited" {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }

    // The stale socket is replaced; the pid file's lock died with the old daemon.
    let daemon = Daemon::start(&sb, &[]);
    let list: Vec<ContainerSummary> = daemon
        .client()
        .get("/v1/containers?all=true")
        .expect("list");
    let by_name = |n: &str| list.iter().find(|c| c.name == n).cloned().expect("listed");
    assert_eq!(by_name("steady").status, "running");
    let doomed = by_name("doomed");
    assert_eq!(
        (doomed.status.as_str(), doomed.exit_code),
        ("exited", Some(7))
    );
    let log = daemon.log_text();
    assert!(
        log.lines()
            .any(|l| l.contains("exited while the daemon was down")
                && l.contains("doomed")
                && l.contains("Some(7)")),
        "{log}"
    );
    assert!(
        !log.lines()
            .any(|l| l.contains("exited while the daemon was down") && l.contains("steady")),
        "{log}"
    );

    // A second daemon on the same socket is refused while this one runs.
    let out = sb
        .command(env!("CARGO_BIN_EXE_stack"))
        .arg("daemon")
        .output()
        .expect("second daemon");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("another stack daemon"),
        "{}",
        describe(&out)
    );

    // SIGTERM leaves containers running (no --shutdown-stops).
    daemon.terminate();
    assert_eq!(status_of(&sb, "steady")["Status"], "running");

    // With --shutdown-stops they are stopped on the way out.
    let daemon = Daemon::start(&sb, &["--shutdown-stops"]);
    daemon.terminate();
    assert_eq!(status_of(&sb, "steady")["Status"], "exited");

    for name in ["steady", "doomed"] {
        let out = stack(&sb, &["--no-daemon", "container", "rm", "--force", name]);
        assert!(out.status.success(), "{}", describe(&out));
    }
    sb.assert_no_leaks();
}

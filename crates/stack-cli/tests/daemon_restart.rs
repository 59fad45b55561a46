//! The daemon does not own containers: `kill -9` of it leaves 50 running,
//! and a new daemon adopts them without restarting any, and reports the
//! exit code of each one that ended while no daemon was running.

mod daemon_support;
mod run_support;

use std::time::Duration;

use daemon_support::Daemon;
use run_support::{busybox_rootfs, describe, run_detached, stack};
use stack_api::system::ContainerSummary;

fn status_of(sb: &stack_testkit::Sandbox, name: &str) -> serde_json::Value {
    let out = stack(sb, &["--no-daemon", "container", "inspect", name]);
    assert!(out.status.success(), "{}", describe(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("inspect json");
    doc[0]["State"].clone()
}

/// Containers of the test: 40 that keep running and 10 that end, each
/// with its own exit code, while no daemon runs.
const STEADY: usize = 40;
const DOOMED: usize = 10;

fn pid_of(sb: &stack_testkit::Sandbox, name: &str) -> i64 {
    status_of(sb, name)["Pid"].as_i64().expect("pid")
}

#[test]
fn kill_9_leaves_containers_running_and_a_new_daemon_recovers_exit_codes() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let daemon = Daemon::start(&sb, &[]);
    let steady: Vec<String> = (0..STEADY).map(|i| format!("steady{i}")).collect();
    let doomed: Vec<String> = (0..DOOMED).map(|i| format!("doomed{i}")).collect();
    let scripts = steady
        .iter()
        .map(|n| (n.clone(), "exec sleep 100".to_string()))
        .chain(doomed.iter().enumerate().map(|(i, n)| {
            (
                n.clone(),
                format!("trap 'exit {}' TERM; while :; do sleep 0.05; done", 10 + i),
            )
        }));
    for (name, script) in scripts {
        run_detached(&sb, &root, &name, &script);
    }
    // The daemon has seen them all running (it looks every second).
    std::thread::sleep(Duration::from_millis(1500));
    daemon.kill_hard();
    assert!(
        sb.run_dir.join("stack.sock").exists(),
        "a SIGKILLed daemon leaves its socket"
    );

    let pids: Vec<i64> = steady.iter().map(|n| pid_of(&sb, n)).collect();
    for name in steady.iter().chain(&doomed) {
        assert_eq!(status_of(&sb, name)["Status"], "running", "{name}");
    }
    for name in &doomed {
        let out = stack(
            &sb,
            &["--no-daemon", "container", "kill", "-s", "TERM", name],
        );
        assert!(out.status.success(), "{}", describe(&out));
    }
    for name in &doomed {
        for _ in 0..200 {
            if status_of(&sb, name)["Status"] == "exited" {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    // The stale socket is replaced; the pid file's lock died with the old daemon.
    let daemon = Daemon::start(&sb, &[]);
    let list: Vec<ContainerSummary> = daemon
        .client()
        .get("/v1/containers?all=true")
        .expect("list");
    assert_eq!(list.len(), STEADY + DOOMED);
    let by_name = |n: &str| list.iter().find(|c| c.name == n).cloned().expect("listed");
    for (name, pid) in steady.iter().zip(&pids) {
        let c = by_name(name);
        assert_eq!(c.status, "running", "{name}");
        assert_eq!(c.restart_count, 0, "{name} was not restarted");
        assert_eq!(
            pid_of(&sb, name),
            *pid,
            "{name} still runs the same process"
        );
    }
    let log = daemon.log_text();
    for (i, name) in doomed.iter().enumerate() {
        let c = by_name(name);
        let code = 10 + i as i32;
        assert_eq!(
            (c.status.as_str(), c.exit_code),
            ("exited", Some(code)),
            "{name}"
        );
        assert!(
            log.lines()
                .any(|l| l.contains("exited while the daemon was down")
                    && l.contains(&format!("{name} "))
                    && l.contains(&format!("Some({code})"))),
            "{name}: {log}"
        );
    }
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
    assert_eq!(status_of(&sb, "steady0")["Status"], "running");

    // With --shutdown-stops they are stopped on the way out.
    let daemon = Daemon::start(&sb, &["--shutdown-stops"]);
    daemon.terminate();
    for name in &steady {
        assert_eq!(status_of(&sb, name)["Status"], "exited", "{name}");
    }

    for name in steady.iter().chain(&doomed) {
        let out = stack(&sb, &["--no-daemon", "container", "rm", "--force", name]);
        assert!(out.status.success(), "{}", describe(&out));
    }
    sb.assert_no_leaks();
}

//! `stack container pause|unpause`: a paused container's processes stop
//! where they stand (a counter stops counting) and go on after the
//! unpause; what a paused container refuses (exec, a second pause) and
//! what still works on it (stop, kill, rm -f) with no restart policy
//! kicking in and no healthcheck failing it; its freezer cgroup gone after
//! rm. With both backends.

mod run_support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use run_support::*;
use serde_json::Value;
use stack_testkit::Sandbox;

/// Writes a growing number to /tmp/n every 20 ms, by rename, so a freeze
/// never leaves the file half written.
const COUNTER: &str =
    "i=0; while true; do i=$((i+1)); echo $i > /tmp/n.new; mv /tmp/n.new /tmp/n; sleep 0.02; done";

fn inspect(sb: &Sandbox, name: &str) -> Value {
    let out = stack(sb, &["container", "inspect", name]);
    assert!(out.status.success(), "inspect {name}: {}", describe(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("inspect json");
    doc[0].clone()
}

fn counter_start(sb: &Sandbox, root: &std::path::Path, name: &str, runtime: &str) {
    let out = stack(
        sb,
        &[
            "run",
            "-d",
            "--network",
            "none",
            "--runtime",
            runtime,
            "--name",
            name,
            "--rootfs",
            root.to_str().expect("utf-8 path"),
            "sh",
            "-c",
            COUNTER,
        ],
    );
    assert!(out.status.success(), "run {name}: {}", describe(&out));
}

/// The counter as the container last wrote it, read through its first
/// process's root (which works while it is frozen).
fn count(pid: i64) -> u64 {
    let path = format!("/proc/{pid}/root/tmp/n");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // Before the first rename there is no file yet.
        if let Some(n) = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            return n;
        }
        assert!(Instant::now() < deadline, "{path} never held a number");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn err_text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The container's directory in the v1 freezer hierarchy, on a host that
/// has one.
fn v1_freezer_dir(doc: &Value) -> Option<PathBuf> {
    let base = PathBuf::from("/sys/fs/cgroup/freezer");
    let rel = doc["Config"]["cgroup_path"].as_str().expect("cgroup_path");
    base.is_dir().then(|| base.join(rel))
}

fn pause_and_resume(runtime: &str) {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    counter_start(&sb, &root, "ticker", runtime);
    let doc = inspect(&sb, "ticker");
    let pid = doc["State"]["Pid"].as_i64().expect("pid");
    let freezer = v1_freezer_dir(&doc);
    if let Some(dir) = &freezer {
        assert!(dir.is_dir(), "the container joined the freezer: {dir:?}");
    }
    wait_for("the counter to count", || count(pid) > 3);

    let out = stack(&sb, &["container", "pause", "ticker"]);
    assert!(out.status.success(), "pause: {}", describe(&out));
    let doc = inspect(&sb, "ticker");
    assert_eq!(doc["State"]["Status"], "paused", "{doc}");
    assert_eq!(doc["State"]["Paused"], true, "{doc}");
    assert_eq!(doc["State"]["Running"], true, "{doc}");
    if let Some(dir) = &freezer {
        let state = std::fs::read_to_string(dir.join("freezer.state")).expect("freezer.state");
        assert_eq!(state.trim(), "FROZEN");
    }
    let frozen_at = count(pid);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(count(pid), frozen_at, "a paused container counts on");
    let ls = String::from_utf8_lossy(&stack(&sb, &["container", "ls"]).stdout).into_owned();
    assert!(ls.contains("ticker") && ls.contains("(Paused)"), "{ls}");

    let again = stack(&sb, &["container", "pause", "ticker"]);
    assert!(!again.status.success());
    assert!(
        err_text(&again).contains("container ticker is already paused"),
        "{}",
        describe(&again)
    );
    let exec = stack(&sb, &["container", "exec", "ticker", "true"]);
    assert!(!exec.status.success());
    assert!(
        err_text(&exec).contains("container ticker is paused, unpause the container before exec"),
        "{}",
        describe(&exec)
    );

    let out = stack(&sb, &["container", "unpause", "ticker"]);
    assert!(out.status.success(), "unpause: {}", describe(&out));
    wait_for("the counter to count on", || count(pid) > frozen_at + 3);
    let doc = inspect(&sb, "ticker");
    assert_eq!(doc["State"]["Status"], "running", "{doc}");
    assert_eq!(doc["State"]["Paused"], false, "{doc}");
    let again = stack(&sb, &["container", "unpause", "ticker"]);
    assert!(
        err_text(&again).contains("container ticker is not paused"),
        "{}",
        describe(&again)
    );

    // Both steps are in the host's event log.
    let until = (std::time::SystemTime::now() + Duration::from_secs(2))
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        .to_string();
    let events = stack(
        &sb,
        &[
            "events", "--all", "--since", "0", "--until", &until, "--format", "json",
        ],
    );
    let actions: Vec<String> = String::from_utf8_lossy(&events.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("event json"))
        .filter(|e| e["Actor"]["Attributes"]["name"] == "ticker")
        .map(|e| e["Action"].as_str().unwrap_or_default().to_string())
        .collect();
    let paused_at = actions.iter().position(|a| a == "pause");
    let unpaused_at = actions.iter().position(|a| a == "unpause");
    assert!(
        matches!((paused_at, unpaused_at), (Some(p), Some(u)) if p < u),
        "{actions:?}"
    );

    // Paused again, then removed with --force: nothing is left, the
    // freezer cgroup included.
    assert!(stack(&sb, &["container", "pause", "ticker"])
        .status
        .success());
    let out = stack(&sb, &["container", "rm", "--force", "ticker"]);
    assert!(out.status.success(), "rm -f: {}", describe(&out));
    if let Some(dir) = &freezer {
        assert!(!dir.exists(), "{dir:?} left behind");
    }
    assert_clean(&sb);
}

#[test]
fn pause_freezes_and_unpause_resumes() {
    pause_and_resume("stack");
}

#[test]
fn pause_freezes_and_unpause_resumes_under_runc() {
    pause_and_resume("runc");
}

#[test]
fn stop_and_kill_reach_a_paused_container_and_no_policy_restarts_it() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let rootfs = root.to_str().expect("utf-8 path");
    // Handles TERM with its own exit code: a stop that ends in 7 was
    // handled by the thawed process, not the SIGKILL after the grace.
    let out = stack(
        &sb,
        &[
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            "polite",
            "--restart",
            "always",
            "--rootfs",
            rootfs,
            "sh",
            "-c",
            "trap 'exit 7' TERM; while true; do sleep 0.05; done",
        ],
    );
    assert!(out.status.success(), "run: {}", describe(&out));
    counter_start(&sb, &root, "stubborn", "stack");
    for name in ["polite", "stubborn"] {
        wait_for("a running container", || {
            inspect(&sb, name)["State"]["Status"] == "running"
        });
        let out = stack(&sb, &["container", "pause", name]);
        assert!(out.status.success(), "pause {name}: {}", describe(&out));
    }

    let started = Instant::now();
    let out = stack(&sb, &["container", "stop", "-t", "20", "polite"]);
    assert!(out.status.success(), "stop: {}", describe(&out));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the stop signal waited for the grace: {:?}",
        started.elapsed()
    );
    let doc = inspect(&sb, "polite");
    assert_eq!(doc["State"]["Status"], "exited", "{doc}");
    assert_eq!(doc["State"]["ExitCode"], 7, "{doc}");
    assert_eq!(doc["State"]["Paused"], false, "{doc}");

    let out = stack(&sb, &["container", "kill", "stubborn"]);
    assert!(out.status.success(), "kill: {}", describe(&out));
    wait_for("the killed container to exit", || {
        inspect(&sb, "stubborn")["State"]["Status"] == "exited"
    });
    assert_eq!(inspect(&sb, "stubborn")["State"]["ExitCode"], 137);

    // `always` does not bring back what a user stopped.
    std::thread::sleep(Duration::from_millis(1500));
    let doc = inspect(&sb, "polite");
    assert_eq!(
        (
            doc["State"]["Status"].as_str(),
            doc["RestartCount"].as_u64()
        ),
        (Some("exited"), Some(0)),
        "{doc}"
    );
    let out = stack(&sb, &["container", "pause", "polite"]);
    assert!(
        err_text(&out).contains("container polite is not running"),
        "{}",
        describe(&out)
    );
    for name in ["polite", "stubborn"] {
        assert!(stack(&sb, &["container", "rm", name]).status.success());
    }
    assert_clean(&sb);
}

#[test]
fn a_paused_container_is_not_probed_into_unhealthy() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let out = stack(
        &sb,
        &[
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            "checked",
            "--restart",
            "always",
            "--restart-on-unhealthy",
            "--health-cmd",
            "true",
            "--health-interval",
            "100ms",
            "--health-timeout",
            "200ms",
            "--health-retries",
            "1",
            "--rootfs",
            root.to_str().expect("utf-8 path"),
            "sh",
            "-c",
            COUNTER,
        ],
    );
    assert!(out.status.success(), "run: {}", describe(&out));
    wait_for("healthy", || {
        inspect(&sb, "checked")["State"]["Health"]["Status"] == "healthy"
    });
    let pid = inspect(&sb, "checked")["State"]["Pid"].clone();
    assert!(stack(&sb, &["container", "pause", "checked"])
        .status
        .success());
    // Ten intervals and more than five timeouts while frozen.
    std::thread::sleep(Duration::from_millis(1500));
    let doc = inspect(&sb, "checked");
    assert_eq!(doc["State"]["Status"], "paused", "{doc}");
    assert_eq!(doc["State"]["Health"]["Status"], "healthy", "{doc}");
    assert_eq!(doc["State"]["Health"]["FailingStreak"], 0, "{doc}");
    assert!(stack(&sb, &["container", "unpause", "checked"])
        .status
        .success());
    // Probed again once running: still healthy, never restarted.
    let last_end = |d: &Value| {
        d["State"]["Health"]["Log"]
            .as_array()
            .and_then(|l| l.last())
            .map(|p| p["End"].clone())
    };
    let paused_last = last_end(&doc);
    wait_for("a probe after the unpause", || {
        last_end(&inspect(&sb, "checked")) != paused_last
    });
    let doc = inspect(&sb, "checked");
    assert_eq!(doc["State"]["Health"]["Status"], "healthy", "{doc}");
    assert_eq!(doc["State"]["Health"]["FailingStreak"], 0, "{doc}");
    assert_eq!(
        (doc["RestartCount"].as_u64(), doc["State"]["Pid"].clone()),
        (Some(0), pid),
        "{doc}"
    );
    assert!(stack(&sb, &["container", "rm", "--force", "checked"])
        .status
        .success());
    assert_clean(&sb);
}

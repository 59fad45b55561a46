//! `stack container update`: new limits land in the running container's
//! cgroup at once and stay through a restart; a new restart policy is
//! followed by the running container's monitor; impossible values are
//! refused naming the container. With both backends.

mod run_support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use run_support::*;
use serde_json::Value;
use stack_testkit::Sandbox;

fn inspect(sb: &Sandbox, name: &str) -> Value {
    let out = stack(sb, &["container", "inspect", name]);
    assert!(out.status.success(), "inspect {name}: {}", describe(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("inspect json");
    doc[0].clone()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A limit file of the container's cgroup: `(v1 controller, v1 file, v2
/// file)`, read where this host keeps it.
fn limit(sb: &Sandbox, name: &str, files: (&str, &str, &str)) -> String {
    let doc = inspect(sb, name);
    let rel = doc["Config"]["cgroup_path"].as_str().expect("cgroup_path");
    let (controller, v1, v2) = files;
    let v1_dir = PathBuf::from("/sys/fs/cgroup").join(controller);
    let path = if v1_dir.is_dir() {
        v1_dir.join(rel).join(v1)
    } else {
        PathBuf::from("/sys/fs/cgroup").join(rel).join(v2)
    };
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {path:?}: {e}"))
        .trim()
        .to_string()
}

const MEMORY: (&str, &str, &str) = ("memory", "memory.limit_in_bytes", "memory.max");
const PIDS: (&str, &str, &str) = ("pids", "pids.max", "pids.max");

fn update(sb: &Sandbox, args: &[&str]) -> std::process::Output {
    let mut all = vec!["container", "update"];
    all.extend_from_slice(args);
    stack(sb, &all)
}

fn updates_live_and_kept(runtime: &str) {
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
            "--init",
            "--runtime",
            runtime,
            "--name",
            "box",
            "--memory",
            "64m",
            "--rootfs",
            root.to_str().expect("utf-8 path"),
            "sleep",
            "1000",
        ],
    );
    assert!(out.status.success(), "run: {}", describe(&out));
    assert_eq!(limit(&sb, "box", MEMORY), (64u64 << 20).to_string());

    let out = update(
        &sb,
        &[
            "--memory",
            "128m",
            "--pids-limit",
            "50",
            "--restart",
            "always",
            "box",
        ],
    );
    assert!(out.status.success(), "update: {}", describe(&out));
    assert_eq!(limit(&sb, "box", MEMORY), (128u64 << 20).to_string());
    assert_eq!(limit(&sb, "box", PIDS), "50");
    let doc = inspect(&sb, "box");
    assert_eq!(doc["Config"]["resources"]["memory"], 128u64 << 20, "{doc}");
    assert_eq!(
        doc["Config"]["restart"]["policy"]["name"], "always",
        "{doc}"
    );

    // The running monitor follows the new policy: a crash (not a user's
    // kill) brings the container back, with the new limits.
    let pid = doc["State"]["Pid"].as_i64().expect("pid");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill the container's first process");
    wait_for("the policy's restart", || {
        let d = inspect(&sb, "box");
        d["RestartCount"] == 1 && d["State"]["Status"] == "running"
    });
    assert_eq!(limit(&sb, "box", MEMORY), (128u64 << 20).to_string());
    assert_eq!(limit(&sb, "box", PIDS), "50");

    // A user's stop and start keep them too.
    assert!(stack(&sb, &["container", "stop", "-t", "1", "box"])
        .status
        .success());
    let out = update(&sb, &["--memory", "96m", "box"]);
    assert!(out.status.success(), "update stopped: {}", describe(&out));
    assert!(stack(&sb, &["container", "start", "box"]).status.success());
    assert_eq!(limit(&sb, "box", MEMORY), (96u64 << 20).to_string());
    assert_eq!(limit(&sb, "box", PIDS), "50");

    let below = update(&sb, &["--memory-swap", "32m", "box"]);
    assert!(!below.status.success());
    let text = String::from_utf8_lossy(&below.stderr);
    // (miette wraps long messages: only short pieces are looked for.)
    assert!(
        text.contains("container box") && text.contains("is below the"),
        "{text}"
    );
    assert_eq!(limit(&sb, "box", MEMORY), (96u64 << 20).to_string());
    let nothing = update(&sb, &["box"]);
    assert!(!nothing.status.success());
    assert!(
        String::from_utf8_lossy(&nothing.stderr).contains("nothing to update"),
        "{}",
        describe(&nothing)
    );
    let bad = update(&sb, &["--restart", "sometimes", "box"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("sometimes"),
        "{}",
        describe(&bad)
    );

    assert!(stack(&sb, &["container", "rm", "--force", "box"])
        .status
        .success());
    assert_clean(&sb);
}

#[test]
fn update_is_live_and_kept() {
    updates_live_and_kept("stack");
}

#[test]
fn update_is_live_and_kept_under_runc() {
    updates_live_and_kept("runc");
}

/// Memory and swap together, where the host accounts swap (v1's
/// `memory.memsw.*`; v2's `memory.swap.max` is the swap alone).
#[test]
fn update_sets_memory_and_swap() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    run_detached(&sb, &root, "swap", "exec sleep 1000");
    let out = update(&sb, &["--memory", "64m", "--memory-swap", "256m", "swap"]);
    let v1 = PathBuf::from("/sys/fs/cgroup/memory");
    let accounted = if v1.is_dir() {
        v1.join("memory.memsw.limit_in_bytes").exists()
    } else {
        true
    };
    if !accounted {
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("swap accounting"),
            "{}",
            describe(&out)
        );
    } else {
        assert!(out.status.success(), "update: {}", describe(&out));
        let swap = limit(
            &sb,
            "swap",
            ("memory", "memory.memsw.limit_in_bytes", "memory.swap.max"),
        );
        let want = if v1.is_dir() {
            256u64 << 20
        } else {
            192u64 << 20
        };
        assert_eq!(swap, want.to_string());
        assert_eq!(limit(&sb, "swap", MEMORY), (64u64 << 20).to_string());
        // Memory past memory+swap, alone, is refused; with -1 it goes.
        let out = update(&sb, &["--memory", "512m", "swap"]);
        assert!(!out.status.success(), "{}", describe(&out));
        let out = update(&sb, &["--memory", "512m", "--memory-swap", "-1", "swap"]);
        assert!(out.status.success(), "{}", describe(&out));
        assert_eq!(limit(&sb, "swap", MEMORY), (512u64 << 20).to_string());
    }
    assert!(stack(&sb, &["container", "rm", "--force", "swap"])
        .status
        .success());
    assert_clean(&sb);
}

//! Detached containers: logs, exec, stop with a grace period, kill, --init
//! reaping and signal forwarding, rm leaving nothing.

mod run_support;

use std::time::{Duration, Instant};

use run_support::*;

fn detached(
    sb: &stack_testkit::Sandbox,
    root: &std::path::Path,
    flags: &[&str],
    cmd: &[&str],
) -> String {
    let mut args = vec!["run", "-d"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--rootfs", root.to_str().expect("path")]);
    args.extend_from_slice(cmd);
    let out = stack(sb, &args);
    assert!(
        out.status.success(),
        "run -d: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn exit_code(sb: &stack_testkit::Sandbox, name: &str) -> serde_json::Value {
    let doc: serde_json::Value =
        serde_json::from_slice(&stack(sb, &["container", "inspect", name]).stdout)
            .expect("inspect");
    doc[0]["State"]["ExitCode"].clone()
}

#[test]
fn logs_exec_and_stop_after_grace() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let id = detached(
        &sb,
        &root,
        &["--name", "svc"],
        &["sh", "-c", "echo out; echo err >&2; exec sleep 100"],
    );
    assert_eq!(id.len(), 64);
    std::thread::sleep(Duration::from_millis(300));
    let ls = text(&stack(&sb, &["container", "ls"]));
    assert!(ls.contains("svc") && ls.contains("Up "), "{ls}");
    let logs = stack(&sb, &["container", "logs", "svc"]);
    assert_eq!(text(&logs), "out\n");
    assert_eq!(String::from_utf8_lossy(&logs.stderr), "err\n");
    let raw = std::fs::read_to_string(
        sb.state_root
            .join("containers")
            .join(&id)
            .join("container.log"),
    )
    .expect("log file");
    let first: serde_json::Value =
        serde_json::from_str(raw.lines().next().expect("a line")).expect("json line");
    assert!(
        first["time"].as_str().is_some_and(|t| t.ends_with('Z')) && first["stream"] == "stdout",
        "{first}"
    );
    let exec = stack(
        &sb,
        &[
            "container",
            "exec",
            "-u",
            "alice",
            "svc",
            "sh",
            "-c",
            "id -u; hostname; exit 3",
        ],
    );
    assert_eq!(exec.status.code(), Some(3));
    assert_eq!(text(&exec).lines().next(), Some("1000"));
    assert!(id.starts_with(text(&exec).lines().nth(1).expect("hostname")));
    let doc: serde_json::Value =
        serde_json::from_slice(&stack(&sb, &["container", "inspect", "svc"]).stdout)
            .expect("inspect");
    assert_eq!(
        doc[0]["Usage"]["pids"], 1,
        "usage readable from the cgroup: {doc}"
    );
    assert!(
        doc[0]["Usage"]["memory_bytes"]
            .as_u64()
            .is_some_and(|m| m > 0),
        "{doc}"
    );
    // sleep as PID 1 ignores SIGTERM: stop waits out the grace, then kills.
    let started = Instant::now();
    assert!(stack(&sb, &["container", "stop", "-t", "1", "svc"])
        .status
        .success());
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(8),
        "{took:?}"
    );
    assert_eq!(exit_code(&sb, "svc"), 137);
    assert!(!stack(&sb, &["container", "rm", "nope"]).status.success());
    assert!(stack(&sb, &["container", "rm", "svc"]).status.success());
    assert_clean(&sb);
}

#[test]
fn init_forwards_term_and_reaps_zombies() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    // An orphan re-parented to PID 1 becomes a zombie unless PID 1 reaps:
    // `sleep` as PID 1 never does, our init does.
    let script = "(sleep 0.1 &); exec sleep 100";
    detached(&sb, &root, &["--name", "plain"], &["sh", "-c", script]);
    detached(
        &sb,
        &root,
        &["--init", "--name", "reaper"],
        &["sh", "-c", script],
    );
    std::thread::sleep(Duration::from_millis(800));
    let zombies = |name: &str| {
        let out = stack(&sb, &["container", "exec", name, "ps", "-o", "stat,comm"]);
        text(&out)
            .lines()
            .filter(|l| l.trim_start().starts_with('Z'))
            .count()
    };
    assert_eq!(
        zombies("plain"),
        1,
        "without init the orphan stays a zombie"
    );
    assert_eq!(zombies("reaper"), 0, "init reaped the orphan");
    assert!(stack(&sb, &["container", "rm", "--force", "plain"])
        .status
        .success());
    let started = Instant::now();
    assert!(stack(&sb, &["container", "stop", "-t", "10", "reaper"])
        .status
        .success());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "TERM reached sleep through init"
    );
    assert_eq!(exit_code(&sb, "reaper"), 143);
    assert!(stack(&sb, &["container", "rm", "reaper"]).status.success());
    // kill and rm --force on a running container.
    detached(&sb, &root, &["--name", "victim"], &["sleep", "100"]);
    assert!(stack(&sb, &["container", "kill", "victim"])
        .status
        .success());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(exit_code(&sb, "victim"), 137);
    detached(&sb, &root, &["--name", "forced"], &["sleep", "100"]);
    assert!(
        !stack(&sb, &["container", "rm", "forced"]).status.success(),
        "running needs --force"
    );
    assert!(
        stack(&sb, &["container", "rm", "--force", "forced", "victim"])
            .status
            .success()
    );
    assert_clean(&sb);
}

#[test]
fn logs_follow_until_exit() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    detached(
        &sb,
        &root,
        &["--name", "talker"],
        &["sh", "-c", "echo one; sleep 1; echo two; exit 3"],
    );
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let out = stack(&sb, &["container", "logs", "--follow", "talker"]);
    assert_eq!(text(&out), "one\ntwo\n");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "followed until the end"
    );
    assert_eq!(exit_code(&sb, "talker"), 3);
    assert!(stack(&sb, &["container", "rm", "talker"]).status.success());
    assert_clean(&sb);
}

#[test]
fn signals_to_a_foreground_run_reach_the_container() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let child = sb
        .command(stack_bin())
        .args([
            "run",
            "--rm",
            "--init",
            "--rootfs",
            root.to_str().expect("path"),
            "sleep",
            "100",
        ])
        .spawn()
        .expect("spawn stack run");
    std::thread::sleep(Duration::from_millis(800));
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signal stack run");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(143),
        "TERM went through stack run and init to sleep"
    );
    assert_clean(&sb);
}

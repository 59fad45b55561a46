//! Builds that end before their time: what a killed build leaves (its
//! step container, its directory under `build-tmp`) is removed by the
//! next build and by `builder prune`, while a build that still runs
//! keeps its own.

mod build_support;
mod run_support;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use build_support::{build, ok, sandbox_with_mirror, write_tree};
use run_support::{describe as text, stack, stack_bin};
use stack_testkit::Sandbox;

/// Starts `stack image build -t TAG CTX` in the background.
fn spawn_build(sb: &Sandbox, tag: &str, ctx: &Path) -> Child {
    sb.command(stack_bin())
        .args(["image", "build", "--progress", "plain", "-t", tag])
        .arg(ctx)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stack image build")
}

/// `stack container ls -a`.
fn containers(sb: &Sandbox) -> String {
    ok(sb, &["container", "ls", "-a"])
}

/// Waits until a running container's command contains `needle`.
fn wait_running(sb: &Sandbox, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list = containers(sb);
        if list.lines().any(|l| l.contains(needle) && l.contains("Up")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no step running {needle}: {list}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The names under `build-tmp`, without its lock file.
fn build_tmp(sb: &Sandbox) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(sb.state_root.join("build-tmp"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A build killed while its `RUN` sleeps, as `kill -9` leaves it.
fn kill_mid_step(sb: &Sandbox, ctx: &Path, tag: &str) {
    write_tree(ctx, &[("Dockerfile", "FROM busybox\nRUN sleep 300\n")]);
    let mut child = spawn_build(sb, tag, ctx);
    wait_running(sb, "sleep 300");
    child.kill().expect("kill the build");
    child.wait().expect("reap the build");
    assert!(containers(sb).contains("sleep 300"), "the step was left");
    assert_eq!(build_tmp(sb).len(), 1, "{:?}", build_tmp(sb));
}

#[test]
fn what_a_killed_build_left_is_swept_and_a_running_builds_is_kept() {
    let Some((sb, _reg)) = sandbox_with_mirror() else {
        return;
    };
    let killed = sb.dir().join("killed");
    kill_mid_step(&sb, &killed, "killed");
    let left = build_tmp(&sb);
    // An uploaded context of the Docker API whose request was killed.
    write_tree(
        &sb.state_root.join("build-tmp/context-1-0"),
        &[("Dockerfile", "FROM busybox\n")],
    );

    // A build that runs meanwhile.
    let running = sb.dir().join("running");
    write_tree(
        &running,
        &[(
            "Dockerfile",
            "FROM busybox\nRUN sleep 6 && echo running > /running\n",
        )],
    );
    let live = spawn_build(&sb, "running", &running);
    wait_running(&sb, "sleep 6");
    let mine: Vec<String> = build_tmp(&sb)
        .into_iter()
        .filter(|n| !left.contains(n) && n.as_str() != "context-1-0")
        .collect();
    assert_eq!(mine.len(), 1, "{:?}", build_tmp(&sb));

    // The next build sweeps what the killed one left, not the live one's.
    let next = sb.dir().join("next");
    write_tree(
        &next,
        &[("Dockerfile", "FROM busybox\nRUN echo next > /next\n")],
    );
    build(&sb, &["-t", "next", &next.to_string_lossy()]);
    let list = containers(&sb);
    assert!(!list.contains("sleep 300"), "{list}");
    assert!(list.contains("sleep 6"), "{list}");
    assert_eq!(build_tmp(&sb), mine);

    let out = live.wait_with_output().expect("running build");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        ok(&sb, &["run", "--rm", "running", "cat", "/running"]),
        "running\n"
    );
    assert_eq!(build_tmp(&sb), Vec::<String>::new());

    // `builder prune` sweeps too.
    kill_mid_step(&sb, &killed, "killed");
    let pruned = ok(&sb, &["builder", "prune"]);
    assert!(
        pruned.contains("1 step container(s), 1 temporary directory"),
        "{pruned}"
    );
    assert!(!containers(&sb).contains("sleep 300"));
    assert_eq!(build_tmp(&sb), Vec::<String>::new());

    assert!(stack(&sb, &["network", "prune"]).status.success());
    sb.assert_no_leaks();
}

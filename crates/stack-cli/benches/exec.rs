//! `stack container exec ID true` through the daemon (attached streams
//! over an upgraded connection) and in process (`--no-daemon`), the same
//! printing 64 MiB, and both on a runc-backend container, measured by
//! hyperfine in one run. Prints hyperfine's table and the ratios of the
//! medians. Needs root, hyperfine and Debian's busybox-static (runc is
//! optional).
//!
//! Run with `cargo xtask bench` (or `cargo bench -p stack-cli --bench exec`).
//! `STACK_BENCH_RUNS` sets the number of runs (default 100).

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("bench exec: skipped, needs root");
        return;
    }
    if Command::new("hyperfine").arg("--version").output().is_err() {
        eprintln!("bench exec: skipped, hyperfine is not installed");
        return;
    }
    let work = std::env::temp_dir().join(format!("stack-bench-exec-{}", std::process::id()));
    let rootfs = support::busybox_rootfs(&work);
    let state = work.join("state");
    let run = work.join("run");
    let env = [
        ("STACK_ROOT", state.as_os_str()),
        ("STACK_RUN", run.as_os_str()),
        ("STACK_CGROUP_PARENT", "stack/bench-exec".as_ref()),
    ];
    let stack = env!("CARGO_BIN_EXE_stack");
    let stack_cmd = |args: &[&str]| {
        let out = Command::new(stack)
            .args(args)
            .envs(env)
            .stdin(Stdio::null())
            .output()
            .expect("run stack");
        assert!(out.status.success(), "stack {args:?}: {out:?}");
    };
    let root = rootfs.to_str().expect("utf-8 path");
    stack_cmd(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        "bench-exec",
        "--rootfs",
        root,
        "sleep",
        "100000",
    ]);
    let runc = Command::new("runc").arg("--version").output().is_ok();
    if runc {
        stack_cmd(&[
            "run",
            "-d",
            "--network",
            "none",
            "--runtime",
            "runc",
            "--name",
            "bench-exec-runc",
            "--rootfs",
            root,
            "sleep",
            "100000",
        ]);
    }
    let mut daemon = Command::new(stack)
        .args(["daemon", "--log-level", "warn"])
        .envs(env)
        .stdin(Stdio::null())
        .spawn()
        .expect("start stack daemon");
    let socket = run.join("stack.sock");
    wait_for_daemon(&socket);
    let host = format!("unix://{}", socket.display());
    let mut commands = vec![
        (
            "daemon",
            format!("{stack} --host {host} container exec bench-exec true"),
        ),
        (
            "in-process",
            format!("{stack} --no-daemon container exec bench-exec true"),
        ),
    ];
    // Throughput: 64 MiB of output through the socket's frames, or straight.
    let big = "bench-exec head -c 67108864 /dev/zero";
    commands.push((
        "daemon-64MiB",
        format!("{stack} --host {host} container exec {big}"),
    ));
    commands.push((
        "in-process-64MiB",
        format!("{stack} --no-daemon container exec {big}"),
    ));
    if runc {
        commands.push((
            "daemon-runc",
            format!("{stack} --host {host} container exec bench-exec-runc true"),
        ));
        commands.push((
            "in-process-runc",
            format!("{stack} --no-daemon container exec bench-exec-runc true"),
        ));
    }
    let runs = std::env::var("STACK_BENCH_RUNS").unwrap_or_else(|_| "100".into());
    let json = work.join("hyperfine.json");
    let mut hf = Command::new("hyperfine");
    hf.args(["-N", "--warmup", "5", "--runs", &runs, "--export-json"])
        .arg(&json);
    for (name, cmd) in &commands {
        hf.args(["-n", name, cmd]);
    }
    let status = hf.envs(env).status().expect("run hyperfine");
    if status.success() {
        support::report(&json, "exec through the daemon");
    }
    stack_cmd(&["--no-daemon", "container", "rm", "--force", "bench-exec"]);
    if runc {
        stack_cmd(&[
            "--no-daemon",
            "container",
            "rm",
            "--force",
            "bench-exec-runc",
        ]);
    }
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = daemon.wait();
    remove_parent_cgroups();
    let _ = std::fs::remove_dir_all(&work);
    assert!(status.success(), "hyperfine failed");
}

/// The (now empty) `stack/bench-exec` cgroup of every hierarchy.
fn remove_parent_cgroups() {
    let Ok(hierarchies) = std::fs::read_dir("/sys/fs/cgroup") else {
        return;
    };
    for h in hierarchies.flatten() {
        let _ = std::fs::remove_dir(h.path().join("stack/bench-exec"));
    }
    let _ = std::fs::remove_dir("/sys/fs/cgroup/stack/bench-exec");
}

fn wait_for_daemon(socket: &Path) {
    let client = stack_api::client::Client::new(socket).expect("client");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !client.ping() {
        assert!(Instant::now() < deadline, "the daemon did not answer");
        std::thread::sleep(Duration::from_millis(20));
    }
}

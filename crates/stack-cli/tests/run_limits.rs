//! cgroup limits seen from inside, the pids limit against a fork bomb, and
//! an OOM kill reported as such.

mod run_support;

use run_support::*;

#[test]
fn limits_are_visible_in_the_container_cgroup() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let script = "if [ -f /sys/fs/cgroup/memory.max ]; then cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max; \
                  else cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; \
                  echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us); fi";
    let (code, out, err) = run_in(
        &sb,
        &root,
        &["--memory", "64m", "--pids-limit", "50", "--cpus", "0.5"],
        &["sh", "-c", script],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "67108864\n50\n50000 100000\n");
    assert_clean(&sb);
}

#[test]
fn fork_bomb_stops_at_the_pids_limit() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    // The inner shell forks until the kernel refuses (and then dies); the
    // outer one reads the count with builtins only, as no fork is left.
    let script = "sh -c 'while true; do sleep 5 & done' 2>/dev/null; \
                  f=/sys/fs/cgroup/pids/pids.current; [ -f $f ] || f=/sys/fs/cgroup/pids.current; read n < $f; echo $n";
    let (code, out, err) = run_in(&sb, &root, &["--pids-limit", "10"], &["sh", "-c", script]);
    assert_eq!(code, 0, "{err}");
    let current: u32 = out
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("pids.current: {out:?} {err}"));
    assert!(
        (8..=10).contains(&current),
        "the bomb filled the pids limit and stopped there: {current}"
    );
    assert_clean(&sb);
}

#[test]
fn memory_hog_is_oom_killed_and_reported() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let out = stack(
        &sb,
        &[
            "run",
            "--name",
            "hog",
            "--memory",
            "16m",
            "--rootfs",
            root.to_str().expect("path"),
            "sh",
            "-c",
            "x=a; while true; do x=$x$x; done",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(137),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inspect = stack(&sb, &["container", "inspect", "hog"]);
    let doc: serde_json::Value = serde_json::from_slice(&inspect.stdout).expect("inspect json");
    assert_eq!(
        doc[0]["State"]["OOMKilled"],
        serde_json::Value::Bool(true),
        "{doc}"
    );
    assert_eq!(doc[0]["State"]["ExitCode"], 137);
    assert!(stack(&sb, &["container", "rm", "hog"]).status.success());
    assert_clean(&sb);
}

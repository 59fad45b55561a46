//! The cgroup v2 device filter (a BPF program) on this kernel: a process
//! in a cgroup with Docker's default rules opens /dev/null but not a host
//! device, even as root. Runs wherever a cgroup2 hierarchy is mounted
//! (at /sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host).

use std::path::PathBuf;
use std::process::Command;

fn cgroup2_root() -> Option<PathBuf> {
    ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.join("cgroup.controllers").exists())
}

#[test]
fn bpf_device_filter_allows_only_the_allowlist() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let Some(root) = cgroup2_root() else {
        panic!("no cgroup2 hierarchy on this host");
    };
    let dir = root.join(&sb.cgroup_parent).join("device-filter");
    std::fs::create_dir_all(&dir).expect("create the test cgroup");
    let rules = stack_runtime::devices::rules(false, &[], &[]).expect("restricted");
    stack_runtime::devices::bpf::attach(&dir, &rules).expect("attach the filter");
    let procs = dir.join("cgroup.procs");
    let script = format!(
        "echo $$ > {procs}; \
         (exec 3</dev/null) && echo null-ok; \
         (exec 3<>/dev/zero) && echo zero-ok; \
         (exec 3</dev/loop-control) 2>/dev/null || echo loop-control-refused; \
         (exec 3</dev/kmsg) 2>/dev/null || echo kmsg-refused",
        procs = procs.display()
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .output()
        .expect("run sh");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        ["null-ok", "zero-ok", "loop-control-refused", "kmsg-refused"],
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Outside the cgroup the same opens work (the refusal is the filter's).
    let out = Command::new("sh")
        .args(["-c", "(exec 3</dev/loop-control) && echo loop-control-ok"])
        .output()
        .expect("run sh");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "loop-control-ok"
    );
    std::fs::remove_dir(&dir).expect("remove the test cgroup");
}

//! `stack run --rm --network none --rootfs <busybox> true`, side by side
//! with `runc run` on the same rootfs (and `podman run` when installed with
//! a `localhost/busybox` image) and the bare-namespace floor (`unshare`),
//! measured by hyperfine in one run so the
//! numbers are comparable. Prints hyperfine's table and the ratios of the
//! medians. Needs root, hyperfine, runc and Debian's busybox-static.
//!
//! Run with `cargo xtask bench` (or `cargo bench -p stack-cli --bench run`).
//! `STACK_BENCH_RUNS` sets the number of runs (default 100).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("bench run: skipped, needs root");
        return;
    }
    if Command::new("hyperfine").arg("--version").output().is_err() {
        eprintln!("bench run: skipped, hyperfine is not installed");
        return;
    }
    let work = std::env::temp_dir().join(format!("stack-bench-{}", std::process::id()));
    let rootfs = support::busybox_rootfs(&work);
    let state = work.join("state");
    let run = work.join("run");
    std::fs::create_dir_all(&state).expect("state dir");
    std::fs::create_dir_all(&run).expect("run dir");
    let stack = env!("CARGO_BIN_EXE_stack");
    let runs = std::env::var("STACK_BENCH_RUNS").unwrap_or_else(|_| "100".into());
    let mut commands = vec![(
        "stack".to_string(),
        format!(
            "{stack} run --rm --network none --rootfs {} true",
            rootfs.display()
        ),
    )];
    if Command::new("runc").arg("--version").output().is_ok() {
        let bundle = runc_bundle(&work, &rootfs);
        commands.push((
            "runc".into(),
            format!(
                "runc --root {} run --bundle {} stack-bench",
                run.join("runc").display(),
                bundle.display()
            ),
        ));
    }
    // The floor: namespaces alone, no rootfs, no cgroup (research: ~4 ms).
    if Command::new("unshare").arg("--version").output().is_ok() {
        commands.push((
            "unshare-floor".into(),
            "unshare --fork --pid --mount --uts --ipc --net true".into(),
        ));
    }
    let podman_image = Command::new("podman")
        .args(["image", "exists", "localhost/busybox"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if podman_image {
        commands.push((
            "podman".into(),
            "podman run --rm --network none localhost/busybox true".into(),
        ));
    }
    let json = work.join("hyperfine.json");
    let mut hf = Command::new("hyperfine");
    hf.args(["-N", "--warmup", "5", "--runs", &runs, "--export-json"])
        .arg(&json);
    for (name, cmd) in &commands {
        hf.args(["-n", name, cmd]);
    }
    hf.env("STACK_ROOT", &state)
        .env("STACK_RUN", &run)
        .env("STACK_CGROUP_PARENT", "stack/bench");
    let status = hf.status().expect("run hyperfine");
    if status.success() {
        support::report(&json, "stack");
    }
    let _ = std::fs::remove_dir_all(&work);
    assert!(status.success(), "hyperfine failed");
}

/// runc's default spec (`runc spec`), running `true` on the read-only rootfs.
fn runc_bundle(work: &Path, rootfs: &Path) -> PathBuf {
    let bundle = work.join("bundle");
    std::fs::create_dir_all(&bundle).expect("bundle dir");
    let ok = Command::new("runc")
        .arg("spec")
        .current_dir(&bundle)
        .status()
        .expect("runc spec")
        .success();
    assert!(ok, "runc spec failed");
    let path = bundle.join("config.json");
    let mut spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("config.json")).expect("json");
    spec["process"]["terminal"] = false.into();
    spec["process"]["args"] = serde_json::json!(["true"]);
    spec["root"] = serde_json::json!({"path": rootfs, "readonly": true});
    std::fs::write(&path, serde_json::to_vec_pretty(&spec).expect("json"))
        .expect("write config.json");
    bundle
}

//! Shared by the `run_*` end-to-end tests: a busybox rootfs built from
//! Debian's busybox-static, and a way to drive the built `stack` binary
//! inside a test's sandbox.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use stack_testkit::Sandbox;

/// The `stack` binary under test.
pub fn stack_bin() -> &'static str {
    env!("CARGO_BIN_EXE_stack")
}

/// Builds a busybox rootfs (the static binary, its applet links, passwd and
/// group with a non-root user `alice` in two extra groups) under the
/// sandbox's directory.
pub fn busybox_rootfs(sb: &Sandbox) -> PathBuf {
    let root = sb.dir().join("busybox");
    for d in ["bin", "etc", "tmp", "root", "home/alice", "data"] {
        std::fs::create_dir_all(root.join(d)).expect("rootfs dir");
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox"))
        .expect("busybox-static is installed (/bin/busybox)");
    let list = Command::new("/bin/busybox")
        .arg("--list")
        .output()
        .expect("busybox --list");
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet))
                .expect("applet link");
        }
    }
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\n",
    )
    .expect("passwd");
    std::fs::write(
        root.join("etc/group"),
        "root:x:0:\nalice:x:1000:\nwheel:x:10:alice\naudio:x:29:alice\n",
    )
    .expect("group");
    std::fs::write(root.join("data/seed.txt"), "from the image\n").expect("seed");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777))
        .expect("tmp mode");
    std::os::unix::fs::chown(root.join("home/alice"), Some(1000), Some(1000)).expect("chown home");
    root
}

/// Runs `stack ARGS` in the sandbox and returns its output.
pub fn stack(sb: &Sandbox, args: &[&str]) -> Output {
    sb.command(stack_bin())
        .args(args)
        .output()
        .expect("run stack")
}

/// A command's status and both streams, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `stack run --rm --rootfs ROOT ARGS...`, returning (exit code, stdout, stderr).
pub fn run_in(sb: &Sandbox, rootfs: &Path, flags: &[&str], cmd: &[&str]) -> (i32, String, String) {
    let mut args: Vec<&str> = vec!["run", "--rm"];
    args.extend_from_slice(flags);
    let root = rootfs.to_str().expect("utf-8 path");
    args.extend_from_slice(&["--rootfs", root]);
    args.extend_from_slice(cmd);
    let out = stack(sb, &args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The value of a `Key:\tvalue` line of /proc/self/status text.
/// `stack run -d --network none --name NAME --rootfs ROOT sh -c SCRIPT`,
/// asserting it started.
pub fn run_detached(sb: &Sandbox, rootfs: &Path, name: &str, script: &str) {
    let out = stack(
        sb,
        &[
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            name,
            "--rootfs",
            rootfs.to_str().expect("utf-8 path"),
            "sh",
            "-c",
            script,
        ],
    );
    assert!(out.status.success(), "run {name}: {}", describe(&out));
}

pub fn status_field<'a>(status: &'a str, key: &str) -> &'a str {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
        .map(str::trim)
        .unwrap_or_else(|| panic!("{key} missing from {status}"))
}

/// Nothing of the container is left: no container directory, no mount, no
/// cgroup; the default network a plain `run` made is removed first.
pub fn assert_clean(sb: &Sandbox) {
    let pruned = stack(sb, &["network", "prune"]);
    assert!(
        pruned.status.success(),
        "network prune: {}",
        describe(&pruned)
    );
    let containers = sb.state_root.join("containers");
    let left: Vec<_> = std::fs::read_dir(&containers)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "container directories left: {left:?}");
    sb.assert_no_leaks();
}

/// Compiles a C source of the tests' own statically into `target` (gcc
/// and libc6-dev are installed by `cargo xtask deps`).
pub fn build_static(source: &str, target: &Path) {
    let built = Command::new("cc")
        .args(["-static", "-O2", "-o"])
        .arg(target)
        .arg(source)
        .output()
        .expect("cc (gcc and libc6-dev) builds the test program");
    assert!(built.status.success(), "cc {source}: {}", describe(&built));
}

/// The busybox rootfs with `/bin/probe` (`run_support/confinement_probe.c`),
/// which tries one device open, mknod or syscall and says whether it was
/// allowed.
pub fn probe_rootfs(sb: &Sandbox) -> PathBuf {
    let root = busybox_rootfs(sb);
    build_static(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/run_support/confinement_probe.c"
        ),
        &root.join("bin/probe"),
    );
    root
}

//! Differential: the same container under the built-in backend and under
//! runc must look the same from inside.

mod run_support;

use run_support::*;

const PROBE: &str = "grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; id; cat /etc/hostname | wc -c; \
                     ls /dev | sort | tr '\\n' ' '; echo; cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; \
                     wc -c < /proc/kcore; touch /etc/x 2>&1 | sed 's/.*: //'; ip -o link | wc -l; exit 5";

#[test]
fn same_view_under_runc() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    if std::process::Command::new("runc")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("runc is not installed (Debian package runc)");
    }
    let root = busybox_rootfs(&sb);
    for flags in [
        &["-u", "alice", "--pids-limit", "30", "--read-only"][..],
        &[
            "--cap-add",
            "NET_ADMIN",
            "--security-opt",
            "no-new-privileges",
        ][..],
    ] {
        let mut native_flags = flags.to_vec();
        native_flags.extend(["--runtime", "stack"]);
        let mut runc_flags = flags.to_vec();
        runc_flags.extend(["--runtime", "runc"]);
        let native = run_in(&sb, &root, &native_flags, &["sh", "-c", PROBE]);
        let runc = run_in(&sb, &root, &runc_flags, &["sh", "-c", PROBE]);
        assert_eq!(native.0, 5, "native: {}", native.2);
        assert_eq!(runc.0, 5, "runc: {}", runc.2);
        assert_eq!(native.1, runc.1, "flags {flags:?}");
    }
    assert_clean(&sb);
}

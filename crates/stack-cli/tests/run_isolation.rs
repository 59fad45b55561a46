//! A default container's confinement, table-driven and observed from
//! inside with a small probe program, on both backends: the device
//! allowlist (mknod allowed, open refused but for Docker's default devices),
//! the syscalls Docker's default seccomp profile refuses, and what
//! `--device`, `--device-cgroup-rule`, `--sysctl`, `--pid`, `--ipc` and
//! `--shm-size` change.

mod run_support;

use run_support::*;

/// (probe arguments, expected answer). Device nodes are made in /dev, a
/// tmpfs the container may make nodes in, so only the device controller
/// decides whether they open.
const DEFAULT_CONTAINER: &[(&str, &str)] = &[
    ("open /dev/null rw", "allowed"),
    ("open /dev/zero r", "allowed"),
    ("open /dev/full rw", "allowed"),
    ("open /dev/random r", "allowed"),
    ("open /dev/urandom r", "allowed"),
    ("open /dev/ptmx rw", "allowed"),
    ("mknod /dev/loop0 b 7 0", "allowed"),
    ("open /dev/loop0 r", "refused EPERM"),
    ("mknod /dev/kmsg c 1 11", "allowed"),
    ("open /dev/kmsg w", "refused EPERM"),
    ("mknod /dev/mem c 1 1", "allowed"),
    ("open /dev/mem r", "refused EPERM"),
    ("mknod /dev/loop-control c 10 237", "allowed"),
    ("open /dev/loop-control rw", "refused EPERM"),
    ("mknod /dev/kvm c 10 232", "allowed"),
    ("open /dev/kvm rw", "refused EPERM"),
    ("mknod /dev/fuse c 10 229", "allowed"),
    ("open /dev/fuse rw", "refused EPERM"),
    ("mknod /dev/tty1 c 4 1", "allowed"),
    ("open /dev/tty1 rw", "refused EPERM"),
    ("mknod /dev/null2 c 1 3", "allowed"),
    ("open /dev/null2 rw", "allowed"),
    ("syscall vsock", "refused EPERM"),
    ("syscall inet", "allowed"),
    ("syscall unix", "allowed"),
    ("syscall unshare-net", "refused EPERM"),
    ("syscall unshare-user", "refused EPERM"),
    ("syscall mount", "refused EPERM"),
    ("syscall keyctl", "refused EPERM"),
    ("syscall add_key", "refused EPERM"),
    ("syscall bpf", "refused EPERM"),
    ("syscall perf_event_open", "refused EPERM"),
    ("syscall kexec_load", "refused EPERM"),
    ("syscall open_by_handle_at", "refused EPERM"),
    ("syscall init_module", "refused EPERM"),
    ("syscall swapon", "refused EPERM"),
    ("syscall getpid", "allowed"),
    ("syscall chown", "allowed"),
    ("syscall setuid", "allowed"),
];

/// Runs every probe of `table` in one container; returns the answers.
fn probe_all(
    sb: &stack_testkit::Sandbox,
    root: &std::path::Path,
    flags: &[&str],
    table: &[(&str, &str)],
) -> Vec<String> {
    let script: String = table
        .iter()
        .map(|(probe, _)| format!("probe {probe}\n"))
        .collect();
    let (code, out, err) = run_in(sb, root, flags, &["sh", "-c", &script]);
    assert_eq!(code, 0, "{err}");
    out.lines().map(str::to_string).collect()
}

fn assert_table(runtime: &str, table: &[(&str, &str)], got: &[String]) {
    let wrong: Vec<String> = table
        .iter()
        .zip(
            got.iter()
                .map(String::as_str)
                .chain(std::iter::repeat("(nothing)")),
        )
        .filter(|((_, want), got)| want != got)
        .map(|((probe, want), got)| format!("{probe}: want {want}, got {got}"))
        .collect();
    assert!(wrong.is_empty(), "{runtime}:\n{}", wrong.join("\n"));
}

#[test]
fn default_container_devices_and_syscalls_match_docker() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = probe_rootfs(&sb);
    for runtime in ["stack", "runc"] {
        let got = probe_all(
            &sb,
            &root,
            &["--runtime", runtime, "--network", "none"],
            DEFAULT_CONTAINER,
        );
        assert_table(runtime, DEFAULT_CONTAINER, &got);
    }
    assert_clean(&sb);
}

#[test]
fn devices_and_device_rules_open_only_what_they_name() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = probe_rootfs(&sb);
    // /dev/loop-control comes in read-only; the rule lets /dev/kmsg be
    // opened for writing (both are refused in a default container).
    let table = [
        ("open /dev/lc r", "allowed"),
        ("open /dev/lc w", "refused EPERM"),
        ("mknod /dev/kmsg c 1 11", "allowed"),
        ("open /dev/kmsg w", "allowed"),
        ("mknod /dev/tty1 c 4 1", "allowed"),
        ("open /dev/tty1 rw", "refused EPERM"),
    ];
    for runtime in ["stack", "runc"] {
        let got = probe_all(
            &sb,
            &root,
            &[
                "--runtime",
                runtime,
                "--network",
                "none",
                "--device",
                "/dev/loop-control:/dev/lc:r",
                "--device-cgroup-rule",
                "c 1:11 w",
            ],
            &table,
        );
        assert_table(runtime, &table, &got);
    }
    for (flag, value, needle) in [
        ("--device", "/etc/passwd", "not a character or block device"),
        ("--device-cgroup-rule", "c 1:3", "device rule"),
        ("--sysctl", "vm.swappiness=1", "vm.swappiness"),
        ("--pid", "bogus", "not supported"),
    ] {
        let (code, _, err) = run_in(&sb, &root, &["--network", "none", flag, value], &["true"]);
        assert_ne!(code, 0, "{flag} {value} accepted");
        assert!(err.contains(needle), "{flag} {value}: {err}");
    }
    assert_clean(&sb);
}

#[test]
fn sysctls_shared_namespaces_and_shm_size_take_effect() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let own = |ns: &str| std::fs::read_link(format!("/proc/self/ns/{ns}")).expect("ns link");
    const SCRIPT: &str = "cat /proc/sys/net/core/somaxconn; readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; grep ' /dev/shm ' /proc/mounts";
    for runtime in ["stack", "runc"] {
        let shared = |extra: &[&str]| {
            let mut flags = vec![
                "--runtime",
                runtime,
                "--network",
                "none",
                "--sysctl",
                "net.core.somaxconn=1234",
                "--pid",
                "host",
                "--ipc",
                "host",
                "--shm-size",
                "8m",
            ];
            flags.extend_from_slice(extra);
            run_in(&sb, &root, &flags, &["sh", "-c", SCRIPT])
        };
        // kernel.shmmni is an IPC sysctl: refused with the host's IPC namespace.
        let (code, out, err) = shared(&["--sysctl", "kernel.shmmni=1000"]);
        assert_ne!(code, 0, "{runtime}: {out}");
        assert!(err.contains("kernel.shmmni"), "{runtime}: {err}");
        let (code, out, err) = shared(&[]);
        assert_eq!(code, 0, "{runtime}: {err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "1234", "{runtime}: {out}");
        assert_eq!(
            lines[1],
            own("pid").to_string_lossy(),
            "{runtime}: host pid ns"
        );
        assert_eq!(
            lines[2],
            own("ipc").to_string_lossy(),
            "{runtime}: host ipc ns"
        );
        assert!(lines[3].contains("size=8192k"), "{runtime}: {out}");
        // Without the flags: namespaces of its own, 64 MiB of shm.
        let (_, out, _) = run_in(
            &sb,
            &root,
            &["--runtime", runtime, "--network", "none"],
            &[
                "sh",
                "-c",
                "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; grep ' /dev/shm ' /proc/mounts",
            ],
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_ne!(lines[0], own("pid").to_string_lossy(), "{runtime}");
        assert_ne!(lines[1], own("ipc").to_string_lossy(), "{runtime}");
        assert!(lines[2].contains("size=65536k"), "{runtime}: {out}");
    }
    assert_clean(&sb);
}

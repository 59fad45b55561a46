//! Capabilities, no_new_privs, seccomp, masked and read-only paths, and fd
//! hygiene, observed from inside the container.

mod run_support;

use run_support::*;

/// Docker's default capability set as a CapBnd mask.
const DOCKER_DEFAULT_CAPS: &str = "00000000a80425fb";

#[test]
fn default_confinement_matches_docker() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let (code, status, err) = run_in(&sb, &root, &[], &["cat", "/proc/self/status"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(status_field(&status, "CapBnd"), DOCKER_DEFAULT_CAPS);
    assert_eq!(status_field(&status, "CapEff"), DOCKER_DEFAULT_CAPS);
    assert_eq!(status_field(&status, "CapInh"), "0000000000000000");
    assert_eq!(status_field(&status, "NoNewPrivs"), "0");
    assert_eq!(status_field(&status, "Seccomp"), "2");
    // Non-root keeps only the bounding set.
    let (_, status, _) = run_in(
        &sb,
        &root,
        &["-u", "alice", "--security-opt", "no-new-privileges"],
        &["cat", "/proc/self/status"],
    );
    assert_eq!(status_field(&status, "CapEff"), "0000000000000000");
    assert_eq!(status_field(&status, "CapBnd"), DOCKER_DEFAULT_CAPS);
    assert_eq!(status_field(&status, "NoNewPrivs"), "1");
    // seccomp refuses what the allow-list lacks, even with the capability.
    let (_, out, _) = run_in(
        &sb,
        &root,
        &["--cap-add", "SYS_TIME"],
        &["sh", "-c", "unshare -n true 2>&1 || echo refused"],
    );
    assert!(out.contains("refused"), "{out}");
    let (_, status, _) = run_in(
        &sb,
        &root,
        &[
            "--security-opt",
            "seccomp=unconfined",
            "--cap-drop",
            "ALL",
            "--cap-add",
            "NET_ADMIN",
        ],
        &["cat", "/proc/self/status"],
    );
    assert_eq!(status_field(&status, "Seccomp"), "0");
    assert_eq!(status_field(&status, "CapEff"), "0000000000001000");
    let (_, status, _) = run_in(&sb, &root, &["--privileged"], &["cat", "/proc/self/status"]);
    assert_eq!(status_field(&status, "Seccomp"), "0");
    assert_ne!(status_field(&status, "CapEff"), DOCKER_DEFAULT_CAPS);
    assert_clean(&sb);
}

#[test]
fn masked_and_read_only_paths_and_no_leaked_fds() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let (code, out, err) = run_in(&sb, &root, &["--network", "none"], &["sh", "-c", "wc -c < /proc/timer_list; echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo sys-ro; touch /sys/x 2>/dev/null || echo sysfs-ro; ls /proc/self/fd | wc -l; ip -o link | wc -l"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        ["0", "sys-ro", "sysfs-ro", "4", "1"],
        "timer_list masked, ro paths, only stdio + the ls dir fd, only lo"
    );
    assert_clean(&sb);
}

/// An image's symlinks are followed inside the container's root, never on
/// the host: a named volume, a tmpfs and a bind whose targets run through
/// `/data2 -> <host dir>` or a dangling `/made -> <host path>/missing` land
/// inside the rootfs, the host directory is neither copied into the volume
/// nor given new directories; an image's own absolute link to a directory
/// inside it (`/varrun -> /run`) works as a mount target. On both backends.
#[test]
fn image_symlinks_cannot_carry_mounts_onto_the_host() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let host = sb.dir().join("host-dir");
    std::fs::create_dir_all(&host).expect("host dir");
    std::fs::write(host.join("secret"), "host data\n").expect("secret");
    std::os::unix::fs::symlink(&host, root.join("data2")).expect("link");
    let elsewhere = sb.dir().join("elsewhere");
    std::os::unix::fs::symlink(elsewhere.join("missing"), root.join("made")).expect("link");
    std::fs::create_dir_all(root.join("run")).expect("run");
    std::os::unix::fs::symlink("/run", root.join("varrun")).expect("link");
    let shared = sb.dir().join("shared");
    std::fs::create_dir_all(&shared).expect("bind source");
    std::fs::write(shared.join("note"), "bound\n").expect("note");
    let bind = format!("{}:/made/bind:ro", shared.display());
    for (runtime, volume) in [("stack", "vol-stack"), ("runc", "vol-runc")] {
        let vol = format!("{volume}:/data2");
        let (code, out, err) = run_in(
            &sb,
            &root,
            &[
                "--runtime",
                runtime,
                "--network",
                "none",
                "-v",
                &vol,
                "-v",
                &bind,
                "--tmpfs",
                "/made/sub",
                "--tmpfs",
                "/varrun/x",
            ],
            &[
                "sh",
                "-c",
                "ls -A /data2; cat /made/bind/note; grep -c ' /run/x ' /proc/mounts",
            ],
        );
        assert_eq!(code, 0, "{runtime}: {err}");
        assert_eq!(out, "bound\n1\n", "{runtime}: the volume starts empty");
        assert!(!elsewhere.exists(), "{runtime}: made on the host");
        let left: Vec<_> = std::fs::read_dir(&host)
            .expect("host dir")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, ["secret"], "{runtime}: host dir changed");
        let data = sb.state_root.join("volumes").join(volume).join("_data");
        assert!(
            !data.join("secret").exists(),
            "{runtime}: host files copied into the volume"
        );
        let out = stack(&sb, &["volume", "rm", volume]);
        assert!(out.status.success(), "{}", describe(&out));
    }
    assert_clean(&sb);
}

//! `stack run IMAGE` end to end: the image is pulled through a docker.io
//! mirror on a local registry, run on its own snapshots, its config decides
//! the process (user, environment), and the lease it takes keeps it from
//! `rmi` until the container is gone.

mod run_support;

use run_support::{describe as text, stack};
use stack_testkit::registry::{fixtures, RegistryAuth, TestRegistry};

fn sandbox_with_mirror() -> Option<(stack_testkit::Sandbox, TestRegistry)> {
    let sb = stack_testkit::sandbox()?;
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fixtures().join("busybox"), "1", "library/busybox:latest");
    reg.write_mirror_config(&sb.config_file);
    Some((sb, reg))
}

#[test]
fn run_rm_busybox_echo_hello_pulls_through_the_mirror() {
    let Some((sb, _reg)) = sandbox_with_mirror() else {
        return;
    };
    let out = stack(&sb, &["run", "--rm", "busybox", "echo", "hello"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello\n",
        "{}",
        text(&out)
    );

    // The image config decides what the user did not: PATH from the image,
    // and the process runs as root unless asked otherwise.
    let out = stack(
        &sb,
        &["run", "--rm", "busybox", "sh", "-c", "echo $PATH; id -u"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("/bin"), "{}", text(&out));
    assert!(stdout.ends_with("0\n"), "{}", text(&out));

    // The fixture's non-root user resolves through the image's /etc/passwd.
    let out = stack(&sb, &["run", "--rm", "-u", "app", "busybox", "id", "-un"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "app\n");

    // The exit code is the container's.
    let out = stack(&sb, &["run", "--rm", "busybox", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));

    // A plain `run` made the default network; remove it before the check.
    assert!(stack(&sb, &["network", "prune"]).status.success());
    sb.assert_no_leaks();
}

#[test]
fn a_container_keeps_its_image_from_rmi_until_removed() {
    let Some((sb, _reg)) = sandbox_with_mirror() else {
        return;
    };
    let out = stack(&sb, &["run", "--name", "keeper", "busybox", "true"]);
    assert!(out.status.success(), "{}", text(&out));

    let out = stack(&sb, &["container", "ls", "-a", "-q"]);
    let short_id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(short_id.len(), 12, "{}", text(&out));

    let out = stack(&sb, &["rmi", "busybox"]);
    assert!(!out.status.success(), "rmi must refuse: {}", text(&out));
    // The refusal names the container that holds the image.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&short_id),
        "{}",
        text(&out)
    );

    let out = stack(&sb, &["container", "rm", "keeper"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = stack(&sb, &["rmi", "busybox"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = stack(&sb, &["images", "-q"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "",
        "{}",
        text(&out)
    );

    // A plain `run` made the default network; remove it before the check.
    assert!(stack(&sb, &["network", "prune"]).status.success());
    sb.assert_no_leaks();
}

#[test]
fn a_missing_image_is_a_clear_error_and_leaves_nothing() {
    let Some((sb, reg)) = sandbox_with_mirror() else {
        return;
    };
    // Named on the local registry, so no other registry is ever asked.
    let missing = format!("{}/nosuchimage:1", reg.addr);
    let out = stack(&sb, &["run", "--rm", &missing, "true"]);
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nosuchimage"), "{}", text(&out));
    let out = stack(&sb, &["container", "ls", "-a", "-q"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "",
        "{}",
        text(&out)
    );
    // A plain `run` made the default network; remove it before the check.
    assert!(stack(&sb, &["network", "prune"]).status.success());
    sb.assert_no_leaks();
}

//! The attack of a local user on the state root: trees made the old way
//! (0755) with a setuid-root binary in an image snapshot and in a
//! container's upper directory, executed as `nobody`. After the check the
//! exec is refused.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use stack_engine::paths::HostPaths;
use stack_engine::private_dirs::{check, Policy};

/// Runs `binary` as nobody (no groups); whether it ran, its stdout and
/// stderr. The exec is done by `env` running as nobody: setpriv's own exec
/// still resolves the path with the credentials it started with here, so
/// it would not show what a real unprivileged user can reach.
fn run_as_nobody(binary: &Path) -> (bool, String, String) {
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "env"])
        .arg(binary)
        .arg("-u")
        .output()
        .unwrap_or_else(|e| panic!("setpriv (util-linux): {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

/// A setuid-root copy of `id` at `dir/bin/id`, made with the old modes.
fn plant(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let target = bin.join("id");
    std::fs::copy("/usr/bin/id", &target).expect("copy id (coreutils)");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o4755)).expect("setuid");
    target
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn nobody_cannot_reach_setuid_files_under_the_state_root() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let paths = HostPaths::resolve(
        Some(sb.state_root.clone()),
        Some(sb.run_dir.clone()),
        Some(sb.config_file.clone()),
    );
    // The layout as it was: every directory 0755, reachable by anyone.
    set_mode(sb.dir(), 0o755);
    let in_snapshot = plant(&sb.state_root.join("snapshots/1/fs"));
    let in_upper = plant(&sb.state_root.join("containers/c0ffee/upper"));
    std::fs::create_dir_all(sb.run_dir.join("netns")).expect("netns dir");
    for dir in [
        sb.state_root.clone(),
        sb.state_root.join("snapshots"),
        sb.state_root.join("containers"),
        sb.run_dir.clone(),
        sb.run_dir.join("netns"),
    ] {
        set_mode(&dir, 0o755);
    }
    // The attack works on that layout: euid 0 for nobody.
    for binary in [&in_snapshot, &in_upper] {
        let (ran, uid, err) = run_as_nobody(binary);
        assert!(
            ran && uid == "0",
            "the old layout should be exploitable: {uid} {err}"
        );
    }

    let refused = check(&paths, Policy::Refuse).expect_err("refuse mode refuses");
    assert!(
        refused.to_string().contains("lets other users in"),
        "{refused}"
    );

    let fixed = check(&paths, Policy::Fix).expect("fix");
    let fixed_paths: Vec<&Path> = fixed.iter().map(|f| f.path.as_path()).collect();
    for dir in [
        sb.state_root.as_path(),
        &sb.state_root.join("snapshots"),
        &sb.state_root.join("containers"),
        sb.run_dir.as_path(),
        &sb.run_dir.join("netns"),
    ] {
        assert!(
            fixed_paths.contains(&dir),
            "{} not fixed: {fixed:?}",
            dir.display()
        );
    }
    for binary in [&in_snapshot, &in_upper] {
        let (ran, uid, err) = run_as_nobody(binary);
        assert!(
            !ran && uid.is_empty(),
            "{} still ran as nobody: {uid}",
            binary.display()
        );
        assert!(err.contains("Permission denied"), "{err}");
    }
    // The runtime directory stays passable (the socket is reached by name)
    // but not listable.
    let mode = std::fs::metadata(&sb.run_dir)
        .expect("run dir")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o711);
    // A second check finds nothing to do.
    assert_eq!(check(&paths, Policy::Refuse).expect("clean"), Vec::new());
}

#[test]
fn a_fresh_state_root_is_made_private() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = sb.dir().join("fresh/root");
    let run = sb.dir().join("fresh/run");
    let paths = HostPaths::resolve(Some(root.clone()), Some(run.clone()), None);
    assert_eq!(check(&paths, Policy::Refuse).expect("made"), Vec::new());
    let mode = |p: &Path| std::fs::metadata(p).expect("made").permissions().mode() & 0o777;
    assert_eq!(mode(&root), 0o700);
    assert_eq!(mode(&root.join("containers")), 0o700);
    assert_eq!(mode(&root.join("snapshots")), 0o700);
    assert_eq!(mode(&run), 0o711);
    assert_eq!(mode(&run.join("netns")), 0o700);
}

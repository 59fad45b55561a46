//! `stack volume` end to end, in process: create, ls, inspect, rm, prune;
//! removal refused while a real container mounts the volume; data a
//! container wrote outlives `down` and is seen by a new container; `down -v`
//! removes it; a missing external volume stops `up` with its name; bad
//! names are refused.

mod run_support;
mod up_support;

use run_support::{busybox_rootfs, describe, stack};
use stack_testkit::Sandbox;

/// `stack --no-daemon ARGS`: asserts success, returns stdout.
fn ok(sb: &Sandbox, args: &[&str]) -> String {
    let out = in_process(sb, args);
    assert!(out.status.success(), "stack {args:?}: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn in_process(sb: &Sandbox, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--no-daemon"];
    all.extend_from_slice(args);
    stack(sb, &all)
}

/// `stack ARGS` expected to fail with exit 1; returns stderr.
fn fails(sb: &Sandbox, args: &[&str]) -> String {
    let out = in_process(sb, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stack {args:?}: {}",
        describe(&out)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn names(sb: &Sandbox) -> Vec<String> {
    ok(sb, &["volume", "ls", "-q"])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn create_list_inspect_remove_and_prune() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    assert_eq!(ok(&sb, &["volume", "ls"]), "DRIVER    VOLUME NAME\n");
    assert_eq!(
        ok(&sb, &["volume", "create", "--label", "team=web", "data"]),
        "data\n"
    );
    // Creating it again changes nothing (as Docker).
    assert_eq!(ok(&sb, &["volume", "create", "data"]), "data\n");
    let anon = ok(&sb, &["volume", "create"]).trim().to_string();
    assert_eq!(anon.len(), 64, "{anon}");
    assert!(sb.state_root.join("volumes/data/_data").is_dir());

    let table = ok(&sb, &["volume", "ls"]);
    // By name; the anonymous name is random, so it may sort either side.
    let mut sorted = [anon.as_str(), "data"];
    sorted.sort();
    assert_eq!(
        table,
        format!(
            "DRIVER    VOLUME NAME\nlocal     {}\nlocal     {}\n",
            sorted[0], sorted[1]
        )
    );
    let json: Vec<serde_json::Value> = ok(&sb, &["volume", "ls", "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(json.len(), 2);
    let data = json
        .iter()
        .find(|v| v["Name"] == "data")
        .expect("data listed");
    assert_eq!(data["Labels"], "team=web");
    assert_eq!(
        ok(&sb, &["volume", "ls", "-q", "--filter", "label=team=web"]),
        "data\n"
    );
    assert_eq!(
        ok(&sb, &["volume", "ls", "-q", "--filter", "name=dat"]),
        "data\n"
    );
    let err = fails(&sb, &["volume", "ls", "--filter", "colour=red"]);
    assert!(err.contains("unknown filter \"colour\""), "{err}");

    let doc: serde_json::Value =
        serde_json::from_str(&ok(&sb, &["volume", "inspect", "data"])).expect("inspect json");
    let v = &doc[0];
    assert_eq!(v["Name"], "data");
    assert_eq!(v["Driver"], "local");
    assert_eq!(v["Scope"], "local");
    assert_eq!(v["Labels"]["team"], "web");
    assert_eq!(
        v["Mountpoint"],
        sb.state_root
            .join("volumes/data/_data")
            .display()
            .to_string()
    );
    assert!(
        v["CreatedAt"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{v}"
    );
    // One unknown name among known ones: the known are printed, exit 1.
    let out = in_process(&sb, &["volume", "inspect", "data", "nope"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(printed.as_array().map(Vec::len), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such volume: nope"));

    // Prune without --all takes only the anonymous volume, and says so.
    std::fs::write(
        sb.state_root.join("volumes").join(&anon).join("_data/f"),
        vec![b'x'; 1500],
    )
    .expect("fill");
    let out = ok(&sb, &["volume", "prune", "--force"]);
    assert_eq!(
        out,
        format!("Deleted Volumes:\n{anon}\n\nTotal reclaimed space: 1.5kB\n")
    );
    assert_eq!(names(&sb), ["data"]);

    // rm: missing names fail unless --force; the others are still removed.
    let err = fails(&sb, &["volume", "rm", "nope", "data"]);
    assert!(err.contains("no such volume: nope"), "{err}");
    assert!(names(&sb).is_empty());
    assert!(!sb.state_root.join("volumes/data").exists());
    assert_eq!(ok(&sb, &["volume", "rm", "--force", "nope"]), "nope\n");

    ok(&sb, &["volume", "create", "keep"]);
    assert_eq!(
        ok(&sb, &["volume", "prune", "-a"]),
        "Deleted Volumes:\nkeep\n\nTotal reclaimed space: 0B\n"
    );
    assert_eq!(ok(&sb, &["volume", "prune"]), "Total reclaimed space: 0B\n");
    let left: Vec<_> = std::fs::read_dir(sb.state_root.join("volumes"))
        .expect("volumes dir")
        .collect();
    assert!(left.is_empty(), "nothing left under volumes/: {left:?}");
    sb.assert_no_leaks();
}

#[test]
fn bad_names_and_drivers_are_refused_with_the_reason() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    for bad in ["a/b", ".hidden", "_x", "sp ace"] {
        let err = fails(&sb, &["volume", "create", bad]);
        assert!(
            err.contains(&format!("invalid volume name {bad:?}"))
                && err.contains("[a-zA-Z0-9][a-zA-Z0-9_.-]*"),
            "{bad}: {err}"
        );
    }
    let err = fails(&sb, &["volume", "create", "--driver", "nfs", "x"]);
    assert!(
        err.contains("volume driver \"nfs\" is not supported"),
        "{err}"
    );
    let err = fails(&sb, &["volume", "create", "--label", "=v", "x"]);
    assert!(err.contains("--label \"=v\""), "{err}");
    assert!(names(&sb).is_empty(), "nothing made");
    sb.assert_no_leaks();
}

#[test]
fn a_volume_a_container_mounts_cannot_be_removed_even_with_force() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    ok(&sb, &["volume", "create", "data"]);
    ok(&sb, &["volume", "create", "spare"]);
    let rootfs = root.to_str().expect("path");
    ok(
        &sb,
        &[
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            "user",
            "-v",
            "data:/data",
            "--rootfs",
            rootfs,
            "sh",
            "-c",
            "echo hi > /data/f; exec sleep 100",
        ],
    );
    for args in [
        &["volume", "rm", "data"][..],
        &["volume", "rm", "--force", "data"][..],
    ] {
        let err = fails(&sb, args);
        assert!(
            err.contains("volume data is in use by container(s): user"),
            "{err}"
        );
    }
    // Prune leaves it too, but takes the unused one.
    let out = ok(&sb, &["volume", "prune", "--all"]);
    assert!(out.starts_with("Deleted Volumes:\nspare\n\n"), "{out}");
    assert!(!out.contains("data\n"), "{out}");
    // Still refused once the container has stopped: its record mounts it.
    ok(&sb, &["container", "stop", "-t", "1", "user"]);
    let err = fails(&sb, &["volume", "rm", "data"]);
    assert!(err.contains("in use by container(s): user"), "{err}");
    assert_eq!(
        ok(&sb, &["volume", "ls", "-q", "--filter", "dangling=false"]),
        "data\n"
    );
    assert_eq!(
        std::fs::read_to_string(sb.state_root.join("volumes/data/_data/f")).expect("file"),
        "hi\n"
    );
    ok(&sb, &["container", "rm", "user"]);
    assert_eq!(ok(&sb, &["volume", "rm", "data"]), "data\n");
    assert!(names(&sb).is_empty());
    sb.assert_no_leaks();
}

const WRITER: &str = r#"
name: demo
services:
  writer:
    image: busybox
    command: ["sh", "-c", "echo kept > /data/f; exec sleep 1000"]
    stop_grace_period: 1s
    volumes: [data:/data]
volumes:
  data:
    labels:
      tier: db
"#;

#[test]
fn data_outlives_down_and_down_v_removes_it() {
    let Some(e) = up_support::env(false) else {
        return;
    };
    e.write(WRITER);
    e.ok(&["up", "-d"]);
    let file = e.sb.state_root.join("volumes/demo_data/_data/f");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_to_string(&file).ok().as_deref() != Some("kept\n") {
        assert!(
            std::time::Instant::now() < deadline,
            "the container wrote no file"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let doc: serde_json::Value =
        serde_json::from_str(&ok(&e.sb, &["volume", "inspect", "demo_data"])).expect("json");
    assert_eq!(doc[0]["Labels"]["com.docker.compose.project"], "demo");
    assert_eq!(doc[0]["Labels"]["com.docker.compose.volume"], "data");
    assert_eq!(doc[0]["Labels"]["tier"], "db");
    let err = fails(&e.sb, &["volume", "rm", "demo_data"]);
    assert!(
        err.contains("in use by container(s): demo-writer-1"),
        "{err}"
    );

    e.ok(&["down", "-t", "0"]);
    assert_eq!(names(&e.sb), ["demo_data"], "down keeps volumes");
    // A new container sees what the old one wrote.
    let root = busybox_rootfs(&e.sb);
    let out = ok(
        &e.sb,
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            "demo_data:/data",
            "--rootfs",
            root.to_str().expect("path"),
            "cat",
            "/data/f",
        ],
    );
    assert_eq!(out, "kept\n");

    // `down -v` does not take a volume another container still mounts.
    ok(
        &e.sb,
        &[
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            "reader",
            "-v",
            "demo_data:/data",
            "--rootfs",
            root.to_str().expect("path"),
            "sleep",
            "100",
        ],
    );
    e.ok(&["up", "-d"]);
    let out = e.stack(&["down", "-v", "-t", "0"]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("volume demo_data is in use by container(s): reader"),
        "{}",
        describe(&out)
    );
    assert!(e.names().is_empty(), "the project's containers are gone");
    assert_eq!(names(&e.sb), ["demo_data"]);
    ok(&e.sb, &["container", "rm", "--force", "reader"]);
    e.ok(&["-p", "demo", "down", "-v"]);
    assert!(names(&e.sb).is_empty(), "down -v removes it");
    assert!(!e.sb.state_root.join("volumes/demo_data").exists());
    e.sb.assert_no_leaks();
}

const EXTERNAL: &str = r#"
name: demo
services:
  app:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    volumes: [shared:/shared]
volumes:
  shared:
    external: true
    name: team-shared
"#;

#[test]
fn a_missing_external_volume_stops_up_with_its_name() {
    let Some(e) = up_support::env(false) else {
        return;
    };
    e.write(EXTERNAL);
    let out = e.stack(&["up", "-d"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("external volume team-shared not found"),
        "{err}"
    );
    assert!(e.names().is_empty(), "nothing started");
    assert!(names(&e.sb).is_empty(), "nothing made: {:?}", names(&e.sb));

    ok(&e.sb, &["volume", "create", "team-shared"]);
    e.ok(&["up", "-d"]);
    e.ok(&["down", "-v", "-t", "0"]);
    assert_eq!(
        names(&e.sb),
        ["team-shared"],
        "down -v keeps external volumes"
    );
    ok(&e.sb, &["volume", "rm", "team-shared"]);
    e.sb.assert_no_leaks();
}

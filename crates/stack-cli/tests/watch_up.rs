//! `stack watch` with the engine: it brings the stack up from the busybox
//! fixture image (a local registry as docker.io's mirror), syncs into the
//! service container, and follows a stack file edit that adds one service
//! and removes another without touching the rest.

mod run_support;
mod up_support;
mod watch_support;

use std::time::Duration;

use watch_support::{cat, eventually, pid_of, Project, Watch};

const WAIT: Duration = Duration::from_secs(30);

const BEFORE: &str = r#"name: demo
services:
  app:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    develop:
      watch:
        - path: ./src
          target: /app
          action: sync
  old:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
"#;

#[test]
fn watch_brings_the_stack_up_and_follows_service_changes() {
    let Some(e) = up_support::env(false) else {
        return;
    };
    let p = Project {
        dir: e.dir.clone(),
        name: "demo".into(),
    };
    p.write("stack.yaml", BEFORE);
    std::fs::create_dir_all(p.path("src")).expect("src");
    let file = p.path("stack.yaml");
    let names = || {
        let out = run_support::stack(
            &e.sb,
            &[
                "-f",
                file.to_str().expect("utf-8"),
                "ps",
                "--format",
                "json",
            ],
        );
        let mut n: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|c| c["Name"].as_str().map(str::to_string))
            .collect();
        n.sort();
        n
    };

    // Without --no-up, watch brings the stack up first.
    let watch = Watch::start(&e.sb, &p, &[]);
    assert!(
        eventually(WAIT, || names() == ["demo-app-1", "demo-old-1"]),
        "{:?}\n{}",
        names(),
        watch.output()
    );
    p.write("src/hello.txt", "hi\n");
    assert!(
        eventually(WAIT, || cat(&e.sb, "demo-app-1", "/app/hello.txt")
            .as_deref()
            == Some("hi\n")),
        "{}",
        watch.output()
    );
    let app_pid = pid_of(&e.sb, "demo-app-1");

    // One service removed, one added; app is left alone.
    let after = BEFORE.replace("  old:", "  new:");
    std::fs::write(&file, after).expect("edit the stack file");
    assert!(
        eventually(WAIT, || names() == ["demo-app-1", "demo-new-1"]),
        "{:?}\n{}",
        names(),
        watch.output()
    );
    assert_eq!(pid_of(&e.sb, "demo-app-1"), app_pid, "app untouched");
    assert!(
        watch.wait_line(WAIT, |l| l.starts_with("stack file reloaded")),
        "{}",
        watch.output()
    );

    drop(watch);
    let out = run_support::stack(
        &e.sb,
        &["-f", file.to_str().expect("utf-8"), "down", "-t", "0"],
    );
    assert!(out.status.success(), "{}", run_support::describe(&out));
    e.sb.assert_no_leaks();
}

const REBUILT: &str = r#"name: loop
services:
  app:
    build: ./app
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    develop:
      watch:
        - path: ./app
          action: rebuild
"#;

#[test]
fn a_rebuild_rule_builds_again_and_recreates_the_service() {
    let Some(e) = up_support::env(false) else {
        return;
    };
    let p = Project {
        dir: e.dir.clone(),
        name: "loop".into(),
    };
    p.write("stack.yaml", REBUILT);
    p.write("app/Dockerfile", "FROM busybox\nCOPY version /version\n");
    p.write("app/version", "one\n");
    let file = p.path("stack.yaml");
    let watch = Watch::start(&e.sb, &p, &[]);
    assert!(
        eventually(WAIT, || cat(&e.sb, "loop-app-1", "/version").as_deref()
            == Some("one\n")),
        "{}",
        watch.output()
    );
    let before = pid_of(&e.sb, "loop-app-1");
    p.write("app/version", "two\n");
    assert!(
        eventually(WAIT, || cat(&e.sb, "loop-app-1", "/version").as_deref()
            == Some("two\n")),
        "{}",
        watch.output()
    );
    assert_ne!(pid_of(&e.sb, "loop-app-1"), before, "recreated");
    assert!(
        watch.wait_line(WAIT, |l| l.contains("app: rebuilt")),
        "{}",
        watch.output()
    );

    drop(watch);
    let out = run_support::stack(
        &e.sb,
        &["-f", file.to_str().expect("utf-8"), "down", "-t", "0"],
    );
    assert!(out.status.success(), "{}", run_support::describe(&out));
    // The build steps ran on the default network, as `stack run` does.
    let out = run_support::stack(&e.sb, &["network", "prune"]);
    assert!(out.status.success(), "{}", run_support::describe(&out));
    e.sb.assert_no_leaks();
}

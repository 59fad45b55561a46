//! `stack up` / `ps` / `down` end to end on busybox stacks: dependency
//! order, recreation of only what changed (with the reason printed),
//! scale with stable numbers, orphans, and nothing left after `down`.

mod run_support;
mod up_support;

use up_support::env;

const TWO_SERVICES: &str = r#"
name: demo
services:
  db:
    image: busybox
    command: ["sh", "-c", "date +%s%N > /tmp/started; sleep 1000"]
    stop_grace_period: 1s
  web:
    image: busybox
    command: ["sleep", "1000"]
    environment:
      DEBUG: "0"
    depends_on: [db]
    stop_grace_period: 1s
"#;

#[test]
fn up_detached_ps_and_down_leave_nothing() {
    let Some(e) = env(false) else { return };
    e.write(TWO_SERVICES);
    let (_, err) = e.ok(&["up", "-d"]);
    // One line per object as Compose prints them, in dependency order: db
    // is created before web.
    let net_at = err.find(" Network demo_default  Created\n").expect(&err);
    let db_at = err.find(" Container demo-db-1  Started\n").expect(&err);
    let web_at = err.find(" Container demo-web-1  Started\n").expect(&err);
    assert!(net_at < db_at && db_at < web_at, "{err}");
    // Nothing to do: Compose's line per container left running.
    let (_, again) = e.ok(&["up", "-d"]);
    assert_eq!(
        again,
        " Container demo-db-1  Running\n Container demo-web-1  Running\n"
    );
    assert_eq!(e.names(), vec!["demo-db-1", "demo-web-1"]);
    for c in e.ps() {
        assert_eq!(c["State"], "running", "{c}");
    }
    // The STATUS column says how long, as `docker compose ps` does.
    let (table, _) = e.ok(&["ps"]);
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{table}");
    for row in rows {
        assert!(row.contains("  Up "), "{table}");
    }
    // `ls` lists the project as `docker compose ls` does.
    let file = e.dir.join("compose.yaml").display().to_string();
    let ls_of = |args: &[&str]| {
        let out = run_support::stack(&e.sb, args);
        assert!(out.status.success(), "{}", run_support::describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let ls = ls_of(&["ls"]);
    let row = ls.lines().find(|l| l.starts_with("demo ")).expect(&ls);
    assert!(
        ls.starts_with("NAME                STATUS              CONFIG FILES\n"),
        "{ls}"
    );
    assert!(row.contains(" running(2) ") && row.ends_with(&file), "{ls}");
    let names = ls_of(&["ls", "-q"]);
    assert!(names.lines().any(|l| l == "demo"), "{names}");
    let json = ls_of(&["ls", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_str(&json).expect("ls json");
    let demo = list
        .as_array()
        .and_then(|a| a.iter().find(|p| p["Name"] == "demo"))
        .expect(&json);
    assert_eq!(demo["Status"], "running(2)");
    assert_eq!(demo["ConfigFiles"], file.as_str());
    // A verb of no project refuses the project flags.
    let out = e.stack(&["ls"]);
    assert!(!out.status.success(), "{}", run_support::describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`stack ls` works on no project"),
        "{}",
        run_support::describe(&out)
    );
    // A second `up` changes nothing.
    let (out, _) = e.ok(&["up", "--dry-run"]);
    assert!(out.contains("0 actions, 2 up to date"), "{out}");

    // `ps` and `down` work without the stack file.
    let out = run_support::stack(&e.sb, &["-p", "demo", "ps", "-q"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    let out = run_support::stack(&e.sb, &["-p", "demo", "down", "-t", "0"]);
    assert!(out.status.success(), "{}", run_support::describe(&out));
    assert_eq!(e.container_dirs(), 0);
    // The engine announced what it did.
    let events = std::fs::read_to_string(e.sb.state_root.join("events.jsonl")).expect("events");
    for action in ["create", "stop", "destroy"] {
        let needle = format!("\"action\":\"{action}\"");
        let n = events
            .lines()
            .filter(|l| l.contains(&needle) && l.contains("\"type\":\"container\""))
            .count();
        assert_eq!(n, 2, "{action} events: {events}");
    }
    e.sb.assert_no_leaks();
}

#[test]
fn a_changed_environment_recreates_only_that_service_and_says_why() {
    let Some(e) = env(false) else { return };
    e.write(TWO_SERVICES);
    e.ok(&["up", "-d"]);
    let before = e.ps();
    let id_of = |ps: &[serde_json::Value], name: &str| {
        ps.iter()
            .find(|c| c["Name"] == name)
            .map(|c| c["ID"].as_str().expect("id").to_string())
            .expect(name)
    };
    e.write(&TWO_SERVICES.replace("DEBUG: \"0\"", "DEBUG: \"1\""));
    let (_, err) = e.ok(&["up", "-d"]);
    assert!(
        err.contains(" Container demo-web-1  Recreated (environment.DEBUG changed)\n"),
        "{err}"
    );
    // db is left alone, and said to be running, as Compose says it.
    assert!(err.contains(" Container demo-db-1  Running\n"), "{err}");
    assert_eq!(
        err.matches("db-1").count(),
        1,
        "db must be left alone: {err}"
    );
    let after = e.ps();
    // `config --hash` prints the hash the planner labels the container
    // with: what a user compares to know whether `up` would recreate it.
    let (hashes, _) = e.ok(&["config", "--hash", "*"]);
    for (service, container) in [("db", "demo-db-1"), ("web", "demo-web-1")] {
        let (doc, _) = e.host_ok(&["container", "inspect", container]);
        let doc: serde_json::Value = serde_json::from_str(&doc).expect("inspect json");
        let label = doc[0]["Config"]["labels"]["com.docker.compose.config-hash"]
            .as_str()
            .unwrap_or_else(|| panic!("no config-hash label: {doc:#}"))
            .to_string();
        assert!(
            hashes.contains(&format!("{service} {label}\n")),
            "{hashes} vs {label}"
        );
    }
    assert_eq!(id_of(&before, "demo-db-1"), id_of(&after, "demo-db-1"));
    assert_ne!(id_of(&before, "demo-web-1"), id_of(&after, "demo-web-1"));
    e.ok(&["down", "-t", "0"]);
    e.sb.assert_no_leaks();
}

#[test]
fn scale_keeps_numbers_and_orphans_go_with_remove_orphans() {
    let Some(e) = env(false) else { return };
    e.write(TWO_SERVICES);
    e.ok(&["up", "-d", "--scale", "web=3"]);
    assert_eq!(
        e.names(),
        vec!["demo-db-1", "demo-web-1", "demo-web-2", "demo-web-3"]
    );
    e.ok(&["up", "-d", "--scale", "web=2"]);
    assert_eq!(e.names(), vec!["demo-db-1", "demo-web-1", "demo-web-2"]);
    e.ok(&["up", "-d", "--scale", "web=3"]);
    assert_eq!(
        e.names(),
        vec!["demo-db-1", "demo-web-1", "demo-web-2", "demo-web-3"]
    );

    // db leaves the file: an orphan, kept with a warning, then removed.
    e.write(
        r#"
name: demo
services:
  web:
    image: busybox
    command: ["sleep", "1000"]
    environment:
      DEBUG: "0"
    stop_grace_period: 1s
"#,
    );
    let (_, err) = e.ok(&["up", "-d", "--scale", "web=3"]);
    assert!(err.contains("orphan"), "{err}");
    assert!(e.names().contains(&"demo-db-1".to_string()));
    e.ok(&["up", "-d", "--scale", "web=3", "--remove-orphans"]);
    assert!(!e.names().contains(&"demo-db-1".to_string()));
    e.ok(&["down", "-t", "0"]);
    assert_eq!(e.container_dirs(), 0);
    e.sb.assert_no_leaks();
}

#[test]
fn named_volumes_outlive_down_unless_v_and_wait_returns_once_running() {
    let Some(e) = env(false) else { return };
    e.write(
        r#"
name: demo
services:
  app:
    image: busybox
    command: ["sh", "-c", "echo kept >> /data/lines; sleep 1000"]
    stop_grace_period: 1s
    volumes:
      - data:/data
volumes:
  data: {}
"#,
    );
    e.ok(&["up", "-d", "--wait"]);
    assert_eq!(e.ps()[0]["State"], "running");
    let lines = e.sb.state_root.join("volumes/demo_data/_data/lines");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !lines.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    e.ok(&["down", "-t", "0"]);
    assert!(lines.exists(), "down without -v keeps the volume");
    e.ok(&["up", "-d"]);
    e.ok(&["down", "-t", "0", "-v"]);
    assert!(
        !e.sb.state_root.join("volumes/demo_data").exists(),
        "down -v removes it"
    );
    e.sb.assert_no_leaks();
}

/// While something else changes a project (another `stack` process, the
/// daemon; here the test holds the project's lock), `up`, `run SERVICE`
/// (which starts the service's dependencies), `stop` and `down` of it
/// wait, say so, and touch nothing; once the other change is done they go
/// on.
#[test]
fn a_second_change_of_a_project_waits_for_the_first() {
    let Some(e) = env(false) else { return };
    e.write(TWO_SERVICES);
    e.ok(&["up", "-d"]);
    // Which containers, in which state (the status text ages).
    let containers = || -> Vec<(String, String)> {
        e.ps()
            .iter()
            .map(|c| (c["ID"].to_string(), c["State"].to_string()))
            .collect()
    };
    let before = containers();
    for args in [
        &["up", "-d"][..],
        &["run", "--rm", "web", "true"],
        &["stop"],
        &["down", "-t", "0"],
    ] {
        let held = stack_engine::project_lock::ProjectLock::claim(&e.sb.state_root, "demo")
            .expect("claim the project");
        let file = e.dir.join("compose.yaml");
        let mut all = vec!["-f", file.to_str().expect("utf-8 path")];
        all.extend_from_slice(args);
        let mut child =
            e.sb.command(run_support::stack_bin())
                .args(&all)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn stack");
        std::thread::sleep(std::time::Duration::from_millis(700));
        assert!(
            child.try_wait().expect("poll").is_none(),
            "{args:?} did not wait for the other change"
        );
        if args[0] == "up" || args[0] == "run" {
            assert_eq!(containers(), before, "a waiting change touched the project");
        }
        drop(held);
        let out = child.wait_with_output().expect("wait stack");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {err}");
        assert!(
            err.contains("waiting for another change of project demo to finish"),
            "{args:?}: {err}"
        );
    }
    e.sb.assert_no_leaks();
}

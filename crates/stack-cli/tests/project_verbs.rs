//! The project verbs end to end on a two-service project (`db`, and `web`
//! depending on it, two replicas), its containers made the way `up` makes
//! them: `stack run -d` with Compose's labels. Order is observed in the
//! event log (stop) and in the containers' start times (start).

mod run_support;

use std::path::{Path, PathBuf};

use run_support::{busybox_rootfs, describe as text, stack};
use stack_testkit::Sandbox;

const PROJECT: &str = "com.docker.compose.project";
const SERVICE: &str = "com.docker.compose.service";
const NUMBER: &str = "com.docker.compose.container-number";

/// A detached container of `project`'s `service`, replica `n`, running
/// `sleep` under an init so it stops on TERM at once.
fn member(sb: &Sandbox, root: &Path, project: &str, service: &str, n: u32) {
    let name = format!("{project}-{service}-{n}");
    let labels = [
        format!("{PROJECT}={project}"),
        format!("{SERVICE}={service}"),
        format!("{NUMBER}={n}"),
    ];
    let root = root.to_str().expect("utf-8 path");
    let mut args = vec!["run", "-d", "--init", "--name", &name];
    for l in &labels {
        args.extend(["-l", l.as_str()]);
    }
    args.extend(["--rootfs", root, "sleep", "1000"]);
    let out = stack(sb, &args);
    assert!(out.status.success(), "{}", text(&out));
}

/// The `shop` project: a stack file where web depends on db, and the
/// containers db-1, web-1, web-2.
fn shop(sb: &Sandbox) -> (PathBuf, PathBuf) {
    let root = busybox_rootfs(sb);
    let file = sb.dir().join("compose.yaml");
    std::fs::write(
        &file,
        "name: shop\nservices:\n  db:\n    image: busybox\n  web:\n    image: busybox\n    depends_on: [db]\n",
    )
    .expect("stack file");
    member(sb, &root, "shop", "db", 1);
    member(sb, &root, "shop", "web", 1);
    member(sb, &root, "shop", "web", 2);
    (file, root)
}

/// `stack -f FILE ARGS...`.
fn verb(sb: &Sandbox, file: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["-f", file.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    stack(sb, &all)
}

fn inspect(sb: &Sandbox, name: &str) -> serde_json::Value {
    let out = stack(sb, &["container", "inspect", name]);
    assert!(out.status.success(), "{}", text(&out));
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("inspect json");
    docs[0].clone()
}

fn status(sb: &Sandbox, name: &str) -> String {
    inspect(sb, name)["State"]["Status"]
        .as_str()
        .expect("status")
        .to_string()
}

/// (action, container name) of every event in the log, in order.
fn events(sb: &Sandbox) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(sb.state_root.join("events.jsonl")).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("event json"))
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn position(log: &[(String, String)], action: &str, name: &str) -> usize {
    log.iter()
        .position(|(a, n)| a == action && n == name)
        .unwrap_or_else(|| panic!("no {action} event of {name} in {log:?}"))
}

#[test]
fn stop_start_restart_follow_dependency_order() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (file, _root) = shop(&sb);

    let out = verb(&sb, &file, &["stop", "-t", "5"]);
    assert!(out.status.success(), "{}", text(&out));
    for name in ["shop-db-1", "shop-web-1", "shop-web-2"] {
        assert_eq!(status(&sb, name), "exited", "{name}");
    }
    // Dependents stop before their dependency.
    let log = events(&sb);
    let db = position(&log, "stop", "shop-db-1");
    assert!(position(&log, "stop", "shop-web-1") < db, "{log:?}");
    assert!(position(&log, "stop", "shop-web-2") < db, "{log:?}");

    // Stopping what is stopped is no error and no event.
    let out = verb(&sb, &file, &["stop"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(events(&sb).len(), log.len());

    let out = verb(&sb, &file, &["start"]);
    assert!(out.status.success(), "{}", text(&out));
    let started = |name: &str| {
        let doc = inspect(&sb, name);
        assert_eq!(doc["State"]["Status"], "running", "{name}: {doc}");
        doc["State"]["StartedAt"]
            .as_str()
            .expect("started at")
            .to_string()
    };
    let db_started = started("shop-db-1");
    assert!(db_started < started("shop-web-1"));
    assert!(db_started < started("shop-web-2"));

    // One service only: web restarts, db keeps running untouched.
    let out = verb(&sb, &file, &["restart", "-t", "5", "web"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(started("shop-db-1"), db_started);
    assert!(started("shop-web-1") > db_started);

    // Without the stack file, `-p` names the project.
    let out = stack(&sb, &["-p", "shop", "stop", "db"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(status(&sb, "shop-db-1"), "exited");
    assert_eq!(status(&sb, "shop-web-1"), "running");

    let out = verb(&sb, &file, &["rm", "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    sb.assert_no_leaks();
}

#[test]
fn unknown_services_and_empty_projects_are_errors() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (file, _root) = shop(&sb);
    for verb_name in ["stop", "start", "kill", "rm", "top", "restart"] {
        let out = verb(&sb, &file, &[verb_name, "nosuch"]);
        assert_eq!(out.status.code(), Some(1), "{verb_name}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no such service: nosuch"),
            "{verb_name}: {}",
            text(&out)
        );
    }
    let out = stack(&sb, &["-p", "nothing", "stop"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no containers found for project"),
        "{}",
        text(&out)
    );
    // Nothing was touched.
    assert_eq!(status(&sb, "shop-web-1"), "running");
    let out = verb(&sb, &file, &["rm", "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    sb.assert_no_leaks();
}

#[test]
fn kill_signals_and_rm_refuses_running_containers() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (file, _root) = shop(&sb);

    let out = verb(&sb, &file, &["kill", "-s", "TERM", "web"]);
    assert!(out.status.success(), "{}", text(&out));
    for name in ["shop-web-1", "shop-web-2"] {
        let doc = inspect(&sb, name);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut doc = doc;
        while doc["State"]["Status"] == "running" && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
            doc = inspect(&sb, name);
        }
        assert_eq!(doc["State"]["Status"], "exited", "{name}: {doc}");
        // TERM went through init to sleep, whose death by TERM is 128+15.
        assert_eq!(doc["State"]["ExitCode"], 143, "{name}: {doc}");
    }
    assert_eq!(status(&sb, "shop-db-1"), "running");
    let text_log = std::fs::read_to_string(sb.state_root.join("events.jsonl")).expect("events");
    let kill = text_log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .find(|e| e["action"] == "kill" && e["name"] == "shop-web-1")
        .expect("kill event");
    assert_eq!(kill["attributes"]["signal"], "15");
    assert_eq!(kill["attributes"][SERVICE], "web");

    // Plain rm removes the stopped ones and refuses the running one.
    let out = verb(&sb, &file, &["rm"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("shop-db-1 is running"),
        "{}",
        text(&out)
    );
    assert_eq!(status(&sb, "shop-db-1"), "running");
    let out = stack(&sb, &["container", "ls", "-a"]);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(!listing.contains("shop-web-"), "{listing}");

    // --stop stops it gracefully first.
    let out = verb(&sb, &file, &["rm", "-s"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = stack(&sb, &["container", "ls", "-a", "-q"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "");
    let log = events(&sb);
    assert!(
        position(&log, "stop", "shop-db-1") < position(&log, "destroy", "shop-db-1"),
        "{log:?}"
    );
    sb.assert_no_leaks();
}

#[test]
fn exec_passes_exit_code_env_user_workdir_and_index() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (file, _root) = shop(&sb);
    let run = |args: &[&str]| {
        let mut all = vec!["exec", "-T"];
        all.extend_from_slice(args);
        verb(&sb, &file, &all)
    };
    let out = run(&["web", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));

    let out = run(&[
        "-e",
        "GREETING=hi",
        "-u",
        "alice",
        "-w",
        "/tmp",
        "web",
        "sh",
        "-c",
        "echo $GREETING $(id -un) $(pwd)",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi alice /tmp\n");

    // --index picks the replica: its hostname is its short id.
    let out = run(&["--index", "2", "web", "hostname"]);
    assert!(out.status.success(), "{}", text(&out));
    let id = inspect(&sb, "shop-web-2")["Id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), &id[..12]);
    let out = run(&["--index", "3", "web", "true"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // A stopped service has nothing to exec in.
    let out = verb(&sb, &file, &["stop", "db"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = run(&["db", "true"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not running"),
        "{}",
        text(&out)
    );

    let out = verb(&sb, &file, &["rm", "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    sb.assert_no_leaks();
}

#[test]
fn top_and_stats_read_the_running_containers() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (file, _root) = shop(&sb);

    let out = verb(&sb, &file, &["top", "db"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "shop-db-1", "{stdout}");
    assert!(lines[1].starts_with("UID"), "{stdout}");
    assert!(lines[1].ends_with("CMD"), "{stdout}");
    // The init and the sleep under it, and nothing of web.
    assert!(lines.iter().any(|l| l.ends_with("sleep 1000")), "{stdout}");
    assert_eq!(lines.len(), 4, "{stdout}");
    let pid = inspect(&sb, "shop-db-1")["State"]["Pid"]
        .as_i64()
        .expect("pid");
    assert!(
        lines[2..]
            .iter()
            .any(|l| l.split_whitespace().nth(1) == Some(&pid.to_string())),
        "{stdout}"
    );

    let out = verb(&sb, &file, &["stats", "--no-stream", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("stats json"))
        .collect();
    assert_eq!(rows.len(), 3, "{}", text(&out));
    for row in &rows {
        let usage = row["MemUsage"].as_str().expect("mem usage");
        assert!(!usage.starts_with("0B"), "memory > 0: {row}");
        assert_eq!(row["PIDs"], "2", "{row}");
    }
    let out = verb(&sb, &file, &["stats", "--no-stream", "web"]);
    assert!(out.status.success(), "{}", text(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("CONTAINER ID"), "{table}");
    assert_eq!(table.lines().count(), 3, "{table}");

    let out = verb(&sb, &file, &["rm", "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    sb.assert_no_leaks();
}

#[test]
fn events_are_filtered_by_project_service_type_and_time() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (file, root) = shop(&sb);
    member(&sb, &root, "blog", "web", 1);
    let out = verb(&sb, &file, &["stop"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = stack(&sb, &["-p", "blog", "stop"]);
    assert!(out.status.success(), "{}", text(&out));
    let until = stack_runtime_now();

    // Project events only, per service when named, in log order.
    let out = verb(
        &sb,
        &file,
        &["events", "--json", "--since", "0", "--until", &until],
    );
    assert!(out.status.success(), "{}", text(&out));
    let shop_events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let names: Vec<&str> = shop_events
        .iter()
        .map(|e| e["attributes"]["name"].as_str().expect("name"))
        .collect();
    assert!(names.iter().all(|n| n.starts_with("shop-")), "{names:?}");
    assert!(names.contains(&"shop-db-1"), "{names:?}");
    assert!(shop_events.iter().all(|e| e["action"] == "stop"));
    let out = verb(
        &sb,
        &file,
        &["events", "--since", "0", "--until", &until, "db"],
    );
    let text_out = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text_out.lines().count(), 1, "{}", text(&out));
    assert!(text_out.contains(" container stop "), "{text_out}");

    // The host's events, Docker's way.
    let out = stack(
        &sb,
        &[
            "events",
            "--all",
            "--filter",
            "type=container",
            "--filter",
            "event=stop",
            "--since",
            "0",
            "--until",
            &until,
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let all: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(all.len(), 4, "{}", text(&out));
    assert!(all
        .iter()
        .any(|e| e["Actor"]["Attributes"]["name"] == "blog-web-1"));
    // Nothing after --until.
    let out = stack(&sb, &["events", "--all", "--since", "0", "--until", "0"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");

    let out = verb(&sb, &file, &["rm"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = stack(&sb, &["-p", "blog", "rm"]);
    assert!(out.status.success(), "{}", text(&out));
    sb.assert_no_leaks();
}

/// Now as a Unix time with fractions, for `--until`.
fn stack_runtime_now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock");
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

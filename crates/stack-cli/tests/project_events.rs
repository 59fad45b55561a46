//! `stack events` on the `shop` project: filters by project, service, type
//! and time, and following new events.

mod run_support;
mod verbs_support;

use run_support::{describe as text, stack};
use verbs_support::*;

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
    // A container's life in order: run made and started it, stop ended it.
    let db_actions: Vec<&str> = shop_events
        .iter()
        .filter(|e| e["attributes"]["name"] == "shop-db-1")
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(db_actions, ["create", "start", "die", "stop"]);
    assert!(shop_events
        .iter()
        .filter(|e| e["action"] == "die")
        .all(|e| e["attributes"]["exitCode"] == "143"));
    let out = verb(
        &sb,
        &file,
        &[
            "events",
            "--filter",
            "event=stop",
            "--since",
            "0",
            "--until",
            &until,
            "db",
        ],
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

#[test]
fn events_follows_new_events_of_the_project() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (file, _root) = shop(&sb);
    // Older events are not shown without --since.
    let out = verb(&sb, &file, &["kill", "-s", "USR1", "db"]);
    assert!(out.status.success(), "{}", text(&out));
    let mut follower = sb
        .command(run_support::stack_bin())
        .args([
            "-f",
            file.to_str().expect("utf-8"),
            "events",
            "--json",
            "web",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start events");
    // Give it time to open the log at its end before acting.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let out = verb(&sb, &file, &["stop", "db", "web"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = follower.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // web-1 and web-2 each die, then are reported stopped.
    let mut seen = Vec::new();
    for _ in 0..4 {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("only {seen:?} arrived"));
        let event: serde_json::Value = serde_json::from_str(&line).expect("json");
        seen.push((
            event["action"].as_str().unwrap_or_default().to_string(),
            event["attributes"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ));
    }
    let _ = follower.kill();
    let _ = follower.wait();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("die".to_string(), "shop-web-1".to_string()),
            ("die".to_string(), "shop-web-2".to_string()),
            ("stop".to_string(), "shop-web-1".to_string()),
            ("stop".to_string(), "shop-web-2".to_string())
        ]
    );
    let out = verb(&sb, &file, &["rm"]);
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

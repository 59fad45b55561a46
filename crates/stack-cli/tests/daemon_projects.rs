//! `/v1/projects` end to end: every route and documented error against the
//! OpenAPI document (the CLI's verbs through the daemon are in
//! `daemon_project_cli.rs`).

mod daemon_support;
mod run_support;
mod up_support;

use std::time::{Duration, Instant};

use daemon_support::{Checked, Daemon, Doc};
use serde_json::{json, Value};
use stack_api::projects::{PlanFlags, UpRequest};
use up_support::{describe, env, Env};

const STACK: &str = r#"
name: demo
services:
  migrate:
    image: busybox
    command: ["sh", "-c", "sleep 2; echo migrated"]
  web:
    image: busybox
    command: ["sh", "-c", "echo web up; exec sleep 1000"]
    stop_grace_period: 1s
    depends_on:
      migrate:
        condition: service_completed_successfully
"#;

/// The request body the CLI sends for the stack file of `e`.
fn up_body(e: &Env, flags: PlanFlags) -> Value {
    let project = stack_spec::load(&stack_spec::LoadOptions {
        files: vec![e.dir.join("compose.yaml")],
        working_dir: e.dir.clone(),
        ..Default::default()
    })
    .expect("load the stack file");
    serde_json::to_value(UpRequest::new(&project, flags, None)).expect("body")
}

fn last_status(lines: &Value) -> String {
    let lines = lines.as_array().expect("NDJSON lines");
    lines.last().expect("a last line")["status"]
        .as_str()
        .expect("status")
        .to_string()
}

#[test]
fn every_project_route_and_error_matches_the_document() {
    let Some(e) = env(false) else { return };
    e.write(STACK);
    let daemon = Daemon::start(&e.sb, &[]);
    let doc = Doc::load();
    let mut c = Checked::new(daemon.client(), &doc);
    let body = up_body(&e, PlanFlags::default());

    assert_eq!(
        c.call("GET", "/v1/projects", "/v1/projects", None, 200),
        json!([])
    );

    // Plan: the dry-run text and its actions; nothing is made.
    let plan = c.call(
        "POST",
        "/v1/projects/{name}/plan",
        "/v1/projects/demo/plan",
        Some(body.clone()),
        200,
    );
    assert!(
        plan["text"]
            .as_str()
            .expect("text")
            .starts_with("project demo:"),
        "{plan}"
    );
    assert!(
        plan["actions"].as_array().expect("actions").len() >= 4,
        "{plan}"
    );
    for bad in [
        // The path and the stack disagree on the name.
        ("/v1/projects/other/plan", body.clone()),
        // Not a stack.
        ("/v1/projects/demo/plan", json!({"project": 5})),
        // An unknown pull policy.
        (
            "/v1/projects/demo/plan",
            json!({"project": body["project"], "options": {"pull": "sometimes"}}),
        ),
    ] {
        let err = c.call("POST", "/v1/projects/{name}/plan", bad.0, Some(bad.1), 400);
        assert_eq!(err["kind"], "bad_request", "{err}");
    }
    let err = c.call(
        "POST",
        "/v1/projects/{name}/up",
        "/v1/projects/other/up",
        Some(body.clone()),
        400,
    );
    assert!(
        err["message"].as_str().expect("message").contains("other"),
        "{err}"
    );

    // Up, streamed. While it runs (migrate takes 2 s), the project is busy.
    let socket = daemon.socket.clone();
    let up_body = body.clone();
    let first_up = std::thread::spawn(move || {
        let client = stack_api::client::Client::new(&socket).expect("client");
        let bytes = serde_json::to_vec(&up_body).expect("body");
        client
            .raw(
                stack_api::client::Method::POST,
                "/v1/projects/demo/up",
                Some(bytes),
            )
            .expect("up")
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = c.call(
            "GET",
            "/v1/projects/{name}/containers",
            "/v1/projects/demo/containers?all=true",
            None,
            200,
        );
        if !rows.as_array().expect("rows").is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "up made no container");
        std::thread::sleep(Duration::from_millis(20));
    }
    for (template, path, request) in [
        (
            "/v1/projects/{name}/plan",
            "/v1/projects/demo/plan",
            body.clone(),
        ),
        (
            "/v1/projects/{name}/up",
            "/v1/projects/demo/up",
            body.clone(),
        ),
        (
            "/v1/projects/{name}/down",
            "/v1/projects/demo/down",
            json!({}),
        ),
    ] {
        let err = c.call("POST", template, path, Some(request), 409);
        // A 409 that says waiting will help, as the CLI reads it.
        assert_eq!(err["kind"], "busy", "{err}");
    }
    let (status, _, answer) = first_up.join().expect("up thread");
    let lines = doc.check("POST", "/v1/projects/{name}/up", status, &answer);
    assert_eq!(last_status(&lines), "finished", "{lines}");
    assert!(
        lines
            .as_array()
            .expect("lines")
            .iter()
            .any(|l| l["status"] == "done"
                && l["action"].as_str().expect("action").contains("web-1")),
        "{lines}"
    );
    // Up again: converged, nothing created (the one-shot starts again).
    let again = c.call(
        "POST",
        "/v1/projects/{name}/up",
        "/v1/projects/demo/up",
        Some(body.clone()),
        200,
    );
    assert_eq!(last_status(&again), "finished", "{again}");
    assert!(!again.to_string().contains("create"), "{again}");
    // Wait for the one-shot to be done again.
    let deadline = Instant::now() + Duration::from_secs(20);
    while c.call(
        "GET",
        "/v1/projects/{name}/containers",
        "/v1/projects/demo/containers?service=migrate",
        None,
        200,
    ) != json!([])
    {
        assert!(Instant::now() < deadline, "migrate did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(daemon.log_text().contains("up"), "the daemon did the work");

    // The list, and the ps rows.
    let list = c.call("GET", "/v1/projects", "/v1/projects", None, 200);
    let file = e.dir.join("compose.yaml").display().to_string();
    assert_eq!(
        list,
        json!([{"name": "demo", "containers": {"exited": 1, "running": 1}, "config_files": [file]}])
    );
    let running = c.call(
        "GET",
        "/v1/projects/{name}/containers",
        "/v1/projects/demo/containers",
        None,
        200,
    );
    assert_eq!(running.as_array().expect("rows").len(), 1, "{running}");
    assert_eq!(running[0]["Name"], "demo-web-1");
    let migrate = c.call(
        "GET",
        "/v1/projects/{name}/containers",
        "/v1/projects/demo/containers?all=true&service=migrate",
        None,
        200,
    );
    // Docker's words: `Exited (0) 2 seconds ago`.
    let status = migrate[0]["Status"].as_str().unwrap_or_default();
    assert!(
        status.starts_with("Exited (0) ") && status.ends_with(" ago"),
        "{migrate}"
    );
    c.call(
        "GET",
        "/v1/projects/{name}/containers",
        "/v1/projects/demo/containers?all=maybe",
        None,
        400,
    );

    // The CLI prints the same whichever path runs it.
    for args in [
        &["ps", "-a", "--format", "json"][..],
        &["ps"][..],
        &["logs"][..],
        &["up", "--dry-run"][..],
    ] {
        let via_daemon = e.stack(args);
        let mut local_args = vec!["--no-daemon"];
        local_args.extend_from_slice(args);
        let in_process = e.stack(&local_args);
        assert!(
            via_daemon.status.success(),
            "{args:?}: {}",
            describe(&via_daemon)
        );
        assert_eq!(
            String::from_utf8_lossy(&via_daemon.stdout),
            String::from_utf8_lossy(&in_process.stdout),
            "{args:?}"
        );
        assert_eq!(
            via_daemon.status.code(),
            in_process.status.code(),
            "{args:?}"
        );
    }
    let (logs, _) = e.ok(&["logs", "web"]);
    assert!(logs.contains("web up"), "{logs}");

    // The project actions: each route's success, and its 404 and 400.
    project_actions(&mut c);

    // Down: a bad body, then the real thing (no stack file needed).
    let err = c.call(
        "POST",
        "/v1/projects/{name}/down",
        "/v1/projects/demo/down",
        Some(json!({"volumes": true})),
        400,
    );
    assert!(
        err["message"]
            .as_str()
            .expect("message")
            .contains("unknown field"),
        "{err}"
    );
    let down = c.call(
        "POST",
        "/v1/projects/{name}/down",
        "/v1/projects/demo/down",
        Some(json!({"timeout": 0})),
        200,
    );
    assert_eq!(last_status(&down), "finished", "{down}");
    assert_eq!(
        c.call("GET", "/v1/projects", "/v1/projects", None, 200),
        json!([])
    );

    // 500: the state store cannot be opened (a directory in its place).
    let db = e.sb.state_root.join("stack.db");
    let saved = e.sb.state_root.join("stack.db.saved");
    std::fs::rename(&db, &saved).expect("move the store away");
    std::fs::create_dir(&db).expect("a directory in its place");
    for (method, template, path, request) in [
        ("GET", "/v1/projects", "/v1/projects", None),
        (
            "POST",
            "/v1/projects/{name}/plan",
            "/v1/projects/demo/plan",
            Some(body.clone()),
        ),
        (
            "POST",
            "/v1/projects/{name}/up",
            "/v1/projects/demo/up",
            Some(body.clone()),
        ),
        (
            "POST",
            "/v1/projects/{name}/down",
            "/v1/projects/demo/down",
            Some(json!({})),
        ),
        (
            "GET",
            "/v1/projects/{name}/containers",
            "/v1/projects/demo/containers",
            None,
        ),
    ] {
        let err = c.call(method, template, path, request, 500);
        assert_eq!(err["kind"], "internal", "{method} {path}: {err}");
    }
    std::fs::remove_dir(&db).expect("remove the directory");
    std::fs::rename(&saved, &db).expect("put the store back");

    let exercised: Vec<(String, String)> = c.seen.iter().cloned().collect();
    assert_eq!(exercised, doc.operations_under(&["/v1/projects"]));
    daemon.terminate();
    e.sb.assert_no_leaks();
}

/// The outcomes of an action answer as `(name, step, result)`.
fn outcomes(answer: &Value) -> Vec<(String, String, String)> {
    answer["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .map(|o| {
            let field = |k: &str| o[k].as_str().expect("a string field").to_string();
            (field("name"), field("step"), field("result"))
        })
        .collect()
}

fn step(name: &str, step: &str, result: &str) -> (String, String, String) {
    (name.into(), step.into(), result.into())
}

/// Every project action route with a running `web` and an exited
/// `migrate`: the documented errors first, then each verb on `web`
/// (which is gone at the end).
fn project_actions(c: &mut Checked) {
    const VERBS: [&str; 7] = ["start", "stop", "restart", "kill", "pause", "unpause", "rm"];
    for verb in VERBS {
        let template = format!("/v1/projects/{{name}}/{verb}");
        let err = c.call(
            "POST",
            &template,
            &format!("/v1/projects/nothing/{verb}"),
            Some(json!({})),
            404,
        );
        assert!(
            err["message"]
                .as_str()
                .expect("message")
                .contains("nothing"),
            "{err}"
        );
        let err = c.call(
            "POST",
            &template,
            &format!("/v1/projects/demo/{verb}"),
            Some(json!({"services": ["nope"], "declared": ["web", "migrate"]})),
            400,
        );
        assert!(
            err["message"].as_str().expect("message").contains("nope"),
            "{err}"
        );
        let err = c.call(
            "POST",
            &template,
            &format!("/v1/projects/demo/{verb}"),
            Some(json!({"volumes": true})),
            400,
        );
        assert!(
            err["message"]
                .as_str()
                .expect("message")
                .contains("unknown field"),
            "{err}"
        );
    }
    let err = c.call(
        "POST",
        "/v1/projects/{name}/kill",
        "/v1/projects/demo/kill",
        Some(json!({"signal": "NOPE"})),
        400,
    );
    assert!(
        err["message"].as_str().expect("message").contains("NOPE"),
        "{err}"
    );
    // A declared service without containers is no error: nothing to do.
    let none = c.call(
        "POST",
        "/v1/projects/{name}/stop",
        "/v1/projects/demo/stop",
        Some(json!({"services": ["cache"], "declared": ["cache", "web"]})),
        200,
    );
    assert_eq!(outcomes(&none), vec![], "{none}");

    let web = json!({"services": ["web"], "timeout": 0,
        "declared": ["migrate", "web"], "waves": [["migrate"], ["web"]]});
    let act = |c: &mut Checked, verb: &str, body: &Value| {
        c.call(
            "POST",
            &format!("/v1/projects/{{name}}/{verb}"),
            &format!("/v1/projects/demo/{verb}"),
            Some(body.clone()),
            200,
        )
    };
    let stopped = act(c, "stop", &web);
    assert_eq!(
        outcomes(&stopped),
        vec![step("demo-web-1", "Stopped", "acted")]
    );
    let again = act(c, "stop", &web);
    assert_eq!(
        outcomes(&again),
        vec![step("demo-web-1", "Stopped", "skipped")]
    );
    let started = act(c, "start", &web);
    assert_eq!(
        outcomes(&started),
        vec![step("demo-web-1", "Started", "acted")]
    );
    let restarted = act(c, "restart", &web);
    assert_eq!(
        outcomes(&restarted),
        vec![
            step("demo-web-1", "Stopped", "acted"),
            step("demo-web-1", "Started", "acted")
        ]
    );
    // Paused once (a second pause has nothing to do), then unpaused.
    for (verb, step_word, results) in [
        ("pause", "Paused", ["acted", "skipped"]),
        ("unpause", "Unpaused", ["acted", "skipped"]),
    ] {
        for result in results {
            let answer = act(c, verb, &web);
            assert_eq!(
                outcomes(&answer),
                vec![step("demo-web-1", step_word, result)]
            );
        }
    }
    // rm refuses a running container: an outcome, not an error status.
    let refused = act(c, "rm", &web);
    assert_eq!(
        outcomes(&refused),
        vec![step("demo-web-1", "Removed", "failed")]
    );
    assert!(
        refused["outcomes"][0]["error"]
            .as_str()
            .expect("error")
            .contains("is running"),
        "{refused}"
    );
    let mut term = web.clone();
    term["signal"] = json!("TERM");
    let killed = act(c, "kill", &term);
    assert_eq!(
        outcomes(&killed),
        vec![step("demo-web-1", "Killed", "acted")]
    );
    let mut force = web.clone();
    force["force"] = json!(true);
    let removed = act(c, "rm", &force);
    assert_eq!(
        outcomes(&removed),
        vec![step("demo-web-1", "Removed", "acted")]
    );
    let rows = c.call(
        "GET",
        "/v1/projects/{name}/containers",
        "/v1/projects/demo/containers?all=true",
        None,
        200,
    );
    assert_eq!(rows.as_array().expect("rows").len(), 1, "{rows}");
    assert_eq!(rows[0]["Name"], "demo-migrate-1");
}

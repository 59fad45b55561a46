//! `stack daemon` end to end: every route and every error body against the
//! OpenAPI document, a refused non-root peer, graceful shutdown.

mod daemon_support;
mod run_support;

use std::time::Duration;

use daemon_support::{Checked, Daemon, Doc};
use run_support::{busybox_rootfs, describe, run_detached, stack};
use serde_json::json;
use stack_testkit::registry::{fixtures, RegistryAuth, TestRegistry};

fn wait_exited(c: &mut Checked, name: &str) {
    for _ in 0..200 {
        let doc = c.call(
            "GET",
            "/v1/containers/{id}",
            &format!("/v1/containers/{name}"),
            None,
            200,
        );
        if doc["State"]["Status"] == "exited" {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{name} did not exit");
}

#[test]
fn every_route_and_error_body_matches_the_openapi_document() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fixtures().join("busybox"), "1", "library/busybox:latest");
    std::fs::write(
        &sb.config_file,
        format!("insecure-registries = [\"{}\"]\n", reg.addr),
    )
    .expect("config");
    let daemon = Daemon::start(&sb, &[]);
    let doc = Doc::load();
    let mut c = Checked::new(daemon.client(), &doc);

    // System.
    assert_eq!(c.call("GET", "/v1/_ping", "/v1/_ping", None, 200), "OK");
    let v = c.call("GET", "/v1/version", "/v1/version", None, 200);
    assert_eq!(v["pid"], daemon.child.id());

    // Containers made by the CLI, seen and driven through the API.
    run_detached(
        &sb,
        &root,
        "web",
        "echo hello; echo oops >&2; exec sleep 100",
    );
    run_detached(&sb, &root, "quick", "exit 3");
    let list = c.call(
        "GET",
        "/v1/containers",
        "/v1/containers?all=true",
        None,
        200,
    );
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    wait_exited(&mut c, "quick");
    let running = c.call("GET", "/v1/containers", "/v1/containers", None, 200);
    let names: Vec<&str> = running
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["web"]);
    let exited = c.call(
        "GET",
        "/v1/containers",
        "/v1/containers?status=exited",
        None,
        200,
    );
    assert_eq!(exited[0]["exit_code"], 3, "{exited}");
    c.call(
        "GET",
        "/v1/containers",
        "/v1/containers?all=maybe",
        None,
        400,
    );

    let inspect = c.call(
        "GET",
        "/v1/containers/{id}",
        "/v1/containers/web",
        None,
        200,
    );
    assert_eq!(inspect["State"]["Status"], "running");
    let err = c.call(
        "GET",
        "/v1/containers/{id}",
        "/v1/containers/nope",
        None,
        404,
    );
    assert_eq!(
        err,
        json!({"message": "no such container: nope", "kind": "not_found"})
    );

    std::thread::sleep(Duration::from_millis(200));
    let logs = c.call(
        "GET",
        "/v1/containers/{id}/logs",
        "/v1/containers/web/logs",
        None,
        200,
    );
    let records: Vec<(String, String)> = logs
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["stream"].as_str().unwrap_or("").to_string(),
                l["log"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(
        records.contains(&("stdout".into(), "hello\n".into())),
        "{records:?}"
    );
    assert!(
        records.contains(&("stderr".into(), "oops\n".into())),
        "{records:?}"
    );
    c.call(
        "GET",
        "/v1/containers/{id}/logs",
        "/v1/containers/nope/logs",
        None,
        404,
    );

    let exec = c.call(
        "POST",
        "/v1/containers/{id}/exec",
        "/v1/containers/web/exec",
        Some(json!({"cmd": ["sh", "-c", "echo in-$X; echo err >&2; exit 4"], "env": ["X=web"]})),
        200,
    );
    assert_eq!(
        exec,
        json!({"exit_code": 4, "stdout": "in-web\n", "stderr": "err\n"})
    );
    c.call(
        "POST",
        "/v1/containers/{id}/exec",
        "/v1/containers/quick/exec",
        Some(json!({"cmd": ["true"]})),
        409,
    );
    c.call(
        "POST",
        "/v1/containers/{id}/exec",
        "/v1/containers/web/exec",
        Some(json!({"cmd": []})),
        400,
    );
    c.call(
        "POST",
        "/v1/containers/{id}/exec",
        "/v1/containers/web/exec",
        Some(json!({"command": 1})),
        400,
    );
    c.call(
        "POST",
        "/v1/containers/{id}/exec",
        "/v1/containers/nope/exec",
        Some(json!({"cmd": ["true"]})),
        404,
    );

    c.call(
        "POST",
        "/v1/containers/{id}/kill",
        "/v1/containers/web/kill?signal=NOPE",
        None,
        400,
    );
    c.call(
        "POST",
        "/v1/containers/{id}/kill",
        "/v1/containers/quick/kill",
        None,
        409,
    );
    c.call(
        "POST",
        "/v1/containers/{id}/kill",
        "/v1/containers/nope/kill",
        None,
        404,
    );
    let conflict = c.call(
        "DELETE",
        "/v1/containers/{id}",
        "/v1/containers/web",
        None,
        409,
    );
    assert_eq!(conflict["kind"], "conflict");

    c.call(
        "POST",
        "/v1/containers/{id}/stop",
        "/v1/containers/web/stop?t=1",
        None,
        204,
    );
    c.call(
        "POST",
        "/v1/containers/{id}/stop",
        "/v1/containers/web/stop",
        None,
        304,
    );
    c.call(
        "POST",
        "/v1/containers/{id}/stop",
        "/v1/containers/web/stop?t=x",
        None,
        400,
    );
    c.call(
        "POST",
        "/v1/containers/{id}/stop",
        "/v1/containers/nope/stop",
        None,
        404,
    );
    c.call(
        "POST",
        "/v1/containers/{id}/start",
        "/v1/containers/web/start",
        None,
        204,
    );
    c.call(
        "POST",
        "/v1/containers/{id}/start",
        "/v1/containers/web/start",
        None,
        304,
    );
    c.call(
        "POST",
        "/v1/containers/{id}/start",
        "/v1/containers/nope/start",
        None,
        404,
    );
    c.call(
        "POST",
        "/v1/containers/{id}/restart",
        "/v1/containers/web/restart?t=1",
        None,
        204,
    );
    c.call(
        "POST",
        "/v1/containers/{id}/restart",
        "/v1/containers/nope/restart",
        None,
        404,
    );
    // Pause, unpause and update of the running `web` (and their errors).
    let paused = [
        ("pause", "web", 204),
        ("pause", "web", 409),
        ("unpause", "web", 204),
        ("unpause", "web", 409),
        ("pause", "quick", 409),
        ("pause", "nope", 404),
        ("unpause", "nope", 404),
    ];
    for (verb, name, status) in paused {
        let template = format!("/v1/containers/{{id}}/{verb}");
        c.call(
            "POST",
            &template,
            &format!("/v1/containers/{name}/{verb}"),
            None,
            status,
        );
    }
    let update = |c: &mut Checked, name: &str, body: serde_json::Value, status: u16| {
        let path = format!("/v1/containers/{name}/update");
        c.call(
            "POST",
            "/v1/containers/{id}/update",
            &path,
            Some(body),
            status,
        )
    };
    let in_force = update(
        &mut c,
        "web",
        json!({"memory": 67108864, "pids_limit": 40}),
        200,
    );
    assert_eq!(
        (in_force["memory"].as_u64(), in_force["pids_limit"].as_i64()),
        (Some(67108864), Some(40)),
        "{in_force}"
    );
    let err = update(&mut c, "web", json!({"memory_swap": 1024}), 400);
    assert!(
        err["message"].as_str().is_some_and(|m| m.contains("web")),
        "{err}"
    );
    update(&mut c, "web", json!({"blkio_weight": 300}), 400);
    update(&mut c, "web", json!({"restart": "sometimes"}), 400);
    update(&mut c, "nope", json!({"cpus": 1.0}), 404);
    c.call(
        "POST",
        "/v1/containers/{id}/kill",
        "/v1/containers/web/kill?signal=TERM",
        None,
        204,
    );
    c.call(
        "DELETE",
        "/v1/containers/{id}",
        "/v1/containers/web?force=true",
        None,
        204,
    );
    c.call(
        "DELETE",
        "/v1/containers/{id}",
        "/v1/containers/quick",
        None,
        204,
    );
    c.call(
        "DELETE",
        "/v1/containers/{id}",
        "/v1/containers/quick",
        None,
        404,
    );

    // Images: a real pull from the loopback registry, streamed.
    let reference = format!("{}/library/busybox:latest", reg.addr);
    let encoded = stack_api::client::encode(&reference);
    let pulled = c.call(
        "POST",
        "/v1/images/pull",
        "/v1/images/pull",
        Some(json!({"reference": reference})),
        200,
    );
    let last = pulled
        .as_array()
        .and_then(|l| l.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["status"], "pulled", "{pulled}");
    assert!(
        pulled
            .as_array()
            .expect("lines")
            .iter()
            .any(|l| l["status"] == "layer_started"),
        "{pulled}"
    );
    c.call(
        "POST",
        "/v1/images/pull",
        "/v1/images/pull",
        Some(json!({"reference": "Bad Ref"})),
        400,
    );
    let missing = c.call(
        "POST",
        "/v1/images/pull",
        "/v1/images/pull",
        Some(json!({"reference": format!("{}/library/absent:1", reg.addr)})),
        200,
    );
    assert_eq!(
        missing
            .as_array()
            .and_then(|l| l.last())
            .map(|l| l["status"].clone()),
        Some(json!("error"))
    );
    let images = c.call("GET", "/v1/images", "/v1/images", None, 200);
    assert_eq!(images[0]["reference"], reference.as_str(), "{images}");
    // An image held by a container is refused with 409.
    let out = stack(
        &sb,
        &[
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            "holder",
            &reference,
            "sleep",
            "100",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    c.call(
        "DELETE",
        "/v1/images/{name}",
        &format!("/v1/images/{encoded}"),
        None,
        409,
    );
    c.call(
        "DELETE",
        "/v1/containers/{id}",
        "/v1/containers/holder?force=true",
        None,
        204,
    );
    let removed = c.call(
        "DELETE",
        "/v1/images/{name}",
        &format!("/v1/images/{encoded}"),
        None,
        200,
    );
    assert_eq!(removed["untagged"], reference.as_str());
    c.call(
        "DELETE",
        "/v1/images/{name}",
        &format!("/v1/images/{encoded}"),
        None,
        404,
    );
    let pruned = c.call(
        "POST",
        "/v1/images/prune",
        "/v1/images/prune?all=true",
        None,
        200,
    );
    assert!(pruned["blobs"].is_number());
    c.call(
        "POST",
        "/v1/images/prune",
        "/v1/images/prune?all=2",
        None,
        400,
    );

    // Events: the actions above, in order.
    let events = c.call("GET", "/v1/events", "/v1/events?type=container", None, 200);
    let web: Vec<&str> = events
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["name"] == "web")
        .filter_map(|e| e["action"].as_str())
        // The monitors' own events (start, die) interleave once they log them.
        .filter(|a| {
            [
                "stop", "restart", "pause", "unpause", "update", "kill", "destroy",
            ]
            .contains(a)
        })
        .collect();
    assert_eq!(
        web,
        ["stop", "restart", "pause", "unpause", "update", "kill", "destroy"],
        "{events}"
    );
    c.call("GET", "/v1/events", "/v1/events?since=yesterday", None, 400);

    // Unknown routes and methods answer with the same error body.
    let (status, _, body) = c
        .client
        .raw(stack_api::client::Method::GET, "/v1/nothing", None)
        .expect("call");
    assert_eq!(status.as_u16(), 404);
    let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(body["kind"], "not_found");

    // Every documented operation was exercised, and the server serves
    // exactly the documented ones.
    let exercised: Vec<(String, String)> = c.seen.iter().cloned().collect();
    assert_eq!(exercised, doc.operations_not_owned_elsewhere());
    let mut served = stack_daemon::routes::served();
    served.sort();
    assert_eq!(served, doc.operations());

    // A peer that is neither root nor in group `stack` is refused, even
    // when the socket's mode would let it connect.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&daemon.socket, std::fs::Permissions::from_mode(0o666))
        .expect("chmod");
    let out = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "curl",
            "-s",
            "-w",
            "\n%{http_code}",
            "--unix-socket",
        ])
        .arg(&daemon.socket)
        .arg("http://localhost/v1/version")
        .output()
        .expect("setpriv + curl");
    let text = String::from_utf8_lossy(&out.stdout);
    let (body, code) = text.rsplit_once('\n').expect("body and status");
    assert_eq!(code, "403", "{}", describe(&out));
    let body: serde_json::Value = serde_json::from_str(body).expect("403 body is JSON");
    assert_eq!(body["kind"], "forbidden");
    doc.check_error(&body);
    assert!(
        daemon.log_text().contains("refused a connection"),
        "{}",
        daemon.log_text()
    );

    daemon.terminate();
    assert!(!sb.run_dir.join("stack.pid").exists(), "pid file removed");
    sb.assert_no_leaks();
}

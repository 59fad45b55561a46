//! `/v1/networks` and `/v1/volumes` through a running daemon: every route
//! and every documented error against the OpenAPI document, and the
//! `stack network` / `stack volume` verbs printing the same output and
//! exiting the same way through the daemon and in process.

mod daemon_support;
mod run_support;

use daemon_support::{Checked, Daemon, Doc};
use run_support::{busybox_rootfs, describe, stack};
use serde_json::json;
use stack_testkit::Sandbox;

/// Starts a container on network `front` that mounts volume `data`.
fn run_user(sb: &Sandbox, root: &std::path::Path) {
    let out = stack(
        sb,
        &[
            "--no-daemon",
            "run",
            "-d",
            "--name",
            "user",
            "--network",
            "front",
            "-v",
            "data:/data",
            "--rootfs",
            root.to_str().expect("path"),
            "sleep",
            "100",
        ],
    );
    assert!(out.status.success(), "run user: {}", describe(&out));
}

#[test]
fn network_and_volume_routes_match_the_openapi_document() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let daemon = Daemon::start(&sb, &[]);
    let doc = Doc::load();
    let mut c = Checked::new(daemon.client(), &doc);

    // Networks.
    assert_eq!(
        c.call("GET", "/v1/networks", "/v1/networks", None, 200),
        json!([])
    );
    let made = c.call(
        "POST",
        "/v1/networks",
        "/v1/networks",
        Some(json!({"name": "front", "subnet": "10.77.0.0/24", "labels": {"team": "web"}})),
        201,
    );
    assert_eq!(made["subnet"], "10.77.0.0/24");
    assert_eq!(made["gateway"], "10.77.0.1");
    assert_eq!(made["labels"]["team"], "web");
    let err = c.call(
        "POST",
        "/v1/networks",
        "/v1/networks",
        Some(json!({"name": "front"})),
        409,
    );
    assert_eq!(err["kind"], "conflict");
    assert!(
        err["message"].as_str().is_some_and(|m| m.contains("front")),
        "{err}"
    );
    let err = c.call(
        "POST",
        "/v1/networks",
        "/v1/networks",
        Some(json!({"name": "other", "subnet": "10.78.0.0"})),
        400,
    );
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("\"10.78.0.0\"")),
        "{err}"
    );
    c.call(
        "POST",
        "/v1/networks",
        "/v1/networks",
        Some(json!({"name": "a/b"})),
        400,
    );
    c.call(
        "POST",
        "/v1/networks",
        "/v1/networks",
        Some(json!({"subnet": 1})),
        400,
    );
    let front = c.call(
        "GET",
        "/v1/networks/{name}",
        "/v1/networks/front",
        None,
        200,
    );
    assert_eq!(front["driver"], "bridge");
    assert_eq!(front["containers"], json!([]));
    let err = c.call("GET", "/v1/networks/{name}", "/v1/networks/nope", None, 404);
    assert_eq!(
        err,
        json!({"message": "no such network: nope", "kind": "not_found"})
    );

    // Volumes.
    assert_eq!(
        c.call("GET", "/v1/volumes", "/v1/volumes", None, 200),
        json!([])
    );
    let data = c.call(
        "POST",
        "/v1/volumes",
        "/v1/volumes",
        Some(json!({"name": "data", "labels": {"team": "web"}})),
        201,
    );
    assert_eq!(data["name"], "data");
    assert_eq!(data["used_by"], json!([]));
    let again = c.call(
        "POST",
        "/v1/volumes",
        "/v1/volumes",
        Some(json!({"name": "data"})),
        200,
    );
    assert_eq!(again, data, "an existing volume is answered unchanged");
    let anon = c.call("POST", "/v1/volumes", "/v1/volumes", Some(json!({})), 201);
    let anon_name = anon["name"].as_str().expect("name").to_string();
    assert_eq!(anon["labels"]["com.docker.volume.anonymous"], "");
    let err = c.call(
        "POST",
        "/v1/volumes",
        "/v1/volumes",
        Some(json!({"name": ".bad"})),
        400,
    );
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("invalid volume name")),
        "{err}"
    );
    c.call(
        "POST",
        "/v1/volumes",
        "/v1/volumes",
        Some(json!({"name": "x", "driver": "nfs"})),
        400,
    );
    let filtered = c.call(
        "GET",
        "/v1/volumes",
        "/v1/volumes?filters=%7B%22label%22%3A%5B%22team%3Dweb%22%5D%7D",
        None,
        200,
    );
    assert_eq!(filtered.as_array().map(Vec::len), Some(1), "{filtered}");
    assert_eq!(filtered[0]["name"], "data");
    c.call(
        "GET",
        "/v1/volumes",
        "/v1/volumes?filters=notjson",
        None,
        400,
    );
    c.call(
        "GET",
        "/v1/volumes",
        "/v1/volumes?filters=%7B%22colour%22%3A%5B%22red%22%5D%7D",
        None,
        400,
    );
    let got = c.call("GET", "/v1/volumes/{name}", "/v1/volumes/data", None, 200);
    assert_eq!(got, data);
    let err = c.call("GET", "/v1/volumes/{name}", "/v1/volumes/nope", None, 404);
    assert_eq!(
        err,
        json!({"message": "no such volume: nope", "kind": "not_found"})
    );

    // A container on the network, mounting the volume, blocks both removals.
    run_user(&sb, &root);
    let front = c.call(
        "GET",
        "/v1/networks/{name}",
        "/v1/networks/front",
        None,
        200,
    );
    assert_eq!(front["containers"][0]["name"], "user", "{front}");
    let err = c.call(
        "DELETE",
        "/v1/networks/{name}",
        "/v1/networks/front",
        None,
        409,
    );
    assert!(
        err["message"].as_str().is_some_and(|m| m.contains("user")),
        "{err}"
    );
    let used = c.call("GET", "/v1/volumes/{name}", "/v1/volumes/data", None, 200);
    assert_eq!(used["used_by"], json!(["user"]));
    for path in ["/v1/volumes/data", "/v1/volumes/data?force=true"] {
        let err = c.call("DELETE", "/v1/volumes/{name}", path, None, 409);
        assert_eq!(
            err,
            json!({"message": "volume data is in use by container(s): user", "kind": "conflict"})
        );
    }
    c.call(
        "DELETE",
        "/v1/volumes/{name}",
        "/v1/volumes/data?force=maybe",
        None,
        400,
    );
    c.call(
        "DELETE",
        "/v1/volumes/{name}",
        "/v1/volumes/nope",
        None,
        404,
    );
    c.call(
        "DELETE",
        "/v1/volumes/{name}",
        "/v1/volumes/nope?force=true",
        None,
        204,
    );
    // Prune: anonymous ones only, then all unused; never the used one.
    let pruned = c.call("POST", "/v1/volumes/prune", "/v1/volumes/prune", None, 200);
    assert_eq!(pruned, json!({"volumes": [anon_name], "bytes": 0}));
    c.call(
        "POST",
        "/v1/volumes/prune",
        "/v1/volumes/prune?all=maybe",
        None,
        400,
    );
    c.call(
        "POST",
        "/v1/volumes",
        "/v1/volumes",
        Some(json!({"name": "spare"})),
        201,
    );
    let pruned = c.call(
        "POST",
        "/v1/volumes/prune",
        "/v1/volumes/prune?all=true",
        None,
        200,
    );
    assert_eq!(pruned, json!({"volumes": ["spare"], "bytes": 0}));
    c.call(
        "POST",
        "/v1/networks",
        "/v1/networks",
        Some(json!({"name": "idle"})),
        201,
    );
    let pruned = c.call(
        "POST",
        "/v1/networks/prune",
        "/v1/networks/prune",
        None,
        200,
    );
    assert_eq!(pruned, json!({"networks": ["idle"]}));

    // Once the container is gone, both go.
    let out = stack(&sb, &["--no-daemon", "container", "rm", "--force", "user"]);
    assert!(out.status.success(), "{}", describe(&out));
    c.call(
        "DELETE",
        "/v1/volumes/{name}",
        "/v1/volumes/data",
        None,
        204,
    );
    c.call(
        "DELETE",
        "/v1/networks/{name}",
        "/v1/networks/front",
        None,
        204,
    );
    c.call(
        "DELETE",
        "/v1/networks/{name}",
        "/v1/networks/front",
        None,
        404,
    );
    assert_eq!(
        c.call("GET", "/v1/volumes", "/v1/volumes", None, 200),
        json!([])
    );

    let exercised: Vec<(String, String)> = c.seen.iter().cloned().collect();
    assert_eq!(
        exercised,
        doc.operations_under(&["/v1/networks", "/v1/volumes"])
    );
    daemon.terminate();
    sb.assert_no_leaks();
}

/// Runs `args` through the daemon and in process; checks that status,
/// stdout and stderr are the same and returns the daemon's output.
fn both_ways(sb: &Sandbox, socket: &std::path::Path, args: &[&str]) -> std::process::Output {
    let host = format!("unix://{}", socket.display());
    let mut via_daemon = vec!["--host", host.as_str()];
    via_daemon.extend_from_slice(args);
    let mut in_process = vec!["--no-daemon"];
    in_process.extend_from_slice(args);
    let a = stack(sb, &via_daemon);
    let b = stack(sb, &in_process);
    let both = format!(
        "{args:?}\ndaemon: {}\nin process: {}",
        describe(&a),
        describe(&b)
    );
    assert_eq!(a.status.code(), b.status.code(), "{both}");
    assert_eq!(a.stdout, b.stdout, "{both}");
    assert_eq!(a.stderr, b.stderr, "{both}");
    a
}

/// Runs `args` through the daemon (`daemon = true`) or in process.
fn one_way(sb: &Sandbox, socket: &std::path::Path, daemon: bool, args: &[&str]) -> String {
    let host = format!("unix://{}", socket.display());
    let mut all = if daemon {
        vec!["--host", host.as_str()]
    } else {
        vec!["--no-daemon"]
    };
    all.extend_from_slice(args);
    let out = stack(sb, &all);
    assert!(out.status.success(), "{all:?}: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn network_and_volume_verbs_print_the_same_through_the_daemon() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let daemon = Daemon::start(&sb, &[]);
    let socket = daemon.socket.clone();

    // Changes, made one way and the other on twin objects, print alike.
    for (daemon_way, suffix) in [(true, "1"), (false, "2")] {
        let net = format!("net{suffix}");
        let vol = format!("vol{suffix}");
        let subnet = format!("10.8{suffix}.0.0/24");
        let id = one_way(
            &sb,
            &socket,
            daemon_way,
            &[
                "network", "create", "--subnet", &subnet, "--label", "k=v", &net,
            ],
        );
        assert_eq!(id.trim().len(), 64, "{id}");
        let made = one_way(
            &sb,
            &socket,
            daemon_way,
            &["volume", "create", "--label", "k=v", &vol],
        );
        assert_eq!(made, format!("{vol}\n"));
    }
    ok_same(&sb, &socket, &["volume", "ls"]);
    ok_same(&sb, &socket, &["volume", "ls", "--format", "json"]);
    ok_same(&sb, &socket, &["volume", "ls", "-q", "--filter", "name=1"]);
    ok_same(&sb, &socket, &["volume", "inspect", "vol1", "vol2"]);
    ok_same(&sb, &socket, &["volume", "create", "vol1"]);
    ok_same(&sb, &socket, &["network", "ls"]);
    ok_same(&sb, &socket, &["network", "ls", "--format", "json"]);
    ok_same(&sb, &socket, &["network", "inspect", "net1", "net2"]);

    // Errors: the same words and exit code either way.
    for args in [
        &["volume", "inspect", "vol1", "nope"][..],
        &["volume", "rm", "nope"][..],
        &["volume", "create", "bad/name"][..],
        &["volume", "create", "--driver", "nfs", "x"][..],
        &["volume", "ls", "--filter", "colour=red"][..],
        &["network", "inspect", "nope"][..],
        &["network", "rm", "nope"][..],
        &["network", "create", "net1"][..],
        &["network", "create", "--subnet", "10.9.0.0", "x"][..],
    ] {
        let out = both_ways(&sb, &socket, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", describe(&out));
    }

    // A volume in use: the refusal names the container both ways.
    let out = stack(
        &sb,
        &[
            "--no-daemon",
            "run",
            "-d",
            "--name",
            "user",
            "--network",
            "net1",
            "-v",
            "vol1:/data",
            "--rootfs",
            root.to_str().expect("path"),
            "sleep",
            "100",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let out = both_ways(&sb, &socket, &["volume", "rm", "--force", "vol1"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("in use by container(s): user"),
        "{}",
        describe(&out)
    );
    let out = both_ways(&sb, &socket, &["network", "rm", "net1"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("active endpoints: user"),
        "{}",
        describe(&out)
    );
    let out = stack(&sb, &["--no-daemon", "container", "rm", "--force", "user"]);
    assert!(out.status.success(), "{}", describe(&out));

    // Removal and prune, one way and the other.
    assert_eq!(
        one_way(&sb, &socket, true, &["volume", "rm", "vol1"]),
        "vol1\n"
    );
    assert_eq!(
        one_way(&sb, &socket, false, &["volume", "rm", "vol2"]),
        "vol2\n"
    );
    assert_eq!(
        one_way(&sb, &socket, true, &["network", "rm", "net1"]),
        "net1\n"
    );
    assert_eq!(
        one_way(&sb, &socket, false, &["network", "prune", "--force"]),
        "Deleted Networks:\nnet2\n"
    );
    one_way(&sb, &socket, true, &["volume", "create", "a1"]);
    assert_eq!(
        one_way(&sb, &socket, true, &["volume", "prune", "-a"]),
        "Deleted Volumes:\na1\n\nTotal reclaimed space: 0B\n"
    );
    ok_same(&sb, &socket, &["volume", "prune", "-a"]);
    let out = both_ways(&sb, &socket, &["network", "prune"]);
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "{}",
        describe(&out)
    );
    daemon.terminate();
    sb.assert_no_leaks();
}

fn ok_same(sb: &Sandbox, socket: &std::path::Path, args: &[&str]) {
    let out = both_ways(sb, socket, args);
    assert!(out.status.success(), "{args:?}: {}", describe(&out));
    assert!(!out.stdout.is_empty(), "{args:?} printed nothing");
}

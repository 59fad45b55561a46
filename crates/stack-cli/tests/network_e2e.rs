//! Networks end to end through the built `stack` binary, each test in a
//! sandbox network namespace of its own: names resolve across a network,
//! networks are isolated, published ports answer (TCP and UDP, from the
//! sandbox's 127.0.0.1 and from a second namespace playing another host),
//! redis across the bridge, restarts keep names, and teardown leaves nothing.

mod net_support;
mod run_support;

use std::net::UdpSocket;
use std::time::Duration;

use net_support::*;
use run_support::{describe, stack};

#[test]
fn containers_on_one_network_talk_by_name_and_keep_it_across_a_restart() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = network_rootfs(&sb);
    ok(&sb, &["network", "create", "front"]);
    run_detached(
        &sb,
        &root,
        "web",
        &["--network", "front", "--network-alias", "www"],
        HTTPD,
    );
    eventually(
        || match wget_from(&sb, &root, "front", "http://web/index.html") {
            (true, body) if body == "hello from web\n" => Ok(()),
            (_, out) => Err(out),
        },
    );
    let (ok_alias, body) = wget_from(&sb, &root, "front", "http://www/index.html");
    assert!(ok_alias, "by alias: {body}");
    let before = address_of(&sb, "web", "front");
    ok(&sb, &["container", "stop", "-t", "1", "web"]);
    ok(&sb, &["container", "start", "web"]);
    assert_eq!(address_of(&sb, "web", "front"), before, "address kept");
    eventually(
        || match wget_from(&sb, &root, "front", "http://web/index.html") {
            (true, _) => Ok(()),
            (_, out) => Err(out),
        },
    );
    let resolved = run_rm(&sb, &root, &["--network", "front"], &["nslookup", "web"]);
    let text = String::from_utf8_lossy(&resolved.stdout);
    assert!(
        text.contains(&before.to_string()),
        "web at {before}: {text}"
    );
    teardown_and_check(&sb);
}

#[test]
fn different_networks_are_isolated() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = network_rootfs(&sb);
    ok(&sb, &["network", "create", "a"]);
    ok(&sb, &["network", "create", "b"]);
    run_detached(&sb, &root, "only-a", &["--network", "a"], HTTPD);
    let address = address_of(&sb, "only-a", "a");
    eventually(
        || match wget_from(&sb, &root, "a", &format!("http://{address}/")) {
            (true, _) => Ok(()),
            (_, out) => Err(out),
        },
    );
    let (reached, out) = wget_from(&sb, &root, "b", &format!("http://{address}/"));
    assert!(!reached, "network b reached a container on a: {out}");
    let (resolved, out) = wget_from(&sb, &root, "b", "http://only-a/");
    assert!(!resolved, "network b resolved a name of a: {out}");
    teardown_and_check(&sb);
}

#[test]
fn published_ports_answer_on_localhost_and_from_another_host_with_docker_rules() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    docker_like_rules();
    let root = network_rootfs(&sb);
    run_detached(&sb, &root, "pub", &["--publish", "18080:80"], HTTPD);
    run_detached(
        &sb,
        &root,
        "udp",
        &["--publish", "127.0.0.1:15353:5353/udp"],
        &["/bin/udp-echo", "5353"],
    );
    let ports = ok(&sb, &["container", "ls"]);
    assert!(ports.contains("0.0.0.0:18080->80/tcp"), "{ports}");
    eventually(|| host_get("http://127.0.0.1:18080/index.html"));
    let other = other_host(&sb);
    eventually(|| {
        let out = std::process::Command::new("nsenter")
            .arg(format!("--net={}", other.display()))
            .args([
                "wget",
                "-q",
                "--no-proxy",
                "-t",
                "1",
                "-T",
                "3",
                "-O",
                "-",
                "http://172.31.250.1:18080/",
            ])
            .output()
            .expect("nsenter wget");
        if out.status.success() {
            Ok(())
        } else {
            Err(describe(&out))
        }
    });
    let socket = UdpSocket::bind("127.0.0.1:0").expect("udp socket");
    socket
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    eventually(|| {
        socket
            .send_to(b"datagram across", "127.0.0.1:15353")
            .map_err(|e| e.to_string())?;
        let mut buf = [0u8; 64];
        let (n, _) = socket.recv_from(&mut buf).map_err(|e| e.to_string())?;
        if &buf[..n] == b"datagram across" {
            Ok(())
        } else {
            Err(format!("echo {:?}", &buf[..n]))
        }
    });
    sh(&format!("umount {0} && rm {0}", other.display()));
    teardown_and_check(&sb);
}

#[test]
fn redis_benchmark_across_the_bridge_has_no_errors() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = network_rootfs(&sb);
    run_detached(
        &sb,
        &root,
        "redis",
        &[],
        &[
            "/usr/bin/redis-server",
            "--port",
            "6379",
            "--protected-mode",
            "no",
            "--save",
            "",
        ],
    );
    let address = address_of(&sb, "redis", "bridge").to_string();
    eventually(|| {
        let out = std::process::Command::new("redis-cli")
            .args(["-h", &address, "ping"])
            .output()
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if text.contains("PONG") {
            Ok(())
        } else {
            Err(text)
        }
    });
    let out = std::process::Command::new("redis-benchmark")
        .args([
            "-h", &address, "-n", "100000", "-c", "20", "-t", "set,get", "--csv",
        ])
        .output()
        .expect("redis-benchmark");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        text.contains("\"SET\"") && text.contains("\"GET\""),
        "{text}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.to_lowercase().contains("error"), "errors: {stderr}");
    let info = std::process::Command::new("redis-cli")
        .args(["-h", &address, "info", "stats"])
        .output()
        .expect("redis-cli info");
    let info = String::from_utf8_lossy(&info.stdout);
    let processed: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("total_commands_processed:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_default();
    assert!(
        processed >= 200_000,
        "commands processed {processed}: {info}"
    );
    teardown_and_check(&sb);
}

#[test]
fn flushed_chains_are_repaired_by_the_next_change() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = network_rootfs(&sb);
    run_detached(&sb, &root, "first", &["--publish", "18081:80"], HTTPD);
    eventually(|| host_get("http://127.0.0.1:18081/"));
    sh("iptables -t nat -F STACK-PORTS && iptables -D FORWARD -j STACK-FORWARD");
    assert!(
        host_get("http://127.0.0.1:18081/").is_err(),
        "flush had no effect"
    );
    run_detached(&sb, &root, "second", &["--publish", "18082:80"], HTTPD);
    let rules = sh("iptables-save");
    assert!(rules.contains("-A FORWARD -j STACK-FORWARD"), "{rules}");
    eventually(|| host_get("http://127.0.0.1:18081/"));
    eventually(|| host_get("http://127.0.0.1:18082/"));
    teardown_and_check(&sb);
}

#[test]
fn detached_rm_container_releases_its_endpoint_on_exit() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = network_rootfs(&sb);
    ok(&sb, &["network", "create", "short"]);
    let root_s = root.to_str().expect("utf-8");
    ok(
        &sb,
        &[
            "run",
            "-d",
            "--rm",
            "--network",
            "short",
            "--rootfs",
            root_s,
            "sleep",
            "0.3",
        ],
    );
    eventually(|| {
        let doc: serde_json::Value =
            serde_json::from_str(&ok(&sb, &["network", "inspect", "short"])).expect("json");
        let attached = doc[0]["Containers"].as_object().map_or(0, |c| c.len());
        let netns = std::fs::read_dir(sb.run_dir.join("netns")).map_or(0, |d| d.count());
        if attached == 0 && netns == 0 {
            Ok(())
        } else {
            Err(format!(
                "{attached} endpoints, {netns} namespace files left"
            ))
        }
    });
    teardown_and_check(&sb);
}

#[test]
fn network_verbs_errors_and_modes() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = network_rootfs(&sb);
    ok(
        &sb,
        &[
            "network",
            "create",
            "--subnet",
            "10.77.3.0/24",
            "--label",
            "team=web",
            "--internal",
            "lab",
        ],
    );
    let line = ok(&sb, &["network", "ls", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(line.trim()).expect("one json line");
    assert_eq!(doc["Subnet"], "10.77.3.0/24");
    assert_eq!(doc["Labels"]["team"], "web");
    let dup = stack(&sb, &["network", "create", "lab"]);
    assert!(
        !dup.status.success() && describe(&dup).contains("lab"),
        "{}",
        describe(&dup)
    );

    let unknown = run_rm(&sb, &root, &["--network", "nowhere"], &["true"]);
    assert!(
        describe(&unknown).contains("network nowhere not found"),
        "{}",
        describe(&unknown)
    );
    let bad_port = run_rm(&sb, &root, &["--publish", "99999:80"], &["true"]);
    assert!(
        describe(&bad_port).contains("99999:80"),
        "{}",
        describe(&bad_port)
    );

    run_detached(
        &sb,
        &root,
        "holder",
        &[
            "--network",
            "lab",
            "--ip",
            "10.77.3.50",
            "--hostname",
            "hold",
        ],
        &["sleep", "30"],
    );
    let doc: serde_json::Value =
        serde_json::from_str(&ok(&sb, &["container", "inspect", "holder"])).expect("json");
    // Keyed by network name, as Docker has it.
    let net = &doc[0]["NetworkSettings"]["Networks"]["lab"];
    assert_eq!(net["IPAddress"], "10.77.3.50", "{doc}");
    assert_eq!(net["IPPrefixLen"], 24, "{doc}");
    assert_eq!(net["NetworkID"].as_str().map(str::len), Some(64), "{doc}");
    assert_eq!(net["Gateway"], "10.77.3.1");
    assert!(
        net["MacAddress"].as_str().is_some_and(|m| m.len() == 17),
        "{doc}"
    );
    let refused = stack(&sb, &["network", "rm", "lab"]);
    assert!(
        !refused.status.success() && describe(&refused).contains("holder"),
        "{}",
        describe(&refused)
    );

    // container:X shares X's namespace and files.
    let shared = run_rm(
        &sb,
        &root,
        &["--network", "container:holder"],
        &["sh", "-c", "ip -4 addr; cat /etc/hosts"],
    );
    let text = String::from_utf8_lossy(&shared.stdout);
    assert!(
        text.contains("10.77.3.50") && text.contains("hold"),
        "{}",
        describe(&shared)
    );
    // none: loopback only.
    let none = run_rm(&sb, &root, &["--network", "none"], &["ip", "-4", "addr"]);
    let text = String::from_utf8_lossy(&none.stdout);
    assert!(
        text.contains("127.0.0.1") && !text.contains("eth0"),
        "{}",
        describe(&none)
    );
    // host: the sandbox's own interfaces, with --add-host in /etc/hosts.
    let host = run_rm(
        &sb,
        &root,
        &["--network", "host", "--add-host", "db.local:10.9.9.9"],
        &["sh", "-c", "ip link; cat /etc/hosts"],
    );
    let text = String::from_utf8_lossy(&host.stdout);
    assert!(
        text.contains("stk-") && text.contains("10.9.9.9\tdb.local"),
        "{}",
        describe(&host)
    );
    // --dns replaces the resolver in resolv.conf.
    let dns = run_rm(
        &sb,
        &root,
        &["--network", "lab", "--dns", "10.77.3.9"],
        &["cat", "/etc/resolv.conf"],
    );
    assert_eq!(
        String::from_utf8_lossy(&dns.stdout),
        "nameserver 10.77.3.9\n",
        "{}",
        describe(&dns)
    );

    let events = std::fs::read_to_string(sb.state_root.join("events.jsonl")).expect("events");
    for action in ["\"create\"", "\"connect\"", "\"disconnect\""] {
        assert!(
            events.contains(action),
            "no network {action} event: {events}"
        );
    }
    teardown_and_check(&sb);
    let events = std::fs::read_to_string(sb.state_root.join("events.jsonl")).expect("events");
    assert!(events.contains("\"destroy\""), "no destroy event");
}

#[test]
fn parallel_starts_get_distinct_addresses_and_a_failed_start_rolls_back() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = network_rootfs(&sb);
    ok(
        &sb,
        &["network", "create", "--subnet", "10.66.0.0/24", "busy"],
    );
    std::thread::scope(|scope| {
        for i in 0..6 {
            let (sb, root) = (&sb, &root);
            scope.spawn(move || {
                run_detached(
                    sb,
                    root,
                    &format!("p{i}"),
                    &["--network", "busy"],
                    &["sleep", "30"],
                );
            });
        }
    });
    let mut addresses: Vec<_> = (0..6)
        .map(|i| address_of(&sb, &format!("p{i}"), "busy"))
        .collect();
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), 6, "addresses shared: {addresses:?}");

    let root_s = root.to_str().expect("utf-8");
    let failed = stack(
        &sb,
        &[
            "run",
            "-d",
            "--name",
            "outside",
            "--network",
            "busy",
            "--ip",
            "10.99.0.5",
            "--rootfs",
            root_s,
            "true",
        ],
    );
    assert!(!failed.status.success(), "{}", describe(&failed));
    assert!(
        describe(&failed).contains("10.99.0.5"),
        "{}",
        describe(&failed)
    );
    let doc: serde_json::Value =
        serde_json::from_str(&ok(&sb, &["network", "inspect", "busy"])).expect("json");
    assert_eq!(
        doc[0]["Containers"].as_object().map_or(0, |c| c.len()),
        6,
        "{doc}"
    );
    let netns = std::fs::read_dir(sb.run_dir.join("netns")).map_or(0, |d| d.count());
    assert_eq!(netns, 6, "the failed start left its namespace file");
    teardown_and_check(&sb);
}

/// GET from the sandbox's own namespace with GNU wget.
fn host_get(url: &str) -> Result<(), String> {
    let out = std::process::Command::new("wget")
        .args(["-q", "--no-proxy", "-t", "1", "-T", "2", "-O", "-", url])
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(describe(&out))
    }
}

/// What Docker leaves on a host: FORWARD policy DROP and its chains.
fn docker_like_rules() {
    sh(
        "iptables -N DOCKER-USER && iptables -A DOCKER-USER -j RETURN \
        && iptables -N DOCKER && iptables -A FORWARD -j DOCKER-USER \
        && iptables -A FORWARD -o docker0 -j DOCKER && iptables -P FORWARD DROP \
        && iptables -t nat -N DOCKER \
        && iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
    );
}

/// A namespace playing another host, wired to the sandbox by a veth
/// (`ext0`, 172.31.250.1/30; the other host is .2). Returns its netns file.
fn other_host(sb: &stack_testkit::Sandbox) -> std::path::PathBuf {
    let path = sb.dir().join("otherhost");
    std::fs::write(&path, "").expect("netns file");
    let ns = path.display().to_string();
    sh(&format!(
        "unshare --net={ns} true \
         && ip link add ext0 type veth peer name eth0 netns {ns} \
         && ip addr add 172.31.250.1/30 dev ext0 && ip link set ext0 up \
         && nsenter --net={ns} sh -c 'ip link set lo up && ip addr add 172.31.250.2/30 dev eth0 && ip link set eth0 up'"
    ));
    path
}

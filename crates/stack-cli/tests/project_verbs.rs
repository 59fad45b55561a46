//! The project verbs end to end on a two-service project (`db`, and `web`
//! depending on it, two replicas), its containers made the way `up` makes
//! them: `stack run -d` with Compose's labels. Order is observed in the
//! event log (stop) and in the containers' start times (start).

mod run_support;
mod verbs_support;

use run_support::{busybox_rootfs, describe as text, stack};

use verbs_support::*;

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
    let stops = |log: &[(String, String)]| log.iter().filter(|(a, _)| a == "stop").count();
    assert_eq!(stops(&events(&sb)), stops(&log));

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

    // -d leaves the command running on its own.
    let out = run(&["-d", "web", "sh", "-c", "sleep 0.2; touch /tmp/detached"]);
    assert!(out.status.success(), "{}", text(&out));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while run(&["web", "test", "-f", "/tmp/detached"]).status.code() != Some(0) {
        assert!(
            std::time::Instant::now() < deadline,
            "detached exec never ran"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

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
    // Without --no-stream a new reading comes every second.
    let mut streaming = sb
        .command(run_support::stack_bin())
        .args([
            "-f",
            file.to_str().expect("utf-8"),
            "stats",
            "--format",
            "json",
            "db",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start stats");
    let stdout = streaming.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let started = std::time::Instant::now();
    for _ in 0..3 {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("a stats reading");
        let row: serde_json::Value = serde_json::from_str(&line).expect("stats json");
        assert_eq!(row["Name"], "shop-db-1", "{row}");
    }
    // The first after half a second, then one per second.
    assert!(started.elapsed() >= std::time::Duration::from_millis(2400));
    let _ = streaming.kill();
    let _ = streaming.wait();

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
fn port_reads_the_published_ports_of_a_replica() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (file, _root) = shop(&sb);
    // The network record the network layer writes when it connects a
    // container with `ports: ["8080:80", "127.0.0.1:5353:53/udp"]`.
    use stack_net::model::{ContainerNetworking, PortMapping, PortRange, Protocol};
    let id = inspect(&sb, "shop-web-1")["Id"]
        .as_str()
        .expect("id")
        .to_string();
    let store = stack_net::store::Store::open(&sb.state_root).expect("network store");
    store
        .save_container(&ContainerNetworking {
            container_id: id,
            netns: sb.run_dir.join("netns").join("x"),
            endpoints: Vec::new(),
            ports: vec![
                PortMapping::tcp(8080, 80),
                PortMapping {
                    host_ip: Some(std::net::Ipv4Addr::LOCALHOST),
                    host_ports: PortRange::single(5353),
                    container_ports: PortRange::single(53),
                    protocol: Protocol::Udp,
                },
            ],
        })
        .expect("save record");

    let out = verb(&sb, &file, &["port", "web", "80"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0.0.0.0:8080\n");
    let out = verb(&sb, &file, &["port", "--protocol", "udp", "web", "53"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "127.0.0.1:5353\n");
    for args in [
        &["port", "web", "53"][..],
        &["port", "--index", "2", "web", "80"],
        &["port", "db", "80"],
    ] {
        let out = verb(&sb, &file, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("is published"),
            "{args:?}: {}",
            text(&out)
        );
    }
    let out = verb(&sb, &file, &["port", "nosuch", "80"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such service: nosuch"));

    let out = verb(&sb, &file, &["rm", "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    std::fs::remove_dir_all(sb.state_root.join("networks")).expect("remove network store");
    sb.assert_no_leaks();
}

#[test]
fn port_of_a_container_run_with_published_ports() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let tcp = stack_testkit::registry::free_port();
    let udp = stack_testkit::registry::free_port();
    let (tcp_spec, udp_spec) = (format!("127.0.0.1:{tcp}:80"), format!("{udp}:53/udp"));
    let out = stack(
        &sb,
        &[
            "run",
            "-d",
            "--init",
            "--name",
            "shop-api-1",
            "-l",
            &format!("{PROJECT}=shop"),
            "-l",
            &format!("{SERVICE}=api"),
            "-l",
            &format!("{NUMBER}=1"),
            "--publish",
            &tcp_spec,
            "--publish",
            &udp_spec,
            "--rootfs",
            root.to_str().expect("utf-8"),
            "sleep",
            "1000",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));

    let out = stack(&sb, &["-p", "shop", "port", "api", "80"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("127.0.0.1:{tcp}\n")
    );
    let out = stack(
        &sb,
        &["-p", "shop", "port", "--protocol", "udp", "api", "53"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("0.0.0.0:{udp}\n")
    );
    let out = stack(&sb, &["-p", "shop", "port", "api", "53"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    let out = stack(&sb, &["-p", "shop", "rm", "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = stack(&sb, &["network", "rm", "bridge"]);
    assert!(out.status.success(), "{}", text(&out));
    sb.assert_no_leaks();
}

#[test]
fn stop_ends_a_crash_loop_for_good() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let out = stack(
        &sb,
        &[
            "run",
            "-d",
            "--network",
            "none",
            "--restart",
            "always",
            "--name",
            "shop-worker-1",
            "-l",
            &format!("{PROJECT}=shop"),
            "-l",
            &format!("{SERVICE}=worker"),
            "-l",
            &format!("{NUMBER}=1"),
            "--rootfs",
            root.to_str().expect("utf-8"),
            "sh",
            "-c",
            "sleep 0.05; exit 1",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    // Wait until it has crashed and been restarted at least once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while inspect(&sb, "shop-worker-1")["RestartCount"]
        .as_u64()
        .unwrap_or(0)
        < 1
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            inspect(&sb, "shop-worker-1")
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = stack(&sb, &["-p", "shop", "stop", "-t", "1"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("shop-worker-1  Stopped"),
        "{}",
        text(&out)
    );
    // It stays down: the policy does not bring back a manual stop.
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert_eq!(status(&sb, "shop-worker-1"), "exited");
    let count = inspect(&sb, "shop-worker-1")["RestartCount"].clone();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(inspect(&sb, "shop-worker-1")["RestartCount"], count);

    let out = stack(&sb, &["-p", "shop", "rm"]);
    assert!(out.status.success(), "{}", text(&out));
    sb.assert_no_leaks();
}

//! Networking against real kernel objects, each test in its own sandbox
//! (network + mount namespace). "Containers" are plain network namespaces
//! running busybox and redis; their names resolve through our resolver.

mod common;

use common::*;
use stack_net::{NetworkSpec, PortMapping};

fn spec(name: &str) -> NetworkSpec {
    NetworkSpec {
        name: name.into(),
        ..NetworkSpec::default()
    }
}

async fn talk_by_name(docker_rules: bool) {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    if docker_rules {
        add_docker_like_rules();
    }
    let mgr = manager(&sb).await;
    mgr.create_network(&spec("p_front")).await.expect("network");
    let web = Ctr::new(&sb, "p-web-1");
    let client = Ctr::new(&sb, "p-client-1");
    let web_ip = web
        .attach(
            &mgr,
            &[("p_front", &["web", "p-web-1", "www-alias"])],
            vec![],
        )
        .await;
    client
        .attach(&mgr, &[("p_front", &["client"])], vec![])
        .await;
    let _httpd = web.serve(8080, "hello from web\n");

    assert_eq!(resolve(&client, "web"), vec![web_ip]);
    assert_eq!(resolve(&client, "www-alias"), vec![web_ip]);
    assert_eq!(
        wget(&client, "http://web:8080/index.html").as_deref(),
        Ok("hello from web\n")
    );
    assert_eq!(
        wget(&client, "http://p-web-1:8080/").as_deref(),
        Ok("hello from web\n")
    );
    // Other names go to the upstream (our loopback stub only).
    assert_eq!(resolve(&client, "elsewhere.example"), vec![STUB_ANSWER]);

    drop(_httpd);
    mgr.teardown_all().await.expect("teardown");
    web.remove();
    client.remove();
    sb.assert_no_leaks();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_containers_talk_by_name() {
    talk_by_name(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_containers_talk_by_name_with_docker_rules() {
    talk_by_name(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_resolve_to_all_addresses() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let mgr = manager(&sb).await;
    mgr.create_network(&spec("p_default"))
        .await
        .expect("network");
    let a = Ctr::new(&sb, "p-web-1");
    let b = Ctr::new(&sb, "p-web-2");
    let client = Ctr::new(&sb, "p-client-1");
    let ip_a = a
        .attach(&mgr, &[("p_default", &["web", "p-web-1"])], vec![])
        .await;
    let ip_b = b
        .attach(&mgr, &[("p_default", &["web", "p-web-2"])], vec![])
        .await;
    client
        .attach(&mgr, &[("p_default", &["client"])], vec![])
        .await;
    let mut got = resolve(&client, "web");
    got.sort();
    assert_eq!(got, vec![ip_a, ip_b]);
    mgr.detach("p-web-2").await.expect("detach replica");
    assert_eq!(
        resolve(&client, "web"),
        vec![ip_a],
        "answers follow at once (TTL 0)"
    );
    mgr.teardown_all().await.expect("teardown");
    for c in [a, b, client] {
        c.remove();
    }
    sb.assert_no_leaks();
}

async fn isolation(docker_rules: bool) {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    if docker_rules {
        add_docker_like_rules();
    }
    let mgr = manager(&sb).await;
    mgr.create_network(&spec("p_a")).await.expect("network a");
    let internal = NetworkSpec {
        internal: true,
        ..spec("p_b")
    };
    mgr.create_network(&internal).await.expect("network b");
    let a = Ctr::new(&sb, "a-1");
    let b = Ctr::new(&sb, "b-1");
    let b2 = Ctr::new(&sb, "b-2");
    a.attach(&mgr, &[("p_a", &["a"])], vec![]).await;
    let b_ip = b.attach(&mgr, &[("p_b", &["b"])], vec![]).await;
    b2.attach(&mgr, &[("p_b", &["b2"])], vec![]).await;
    let _httpd = b.serve(80, "b\n");

    // Same network: reachable, by name.
    assert_eq!(wget(&b2, "http://b/").as_deref(), Ok("b\n"));
    // Other network: neither the name nor the address.
    assert!(resolve(&a, "b").iter().all(|ip| *ip != b_ip));
    assert!(
        wget(&a, &format!("http://{b_ip}/")).is_err(),
        "network a reached network b"
    );
    // Internal networks forward no names to the upstream.
    assert!(resolve(&b2, "elsewhere.example").is_empty());

    drop(_httpd);
    mgr.teardown_all().await.expect("teardown");
    for c in [a, b, b2] {
        c.remove();
    }
    sb.assert_no_leaks();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_networks_cannot_reach_each_other() {
    isolation(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_networks_cannot_reach_each_other_with_docker_rules() {
    isolation(true).await;
}

async fn published_port(docker_rules: bool) {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    if docker_rules {
        add_docker_like_rules();
    }
    let remote = other_host(&sb);
    let mgr = manager(&sb).await;
    mgr.create_network(&spec("p_pub")).await.expect("network");
    let web = Ctr::new(&sb, "p-web-1");
    web.attach(
        &mgr,
        &[("p_pub", &["web"])],
        vec![PortMapping::tcp(8080, 80)],
    )
    .await;
    let _httpd = web.serve(80, "published\n");

    assert_eq!(
        host_wget("http://127.0.0.1:8080/").as_deref(),
        Ok("published\n")
    );
    assert_eq!(
        wget(&remote, "http://172.31.250.1:8080/").as_deref(),
        Ok("published\n")
    );
    // After detach the port is gone.
    drop(_httpd);
    mgr.detach("p-web-1").await.expect("detach");
    assert!(host_wget("http://127.0.0.1:8080/").is_err());

    mgr.teardown_all().await.expect("teardown");
    web.remove();
    remote.remove();
    common::sh("ip link del ext0 2>/dev/null || true");
    sb.assert_no_leaks();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_port_answers_on_localhost_and_from_another_host() {
    published_port(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_port_answers_with_docker_rules() {
    published_port(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_benchmark_across_the_bridge() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    add_docker_like_rules();
    let mgr = manager(&sb).await;
    mgr.create_network(&spec("p_cache")).await.expect("network");
    let redis = Ctr::new(&sb, "p-redis-1");
    let bench = Ctr::new(&sb, "p-bench-1");
    redis.attach(&mgr, &[("p_cache", &["redis"])], vec![]).await;
    bench.attach(&mgr, &[("p_cache", &["bench"])], vec![]).await;
    let dir = path_str(&redis.etc);
    let _server = Server(redis.spawn(&[
        "redis-server",
        "--port",
        "6379",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
        "--dir",
        &dir,
    ]));
    let mut ready = false;
    for _ in 0..100 {
        let out = bench.run(&["redis-cli", "-h", "redis", "ping"]);
        if String::from_utf8_lossy(&out.stdout).trim() == "PONG" {
            ready = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(ready, "redis never answered by name");
    let out = bench.run(&[
        "redis-benchmark",
        "-h",
        "redis",
        "-n",
        "100000",
        "-c",
        "20",
        "-t",
        "set,get",
        "-q",
    ]);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(!text.to_lowercase().contains("error"), "{text}");
    let stats = bench.run(&["redis-cli", "-h", "redis", "info", "stats"]);
    let processed: u64 = String::from_utf8_lossy(&stats.stdout)
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("total_commands_processed:")?
                .parse()
                .ok()
        })
        .expect("total_commands_processed");
    assert!(
        processed >= 200_000,
        "only {processed} commands reached redis: {text}"
    );
    eprintln!("redis-benchmark across the bridge:\n{text}");
    drop(_server);
    mgr.teardown_all().await.expect("teardown");
    redis.remove();
    bench.remove();
    sb.assert_no_leaks();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reattached_container_keeps_name_and_address() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let first_ip;
    let client = Ctr::new(&sb, "p-client-1");
    let web = Ctr::new(&sb, "p-web-1");
    {
        let mgr = manager(&sb).await;
        mgr.create_network(&spec("p_default"))
            .await
            .expect("network");
        client
            .attach(&mgr, &[("p_default", &["client"])], vec![])
            .await;
        first_ip = web.attach(&mgr, &[("p_default", &["web"])], vec![]).await;
        assert_eq!(resolve(&client, "web"), vec![first_ip]);
    }
    // stack restarts (a new manager from the state files) and the web
    // container restarts in a fresh namespace.
    web.remove();
    let web = Ctr::new(&sb, "p-web-1");
    let mgr = manager(&sb).await;
    assert_eq!(
        resolve(&client, "web"),
        vec![first_ip],
        "names survive a restart of stack"
    );
    let again = web.attach(&mgr, &[("p_default", &["web"])], vec![]).await;
    assert_eq!(again, first_ip);
    assert_eq!(resolve(&client, "web"), vec![first_ip]);
    let _httpd = web.serve(80, "back\n");
    assert_eq!(wget(&client, "http://web/").as_deref(), Ok("back\n"));
    drop(_httpd);
    mgr.teardown_all().await.expect("teardown");
    web.remove();
    client.remove();
    sb.assert_no_leaks();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_is_complete_and_idempotent() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    add_docker_like_rules();
    let mgr = manager(&sb).await;
    mgr.create_network(&spec("p_one")).await.expect("one");
    mgr.create_network(&spec("p_two")).await.expect("two");
    let c = Ctr::new(&sb, "multi-1");
    let record = mgr
        .attach(&c.request(
            &[("p_one", &["m"]), ("p_two", &["m"])],
            vec![PortMapping::tcp(9000, 90)],
        ))
        .await
        .expect("attach");
    assert_eq!(record.endpoints.len(), 2);
    assert!(!sb.leaks().is_empty(), "objects exist before teardown");
    mgr.teardown_all().await.expect("teardown");
    mgr.teardown_all()
        .await
        .expect("second teardown is a no-op");
    mgr.detach("multi-1")
        .await
        .expect("detach after teardown is a no-op");
    c.remove();
    assert!(
        netns_files(&sb).is_empty(),
        "netns files left: {:?}",
        netns_files(&sb)
    );
    sb.assert_no_leaks();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushed_chains_are_repaired_by_reconcile() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    add_docker_like_rules();
    let mgr = manager(&sb).await;
    mgr.create_network(&spec("p_pub")).await.expect("network");
    let web = Ctr::new(&sb, "p-web-1");
    web.attach(
        &mgr,
        &[("p_pub", &["web"])],
        vec![PortMapping::tcp(8081, 80)],
    )
    .await;
    let _httpd = web.serve(80, "again\n");
    assert_eq!(
        host_wget("http://127.0.0.1:8081/").as_deref(),
        Ok("again\n")
    );
    assert!(
        !mgr.reconcile().await.expect("reconcile"),
        "nothing to repair yet"
    );

    sh("iptables -t nat -F STACK-PORTS && iptables -F STACK-FORWARD && iptables -D FORWARD -j STACK-FORWARD");
    assert!(
        host_wget("http://127.0.0.1:8081/").is_err(),
        "flush took effect"
    );
    assert!(mgr.reconcile().await.expect("reconcile"), "repair needed");
    assert_eq!(
        host_wget("http://127.0.0.1:8081/").as_deref(),
        Ok("again\n")
    );
    assert!(
        !mgr.reconcile().await.expect("reconcile"),
        "repaired state is stable"
    );

    drop(_httpd);
    mgr.teardown_all().await.expect("teardown");
    web.remove();
    sb.assert_no_leaks();
}

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

fn local_range() -> PortMapping {
    PortMapping {
        host_ip: Some("127.0.0.1".parse().expect("ip")),
        host_ports: stack_net::PortRange {
            start: 9080,
            end: 9081,
        },
        container_ports: stack_net::PortRange { start: 80, end: 81 },
        protocol: stack_net::Protocol::Tcp,
    }
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
        vec![PortMapping::tcp(8080, 80), local_range()],
    )
    .await;
    let _httpd = web.serve(80, "published\n");
    let _second = web.serve(81, "second\n");
    // A range maps port by port, here bound to 127.0.0.1 only.
    assert_eq!(
        host_wget("http://127.0.0.1:9081/").as_deref(),
        Ok("second\n")
    );
    assert_eq!(
        host_wget("http://127.0.0.1:9080/").as_deref(),
        Ok("published\n")
    );
    assert!(
        wget(&remote, "http://172.31.250.1:9081/").is_err(),
        "bound to 127.0.0.1 only"
    );
    drop(_second);

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

fn link_exists(name: &str) -> bool {
    std::process::Command::new("ip")
        .args(["link", "show", name])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridges_follow_their_endpoints_unless_standalone() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let mgr = manager(&sb).await;
    let project = mgr
        .create_network(&spec("p_default"))
        .await
        .expect("project network");
    let standalone = NetworkSpec {
        standalone: true,
        ..spec("shared")
    };
    let shared = mgr
        .create_network(&standalone)
        .await
        .expect("standalone network");
    let external = NetworkSpec {
        external: true,
        ..spec("shared")
    };
    assert_eq!(
        mgr.create_network(&external).await.expect("external"),
        shared
    );
    let missing = NetworkSpec {
        external: true,
        ..spec("nowhere")
    };
    assert!(mgr.create_network(&missing).await.is_err());
    assert_ne!(project.subnet, shared.subnet);

    let c = Ctr::new(&sb, "c-1");
    c.attach(&mgr, &[("p_default", &["c"]), ("shared", &["c"])], vec![])
        .await;
    assert!(link_exists(&project.bridge) && link_exists(&shared.bridge));
    mgr.detach("c-1").await.expect("detach");
    assert!(
        !link_exists(&project.bridge),
        "empty project bridge removed"
    );
    assert!(link_exists(&shared.bridge), "standalone bridge kept");
    // The next attach brings the project bridge back.
    c.attach(&mgr, &[("p_default", &["c"])], vec![]).await;
    assert!(link_exists(&project.bridge));

    mgr.teardown_all().await.expect("teardown");
    c.remove();
    sb.assert_no_leaks();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_leaves_nothing() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let mgr = manager(&sb).await;
    let fixed = NetworkSpec {
        subnet: Some("10.77.0.0/24".parse().expect("cidr")),
        gateway: Some("10.77.0.254".parse().expect("ip")),
        ..spec("p_fixed")
    };
    let net = mgr.create_network(&fixed).await.expect("network");
    assert_eq!(net.gateway.to_string(), "10.77.0.254");
    let overlapping = NetworkSpec {
        subnet: Some("10.77.0.128/25".parse().expect("cidr")),
        ..spec("p_overlap")
    };
    let err = mgr
        .create_network(&overlapping)
        .await
        .expect_err("overlap refused");
    assert!(err.to_string().contains("p_fixed"), "{err}");

    let c = Ctr::new(&sb, "c-1");
    let mut request = c.request(&[("p_fixed", &["c"])], vec![]);
    request.attachments[0].ipv4_address = Some("10.77.1.5".parse().expect("ip"));
    let err = mgr
        .attach(&request)
        .await
        .expect_err("address outside the subnet");
    assert!(err.to_string().contains("10.77.1.5"), "{err}");
    request.attachments[0].ipv4_address = Some("10.77.0.10".parse().expect("ip"));
    let record = mgr.attach(&request).await.expect("static address");
    assert_eq!(record.endpoints[0].address.to_string(), "10.77.0.10");

    // A second container asking for the same address fails without leaving a veth.
    let d = Ctr::new(&sb, "d-1");
    let mut taken = d.request(&[("p_fixed", &["d"])], vec![]);
    taken.attachments[0].ipv4_address = Some("10.77.0.10".parse().expect("ip"));
    assert!(mgr.attach(&taken).await.is_err());
    // A port mapping with unequal ranges is refused.
    let mut bad_ports = d.request(&[("p_fixed", &["d"])], vec![]);
    bad_ports.ports = vec![stack_net::PortMapping {
        host_ip: None,
        host_ports: stack_net::PortRange {
            start: 8000,
            end: 8001,
        },
        container_ports: stack_net::PortRange::single(80),
        protocol: stack_net::Protocol::Tcp,
    }];
    assert!(mgr.attach(&bad_ports).await.is_err());
    assert!(mgr.container("d-1").expect("state").is_none());
    let veths = std::process::Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .expect("ip link");
    let count = String::from_utf8_lossy(&veths.stdout)
        .matches("stkv")
        .count();
    assert_eq!(count, 1, "only c-1's veth exists");

    mgr.teardown_all().await.expect("teardown");
    c.remove();
    d.remove();
    sb.assert_no_leaks();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn released_container_veths_go_with_its_namespace() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let mgr = manager(&sb).await;
    mgr.create_network(&spec("p_default"))
        .await
        .expect("network");
    let keep = Ctr::new(&sb, "keep-1");
    keep.attach(&mgr, &[("p_default", &["keep"])], vec![]).await;
    let gone = Ctr::new(&sb, "gone-1");
    let record = mgr
        .attach(&gone.request(
            &[("p_default", &["gone"])],
            vec![PortMapping::tcp(7000, 70)],
        ))
        .await
        .expect("attach");
    let veth = record.endpoints[0].host_veth.clone();
    mgr.release("gone-1").await.expect("release");
    assert!(mgr.container("gone-1").expect("state").is_none());
    assert!(!resolve(&keep, "gone").contains(&record.endpoints[0].address));
    gone.remove();
    let mut waited = 0;
    while link_exists(&veth) && waited < 100 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        waited += 1;
    }
    assert!(
        !link_exists(&veth),
        "veth {veth} outlived its namespace by 5 s"
    );
    mgr.teardown_all().await.expect("teardown");
    keep.remove();
    sb.assert_no_leaks();
}

//! What a peer's neighbour cache does when a container is recreated with
//! its old address: the new interface's MAC is derived from the address,
//! and its gratuitous ARP corrects an entry that holds another MAC at once,
//! with the peer's default `arp_accept` (0).

mod common;

use std::net::Ipv4Addr;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use stack_net::garp::{container_mac, mac_text};
use stack_net::NetworkSpec;

fn in_ns(ctr: &Ctr, args: &[&str]) -> String {
    let out = Command::new("nsenter")
        .arg(format!("--net={}", ctr.netns.display()))
        .args(args)
        .output()
        .expect("nsenter");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The MAC of `ctr`'s eth0, as `ip -o link` prints it.
fn mac_of(ctr: &Ctr) -> String {
    let text = in_ns(ctr, &["ip", "-o", "link", "show", "eth0"]);
    text.split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap_or_else(|| panic!("no MAC in {text}"))
        .to_string()
}

/// The `ip neigh` line of `peer` for `ip` (empty when it has none).
fn neighbour(peer: &Ctr, ip: Ipv4Addr) -> String {
    in_ns(
        peer,
        &["ip", "neigh", "show", &ip.to_string(), "dev", "eth0"],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recreated_container_corrects_its_peers_neighbour_entry_at_once() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let mgr = manager(&sb).await;
    let network = NetworkSpec {
        name: "p_default".into(),
        ..NetworkSpec::default()
    };
    mgr.create_network(&network).await.expect("network");
    let web = Ctr::new(&sb, "p-web-1");
    let client = Ctr::new(&sb, "p-client-1");
    let ip = web.attach(&mgr, &[("p_default", &["web"])], vec![]).await;
    client
        .attach(&mgr, &[("p_default", &["client"])], vec![])
        .await;
    let derived = mac_text(container_mac(ip));
    assert_eq!(mac_of(&web), derived);
    assert_eq!(
        in_ns(&client, &["cat", "/proc/sys/net/ipv4/conf/eth0/arp_accept"]).trim(),
        "0"
    );

    // The client holds an entry with another MAC (a container made before
    // MACs were derived held the address), fresh enough to be trusted.
    in_ns(
        &client,
        &[
            "ip",
            "neigh",
            "replace",
            &ip.to_string(),
            "lladdr",
            "02:00:00:00:00:01",
            "dev",
            "eth0",
            "nud",
            "reachable",
        ],
    );
    assert!(neighbour(&client, ip).contains("02:00:00:00:00:01"));

    // web is recreated: a new container, a new namespace, the same address.
    mgr.release(&web.id).await.expect("release");
    web.remove();
    let web = Ctr::new(&sb, "p-web-2");
    let again = web.attach(&mgr, &[("p_default", &["web"])], vec![]).await;
    assert_eq!(again, ip, "the recreated container has its old address");
    assert_eq!(mac_of(&web), derived);

    // Without a packet from the client, its entry now names the new MAC.
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let entry = neighbour(&client, ip);
        if entry.contains(&derived) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after 1 s the client still has: {entry}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let _httpd = web.serve(80, "back\n");
    assert_eq!(
        wget(&client, &format!("http://{ip}/")).as_deref(),
        Ok("back\n")
    );
    drop(_httpd);
    mgr.teardown_all().await.expect("teardown");
    web.remove();
    client.remove();
    sb.assert_no_leaks();
}

//! A stack on its project network: services reach each other by name, a
//! published port answers on 127.0.0.1, `down` removes the network, and a
//! recreated service is reachable at once.

mod net_support;
mod run_support;
mod up_support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use up_support::{describe, env};

/// GET `path` from 127.0.0.1:`port`, retrying while the server starts.
fn get(port: u16, path: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut conn = std::net::TcpStream::connect(("127.0.0.1", port))?;
            conn.set_read_timeout(Some(Duration::from_secs(5)))?;
            write!(conn, "GET {path} HTTP/1.0\r\n\r\n")?;
            let mut reply = String::new();
            conn.read_to_string(&mut reply)?;
            Ok(reply)
        })();
        match attempt {
            Ok(reply) if !reply.is_empty() => return reply,
            _ if Instant::now() >= deadline => panic!("no answer on 127.0.0.1:{port}"),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[test]
fn services_reach_each_other_by_name_and_ports_are_published() {
    let Some(e) = env(false) else { return };
    let port = stack_testkit::registry::free_port();
    e.write(&format!(
        r#"
name: demo
services:
  server:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-server > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports:
      - "127.0.0.1:{port}:8080"
    stop_grace_period: 1s
  client:
    image: busybox
    command: ["sh", "-c", "for i in $$(seq 50); do wget -q -O- http://server:8080/ && exit 0; sleep 0.2; done; exit 1"]
    depends_on: [server]
"#
    ));
    let out = e.stack(&["up", "--exit-code-from", "client"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("client-1  | hello-from-server"), "{stdout}");

    e.ok(&["up", "-d", "server"]);
    let reply = get(port, "/");
    assert!(reply.ends_with("hello-from-server\n"), "{reply}");
    let (ps, _) = e.ok(&["ps"]);
    assert!(ps.contains(&format!("127.0.0.1:{port}->8080/tcp")), "{ps}");
    let (_, err) = e.ok(&["down", "-t", "0"]);
    assert!(err.contains(" Network demo_default  Removed\n"), "{err}");
    e.sb.assert_no_leaks();
}

/// web serving `round-N`, and a client that stays.
fn recreated_stack(round: u32) -> String {
    format!(
        r#"
name: neigh
services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo round-{round} > /www/index.html && exec httpd -f -p 80 -h /www"]
    stop_grace_period: 1s
  client:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
"#
    )
}

/// The client's ARP entry for `ip` (`/proc/net/arp`: IP, type, flags, MAC).
fn arp_entry(e: &up_support::Env, ip: &str) -> Option<(String, String)> {
    let (table, _) = e.ok(&["exec", "client", "cat", "/proc/net/arp"]);
    table.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.first() == Some(&ip)).then(|| (f[2].to_string(), f[3].to_string()))
    })
}

/// A recreated container gets its old address and, with the MAC derived
/// from it, the client's cached neighbour entry stays right: the client
/// reaches the new container at once, not after the entry expires.
#[test]
fn a_recreated_service_is_reachable_at_once() {
    let Some(e) = env(false) else { return };
    e.write(&recreated_stack(1));
    e.ok(&["up", "-d"]);
    let ip = net_support::address_of(&e.sb, "neigh-web-1", "neigh_default").to_string();
    let url = format!("http://{ip}/");
    // busybox wget crashes with -T; `timeout` bounds it instead.
    let fetch = || {
        e.stack(&[
            "exec", "client", "timeout", "1", "wget", "-q", "-O", "-", &url,
        ])
    };
    net_support::eventually(|| {
        let out = fetch();
        match String::from_utf8_lossy(&out.stdout).as_ref() {
            "round-1\n" => Ok(()),
            _ => Err(describe(&out)),
        }
    });
    let derived = |ip: &str| {
        let bytes: Vec<String> = ip
            .split('.')
            .map(|b| format!("{:02x}", b.parse::<u8>().expect("octet")))
            .collect();
        format!("02:42:{}", bytes.join(":"))
    };
    let mac = derived(&ip);
    let (flags, cached) = arp_entry(&e, &ip).expect("the client cached web's MAC");
    assert_eq!((flags.as_str(), cached.as_str()), ("0x2", mac.as_str()));

    e.write(&recreated_stack(2));
    let (_, err) = e.ok(&["up", "-d"]);
    assert!(
        err.contains("recreate") || err.contains("Recreate"),
        "{err}"
    );
    let again = net_support::address_of(&e.sb, "neigh-web-1", "neigh_default").to_string();
    assert_eq!(again, ip, "the recreated web has its old address");
    let inspect: serde_json::Value = serde_json::from_str(&net_support::ok(
        &e.sb,
        &["container", "inspect", "neigh-web-1"],
    ))
    .expect("inspect json");
    assert_eq!(
        inspect[0]["NetworkSettings"]["Networks"]["neigh_default"]["MacAddress"], mac,
        "{inspect}"
    );

    // At once: within a second of `up` (httpd may still be binding).
    let started = Instant::now();
    loop {
        let out = fetch();
        if String::from_utf8_lossy(&out.stdout) == "round-2\n" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "web unreachable 1 s after its recreation: {}",
            describe(&out)
        );
    }
    let (_, cached) = arp_entry(&e, &ip).expect("entry");
    assert_eq!(cached, mac);
    e.ok(&["down", "-t", "0"]);
    e.sb.assert_no_leaks();
}

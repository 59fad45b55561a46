//! A stack on its project network: services reach each other by name, a
//! published port answers on 127.0.0.1, and `down` removes the network.

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

//! The `visits` example end to end: web (busybox httpd + a shell CGI)
//! counts visits in redis over the project network; the page is fetched
//! twice through the published port and the count goes up.

mod run_support;
mod up_support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use up_support::{describe, env};

fn example() -> String {
    format!(
        "{}/../../examples/visits/compose.yaml",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The page's visit count, retried while web and redis come up.
fn visits() -> u64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = String::new();
    while Instant::now() < deadline {
        let attempt = (|| -> std::io::Result<String> {
            let mut conn = std::net::TcpStream::connect("127.0.0.1:8080")?;
            conn.set_read_timeout(Some(Duration::from_secs(5)))?;
            write!(conn, "GET /cgi-bin/visits HTTP/1.0\r\n\r\n")?;
            let mut reply = String::new();
            conn.read_to_string(&mut reply)?;
            Ok(reply)
        })();
        if let Ok(reply) = attempt {
            if let Some(n) = reply
                .split("visited ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse().ok())
            {
                return n;
            }
            last = reply;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the page never counted a visit; last reply: {last}");
}

#[test]
fn the_visits_page_counts_up() {
    let Some(e) = env(true) else { return };
    let file = example();
    let run = |extra: &[&str]| {
        let mut a = vec!["-f", file.as_str()];
        a.extend_from_slice(extra);
        run_support::stack(&e.sb, &a)
    };
    let out = run(&["up", "-d"]);
    assert!(out.status.success(), "{}", describe(&out));
    // web was started once redis answered its healthcheck.
    let out = run(&["ps", "--format", "json", "redis"]);
    let redis: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ps json of redis");
    assert_eq!(redis["Health"], "healthy", "{redis}");
    let first = visits();
    let second = visits();
    assert_eq!(second, first + 1, "the count goes up");
    let out = run(&["ps"]);
    let ps = String::from_utf8_lossy(&out.stdout);
    assert!(
        ps.contains("visits-web-1") && ps.contains("visits-redis-1"),
        "{ps}"
    );
    let out = run(&["down"]);
    assert!(out.status.success(), "{}", describe(&out));
    e.sb.assert_no_leaks();
}

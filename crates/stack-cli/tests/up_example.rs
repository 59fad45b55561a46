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
    // Healthchecks run in the container monitor; this stack waits for
    // redis to be started only, and the fetch retries until it answers.
    let started_only = e.dir.join("started-only.yaml");
    std::fs::write(
        &started_only,
        "services:\n  web:\n    depends_on:\n      redis:\n        condition: service_started\n",
    )
    .expect("override");
    let file = example();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v = vec![
            "-f".to_string(),
            file.clone(),
            "-f".to_string(),
            started_only.display().to_string(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        run_support::stack(&e.sb, &a)
    };
    let out = run(&["up", "-d"]);
    assert!(out.status.success(), "{}", describe(&out));
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

//! After the host goes down (every container and monitor killed at once,
//! so no exit was recorded, and everything a reboot loses is gone: mounts,
//! the runtime directory, bridges, veths, firewall chains, cgroups), a
//! starting daemon starts again what the restart policies say, in
//! dependency order: a service waits until the database it depends on is
//! healthy, and reaches it by name. Manual stops and `restart: "no"` are
//! respected.

mod daemon_support;
mod run_support;
mod up_support;

use std::time::{Duration, Instant};

use daemon_support::Daemon;
use up_support::env;

const STACK: &str = r#"name: demo
services:
  db:
    image: busybox
    command: ["sh", "-c", "rm -rf /www; mkdir /www; (sleep 1.5; echo ok > /www/ready) & exec httpd -f -p 8000 -h /www"]
    healthcheck:
      test: ["CMD", "test", "-f", "/www/ready"]
      interval: 1s
      retries: 30
    restart: always
    stop_grace_period: 1s
  web:
    image: busybox
    command: ["sleep", "1000"]
    depends_on:
      db:
        condition: service_healthy
    restart: unless-stopped
    stop_grace_period: 1s
  once:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
  parked:
    image: busybox
    command: ["sleep", "1000"]
    restart: always
    stop_grace_period: 1s
"#;

/// `container inspect NAME`'s `State`.
fn state(e: &up_support::Env, name: &str) -> serde_json::Value {
    let out = run_support::stack(&e.sb, &["--no-daemon", "container", "inspect", name]);
    assert!(out.status.success(), "{}", run_support::describe(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("inspect json");
    doc[0]["State"].clone()
}

fn started_at(e: &up_support::Env, name: &str) -> chrono_free::Stamp {
    chrono_free::parse(state(e, name)["StartedAt"].as_str().expect("StartedAt"))
}

/// Kills every monitor and container process of the sandbox at once,
/// leaving the records as a power cut would: still saying `running`; then
/// removes what a reboot loses.
fn power_cut(e: &up_support::Env) {
    let mut pids = Vec::new();
    for dir in std::fs::read_dir(e.sb.state_root.join("containers"))
        .expect("containers")
        .flatten()
    {
        let Ok(bytes) = std::fs::read(dir.path().join("state.json")) else {
            continue;
        };
        let s: serde_json::Value = serde_json::from_slice(&bytes).expect("state.json");
        for key in ["monitor_pid", "pid"] {
            if let Some(pid) = s[key].as_i64() {
                pids.push(pid as i32);
            }
        }
    }
    // The name resolver and any other helper of this sandbox go too.
    let helpers = std::process::Command::new("pgrep")
        .args(["-f", &format!("__stack-.*{}", e.sb.dir().display())])
        .output()
        .expect("pgrep");
    pids.extend(
        String::from_utf8_lossy(&helpers.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse::<i32>().ok()),
    );
    for pid in pids {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    let script = r#"
        findmnt -rn -o TARGET | grep -e "^$ROOT/" -e "^$RUN/" | sort -r | xargs -r -n1 umount -l
        rm -rf "$RUN"/*
        for l in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^stk'); do
            ip link del "$l" 2>/dev/null
        done
        for t in filter nat; do
            iptables -t $t -S | grep -e '-j STACK-' | sed 's/^-A //' | while read -r rule; do
                eval iptables -t $t -D $rule
            done
            for c in $(iptables -t $t -S | awk '/^-N STACK-/ {print $2}'); do iptables -t $t -F "$c"; done
            for c in $(iptables -t $t -S | awk '/^-N STACK-/ {print $2}'); do iptables -t $t -X "$c"; done
        done
        for h in /sys/fs/cgroup/"$CGROUP" /sys/fs/cgroup/*/"$CGROUP"; do
            [ -d "$h" ] && find "$h" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
        done
        true
    "#;
    let out = std::process::Command::new("sh")
        .args(["-c", script])
        .env("ROOT", &e.sb.state_root)
        .env("RUN", &e.sb.run_dir)
        .env("CGROUP", &e.sb.cgroup_parent)
        .output()
        .expect("reboot");
    assert!(out.status.success(), "{}", up_support::describe(&out));
    // As after a reboot: no bridge, veth, chain, mount or cgroup of stack.
    let mut left = e.sb.leaks();
    for _ in 0..30 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        left = e.sb.leaks();
    }
    assert!(left.is_empty(), "the reboot left {left:?}");
    let run_left: Vec<_> = std::fs::read_dir(&e.sb.run_dir)
        .map(|d| d.flatten().map(|f| f.path()).collect())
        .unwrap_or_default();
    assert!(run_left.is_empty(), "the reboot left {run_left:?}");
}

#[test]
fn a_new_daemon_starts_what_policies_say_in_dependency_order_after_a_power_cut() {
    let Some(e) = env(false) else { return };
    e.write(STACK);
    e.ok(&["--no-daemon", "up", "-d", "--wait"]);
    e.ok(&["--no-daemon", "stop", "parked"]);
    let before = started_at(&e, "demo-db-1");

    power_cut(&e);
    let deadline = Instant::now() + Duration::from_secs(10);
    while ["demo-db-1", "demo-web-1", "demo-once-1"]
        .iter()
        .any(|n| state(&e, n)["Status"] != "exited")
    {
        assert!(Instant::now() < deadline, "the processes did not die");
        std::thread::sleep(Duration::from_millis(50));
    }

    let daemon = Daemon::start(&e.sb, &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while ["demo-db-1", "demo-web-1"]
        .iter()
        .any(|n| state(&e, n)["Status"] != "running")
    {
        assert!(
            Instant::now() < deadline,
            "not started again: {}",
            daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let db = started_at(&e, "demo-db-1");
    let web = started_at(&e, "demo-web-1");
    assert!(db > before, "db was started again");
    // db turns healthy 1.5 s after its start at the earliest; web waited.
    assert!(
        web.since(&db) >= Duration::from_millis(1500),
        "web started {:?} after db, before db was healthy: {}",
        web.since(&db),
        daemon.log_text()
    );
    assert_eq!(state(&e, "demo-db-1")["Health"]["Status"], "healthy");
    // The network came back with it: web reaches db by name.
    let (page, _) = e.ok(&[
        "--no-daemon",
        "exec",
        "-T",
        "web",
        "wget",
        "-q",
        "-O-",
        "http://db:8000/ready",
    ]);
    assert_eq!(page.trim(), "ok");
    assert_eq!(state(&e, "demo-once-1")["Status"], "exited", "restart: no");
    assert_eq!(
        state(&e, "demo-parked-1")["Status"],
        "exited",
        "a manual stop is remembered"
    );
    let log = daemon.log_text();
    assert!(log.contains("started again"), "{log}");

    daemon.terminate();
    e.ok(&["--no-daemon", "down"]);
    e.sb.assert_no_leaks();
}

/// RFC 3339 timestamps as the API prints them, compared without a date
/// library.
mod chrono_free {
    use std::time::Duration;

    #[derive(Debug, PartialEq, PartialOrd)]
    pub struct Stamp(f64);

    impl Stamp {
        pub fn since(&self, earlier: &Stamp) -> Duration {
            Duration::from_secs_f64((self.0 - earlier.0).max(0.0))
        }
    }

    /// `2026-01-02T03:04:05.123456789Z`: seconds within the month are
    /// enough for a test that runs for seconds.
    pub fn parse(text: &str) -> Stamp {
        let (date, time) = text.split_once('T').expect("RFC 3339");
        let day: f64 = date.rsplit('-').next().expect("day").parse().expect("day");
        let time = time.trim_end_matches('Z');
        let mut parts = time.split(':');
        let h: f64 = parts.next().expect("h").parse().expect("h");
        let m: f64 = parts.next().expect("m").parse().expect("m");
        let s: f64 = parts.next().expect("s").parse().expect("s");
        Stamp(((day * 24.0 + h) * 60.0 + m) * 60.0 + s)
    }
}

//! The project verbs on a stack that `stack up -d` brought up from the
//! busybox image through a local registry mirror, then `down` leaves
//! nothing.

mod run_support;
mod up_support;

use up_support::env;

const STACK: &str = r#"
name: shop
services:
  db:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    stop_grace_period: 5s
  web:
    image: busybox
    command: ["httpd", "-f", "-p", "80", "-h", "/tmp"]
    depends_on: [db]
    stop_grace_period: 1s
"#;

fn state(e: &up_support::Env, service: &str) -> String {
    e.ps()
        .iter()
        .find(|c| c["Service"] == service)
        .map(|c| c["State"].as_str().unwrap_or_default().to_string())
        .unwrap_or_else(|| panic!("no {service} in ps"))
}

#[test]
fn verbs_work_on_a_stack_brought_up_by_up() {
    let Some(e) = env(false) else { return };
    e.write(STACK);
    e.ok(&["up", "-d"]);

    let (out, _) = e.ok(&["exec", "-T", "web", "sh", "-c", "echo $HOME"]);
    assert_eq!(out, "/root\n");

    // stop: web first, then db; start brings both back.
    e.ok(&["stop"]);
    assert_eq!(state(&e, "web"), "exited");
    assert_eq!(state(&e, "db"), "exited");
    let events = std::fs::read_to_string(e.sb.state_root.join("events.jsonl")).expect("events");
    let stop_of = |name: &str| {
        events
            .lines()
            .position(|l| {
                l.contains("\"action\":\"stop\"") && l.contains(&format!("\"name\":\"{name}\""))
            })
            .unwrap_or_else(|| panic!("no stop of {name}: {events}"))
    };
    assert!(stop_of("shop-web-1") < stop_of("shop-db-1"), "{events}");
    e.ok(&["start"]);
    assert_eq!(state(&e, "web"), "running");
    assert_eq!(state(&e, "db"), "running");
    let out = e.stack(&["exec", "-T", "web", "sh", "-c", "exit 4"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        run_support::describe(&out)
    );

    // kill one service; rm refuses the running one, removes the killed one.
    e.ok(&["kill", "-s", "KILL", "web"]);
    // kill does not wait, as Docker's; the monitor records the exit.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while state(&e, "web") != "exited" {
        assert!(std::time::Instant::now() < deadline, "web never exited");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(state(&e, "db"), "running");
    let out = e.stack(&["rm"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        run_support::describe(&out)
    );
    let names = e.names();
    assert_eq!(names, vec!["shop-db-1"], "{names:?}");

    e.ok(&["down", "-t", "1"]);
    assert_eq!(e.container_dirs(), 0);
    e.sb.assert_no_leaks();
}

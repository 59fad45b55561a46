//! The project verbs of the CLI against a sandbox daemon: the same output
//! both ways, and the via-daemon test mode reaching that daemon.

mod daemon_support;
mod run_support;
mod up_support;

use daemon_support::Daemon;
use up_support::env;

/// `start`, `stop`, `restart`, `kill` and `rm` print the same lines and
/// exit the same through the daemon as in process, errors included.
#[test]
fn lifecycle_verbs_print_the_same_both_ways() {
    let Some(e) = env(false) else { return };
    e.write(
        r#"
name: demo
services:
  db:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
  web:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    depends_on: [db]
"#,
    );
    let daemon = Daemon::start(&e.sb, &[]);
    e.ok(&["--no-daemon", "up", "-d"]);
    // Each pair runs once through the daemon, then in process; the second
    // command of a pair puts back the state the first one changed.
    let same = |args: &[&str], undo: &[&str]| {
        let remote = e.stack(args);
        e.ok(undo);
        let mut local_args = vec!["--no-daemon"];
        local_args.extend_from_slice(args);
        let local = e.stack(&local_args);
        e.ok(undo);
        assert_eq!(
            String::from_utf8_lossy(&remote.stderr),
            String::from_utf8_lossy(&local.stderr),
            "{args:?}"
        );
        assert_eq!(remote.stdout, local.stdout, "{args:?}");
        assert_eq!(remote.status.code(), local.status.code(), "{args:?}");
        String::from_utf8_lossy(&remote.stderr).into_owned()
    };
    let stop = same(&["stop", "-t", "0"], &["--no-daemon", "start"]);
    assert_eq!(
        stop,
        " Container demo-web-1  Stopped\n Container demo-db-1  Stopped\n"
    );
    let restart = same(&["restart", "-t", "0", "web"], &["--no-daemon", "start"]);
    assert_eq!(
        restart,
        " Container demo-web-1  Stopped\n Container demo-web-1  Started\n"
    );
    let kill = same(&["kill", "-s", "TERM", "db"], &["--no-daemon", "start"]);
    assert_eq!(kill, " Container demo-db-1  Killed\n");
    e.ok(&["--no-daemon", "stop", "-t", "0", "db"]);
    let start = same(&["start"], &["--no-daemon", "stop", "-t", "0", "db"]);
    assert_eq!(start, " Container demo-db-1  Started\n");
    e.ok(&["--no-daemon", "start"]);
    let refused = same(&["rm", "web"], &["--no-daemon", "start"]);
    assert!(refused.contains("demo-web-1 is running"), "{refused}");
    for bad in [&["stop", "nope"][..], &["kill", "-s", "NOPE"][..]] {
        let err = same(bad, &["--no-daemon", "ps"]);
        assert!(err.contains("nope") || err.contains("NOPE"), "{err}");
    }
    let removed = same(&["rm", "-f", "web"], &["--no-daemon", "up", "-d"]);
    assert_eq!(removed, " Container demo-web-1  Removed\n");
    let log = daemon.log_text();
    for verb in ["stop", "restart", "kill", "start", "rm"] {
        assert!(
            log.contains(&format!("action=\"{verb}\"")) || log.contains(&format!("action={verb}")),
            "{verb}: {log}"
        );
    }
    e.ok(&["--no-daemon", "down", "-t", "0"]);
    daemon.terminate();
    e.sb.assert_no_leaks();
}

/// `up` (detached and attached), `down` and `logs -f` through the daemon
/// print what the in-process path prints.
#[test]
fn cli_project_verbs_through_the_daemon() {
    let Some(e) = env(false) else { return };
    e.write(
        r#"
name: demo
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo one; sleep 1; echo two"]
"#,
    );
    let daemon = Daemon::start(&e.sb, &[]);
    // Attached: the apply runs in the daemon, the logs come through the API.
    let (out, err) = e.ok(&["up"]);
    assert!(err.contains(" Container demo-web-1  Started\n"), "{err}");
    assert!(
        out.contains("web-1  | one") && out.contains("web-1  | two"),
        "{out}"
    );
    let (follow, _) = e.ok(&["logs", "--follow"]);
    assert_eq!(follow, "web-1  | one\nweb-1  | two\n");
    let (_, down_err) = e.ok(&["down", "-t", "0"]);
    assert!(
        down_err.contains(" Container demo-web-1  Removed\n"),
        "{down_err}"
    );
    // The same project in process prints the same progress lines.
    let (_, local_err) = e.ok(&["--no-daemon", "up", "-d"]);
    let (_, local_down) = e.ok(&["--no-daemon", "down", "-t", "0"]);
    let (_, remote_err) = e.ok(&["up", "-d"]);
    let (_, remote_down) = e.ok(&["down", "-t", "0"]);
    assert_eq!(local_err, remote_err);
    assert_eq!(local_down, remote_down);
    let log = daemon.log_text();
    assert!(
        log.contains("project=demo") || log.contains("demo"),
        "{log}"
    );
    daemon.terminate();
    e.sb.assert_no_leaks();
}

/// The test suite's via-daemon mode really sends the CLI through a daemon
/// of the sandbox's own, and stops it before the leak check.
#[test]
fn the_via_daemon_mode_sends_the_cli_through_the_sandbox_daemon() {
    let Some(e) = env(false) else { return };
    e.sb.use_daemon();
    e.write(
        r#"
name: demo
services:
  web:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
"#,
    );
    e.ok(&["up", "-d"]);
    let socket = e.sb.daemon_socket().expect("the mode started a daemon");
    assert!(socket.exists());
    let log = std::fs::read_to_string(e.sb.daemon_log()).expect("daemon log");
    assert!(log.contains("demo") && log.contains("up"), "{log}");
    let (via_daemon, _) = e.ok(&["ps"]);
    let (in_process, _) = e.ok(&["--no-daemon", "ps"]);
    assert_eq!(via_daemon, in_process);
    e.ok(&["down", "-t", "0"]);
    let log = std::fs::read_to_string(e.sb.daemon_log()).expect("daemon log");
    assert!(log.contains("down"), "{log}");
    e.sb.assert_no_leaks();
    assert!(
        e.sb.daemon_socket().is_none(),
        "stopped before the leak check"
    );
    assert!(!socket.exists(), "the daemon removed its socket");
}

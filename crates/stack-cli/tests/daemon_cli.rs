//! The CLI prints the same thing, and exits the same way, whether a daemon
//! does the work or the engine runs in process.

mod daemon_support;
mod run_support;

use daemon_support::Daemon;
use run_support::{busybox_rootfs, describe, run_detached, stack};
use stack_testkit::registry::{fixtures, RegistryAuth, TestRegistry};

/// Runs `args` through the daemon (named explicitly, so it must answer)
/// and in process; returns both outputs after checking they are identical.
fn both_ways(
    sb: &stack_testkit::Sandbox,
    socket: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    let host = format!("unix://{}", socket.display());
    let mut via_daemon = vec!["--host", host.as_str()];
    via_daemon.extend_from_slice(args);
    let mut in_process = vec!["--no-daemon"];
    in_process.extend_from_slice(args);
    // Ages (`Up 3 seconds`) can tick between the two runs: a difference
    // must persist over a few tries to count.
    let mut tries = 0;
    let (a, b) = loop {
        let a = stack(sb, &via_daemon);
        let b = stack(sb, &in_process);
        tries += 1;
        if (a.stdout == b.stdout && a.stderr == b.stderr) || tries == 3 {
            break (a, b);
        }
    };
    assert_eq!(
        a.status.code(),
        b.status.code(),
        "{args:?}\ndaemon: {}\nin process: {}",
        describe(&a),
        describe(&b)
    );
    assert_eq!(
        a.stdout,
        b.stdout,
        "{args:?}\ndaemon: {}\nin process: {}",
        describe(&a),
        describe(&b)
    );
    assert_eq!(
        a.stderr,
        b.stderr,
        "{args:?}\ndaemon: {}\nin process: {}",
        describe(&a),
        describe(&b)
    );
    a
}

#[test]
fn same_output_and_exit_codes_with_and_without_the_daemon() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fixtures().join("busybox"), "1", "library/busybox:latest");
    std::fs::write(
        &sb.config_file,
        format!("insecure-registries = [\"{}\"]\n", reg.addr),
    )
    .expect("config");
    let daemon = Daemon::start(&sb, &[]);
    let reference = format!("{}/library/busybox:latest", reg.addr);
    let host = format!("unix://{}", daemon.socket.display());

    // Pull through the daemon; the daemon pulled it (its log says so).
    let out = stack(&sb, &["--host", &host, "pull", "-q", &reference]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("sha256:"),
        "{}",
        describe(&out)
    );

    for (name, script) in [
        ("one", "echo one; exec sleep 100"),
        ("two", "echo two >&2; exit 2"),
    ] {
        run_detached(&sb, &root, name, script);
    }
    // Wait until `two` has exited and `one` has printed.
    for _ in 0..400 {
        let out = stack(&sb, &["--no-daemon", "container", "ls", "-a"]);
        let logs = stack(&sb, &["--no-daemon", "container", "logs", "one"]);
        if String::from_utf8_lossy(&out.stdout).contains("Exited (2)") && !logs.stdout.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }

    let ls = both_ways(&sb, &daemon.socket, &["container", "ls", "-a"]);
    let text = String::from_utf8_lossy(&ls.stdout);
    assert!(
        text.contains("one") && text.contains("Up ") && text.contains("Exited (2)"),
        "{text}"
    );
    both_ways(&sb, &daemon.socket, &["container", "ls"]);
    both_ways(&sb, &daemon.socket, &["container", "ls", "-q"]);
    let images = both_ways(&sb, &daemon.socket, &["images"]);
    assert!(
        String::from_utf8_lossy(&images.stdout).contains("busybox"),
        "{}",
        describe(&images)
    );
    both_ways(&sb, &daemon.socket, &["images", "--format", "json"]);
    both_ways(&sb, &daemon.socket, &["image", "ls", "-q"]);
    both_ways(&sb, &daemon.socket, &["container", "inspect", "two"]);
    let logs = both_ways(&sb, &daemon.socket, &["container", "logs", "two"]);
    assert_eq!(String::from_utf8_lossy(&logs.stderr), "two\n");
    both_ways(&sb, &daemon.socket, &["container", "logs", "one"]);
    both_ways(
        &sb,
        &daemon.socket,
        &["events", "--no-follow", "--since", "2000-01-01T00:00:00Z"],
    );

    // Errors: same message, same exit code.
    let missing = both_ways(&sb, &daemon.socket, &["container", "inspect", "nope"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such container: nope"));
    both_ways(&sb, &daemon.socket, &["container", "kill", "two"]);
    both_ways(&sb, &daemon.socket, &["container", "rm", "one"]);
    both_ways(&sb, &daemon.socket, &["rmi", "nothing:here"]);

    // Through the daemon: stop, start, kill, rm (each once, so no pairing).
    for args in [
        vec!["container", "stop", "-t", "1", "one"],
        vec!["container", "start", "one"],
        vec!["container", "kill", "-s", "TERM", "one"],
        vec!["container", "rm", "--force", "one"],
        vec!["container", "rm", "two"],
        vec!["rmi", reference.as_str()],
    ] {
        let mut full = vec!["--host", host.as_str()];
        full.extend_from_slice(&args);
        let out = stack(&sb, &full);
        assert!(out.status.success(), "{args:?}: {}", describe(&out));
    }
    let out = stack(&sb, &["--host", &host, "version"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("pid {}", daemon.child.id())),
        "{}",
        describe(&out)
    );

    // The event log has what the daemon did, in order.
    let mut actions = Vec::new();
    daemon
        .client()
        .stream(
            stack_api::client::Method::GET,
            "/v1/events?type=container",
            None,
            |e: stack_api::system::Event| {
                if e.name == "one" && ["stop", "kill", "destroy"].contains(&e.action.as_str()) {
                    actions.push(e.action);
                }
                true
            },
        )
        .expect("events");
    assert_eq!(actions, ["stop", "kill", "destroy"]);

    // A named daemon that does not answer is an error, not a silent fallback.
    let out = stack(&sb, &["--host", "unix:///nonexistent.sock", "images"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach the stack daemon"));

    daemon.terminate();
    sb.assert_no_leaks();
}

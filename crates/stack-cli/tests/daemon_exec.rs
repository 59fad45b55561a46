//! Exec with attached streams through the daemon
//! (`POST /v1/containers/{id}/exec/stream`): stdin, stdout and stderr
//! apart, exit codes, a pty with its size and resizes, clients that vanish
//! leave nothing running, every error body against the OpenAPI document,
//! and the CLI printing the same thing through the daemon as in process.

mod daemon_support;
mod exec_support;
mod run_support;

use std::time::{Duration, Instant};

use daemon_support::{Checked, Daemon, Doc};
use exec_support::*;
use run_support::{busybox_rootfs, describe, stack};
use serde_json::json;
use stack_api::exec_stream::frame::{self, Frame};

const TEMPLATE: &str = "/v1/containers/{id}/exec/stream";

/// Prints the terminal's name and size, waits for a line, prints the size.
const SIZE_SCRIPT: &str = "tty; stty size; read x; stty size; exit 5";
/// runc sets the size of the pty it makes a moment after the command
/// starts (docker exec -t has the same race): wait for it first.
const RUNC_SETTLE: &str = "until stty size >/dev/null 2>&1; do sleep 0.05; done; ";
const RUNC_SIZE_SCRIPT: &str =
    "until stty size >/dev/null 2>&1; do sleep 0.05; done; tty; stty size; read x; stty size; exit 5";

#[test]
fn attached_exec_streams_stdin_stdout_stderr_signals_and_exit_codes() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    run_detached(&sb, &root, "web", &[], "exec sleep 1000");
    run_detached(&sb, &root, "done", &[], "exit 0");
    run_detached(
        &sb,
        &root,
        "viarunc",
        &["--runtime", "runc"],
        "exec sleep 1000",
    );
    let daemon = Daemon::start(&sb, &[]);
    let doc = Doc::load();
    let mut c = Checked::new(daemon.client(), &doc);
    let client = daemon.client();

    // Stdin in, stdout back.
    let cat = exec(
        &client,
        "web",
        json!({"cmd": ["cat"], "stdin": true}),
        b"hello through the socket\n",
    );
    assert_eq!(cat.code, Some(0), "{cat:?}");
    assert_eq!(cat.out(), "hello through the socket\n");
    // Docker's protocol name is accepted too.
    let mut docker = client
        .upgrade(
            "/v1/containers/web/exec/stream",
            "tcp",
            &json!({"cmd": ["echo", "as docker"]}),
        )
        .expect("upgrade: tcp");
    let docker = read_until_exit(&mut docker);
    assert_eq!((docker.code, docker.out()), (Some(0), "as docker\n".into()));
    doc.check(
        "POST",
        TEMPLATE,
        stack_api::client::StatusCode::SWITCHING_PROTOCOLS,
        b"",
    );
    c.seen.insert(("POST".into(), TEMPLATE.into()));

    // 1 MiB of stdin arrives whole.
    let mib: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let wc = exec(
        &client,
        "web",
        json!({"cmd": ["wc", "-c"], "stdin": true}),
        &mib,
    );
    assert_eq!((wc.code, wc.out().trim()), (Some(0), "1048576"), "{wc:?}");

    // Stdout and stderr apart, the exit code passed through, env and workdir.
    let both = exec(
        &client,
        "web",
        json!({"cmd": ["sh", "-c", "echo out-$X; pwd; echo err >&2; exit 3"], "env": ["X=1"], "workdir": "/tmp"}),
        b"",
    );
    assert_eq!(both.code, Some(3), "{both:?}");
    assert_eq!(both.out(), "out-1\n/tmp\n");
    assert_eq!(both.err(), "err\n");

    // Without stdin the command reads /dev/null; a missing command is 127.
    let null = exec(&client, "web", json!({"cmd": ["cat"]}), b"ignored");
    assert_eq!((null.code, null.out()), (Some(0), String::new()));
    let missing = exec(&client, "web", json!({"cmd": ["no-such-command"]}), b"");
    assert_eq!(missing.code, Some(127), "{missing:?}");
    assert!(missing.err().contains("not found"), "{missing:?}");

    // A runc-backend container: pipes through `runc exec`.
    let runc = exec(
        &client,
        "viarunc",
        json!({"cmd": ["sh", "-c", "read l; echo out-$l; echo err >&2; exit 3"], "stdin": true}),
        b"in\n",
    );
    assert_eq!(runc.code, Some(3), "{runc:?}");
    assert_eq!(
        (runc.out(), runc.err()),
        ("out-in\n".into(), "err\n".into())
    );
    let runc_missing = exec(&client, "viarunc", json!({"cmd": ["no-such-command"]}), b"");
    // 127, as from the native backend (runc's own status would be 255).
    assert_eq!(runc_missing.code, Some(127), "{runc_missing:?}");
    assert!(
        runc_missing.err().contains("not found"),
        "{}",
        runc_missing.err()
    );
    let runc_user = exec(
        &client,
        "viarunc",
        json!({"cmd": ["sh", "-c", "id -un; id -G"], "user": "alice"}),
        b"",
    );
    assert_eq!(runc_user.out(), "alice\n1000 10 29\n", "{runc_user:?}");
    // The captured exec (daemon_api's route) runs `runc exec` too.
    let captured: stack_api::system::ExecResult = client
        .send_json(
            stack_api::client::Method::POST,
            "/v1/containers/viarunc/exec",
            &json!({"cmd": ["sh", "-c", "echo o; echo e >&2; exit 6"]}),
        )
        .expect("captured exec under runc");
    assert_eq!(
        (
            captured.exit_code,
            captured.stdout.as_str(),
            captured.stderr.as_str()
        ),
        (6, "o\n", "e\n")
    );
    let captured: stack_api::system::ExecResult = client
        .send_json(
            stack_api::client::Method::POST,
            "/v1/containers/viarunc/exec",
            &json!({"cmd": ["no-such-command"]}),
        )
        .expect("captured exec under runc");
    assert_eq!(captured.exit_code, 127, "{captured:?}");

    // A signal frame reaches the command.
    let mut trapped = open(
        &client,
        "web",
        json!({"cmd": ["sh", "-c", "trap 'echo got-usr1; exit 7' USR1; echo ready; sleep 7771 & wait"]}),
    );
    trapped
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    assert_eq!(
        frame::read(&mut trapped).expect("frame"),
        Some(Frame::Stdout(b"ready\n".to_vec()))
    );
    frame::write(&mut trapped, &Frame::Signal(libc::SIGUSR1)).expect("signal frame");
    let signalled = read_until_exit(&mut trapped);
    assert_eq!(signalled.code, Some(7), "{signalled:?}");
    assert_eq!(signalled.out(), "got-usr1\n");
    // The shell's background sleep outlives it, as it would under Docker.
    for pid in processes(&["sleep", "7771"]) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }

    for name in ["web", "done", "viarunc"] {
        let out = stack(&sb, &["container", "rm", "--force", name]);
        assert!(out.status.success(), "rm {name}: {}", describe(&out));
    }
    daemon.terminate();
    sb.assert_no_leaks();
}

#[test]
fn attached_exec_tty_vanishing_clients_and_errors() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    run_detached(&sb, &root, "web", &[], "exec sleep 1000");
    run_detached(&sb, &root, "done", &[], "exit 0");
    run_detached(
        &sb,
        &root,
        "viarunc",
        &["--runtime", "runc"],
        "exec sleep 1000",
    );
    let daemon = Daemon::start(&sb, &[]);
    let doc = Doc::load();
    let mut c = Checked::new(daemon.client(), &doc);
    let client = daemon.client();

    // A pty from the container's devpts, sized as asked, then resized.
    tty_sized_then_resized(&client, "web", SIZE_SCRIPT);
    // stdin-closed reaches a reader of the terminal as its EOF.
    let eof = exec(
        &client,
        "web",
        json!({"cmd": ["sh", "-c", "cat; echo after-eof"], "tty": true, "stdin": true}),
        b"typed\n",
    );
    assert_eq!(eof.code, Some(0), "{}", eof.out());
    assert!(eof.out().contains("typed"), "{}", eof.out());
    assert!(eof.out().contains("after-eof"), "{}", eof.out());

    // ...and with a tty, the pty runc makes in the container.
    let runc_tty = exec(
        &client,
        "viarunc",
        json!({"cmd": ["sh", "-c", RUNC_SETTLE.to_string() + "tty; stty size; exit 2"], "tty": true, "rows": 33, "cols": 90}),
        b"",
    );
    assert_eq!(runc_tty.code, Some(2), "{runc_tty:?}");
    assert!(runc_tty.out().contains("/dev/pts/"), "{}", runc_tty.out());
    assert!(runc_tty.out().contains("33 90"), "{}", runc_tty.out());
    tty_sized_then_resized(&client, "viarunc", RUNC_SIZE_SCRIPT);
    ends_when_the_client_leaves(&client, "viarunc", "7775", json!({"tty": true}));
    ends_when_the_client_leaves(&client, "viarunc", "7776", json!({"stdin": true}));

    // A client that vanishes: with a tty the command gets SIGHUP...
    ends_when_the_client_leaves(&client, "web", "7772", json!({"tty": true}));
    // ...without, its stdin closes, and what ignores that is killed.
    let gone = open(
        &client,
        "web",
        json!({"cmd": ["sh", "-c", "trap '' HUP TERM; sleep 7773; sleep 7773"], "stdin": true}),
    );
    wait_for("sleep 7773", 10, || {
        !processes(&["sleep", "7773"]).is_empty()
    });
    drop(gone);
    let left_at = Instant::now();
    wait_for("sleep 7773 to be killed", 10, || {
        processes(&["sleep", "7773"]).is_empty()
    });
    assert!(
        left_at.elapsed() >= Duration::from_millis(1500),
        "killed only after the grace"
    );
    // ...even while its input waits behind a command that reads none.
    let stuffed = open(
        &client,
        "web",
        json!({"cmd": ["sleep", "7778"], "stdin": true}),
    );
    wait_for("sleep 7778", 10, || {
        !processes(&["sleep", "7778"]).is_empty()
    });
    let mut stuffer = stuffed.try_clone().expect("clone");
    let feeder = std::thread::spawn(move || {
        let chunk = Frame::Stdin(vec![b'x'; 32 * 1024]);
        // Blocks once the pipe, the channel and the socket are full; fails
        // once the socket is shut down.
        while frame::write(&mut stuffer, &chunk).is_ok() {}
    });
    std::thread::sleep(Duration::from_millis(500));
    stuffed
        .shutdown(std::net::Shutdown::Both)
        .expect("shutdown");
    feeder.join().expect("feeder");
    drop(stuffed);
    wait_for("sleep 7778 to be killed", 15, || {
        processes(&["sleep", "7778"]).is_empty()
    });
    wait_for("the daemon to reap its helpers", 5, || {
        zombies_of(daemon.child.id()).is_empty()
    });

    // Errors, before any upgrade.
    let with = |cmd: serde_json::Value| Some(json!({"cmd": cmd}));
    c.call(
        "POST",
        TEMPLATE,
        "/v1/containers/nope/exec/stream",
        with(json!(["true"])),
        404,
    );
    c.call(
        "POST",
        TEMPLATE,
        "/v1/containers/done/exec/stream",
        with(json!(["true"])),
        409,
    );
    c.call(
        "POST",
        TEMPLATE,
        "/v1/containers/web/exec/stream",
        with(json!([])),
        400,
    );
    let body = c.call(
        "POST",
        TEMPLATE,
        "/v1/containers/web/exec/stream",
        with(json!(["true"])),
        400,
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Upgrade"),
        "{body}"
    );
    let body = c.call(
        "POST",
        TEMPLATE,
        "/v1/containers/viarunc/exec/stream",
        Some(json!({"cmd": ["true"], "user": "nobody-here"})),
        400,
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nobody-here"),
        "{body}"
    );
    // The same errors reach a client that asks to upgrade.
    let err = client
        .upgrade(
            "/v1/containers/done/exec/stream",
            "stack-exec",
            &json!({"cmd": ["true"]}),
        )
        .expect_err("not running");
    assert!(
        matches!(
            &err,
            stack_api::client::ClientError::Api { status: 409, .. }
        ),
        "{err}"
    );

    let exercised: Vec<_> = c.seen.iter().cloned().collect();
    assert_eq!(
        exercised,
        doc.operations_under(&["/v1/containers/{id}/exec/"])
    );
    // 500 is documented for a pty that cannot be allocated; not provoked.

    for name in ["web", "done", "viarunc"] {
        let out = stack(&sb, &["container", "rm", "--force", name]);
        assert!(out.status.success(), "rm {name}: {}", describe(&out));
    }
    daemon.terminate();
    sb.assert_no_leaks();
}

#[test]
fn cli_exec_through_the_daemon_matches_in_process_and_drives_a_terminal() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    run_detached(&sb, &root, "web", &[], "exec sleep 1000");
    run_detached(
        &sb,
        &root,
        "viarunc",
        &["--runtime", "runc"],
        "exec sleep 1000",
    );
    let daemon = Daemon::start(&sb, &[]);
    let exec = |args: &[&str], input: &[u8]| {
        let mut all = vec!["container", "exec"];
        all.extend_from_slice(args);
        both_ways(&sb, &daemon.socket, &all, input)
    };
    let out = exec(&["web", "sh", "-c", "echo out; echo err >&2; exit 3"], b"");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(out.stdout, b"out\n");
    let out = exec(
        &["-i", "web", "sh", "-c", "cat; echo done"],
        b"line one\nline two\n",
    );
    assert_eq!(
        out.stdout,
        b"line one\nline two\ndone\n",
        "{}",
        describe(&out)
    );
    let out = exec(&["web", "cat"], b"not attached without -i\n");
    assert_eq!(out.stdout, b"", "{}", describe(&out));
    let out = exec(
        &[
            "-e",
            "A=b",
            "-w",
            "/tmp",
            "web",
            "sh",
            "-c",
            "echo $A $(pwd)",
        ],
        b"",
    );
    assert_eq!(out.stdout, b"b /tmp\n");
    let out = exec(&["web", "no-such-command"], b"");
    assert_eq!(out.status.code(), Some(127), "{}", describe(&out));
    let out = exec(&["nope", "true"], b"");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    // The same for a runc-backend container, a user name included.
    let out = exec(
        &[
            "-i",
            "-u",
            "alice",
            "viarunc",
            "sh",
            "-c",
            "id -un; cat; exit 4",
        ],
        b"fed\n",
    );
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    assert_eq!(out.stdout, b"alice\nfed\n", "{}", describe(&out));
    let out = exec(&["viarunc", "no-such-command"], b"");
    assert_eq!(out.status.code(), Some(127), "{}", describe(&out));
    let out = exec(&["-i", "viarunc", "no-such-command"], b"");
    assert_eq!(out.status.code(), Some(127), "{}", describe(&out));
    let out = exec(&["viarunc", "cat"], b"not attached without -i\n");
    assert_eq!(out.stdout, b"", "{}", describe(&out));

    // Compose's `stack exec SERVICE` goes the same way.
    let file = compose_member(&sb, &root);
    let file = file.to_str().expect("utf-8 path");
    let out = both_ways(
        &sb,
        &daemon.socket,
        &[
            "-f",
            file,
            "exec",
            "web",
            "sh",
            "-c",
            "read l; echo got $l; exit 4",
        ],
        b"x\n",
    );
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    assert_eq!(out.stdout, b"got x\n");
    let out = both_ways(
        &sb,
        &daemon.socket,
        &[
            "-f",
            file,
            "exec",
            "-T",
            "web",
            "sh",
            "-c",
            "read l; echo got $l",
        ],
        b"x\n",
    );
    assert_eq!(out.stdout, b"got\n", "{}", describe(&out));

    // The CLI killed mid-session leaves nothing running in the container.
    let host = format!("unix://{}", daemon.socket.display());
    let mut cli = sb
        .command(run_support::stack_bin())
        .args([
            "--host",
            &host,
            "container",
            "exec",
            "-i",
            "web",
            "sleep",
            "7774",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn stack");
    wait_for("sleep 7774", 10, || {
        !processes(&["sleep", "7774"]).is_empty()
    });
    cli.kill().expect("kill the CLI");
    let _ = cli.wait();
    wait_for("sleep 7774 to be killed", 10, || {
        processes(&["sleep", "7774"]).is_empty()
    });

    terminal_session(&sb, &host);

    let sessions = daemon.log_text().matches("attached exec ended").count();
    assert!(sessions >= 8, "the daemon ran the sessions ({sessions})");

    // A daemon that shuts down ends the sessions still open.
    let open_session = open(&daemon.client(), "web", json!({"cmd": ["sleep", "7777"]}));
    wait_for("sleep 7777", 10, || {
        !processes(&["sleep", "7777"]).is_empty()
    });
    daemon.terminate();
    wait_for("sleep 7777 to be killed", 10, || {
        processes(&["sleep", "7777"]).is_empty()
    });
    drop(open_session);
    for name in ["web", "shop-web-1", "viarunc"] {
        let out = stack(&sb, &["container", "rm", "--force", name]);
        assert!(out.status.success(), "rm {name}: {}", describe(&out));
    }
    sb.assert_no_leaks();
}

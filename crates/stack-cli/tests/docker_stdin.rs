//! Input through the Docker API's attach: `docker run -i` feeding a
//! container's stdin (its end closes the container's stdin, Docker's
//! `StdinOnce`), `docker run -it` through a pty, and a detached `-i`
//! container whose stdin stays open between `docker attach`es.

mod daemon_support;
mod docker_support;
mod run_support;

use docker_support::{daemon_with_busybox, eventually};
use run_support::describe;

#[test]
fn docker_run_i_feeds_the_containers_stdin() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (_registry, _daemon, docker) = daemon_with_busybox(&sb);

    // --rm: the exit code survives the container's removal.
    let out = docker.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        "exit 5",
    ]);
    assert_eq!(out.status.code(), Some(5), "{}", describe(&out));

    // Piped input reaches the container, and its end ends `cat`.
    let out = docker.run_with_input(
        &["run", "-i", "--rm", "--network", "none", "busybox", "cat"],
        b"first line\nsecond line\n",
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "first line\nsecond line\n"
    );

    // A shell reading its script from stdin, exit code passed through.
    let out = docker.run_with_input(
        &[
            "run",
            "-i",
            "--network",
            "none",
            "--name",
            "scripted",
            "busybox",
            "sh",
        ],
        b"read -r word <<EOF\nmagic\nEOF\necho \"got $word\"\nexit 4\n",
    );
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "got magic\n");

    // Detached with -i: stdin stays open (StdinOnce is false), so `cat`
    // keeps running and what an attach sends shows in its log.
    docker.ok(&[
        "run",
        "-d",
        "-i",
        "--network",
        "none",
        "--name",
        "reader",
        "busybox",
        "cat",
    ]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let state = docker.ok(&["inspect", "-f", "{{.State.Running}}", "reader"]);
    assert_eq!(
        state.trim(),
        "true",
        "an open stdin with no writer is no end of file"
    );
    let mut attach = docker
        .command(&["attach", "--no-stdin=false", "reader"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("docker attach");
    {
        use std::io::Write;
        let mut stdin = attach.stdin.take().expect("stdin");
        stdin.write_all(b"through attach\n").expect("write");
    }
    eventually("the attached input reached cat", || {
        docker.ok(&["logs", "reader"]).contains("through attach")
    });
    let _ = attach.kill();
    let _ = attach.wait();
    let state = docker.ok(&["inspect", "-f", "{{.State.Running}}", "reader"]);
    assert_eq!(
        state.trim(),
        "true",
        "stdin stays open after an attach ends"
    );
    docker.ok(&["rm", "-f", "reader", "scripted"]);
}

#[test]
fn docker_run_it_talks_to_a_pty() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (_registry, _daemon, docker) = daemon_with_busybox(&sb);
    // script(1) gives the CLI a terminal; what it reads is typed into it.
    let mut child = std::process::Command::new("script")
        .args([
            "-qec",
            "docker run -it --rm --network none busybox sh -c 'test -t 0 && echo on-a-tty; read -r x; echo \"got-$x\"; exit 5'",
            "/dev/null",
        ])
        .env("DOCKER_HOST", &docker.host)
        .env("DOCKER_CONFIG", &docker.config)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script(1) is installed");
    let mut stdin = child.stdin.take().expect("stdin");
    // Typed once the container shows its terminal, as a user would.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    {
        use std::io::Write;
        stdin.write_all(b"typed\r").expect("type");
    }
    let out = child.wait_with_output().expect("script ends");
    drop(stdin);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("on-a-tty"), "{}", describe(&out));
    assert!(text.contains("got-typed"), "{}", describe(&out));
    assert_eq!(out.status.code(), Some(5), "{}", describe(&out));
}

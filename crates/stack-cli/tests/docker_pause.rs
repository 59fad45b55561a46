//! `docker pause|unpause` against `stack daemon`: what `docker ps`,
//! `inspect`, `info` and the `status=paused` filter say of a paused
//! container, Docker's refusals (a second pause, exec, unpause of one not
//! paused, pause of a stopped one), `docker stop` of a paused container,
//! and the events.

mod daemon_support;
mod docker_support;
mod run_support;

use std::time::{Duration, Instant};

use docker_support::{daemon_with_busybox, eventually};

#[test]
fn docker_pause_unpause_through_the_daemon() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        .to_string();
    let (_registry, daemon, docker) = daemon_with_busybox(&sb);
    let id = docker.ok(&[
        "run",
        "-d",
        "--name",
        "ticker",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 7' TERM; i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.02; done",
    ]);
    let id = id.trim().to_string();
    let count = || {
        let out = docker.run(&["exec", "ticker", "cat", "/tmp/n"]);
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u64>()
            .ok()
    };
    eventually("the counter counts", || count().is_some_and(|n| n > 3));

    docker.ok(&["pause", "ticker"]);
    let state = docker.ok(&[
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.Paused}} {{.State.Running}}",
        "ticker",
    ]);
    assert_eq!(state.trim(), "paused true true");
    let ps = docker.ok(&["ps", "--format", "{{.Names}} {{.Status}}"]);
    assert!(
        ps.lines()
            .any(|l| l.starts_with("ticker Up ") && l.ends_with("(Paused)")),
        "{ps}"
    );
    let paused = docker.ok(&["ps", "-q", "--no-trunc", "--filter", "status=paused"]);
    assert_eq!(paused.trim(), id);
    let running = docker.ok(&["ps", "-q", "--filter", "status=running"]);
    assert_eq!(
        running.trim(),
        "",
        "a paused container is not running: {running}"
    );
    let info = docker.ok(&[
        "info",
        "--format",
        "{{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}}",
    ]);
    assert_eq!(info.trim(), "0 1 0");

    let err = docker.fails(&["pause", "ticker"]);
    assert!(
        err.contains(&format!("Container {id} is already paused")),
        "{err}"
    );
    let err = docker.fails(&["exec", "ticker", "true"]);
    assert!(
        err.contains(&format!(
            "Container {id} is paused, unpause the container before exec"
        )),
        "{err}"
    );

    docker.ok(&["unpause", "ticker"]);
    // A read may meet the file between its truncation and the write.
    let mut resumed_from = 0;
    eventually("a count after the unpause", || {
        count().inspect(|n| resumed_from = *n).is_some()
    });
    eventually("the counter counts on", || {
        count().is_some_and(|n| n > resumed_from + 3)
    });
    let err = docker.fails(&["unpause", "ticker"]);
    assert!(
        err.contains(&format!("Container {id} is not paused")),
        "{err}"
    );

    // A paused container stops at once on its stop signal, handled after
    // the thaw (its trap's exit code, not SIGKILL's after the grace).
    docker.ok(&["pause", "ticker"]);
    let started = Instant::now();
    docker.ok(&["stop", "-t", "20", "ticker"]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let state = docker.ok(&[
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.Paused}} {{.State.ExitCode}}",
        "ticker",
    ]);
    assert_eq!(state.trim(), "exited false 7");
    let err = docker.fails(&["pause", "ticker"]);
    assert!(
        err.contains(&format!("Container {id} is not running")),
        "{err}"
    );
    let err = docker.fails(&["pause", "nothing"]);
    assert!(err.contains("No such container: nothing"), "{err}");

    let until = (std::time::SystemTime::now() + Duration::from_secs(1))
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        .to_string();
    let events = docker.ok(&[
        "events",
        "--since",
        &since,
        "--until",
        &until,
        "--filter",
        "container=ticker",
        "--format",
        "{{.Action}}",
    ]);
    let actions: Vec<&str> = events
        .lines()
        .filter(|a| *a == "pause" || *a == "unpause")
        .collect();
    assert_eq!(actions, ["pause", "unpause", "pause"], "{events}");

    docker.ok(&["rm", "ticker"]);
    // The run made the default network.
    docker.ok(&["network", "rm", "bridge"]);
    daemon.terminate();
    sb.assert_no_leaks();
}

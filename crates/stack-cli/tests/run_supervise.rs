//! Supervision by the container's monitor, through the built binary:
//! restart policies (kill -9 of the process, give-up after on-failure:N,
//! manual stop remembered, backoff), healthchecks (healthy, unhealthy, a
//! hanging probe killed at its timeout, the opt-in restart of an unhealthy
//! container), the event log, and stop/rm of a crash-looping container.

mod run_support;

use std::time::{Duration, Instant};

use run_support::*;
use serde_json::Value;
use stack_testkit::Sandbox;

fn detached(sb: &Sandbox, root: &std::path::Path, flags: &[&str], cmd: &[&str]) -> String {
    let mut args = vec!["run", "-d"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--rootfs", root.to_str().expect("path")]);
    args.extend_from_slice(cmd);
    let out = stack(sb, &args);
    assert!(out.status.success(), "run -d: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn inspect(sb: &Sandbox, name: &str) -> Value {
    let out = stack(sb, &["container", "inspect", name]);
    assert!(out.status.success(), "inspect: {}", describe(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("inspect JSON");
    doc[0].clone()
}

/// Polls `inspect` until `done` holds, failing with the last document.
fn wait_for(sb: &Sandbox, name: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let doc = inspect(sb, name);
        if done(&doc) {
            return doc;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {doc:#}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn running_pid(doc: &Value) -> Option<i64> {
    (doc["State"]["Status"] == "running")
        .then(|| doc["State"]["Pid"].as_i64())
        .flatten()
        .filter(|p| *p > 0)
}

fn kill9(pid: i64) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill -9 the container's process");
}

/// (action, time) of this container's events, oldest first.
fn events(sb: &Sandbox, id: &str) -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(sb.state_root.join("events.jsonl")).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["id"] == id)
        .map(|e| (e["action"].as_str().unwrap_or("").to_string(), e))
        .collect()
}

fn actions(sb: &Sandbox, id: &str) -> Vec<String> {
    events(sb, id).into_iter().map(|(a, _)| a).collect()
}

fn ls_line(sb: &Sandbox, name: &str) -> String {
    let out = stack(sb, &["container", "ls", "-a"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.contains(name))
        .unwrap_or_default()
        .to_string()
}

/// Seconds between two RFC 3339 timestamps of the same day.
fn seconds_between(a: &Value, b: &Value) -> f64 {
    let secs = |v: &Value| {
        let t = v.as_str().expect("timestamp");
        let clock = &t[t.find('T').expect("T") + 1..t.len() - 1];
        let mut parts = clock.split(':');
        let h: f64 = parts.next().expect("h").parse().expect("h");
        let m: f64 = parts.next().expect("m").parse().expect("m");
        let s: f64 = parts.next().expect("s").parse().expect("s");
        h * 3600.0 + m * 60.0 + s
    };
    secs(b) - secs(a)
}

#[test]
fn always_restarts_a_killed_process_with_backoff_until_stopped() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let id = detached(
        &sb,
        &root,
        &["--name", "web", "--restart", "always"],
        &["sleep", "100"],
    );
    let mut pid = running_pid(&inspect(&sb, "web")).expect("running");
    for round in 1..=2 {
        kill9(pid);
        let doc = wait_for(&sb, "web", "a restart", |d| {
            d["RestartCount"] == round && running_pid(d).is_some_and(|p| p != pid)
        });
        pid = running_pid(&doc).expect("running again");
        assert_eq!(doc["State"]["ExitCode"], 137, "{doc:#}");
    }
    assert!(
        ls_line(&sb, "web").contains("Up "),
        "{}",
        ls_line(&sb, "web")
    );

    // Backoff: the second restart waits twice as long as the first.
    let evs = events(&sb, &id);
    let gaps: Vec<f64> = evs
        .windows(3)
        .filter(|w| w[0].0 == "die" && w[1].0 == "restart" && w[2].0 == "start")
        .map(|w| seconds_between(&w[0].1["time"], &w[2].1["time"]))
        .collect();
    assert_eq!(gaps.len(), 2, "{evs:?}");
    assert!(gaps[0] >= 0.1 && gaps[1] >= 0.2, "delays {gaps:?}");

    // A manual stop is remembered: no restart, for any policy.
    let out = stack(&sb, &["container", "stop", "-t", "1", "web"]);
    assert!(out.status.success(), "{}", describe(&out));
    std::thread::sleep(Duration::from_millis(600));
    let doc = inspect(&sb, "web");
    assert_eq!(doc["State"]["Status"], "exited", "{doc:#}");
    assert_eq!(doc["State"]["ManualStop"], true);
    assert_eq!(doc["RestartCount"], 2);
    assert!(
        ls_line(&sb, "web").contains("Exited (137)"),
        "{}",
        ls_line(&sb, "web")
    );
    assert_eq!(
        actions(&sb, &id),
        // `run` reports the create and `container stop` the stop, as Docker's do.
        ["create", "start", "die", "restart", "start", "die", "restart", "start", "die", "stop"]
    );
    let out = stack(&sb, &["container", "rm", "web"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_clean(&sb);
}

#[test]
fn on_failure_restarts_failures_and_gives_up_after_n() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let id = detached(
        &sb,
        &root,
        &["--name", "job", "--restart", "on-failure:2"],
        &["sh", "-c", "exit 3"],
    );
    let doc = wait_for(&sb, "job", "giving up", |d| {
        d["State"]["Status"] == "exited"
    });
    assert_eq!(doc["RestartCount"], 2, "{doc:#}");
    assert_eq!(doc["State"]["ExitCode"], 3);
    assert_eq!(
        actions(&sb, &id).iter().filter(|a| *a == "start").count(),
        3
    );

    // on-failure also restarts a process killed by a signal.
    detached(
        &sb,
        &root,
        &["--name", "svc", "--restart", "on-failure"],
        &["sleep", "100"],
    );
    let pid = running_pid(&inspect(&sb, "svc")).expect("running");
    kill9(pid);
    wait_for(&sb, "svc", "a restart", |d| {
        d["RestartCount"] == 1 && running_pid(d).is_some_and(|p| p != pid)
    });
    for name in ["job", "svc"] {
        let out = stack(&sb, &["container", "rm", "--force", name]);
        assert!(out.status.success(), "{}", describe(&out));
    }
    assert_clean(&sb);
}

#[test]
fn no_policy_never_restarts_and_rm_refuses_a_restart_policy() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    detached(&sb, &root, &["--name", "once"], &["sleep", "100"]);
    let pid = running_pid(&inspect(&sb, "once")).expect("running");
    kill9(pid);
    wait_for(&sb, "once", "the exit", |d| {
        d["State"]["Status"] == "exited"
    });
    std::thread::sleep(Duration::from_millis(400));
    let doc = inspect(&sb, "once");
    assert_eq!(
        (
            &doc["State"]["Status"],
            &doc["RestartCount"],
            &doc["State"]["ExitCode"]
        ),
        (&Value::from("exited"), &Value::from(0), &Value::from(137)),
        "{doc:#}"
    );
    let (code, _, err) = run_in(&sb, &root, &["--restart", "always"], &["true"]);
    assert_ne!(code, 0);
    assert!(err.contains("--rm"), "{err}");
    let out = stack(&sb, &["container", "rm", "once"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_clean(&sb);
}

#[test]
fn healthcheck_turns_healthy_then_unhealthy_after_retries() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let id = detached(
        &sb,
        &root,
        &[
            "--name",
            "hc",
            "--health-cmd",
            "cat /tmp/ok",
            "--health-interval",
            "200ms",
            "--health-retries",
            "2",
        ],
        &["sh", "-c", "echo fine > /tmp/ok; exec sleep 100"],
    );
    let doc = wait_for(&sb, "hc", "healthy", |d| {
        d["State"]["Health"]["Status"] == "healthy"
    });
    let probe = &doc["State"]["Health"]["Log"][0];
    assert_eq!(probe["ExitCode"], 0, "{doc:#}");
    assert_eq!(probe["Output"], "fine\n");
    assert!(
        ls_line(&sb, "hc").contains("(healthy)"),
        "{}",
        ls_line(&sb, "hc")
    );

    let out = stack(&sb, &["container", "exec", "hc", "rm", "/tmp/ok"]);
    assert!(out.status.success(), "{}", describe(&out));
    let doc = wait_for(&sb, "hc", "unhealthy", |d| {
        d["State"]["Health"]["Status"] == "unhealthy"
    });
    assert_eq!(doc["State"]["Health"]["FailingStreak"], 2, "{doc:#}");
    assert_eq!(
        doc["State"]["Status"], "running",
        "no restart without opt-in"
    );
    let health: Vec<String> = actions(&sb, &id)
        .into_iter()
        .filter(|a| a.starts_with("health_status"))
        .collect();
    assert_eq!(
        health,
        ["health_status: healthy", "health_status: unhealthy"]
    );
    let out = stack(&sb, &["container", "rm", "--force", "hc"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_clean(&sb);
}

/// The host pids whose parent is `ppid`, with their state letter.
fn children_of(ppid: i64) -> Vec<(i64, char)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i64>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so read after ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        if fields.next().and_then(|p| p.parse::<i64>().ok()) == Some(ppid) {
            found.push((pid, state));
        }
    }
    found
}

fn parent_of(pid: i64) -> i64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let rest = stat.rsplit_once(')').expect("stat format").1;
    rest.split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("ppid")
}

/// A probe that prints before it exits used to be dropped unreaped and
/// started again at once: hundreds of zombies under the monitor within
/// seconds, and a probe loop burning CPU. Probes run one at a time at their
/// interval, are reaped, and keep their output.
#[test]
fn probes_that_print_run_one_at_a_time_and_are_reaped() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    detached(
        &sb,
        &root,
        &[
            "--name",
            "chatty",
            "--health-cmd",
            "echo hi; sleep 0.05; echo there",
            "--health-interval",
            "200ms",
        ],
        &["sleep", "100"],
    );
    let doc = wait_for(&sb, "chatty", "healthy", |d| {
        d["State"]["Health"]["Status"] == "healthy"
    });
    let pid = running_pid(&doc).expect("running");
    let monitor = parent_of(pid);
    let started = Instant::now();
    let mut most_children = 0;
    // A probe that just exited is a zombie until the monitor's loop wakes
    // and reaps it; one that stays a zombie was never reaped.
    let mut first_seen_dead: std::collections::HashMap<i64, Instant> = Default::default();
    while started.elapsed() < Duration::from_secs(2) {
        let children = children_of(monitor);
        for (pid, _) in children.iter().filter(|(_, s)| *s == 'Z') {
            let since = *first_seen_dead.entry(*pid).or_insert_with(Instant::now);
            assert!(
                since.elapsed() < Duration::from_millis(500),
                "probe {pid} left unreaped under the monitor: {children:?}"
            );
        }
        most_children = most_children.max(children.len());
        std::thread::sleep(Duration::from_millis(25));
    }
    // The container's process and at most one probe.
    assert!(most_children <= 2, "{most_children} children at once");
    let doc = inspect(&sb, "chatty");
    let log = doc["State"]["Health"]["Log"].as_array().expect("log");
    assert!(!log.is_empty(), "{doc:#}");
    for probe in log {
        assert_eq!(probe["Output"], "hi\nthere\n", "{doc:#}");
        assert_eq!(probe["ExitCode"], 0, "{doc:#}");
    }
    // One probe per interval: consecutive probes start about 200 ms apart
    // (the bug started the next one as soon as the last printed).
    for pair in log.windows(2) {
        let gap = seconds_between(&pair[0]["Start"], &pair[1]["Start"]);
        assert!(gap >= 0.15, "probes {gap}s apart: {doc:#}");
    }
    let out = stack(&sb, &["container", "rm", "--force", "chatty"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_clean(&sb);
}

#[test]
fn a_hanging_probe_is_killed_at_its_timeout() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    detached(
        &sb,
        &root,
        &[
            "--name",
            "slow",
            "--health-cmd",
            "sleep 30",
            "--health-interval",
            "300ms",
            "--health-timeout",
            "300ms",
            "--health-retries",
            "1",
        ],
        &["sleep", "100"],
    );
    let doc = wait_for(&sb, "slow", "unhealthy", |d| {
        d["State"]["Health"]["Status"] == "unhealthy"
    });
    let probe = &doc["State"]["Health"]["Log"][0];
    assert_eq!(probe["Outcome"], "timeout", "{doc:#}");
    assert_eq!(probe["ExitCode"], -1);
    let took = seconds_between(&probe["Start"], &probe["End"]);
    assert!((0.3..2.0).contains(&took), "probe ran {took}s");
    // The killed probe left no `sleep 30` behind in the container.
    let out = stack(&sb, &["container", "exec", "slow", "ps", "-o", "args"]);
    let ps = String::from_utf8_lossy(&out.stdout).into_owned();
    let hanging = ps.lines().filter(|l| l.trim() == "sleep 30").count();
    assert!(hanging <= 1, "probes pile up: {ps}");
    let out = stack(&sb, &["container", "rm", "--force", "slow"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_clean(&sb);
}

#[test]
fn opted_in_unhealthy_container_is_restarted() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    let id = detached(
        &sb,
        &root,
        &[
            "--name",
            "sick",
            "--restart-on-unhealthy",
            "--health-cmd",
            "false",
            "--health-interval",
            "150ms",
            "--health-retries",
            "1",
        ],
        &["sleep", "100"],
    );
    let doc = wait_for(&sb, "sick", "a restart", |d| {
        d["RestartCount"].as_u64().is_some_and(|n| n >= 1) && running_pid(d).is_some()
    });
    assert_eq!(doc["State"]["Health"]["Status"], "starting", "{doc:#}");
    let acts = actions(&sb, &id);
    let first_restart = acts.iter().position(|a| a == "restart").expect("restart");
    assert_eq!(
        acts[..first_restart],
        ["create", "start", "health_status: unhealthy", "die"]
    );
    let out = stack(&sb, &["container", "rm", "--force", "sick"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_clean(&sb);
}

#[test]
fn stop_and_rm_of_a_crash_looping_container() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = busybox_rootfs(&sb);
    for name in ["loop1", "loop2"] {
        detached(
            &sb,
            &root,
            &["--name", name, "--restart", "always"],
            &["sh", "-c", "sleep 0.05; exit 1"],
        );
    }
    for name in ["loop1", "loop2"] {
        wait_for(&sb, name, "a few restarts", |d| {
            d["RestartCount"].as_u64().is_some_and(|n| n >= 3)
        });
    }
    let out = stack(&sb, &["container", "stop", "-t", "1", "loop1"]);
    assert!(out.status.success(), "{}", describe(&out));
    let stopped = inspect(&sb, "loop1");
    assert_eq!(stopped["State"]["Status"], "exited", "{stopped:#}");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        inspect(&sb, "loop1")["RestartCount"],
        stopped["RestartCount"]
    );
    let out = stack(&sb, &["container", "rm", "loop2"]);
    assert!(
        !out.status.success(),
        "rm without --force of an active container"
    );
    for name in ["loop1", "loop2"] {
        let flags: &[&str] = if name == "loop2" { &["--force"] } else { &[] };
        let mut args = vec!["container", "rm"];
        args.extend_from_slice(flags);
        args.push(name);
        let out = stack(&sb, &args);
        assert!(out.status.success(), "{}", describe(&out));
    }
    assert_clean(&sb);
}

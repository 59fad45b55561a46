//! `docker stats` against `stack daemon`: a busy container shows its CPU
//! and its memory limit, the stream sends a reading a second with the one
//! before as `precpu_stats`, and an unknown container is Docker's error.

mod daemon_support;
mod docker_support;
mod run_support;

use std::process::Command;

use docker_support::daemon_with_busybox;
use run_support::describe;

#[test]
fn docker_stats_reads_the_cgroup_once_and_as_a_stream() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (_registry, daemon, docker) = daemon_with_busybox(&sb);
    docker.ok(&[
        "run",
        "-d",
        "--name",
        "busy",
        "--memory",
        "64m",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        "while :; do :; done",
    ]);
    docker.ok(&[
        "run",
        "-d",
        "--name",
        "idle",
        "--network",
        "none",
        "busybox",
        "sleep",
        "300",
    ]);

    let out = docker.ok(&["stats", "--no-stream", "--format", "{{json .}}"]);
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON row"))
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    let busy = rows.iter().find(|r| r["Name"] == "busy").expect("busy row");
    let cpu: f64 = busy["CPUPerc"]
        .as_str()
        .and_then(|c| c.trim_end_matches('%').parse().ok())
        .expect("CPUPerc");
    assert!(cpu > 10.0, "a busy loop shows its CPU: {busy}");
    assert!(
        busy["MemUsage"]
            .as_str()
            .is_some_and(|m| m.ends_with("/ 64MiB")),
        "{busy}"
    );
    let pids: u64 = busy["PIDs"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .expect("PIDs");
    assert!(pids >= 1, "{busy}");

    // The raw stream: a reading at once, then one a second, each carrying
    // the one before.
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "2.5", "--unix-socket"])
        .arg(&daemon.socket)
        .arg("http://docker/v1.44/containers/idle/stats")
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout);
    let readings: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON reading"))
        .collect();
    assert!(readings.len() >= 2, "{text} {}", describe(&out));
    assert_eq!(readings[0]["name"], "/idle");
    assert_eq!(readings[0]["preread"], "0001-01-01T00:00:00Z");
    assert_eq!(readings[1]["preread"], readings[0]["read"]);
    assert_eq!(
        readings[1]["precpu_stats"]["cpu_usage"]["total_usage"],
        readings[0]["cpu_stats"]["cpu_usage"]["total_usage"]
    );
    assert!(readings[0]["cpu_stats"]["system_cpu_usage"]
        .as_u64()
        .is_some_and(|n| n > 0));
    assert!(readings[0]["memory_stats"]["usage"]
        .as_u64()
        .is_some_and(|n| n > 0));

    let err = docker.fails(&["stats", "--no-stream", "nosuch"]);
    assert!(
        err.to_lowercase().contains("no such container: nosuch"),
        "{err}"
    );
    docker.ok(&["rm", "-f", "busy", "idle"]);
}

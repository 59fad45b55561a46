//! `docker update` against `stack daemon`: the limits and restart policy
//! it maps land in the running container's cgroup and its inspect
//! document; what stack does not update is refused by name.

mod daemon_support;
mod docker_support;
mod run_support;

use docker_support::daemon_with_busybox;

/// The memory limit in force for process `pid`, read from its cgroup.
fn memory_limit(pid: &str) -> String {
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("proc cgroup");
    let v1 = cgroups
        .lines()
        .find_map(|l| l.split_once(":memory:").map(|(_, p)| p.to_string()));
    let path = match v1 {
        Some(rel) => format!("/sys/fs/cgroup/memory{rel}/memory.limit_in_bytes"),
        None => {
            let rel = cgroups
                .lines()
                .find_map(|l| l.strip_prefix("0::"))
                .expect("a cgroup");
            format!("/sys/fs/cgroup{rel}/memory.max")
        }
    };
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {path}: {e}"))
        .trim()
        .to_string()
}

#[test]
fn docker_update_through_the_daemon() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (_registry, daemon, docker) = daemon_with_busybox(&sb);
    docker.ok(&[
        "run", "-d", "--name", "box", "--memory", "64m", "busybox", "sleep", "1000",
    ]);
    let pid = docker.ok(&["inspect", "-f", "{{.State.Pid}}", "box"]);
    let pid = pid.trim();
    assert_eq!(memory_limit(pid), (64u64 << 20).to_string());

    let out = docker.ok(&[
        "update",
        "--memory",
        "128m",
        "--cpus",
        "0.5",
        "--pids-limit",
        "40",
        "--restart",
        "on-failure:2",
        "box",
    ]);
    assert_eq!(out.trim(), "box");
    assert_eq!(memory_limit(pid), (128u64 << 20).to_string());
    let config = docker.ok(&[
        "inspect",
        "-f",
        "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} \
         {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}",
        "box",
    ]);
    assert_eq!(config.trim(), "134217728 500000000 40 on-failure 2");

    for (flag, value, field) in [
        ("--blkio-weight", "300", "BlkioWeight"),
        ("--cpu-quota", "5000", "CpuQuota"),
        ("--cpuset-cpus", "0", "CpusetCpus"),
    ] {
        let err = docker.fails(&["update", flag, value, "box"]);
        assert!(err.contains(field), "{flag}: {err}");
    }
    let err = docker.fails(&["update", "--memory", "32m", "nothing"]);
    assert!(err.contains("No such container: nothing"), "{err}");
    // What was refused changed nothing.
    assert_eq!(memory_limit(pid), (128u64 << 20).to_string());

    docker.ok(&[
        "run", "-d", "--rm", "--name", "brief", "busybox", "sleep", "1000",
    ]);
    let err = docker.fails(&["update", "--restart", "always", "brief"]);
    assert!(err.contains("--rm"), "{err}");

    docker.ok(&["rm", "-f", "box", "brief"]);
    docker.ok(&["network", "rm", "bridge"]);
    daemon.terminate();
    sb.assert_no_leaks();
}

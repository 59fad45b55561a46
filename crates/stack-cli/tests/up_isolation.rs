//! A stack file's isolation options through `up`: `devices`,
//! `device_cgroup_rules`, `sysctls`, `pid`/`ipc: service:X` and
//! `shm_size` take effect; a key stack does not carry out, or a refused
//! option, fails `up` as a whole before any container is made.

mod run_support;
mod up_support;

use up_support::*;

#[test]
fn refused_options_fail_up_before_anything_starts() {
    let Some(env) = env(false) else {
        return;
    };
    for (key, yaml, needle) in [
        (
            "sysctl",
            "    sysctls:\n      vm.swappiness: \"1\"\n",
            "vm.swappiness",
        ),
        (
            "device",
            "    devices:\n      - /etc/passwd\n",
            "not a character or block device",
        ),
        ("pid", "    pid: bogus\n", "not supported"),
        (
            "rare key",
            "    userns_mode: host\n",
            "`userns_mode` is not supported",
        ),
        (
            "secrets",
            "    secrets: [token]\n",
            "`secrets` is not supported",
        ),
    ] {
        let extra = if key == "secrets" {
            "secrets:\n  token:\n    file: ./token\n"
        } else {
            ""
        };
        env.write(&format!(
            "services:\n  a:\n    image: busybox\n    command: sleep 100\n  z:\n    image: busybox\n    command: sleep 100\n{yaml}{extra}"
        ));
        let out = env.stack(&["up", "-d"]);
        // The message as one line, whatever width the report was wrapped to.
        let err = String::from_utf8_lossy(&out.stderr)
            .split_whitespace()
            .filter(|w| *w != "│")
            .collect::<Vec<_>>()
            .join(" ");
        assert!(!out.status.success(), "{key}: {}", describe(&out));
        assert!(err.contains(needle), "{key}: {err}");
        assert!(err.contains("service z"), "{key}: names the service: {err}");
        assert_eq!(env.container_dirs(), 0, "{key}: nothing made");
    }
    env.write("services:\n  a:\n    image: busybox\n    ports: [\"80:0\"]\n");
    let out = env.stack(&["config"]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("container port"),
        "{}",
        describe(&out)
    );
    env.sb.assert_no_leaks();
}

#[test]
fn isolation_keys_take_effect() {
    let Some(env) = env(false) else {
        return;
    };
    env.write(
        "services:
  db:
    image: busybox
    command: sleep 100
    shm_size: 8m
    sysctls:
      net.core.somaxconn: \"1234\"
  tool:
    image: busybox
    command: sleep 100
    pid: service:db
    ipc: service:db
    devices:
      - /dev/loop-control:/dev/lc:r
    device_cgroup_rules:
      - c 1:11 w
",
    );
    env.ok(&["up", "-d"]);
    let exec = |service: &str, script: &str| {
        let (out, _) = env.ok(&["exec", "-T", service, "sh", "-c", script]);
        out
    };
    assert_eq!(
        exec("db", "cat /proc/sys/net/core/somaxconn").trim(),
        "1234"
    );
    assert!(exec("db", "grep ' /dev/shm ' /proc/mounts").contains("size=8192k"));
    let ns = |service: &str| {
        exec(
            service,
            "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc",
        )
    };
    assert_eq!(
        ns("tool"),
        ns("db"),
        "tool shares db's PID and IPC namespaces"
    );
    assert!(
        exec("tool", "ps -o comm")
            .lines()
            .any(|l| l.trim() == "sleep"),
        "db's processes are visible"
    );
    let opened = exec(
        "tool",
        "head -c0 /dev/lc && echo lc-read; (echo > /dev/lc) 2>/dev/null || echo lc-write-refused",
    );
    assert_eq!(opened, "lc-read\nlc-write-refused\n");
    env.ok(&["down", "-t", "0"]);
    env.sb.assert_no_leaks();
}

//! Shared by the network end-to-end tests: a busybox rootfs with GNU wget
//! and redis-server copied in (with the libraries they load), and small
//! helpers around the `stack` binary in a sandbox.

#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use stack_testkit::Sandbox;

use crate::run_support::{build_static, busybox_rootfs, describe, stack};

/// Copies a host binary and every library `ldd` lists into `root`.
/// Debian's static busybox wget crashes on name lookups; GNU wget resolves
/// through glibc, which reads the container's resolv.conf.
pub fn add_host_binary(root: &Path, binary: &str) {
    let copy = |from: &Path| {
        let to = root.join(from.strip_prefix("/").expect("absolute path"));
        std::fs::create_dir_all(to.parent().expect("parent")).expect("lib dir");
        std::fs::copy(from, &to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    };
    copy(Path::new(binary));
    let ldd = Command::new("ldd").arg(binary).output().expect("ldd");
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        let path = line
            .split_whitespace()
            .find(|w| w.starts_with('/'))
            .map(PathBuf::from);
        if let Some(path) = path {
            copy(&path);
        }
    }
}

/// The busybox rootfs plus GNU wget and redis-server.
pub fn network_rootfs(sb: &Sandbox) -> PathBuf {
    let root = busybox_rootfs(sb);
    add_host_binary(&root, "/usr/bin/wget");
    add_host_binary(&root, "/usr/bin/redis-server");
    build_static(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/net_support/udp_echo.c"),
        &root.join("bin/udp-echo"),
    );
    std::fs::create_dir_all(root.join("www")).expect("www");
    std::fs::write(root.join("www/index.html"), "hello from web\n").expect("index");
    root
}

/// `stack ARGS`, asserting success; returns stdout.
pub fn ok(sb: &Sandbox, args: &[&str]) -> String {
    let out = stack(sb, args);
    assert!(out.status.success(), "stack {args:?}: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `stack run --rm --rootfs ROOT FLAGS... CMD...`: its output.
pub fn run_rm(sb: &Sandbox, root: &Path, flags: &[&str], cmd: &[&str]) -> Output {
    let mut args = vec!["run", "--rm"];
    args.extend_from_slice(flags);
    let root = root.to_str().expect("utf-8");
    args.extend_from_slice(&["--rootfs", root]);
    args.extend_from_slice(cmd);
    stack(sb, &args)
}

/// `stack run -d --name NAME FLAGS... --rootfs ROOT CMD...`.
pub fn run_detached(sb: &Sandbox, root: &Path, name: &str, flags: &[&str], cmd: &[&str]) {
    let mut args = vec!["run", "-d", "--name", name];
    args.extend_from_slice(flags);
    let root = root.to_str().expect("utf-8");
    args.extend_from_slice(&["--rootfs", root]);
    args.extend_from_slice(cmd);
    ok(sb, &args);
}

/// busybox httpd serving /www on port 80.
pub const HTTPD: &[&str] = &["httpd", "-f", "-p", "80", "-h", "/www"];

/// GNU wget of `url` from a fresh container on `network`: (success, output).
pub fn wget_from(sb: &Sandbox, root: &Path, network: &str, url: &str) -> (bool, String) {
    let out = run_rm(
        sb,
        root,
        &["--network", network],
        &["/usr/bin/wget", "-q", "-t", "1", "-T", "3", "-O", "-", url],
    );
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Retries `f` for up to 5 s (a server may still be starting).
pub fn eventually(mut f: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match f() {
            Ok(()) => return,
            Err(e) if Instant::now() > deadline => panic!("gave up: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A container's address on a network, from `container inspect`.
pub fn address_of(sb: &Sandbox, container: &str, network: &str) -> Ipv4Addr {
    let doc: serde_json::Value =
        serde_json::from_str(&ok(sb, &["container", "inspect", container])).expect("json");
    doc[0]["NetworkSettings"]["Networks"][network]["IPAddress"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{container} has no address on {network}: {doc}"))
}

/// Is a resolver process of this sandbox alive?
pub fn resolver_running(sb: &Sandbox) -> bool {
    let Ok(pid) = std::fs::read_to_string(sb.run_dir.join("dns/pid")) else {
        return false;
    };
    let pid = pid.trim();
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// Removes every container and network, then checks nothing is left: no
/// `stk` link, `STACK-` chain, mount, cgroup, namespace file or resolver.
pub fn teardown_and_check(sb: &Sandbox) {
    let ids = ok(sb, &["container", "ls", "-a", "-q"]);
    for id in ids.lines().filter(|l| !l.is_empty()) {
        ok(sb, &["container", "rm", "--force", id]);
    }
    ok(sb, &["network", "prune"]);
    assert_eq!(ok(sb, &["network", "ls", "-q"]), "", "networks left");
    assert!(!resolver_running(sb), "resolver process left");
    let netns: Vec<_> = std::fs::read_dir(sb.run_dir.join("netns"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(netns.is_empty(), "namespace files left: {netns:?}");
    // Host ends of veths of deleted namespaces go in the background.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !sb.leaks().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    sb.assert_no_leaks();
}

pub fn sh(cmd: &str) -> String {
    let out = Command::new("sh").args(["-c", cmd]).output().expect("sh");
    assert!(out.status.success(), "{cmd}: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

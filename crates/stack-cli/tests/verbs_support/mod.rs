//! Shared by the project verb tests: the `shop` project's containers made
//! the way `up` makes them, and reading their state and events.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use stack_testkit::Sandbox;

use crate::run_support::{busybox_rootfs, describe as text, stack};

pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
pub const NUMBER: &str = "com.docker.compose.container-number";

/// A detached container of `project`'s `service`, replica `n`, running
/// `sleep` under an init so it stops on TERM at once.
pub fn member(sb: &Sandbox, root: &Path, project: &str, service: &str, n: u32) {
    let name = format!("{project}-{service}-{n}");
    let labels = [
        format!("{PROJECT}={project}"),
        format!("{SERVICE}={service}"),
        format!("{NUMBER}={n}"),
    ];
    let root = root.to_str().expect("utf-8 path");
    // No network: these verbs act on containers, whatever their networks.
    let mut args = vec!["run", "-d", "--init", "--network", "none", "--name", &name];
    for l in &labels {
        args.extend(["-l", l.as_str()]);
    }
    args.extend(["--rootfs", root, "sleep", "1000"]);
    let out = stack(sb, &args);
    assert!(out.status.success(), "{}", text(&out));
}

/// The `shop` project: a stack file where web depends on db, and the
/// containers db-1, web-1, web-2.
pub fn shop(sb: &Sandbox) -> (PathBuf, PathBuf) {
    let root = busybox_rootfs(sb);
    let file = sb.dir().join("compose.yaml");
    std::fs::write(
        &file,
        "name: shop\nservices:\n  db:\n    image: busybox\n  web:\n    image: busybox\n    depends_on: [db]\n",
    )
    .expect("stack file");
    member(sb, &root, "shop", "db", 1);
    member(sb, &root, "shop", "web", 1);
    member(sb, &root, "shop", "web", 2);
    (file, root)
}

/// `stack -f FILE ARGS...`.
pub fn verb(sb: &Sandbox, file: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["-f", file.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    stack(sb, &all)
}

pub fn inspect(sb: &Sandbox, name: &str) -> serde_json::Value {
    let out = stack(sb, &["container", "inspect", name]);
    assert!(out.status.success(), "{}", text(&out));
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("inspect json");
    docs[0].clone()
}

pub fn status(sb: &Sandbox, name: &str) -> String {
    inspect(sb, name)["State"]["Status"]
        .as_str()
        .expect("status")
        .to_string()
}

/// (action, container name) of every event in the log, in order.
pub fn events(sb: &Sandbox) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(sb.state_root.join("events.jsonl")).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("event json"))
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

pub fn position(log: &[(String, String)], action: &str, name: &str) -> usize {
    log.iter()
        .position(|(a, n)| a == action && n == name)
        .unwrap_or_else(|| panic!("no {action} event of {name} in {log:?}"))
}

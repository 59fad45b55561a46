//! Shared by the build end-to-end tests: a sandbox whose docker.io
//! mirror holds the fixture busybox, and short ways to write a context
//! and run `stack` expecting success or failure.

#![allow(dead_code)]

use std::path::Path;

use stack_testkit::registry::{fixtures, RegistryAuth, TestRegistry};
use stack_testkit::Sandbox;

use crate::run_support::{describe as text, stack};

/// A sandbox whose docker.io mirror (a registry of its own, on loopback)
/// holds the fixture busybox as `library/busybox:latest`.
pub fn sandbox_with_mirror() -> Option<(Sandbox, TestRegistry)> {
    let sb = stack_testkit::sandbox()?;
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fixtures().join("busybox"), "1", "library/busybox:latest");
    reg.write_mirror_config(&sb.config_file);
    Some((sb, reg))
}

/// Writes `files` (path, content) under `dir`.
pub fn write_tree(dir: &Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, content).expect("write");
    }
}

/// Runs `stack ARGS`, expects success, answers stdout.
pub fn ok(sb: &Sandbox, args: &[&str]) -> String {
    let out = stack(sb, args);
    assert!(out.status.success(), "stack {args:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `stack ARGS`, expects failure, answers stderr.
pub fn fails(sb: &Sandbox, args: &[&str]) -> String {
    let out = stack(sb, args);
    assert!(
        !out.status.success(),
        "stack {args:?} should fail: {}",
        text(&out)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Builds and answers (stdout, stderr).
pub fn build(sb: &Sandbox, args: &[&str]) -> (String, String) {
    let mut all = vec!["image", "build", "--progress", "plain"];
    all.extend_from_slice(args);
    let out = stack(sb, &all);
    assert!(out.status.success(), "stack {all:?}: {}", text(&out));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

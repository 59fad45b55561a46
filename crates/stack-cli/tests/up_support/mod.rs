//! Shared by the `up_*` end-to-end tests: a sandbox whose docker.io mirror
//! is a local registry holding the busybox and redis fixtures, a project
//! directory, and helpers to drive `stack` on a stack file there.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Output;

use stack_testkit::registry::{fixtures, RegistryAuth, TestRegistry};
use stack_testkit::Sandbox;

pub use crate::run_support::{describe, stack};

/// A sandbox, its registry (kept alive), and a project directory.
pub struct Env {
    pub sb: Sandbox,
    pub reg: TestRegistry,
    pub dir: PathBuf,
}

/// `None` when the test cannot run here (no privilege).
pub fn env(with_redis: bool) -> Option<Env> {
    let sb = stack_testkit::sandbox()?;
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fixtures().join("busybox"), "1", "library/busybox:latest");
    if with_redis {
        reg.push(&fixtures().join("redis"), "7", "library/redis:latest");
    }
    reg.write_mirror_config(&sb.config_file);
    let dir = sb.dir().join("demo");
    std::fs::create_dir_all(&dir).expect("project dir");
    Some(Env { sb, reg, dir })
}

impl Env {
    /// Writes the stack file.
    pub fn write(&self, yaml: &str) {
        std::fs::write(self.dir.join("compose.yaml"), yaml).expect("stack file");
    }

    /// `stack -f <dir>/compose.yaml ARGS`.
    pub fn stack(&self, args: &[&str]) -> Output {
        let file = self.dir.join("compose.yaml");
        let mut all = vec!["-f", file.to_str().expect("utf-8 path")];
        all.extend_from_slice(args);
        stack(&self.sb, &all)
    }

    /// Like [`Env::stack`], asserting success; returns (stdout, stderr).
    pub fn ok(&self, args: &[&str]) -> (String, String) {
        let out = self.stack(args);
        assert!(out.status.success(), "stack {args:?}: {}", describe(&out));
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `stack ARGS` without the stack file, for the verbs that work on no
    /// project (`images`, `system`), which refuse `-f`.
    pub fn host(&self, args: &[&str]) -> Output {
        stack(&self.sb, args)
    }

    /// Like [`Env::host`], asserting success; returns (stdout, stderr).
    pub fn host_ok(&self, args: &[&str]) -> (String, String) {
        let out = self.host(args);
        assert!(out.status.success(), "stack {args:?}: {}", describe(&out));
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Names of the project's containers per `ps -a --format json`.
    pub fn ps(&self) -> Vec<serde_json::Value> {
        let (out, _) = self.ok(&["ps", "-a", "--format", "json"]);
        out.lines()
            .map(|l| serde_json::from_str(l).expect("ps json line"))
            .collect()
    }

    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .ps()
            .iter()
            .map(|c| c["Name"].as_str().expect("name").to_string())
            .collect();
        names.sort();
        names
    }

    /// Container directories under the state root.
    pub fn container_dirs(&self) -> usize {
        std::fs::read_dir(self.sb.state_root.join("containers"))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

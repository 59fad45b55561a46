//! The README's first command: a tour of what stack does today on a machine
//! with no internet. It starts Debian's registry on a loopback port, makes it
//! the docker.io mirror in a demo config, then pulls, lists and runs images
//! with the release `stack` binary. Everything the demo makes lives under
//! `target/demo/` (state root, config) and is removed at the end, except
//! that directory itself, so a second run starts clean.

use std::path::{Path, PathBuf};
use std::process::Command;

use stack_testkit::registry::{RegistryAuth, TestRegistry};

/// Runs the demo; `fixtures` is the directory of fixture image layouts.
pub fn run(fixtures: &Path, extra: &[String]) -> Result<(), String> {
    crate::run::checked(Command::new("cargo").args([
        "build",
        "--quiet",
        "--release",
        "--bin",
        "stack",
    ]))?;
    let stack = PathBuf::from("target/release/stack");
    let dir = std::path::absolute("target/demo").map_err(|e| format!("target/demo: {e}"))?;
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;

    step("a registry on loopback, holding the busybox and redis images as docker.io's");
    let registry = TestRegistry::start(&dir, RegistryAuth::None);
    registry.push(&fixtures.join("busybox"), "1", "library/busybox:latest");
    registry.push(&fixtures.join("redis"), "7", "library/redis:latest");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "registry-mirrors = [\"{url}\"]\ninsecure-registries = [\"{addr}\"]\n",
            url = registry.url(),
            addr = registry.addr
        ),
    )
    .map_err(|e| format!("write {}: {e}", config.display()))?;
    println!("config {}:\n{}", config.display(), read(&config));

    let demo = Demo {
        stack,
        root: dir.join("root"),
        run_dir: dir.join("run"),
        config,
    };
    let file = extra
        .first()
        .cloned()
        .unwrap_or_else(|| "examples/hello/compose.yaml".to_string());
    let result = demo.tour(&file);
    if result.is_err() {
        // Remove what the tour made when a step failed halfway.
        let _ = demo.stack(&["container", "rm", "--force", "demo-redis"]);
    }
    drop(registry);
    result
}

struct Demo {
    stack: PathBuf,
    root: PathBuf,
    run_dir: PathBuf,
    config: PathBuf,
}

impl Demo {
    fn tour(&self, file: &str) -> Result<(), String> {
        step(&format!(
            "the stack file {file}, validated and in normal form"
        ));
        self.stack(&["-f", file, "config"])?;
        step("pull through the mirror");
        self.stack(&["pull", "busybox", "redis"])?;
        self.stack(&["images"])?;
        step("run a container from an image");
        self.stack(&["run", "--rm", "busybox", "echo", "hello from stack"])?;
        step("a detached redis, asked through exec");
        self.stack(&[
            "run",
            "-d",
            "--name",
            "demo-redis",
            "--memory",
            "64m",
            "redis",
        ])?;
        self.stack(&["container", "ls"])?;
        std::thread::sleep(std::time::Duration::from_millis(300));
        self.stack(&["container", "exec", "demo-redis", "redis-cli", "ping"])?;
        self.stack(&["container", "stop", "demo-redis"])?;
        self.stack(&["container", "rm", "demo-redis"])?;
        step("done: every container removed; state was kept under target/demo/root");
        Ok(())
    }

    fn stack(&self, args: &[&str]) -> Result<(), String> {
        println!("$ stack {}", args.join(" "));
        crate::run::checked(
            Command::new(&self.stack)
                .args(args)
                .env("STACK_ROOT", &self.root)
                .env("STACK_RUN", &self.run_dir)
                .env("STACK_CONFIG", &self.config),
        )
    }
}

fn step(what: &str) {
    println!("\n== {what}");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

//! The README's first command: the example application on a machine with
//! no internet. It starts Debian's registry on a loopback port, makes it the
//! docker.io mirror in a demo config, then with the release `stack` binary
//! brings up `examples/visits` (a busybox httpd page counting visits in a
//! redis that must be healthy first), fetches the page twice from
//! 127.0.0.1 to show the count going up, shows `stack ps`, and takes the
//! stack down. Everything lives under `target/demo/`; a second run starts
//! clean.

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
        .unwrap_or_else(|| "examples/visits/compose.yaml".to_string());
    let result = demo.tour(&file);
    if result.is_err() {
        // Remove what the tour made when a step failed halfway.
        let _ = demo.stack(&["-f", &file, "down", "-t", "0"]);
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
        step("up: pull through the mirror, start redis, wait for it to be healthy, start web");
        self.stack(&["-f", file, "up", "-d"])?;
        step("the page, fetched twice from 127.0.0.1:8080: the count goes up");
        for _ in 0..2 {
            let page = fetch("127.0.0.1:8080", "/cgi-bin/visits")?;
            println!("{}", page.trim_end());
        }
        step("what runs");
        self.stack(&["-f", file, "ps"])?;
        step("down: every container and network removed");
        self.stack(&["-f", file, "down"])?;
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

/// GET `path` from `addr` with a plain HTTP/1.0 request; the body, or an
/// error naming what failed. Retries for a few seconds while web starts.
fn fetch(addr: &str, path: &str) -> Result<String, String> {
    use std::io::{Read, Write};
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut conn = std::net::TcpStream::connect(addr)?;
            conn.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
            write!(conn, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
            let mut reply = String::new();
            conn.read_to_string(&mut reply)?;
            Ok(reply)
        })();
        match attempt {
            Ok(reply) => {
                let body = reply.split_once("\r\n\r\n").map_or("", |(_, b)| b);
                return Ok(body.to_string());
            }
            Err(e) if std::time::Instant::now() >= deadline => {
                return Err(format!("fetch http://{addr}{path}: {e}"))
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(200)),
        }
    }
}

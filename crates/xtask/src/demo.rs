//! The README's first command: the example application on a machine with
//! no internet. It starts Debian's registry on a loopback port, makes it the
//! docker.io mirror in a demo config, then with the release `stack` binary
//! brings up `examples/visits` (a busybox httpd page counting visits in a
//! redis that must be healthy first), fetches the page twice from
//! 127.0.0.1 to show the count going up, shows `stack ps`, and takes the
//! stack down. Then the same again through `stack daemon` (and `docker ps`
//! through its Docker Engine API, when a docker CLI is installed): the daemon
//! starts, `up -d`, `ps` and `logs -f` go through its socket, and it stops
//! (the containers would outlive it; `down` removes them first).
//! Everything lives under `target/demo/`; a second run starts clean.
//! `STACK_BIN` picks another binary than the release build.

use std::path::{Path, PathBuf};
use std::process::Command;

use stack_testkit::registry::{RegistryAuth, TestRegistry};

/// Runs the demo; `fixtures` is the directory of fixture image layouts.
pub fn run(fixtures: &Path, extra: &[String]) -> Result<(), String> {
    let stack = match std::env::var_os("STACK_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => {
            crate::run::checked(Command::new("cargo").args([
                "build",
                "--quiet",
                "--release",
                "--bin",
                "stack",
            ]))?;
            PathBuf::from("target/release/stack")
        }
    };
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
        step("up: pull redis through the mirror, build web from its Dockerfile, start redis, wait for it to be healthy, start web");
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
        self.through_the_daemon(file)
    }

    /// The same verbs through `stack daemon`'s socket.
    fn through_the_daemon(&self, file: &str) -> Result<(), String> {
        step("stack daemon: the same verbs, now through its socket");
        let log = self.root.with_file_name("daemon.log");
        let mut daemon = self
            .command()
            .args(["daemon", "--log-level", "info", "--log-file"])
            .arg(&log)
            .spawn()
            .map_err(|e| format!("start stack daemon: {e}"))?;
        let result = self.daemon_tour(file);
        let _ = nix_term(daemon.id());
        let _ = daemon.wait();
        println!("daemon log ({}):\n{}", log.display(), read(&log));
        result
    }

    fn daemon_tour(&self, file: &str) -> Result<(), String> {
        let socket = self.run_dir.join("stack.sock");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            if std::time::Instant::now() >= deadline {
                return Err(format!(
                    "stack daemon did not listen on {}",
                    socket.display()
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        self.stack(&["version"])?;
        self.stack(&["-f", file, "up", "-d"])?;
        let page = fetch("127.0.0.1:8080", "/cgi-bin/visits")?;
        println!("{}", page.trim_end());
        self.stack(&["-f", file, "ps"])?;
        self.docker_ps(&socket)?;
        println!("$ stack -f {file} logs -f   (for two seconds)");
        let mut follow = self
            .command()
            .args(["-f", file, "logs", "-f"])
            .spawn()
            .map_err(|e| format!("stack logs -f: {e}"))?;
        std::thread::sleep(std::time::Duration::from_secs(2));
        let _ = follow.kill();
        let _ = follow.wait();
        self.stack(&["-f", file, "down"])
    }

    /// The same containers as the docker CLI sees them through the
    /// daemon's Docker Engine API (when a docker CLI is installed).
    fn docker_ps(&self, socket: &std::path::Path) -> Result<(), String> {
        if Command::new("docker").arg("--version").output().is_err() {
            println!("(no docker CLI here: skipping `docker ps` through the socket)");
            return Ok(());
        }
        let host = format!("unix://{}", socket.display());
        println!("$ DOCKER_HOST={host} docker ps");
        crate::run::checked(Command::new("docker").env("DOCKER_HOST", &host).arg("ps"))
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.stack);
        command
            .env("STACK_ROOT", &self.root)
            .env("STACK_RUN", &self.run_dir)
            .env("STACK_CONFIG", &self.config);
        command
    }

    fn stack(&self, args: &[&str]) -> Result<(), String> {
        println!("$ stack {}", args.join(" "));
        crate::run::checked(self.command().args(args))
    }
}

/// SIGTERM: the daemon's graceful shutdown (containers keep running).
fn nix_term(pid: u32) -> std::io::Result<()> {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("kill -TERM {pid}: {status}")))
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

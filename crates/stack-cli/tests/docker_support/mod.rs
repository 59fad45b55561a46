//! The docker CLI aimed at a test daemon's socket, and the registry the
//! daemon pulls busybox from.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use stack_testkit::registry::{fixtures, RegistryAuth, TestRegistry};
use stack_testkit::Sandbox;

use crate::daemon_support::Daemon;
use crate::run_support::describe;

/// The docker CLI aimed at one socket.
pub struct Docker {
    pub host: String,
    pub config: PathBuf,
}

impl Docker {
    pub fn new(sb: &Sandbox, socket: &Path) -> Docker {
        let config = sb.dir().join("docker-config");
        std::fs::create_dir_all(&config).expect("docker config dir");
        Docker {
            host: format!("unix://{}", socket.display()),
            config,
        }
    }

    /// `docker ARGS` aimed at the socket, with nothing from the caller's
    /// environment choosing another daemon.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("docker");
        cmd.env("DOCKER_HOST", &self.host)
            .env("DOCKER_CONFIG", &self.config)
            .env_remove("DOCKER_API_VERSION")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_BUILDKIT")
            .args(args);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .output()
            .expect("the docker CLI is installed (cargo xtask deps)")
    }

    /// Runs with `input` on its stdin.
    pub fn run_with_input(&self, args: &[&str], input: &[u8]) -> Output {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the docker CLI is installed (cargo xtask deps)");
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(input).expect("write docker's stdin");
        }
        child.wait_with_output().expect("docker exits")
    }

    /// Runs and expects success; answers stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "docker {args:?}: {}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs and expects failure; answers stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "docker {args:?} should fail: {}",
            describe(&out)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

/// A registry with busybox, and the sandbox's config using it as the
/// mirror of Docker Hub.
pub fn registry(sb: &Sandbox) -> TestRegistry {
    let fx = fixtures();
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fx.join("busybox"), "1", "library/busybox:latest");
    reg.write_mirror_config(&sb.config_file);
    reg
}

/// Waits until `check` holds, at most 10 s.
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A daemon whose docker.io mirror holds busybox, the docker CLI aimed at
/// it, and busybox already pulled: the start of most Docker CLI tests.
pub fn daemon_with_busybox(sb: &Sandbox) -> (TestRegistry, Daemon, Docker) {
    let registry = registry(sb);
    let daemon = Daemon::start(sb, &[]);
    let docker = Docker::new(sb, &daemon.socket);
    docker.ok(&["pull", "busybox"]);
    (registry, daemon, docker)
}

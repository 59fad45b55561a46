//! Shared by the `watch_*` end-to-end tests: a project directory, a
//! running project container made the way `up` makes them (record with
//! the project labels, started by the `stack` binary), a `stack watch`
//! process whose output is collected, and reads from inside the container.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use stack_engine::containers::{
    Containers, ImageSource, NetworkMode, NetworkOptions, ProcessOverrides, RunOptions,
};
use stack_engine::labels;
use stack_engine::paths::HostPaths;
use stack_testkit::Sandbox;

use crate::run_support::{busybox_rootfs, stack, stack_bin};

/// The project a test works on.
pub struct Project {
    pub dir: PathBuf,
    pub name: String,
}

impl Project {
    /// `<sandbox>/<name>/` with `stack.yaml` holding `yaml`.
    pub fn new(sb: &Sandbox, name: &str, yaml: &str) -> Project {
        let dir = sb.dir().join(name);
        std::fs::create_dir_all(dir.join("src")).expect("project dir");
        std::fs::write(dir.join("stack.yaml"), yaml).expect("stack file");
        Project {
            dir,
            name: name.to_string(),
        }
    }

    pub fn write(&self, rel: &str, content: &str) {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("parent dir");
        }
        std::fs::write(path, content).expect("write project file");
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
}

fn containers(sb: &Sandbox) -> Containers {
    let paths = HostPaths {
        state_root: sb.state_root.clone(),
        run_dir: sb.run_dir.clone(),
        config_file: sb.config_file.clone(),
    };
    Containers {
        state_root: paths.state_root.clone(),
        run_dir: paths.run_dir.clone(),
        cgroup_parent: sb.cgroup_parent.clone(),
        paths,
    }
}

/// Creates and starts `<project>-<service>-1` running `sleep 1000` on a
/// busybox rootfs, labelled as `up` labels its containers. Started with
/// the `stack` binary as monitor, as `Containers::start` does inside it
/// (the test binary cannot be the monitor).
pub fn start_service(sb: &Sandbox, project: &Project, service: &str) -> String {
    let rootfs = sb.dir().join("busybox");
    if !rootfs.exists() {
        busybox_rootfs(sb);
    }
    let name = format!("{}-{service}-1", project.name);
    let opts = RunOptions {
        name: Some(name.clone()),
        process: ProcessOverrides {
            cmd: vec!["sleep".into(), "1000".into()],
            ..Default::default()
        },
        labels: [
            (labels::PROJECT.to_string(), project.name.clone()),
            (labels::SERVICE.to_string(), service.to_string()),
            (labels::CONTAINER_NUMBER.to_string(), "1".to_string()),
        ]
        .into(),
        stop_timeout: Some(1),
        // Loopback only: the container is started without the engine's
        // network step (see above), so it must not ask for a network.
        network: NetworkOptions {
            mode: NetworkMode::None,
            ..Default::default()
        },
        ..Default::default()
    };
    let c = containers(sb);
    let record = c
        .create(&ImageSource::Rootfs(rootfs), &opts)
        .expect("create the service container");
    stack_runtime::launch::start(
        Path::new(stack_bin()),
        &record.dir,
        stack_runtime::launch::Attach::Detached,
    )
    .expect("start the service container");
    name
}

/// The host pid of a running container's first process.
pub fn pid_of(sb: &Sandbox, name: &str) -> i32 {
    containers(sb)
        .find(name)
        .expect("container exists")
        .state
        .pid
        .expect("container has a pid")
}

/// `cat PATH` inside the container: Some(content), or None if missing.
pub fn cat(sb: &Sandbox, container: &str, path: &str) -> Option<String> {
    let out = stack(sb, &["container", "exec", container, "cat", path]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `sh -c SCRIPT` inside the container, its stdout.
pub fn sh(sb: &Sandbox, container: &str, script: &str) -> String {
    let out = stack(sb, &["container", "exec", container, "sh", "-c", script]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `check` until it holds or `timeout` passes.
pub fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running `stack watch`, its output lines collected.
pub struct Watch {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Watch {
    /// `stack -f <project>/stack.yaml watch ARGS`, waiting until it watches.
    pub fn start(sb: &Sandbox, project: &Project, args: &[&str]) -> Watch {
        let mut child = sb
            .command(stack_bin())
            .arg("-f")
            .arg(project.path("stack.yaml"))
            .arg("watch")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn stack watch");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    lines.lock().expect("lines").push(line);
                }
            });
        }
        let watch = Watch { child, lines };
        assert!(
            watch.wait_line(Duration::from_secs(60), |l| l.starts_with("watching ")),
            "stack watch did not start:\n{}",
            watch.output()
        );
        watch
    }

    pub fn output(&self) -> String {
        self.lines.lock().expect("lines").join("\n")
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }

    /// Waits for a line matching `pred`.
    pub fn wait_line(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> bool {
        eventually(timeout, || self.lines().iter().any(|l| pred(l)))
    }

    /// Lines reporting a batch for `service`.
    pub fn batches(&self, service: &str) -> Vec<String> {
        let prefix = format!("{service}: ");
        self.lines()
            .into_iter()
            .filter(|l| l.starts_with(&prefix) && l.ends_with(" ms)"))
            .collect()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Removes the container (force) so the sandbox ends clean.
pub fn remove(sb: &Sandbox, name: &str) {
    let out = stack(sb, &["container", "rm", "--force", name]);
    assert!(
        out.status.success(),
        "{}",
        crate::run_support::describe(&out)
    );
}

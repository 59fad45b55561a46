//! Save-to-visible latency of `stack watch`: one file saved on the host,
//! polled inside a running container (through `/proc/<pid>/root`, i.e.
//! through the container's own mount namespace and overlay) until the new
//! content shows. Prints p50 and p95 over `WATCH_BENCH_EDITS` edits
//! (default 100). Run by `cargo bench` (`just bench`); needs root, skips
//! with one line otherwise.
//!
//! Reference points: Compose waits for 500 ms of quiet and then pipes a tar
//! through exec; Tilt reports 1-2 s for live updates.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use stack_engine::containers::{
    Containers, ImageSource, NetworkMode, NetworkOptions, ProcessOverrides, RunOptions,
};
use stack_engine::labels;
use stack_engine::paths::HostPaths;

const STACK_FILE: &str = "name: latency
services:
  web:
    image: busybox
    develop:
      watch:
        - path: ./src
          target: /app
          action: sync
";

fn main() {
    if !nix::unistd::geteuid().is_root() {
        println!("watch latency: skipped (needs root)");
        return;
    }
    let edits: usize = std::env::var("WATCH_BENCH_EDITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let work = tempfile::tempdir().expect("temp dir");
    let bench = Bench::new(work.path());
    let result = bench.measure(edits);
    bench.teardown();
    let mut samples = result.expect("measure");
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "watch latency, save -> visible in the container, {} edits: p50 {:.1} ms, p95 {:.1} ms, min {:.1} ms, max {:.1} ms (goal p50 < 150 ms; Compose's quiet period alone is 500 ms)",
        samples.len(),
        ms(pct(0.5)),
        ms(pct(0.95)),
        ms(samples[0]),
        ms(samples[samples.len() - 1]),
    );
}

struct Bench {
    dir: PathBuf,
    containers: Containers,
    env: Vec<(&'static str, PathBuf)>,
    cgroup_parent: String,
    name: String,
}

impl Bench {
    fn new(dir: &Path) -> Bench {
        let paths = HostPaths {
            state_root: dir.join("root"),
            run_dir: dir.join("run"),
            config_file: dir.join("config.toml"),
        };
        let cgroup_parent = format!("stack/watch-bench-{}", std::process::id());
        let containers = Containers {
            state_root: paths.state_root.clone(),
            run_dir: paths.run_dir.clone(),
            cgroup_parent: cgroup_parent.clone(),
            paths: paths.clone(),
        };
        Bench {
            dir: dir.to_path_buf(),
            env: vec![
                ("STACK_ROOT", paths.state_root),
                ("STACK_RUN", paths.run_dir),
                ("STACK_CONFIG", paths.config_file),
                ("STACK_CGROUP_PARENT", PathBuf::from(&cgroup_parent)),
            ],
            containers,
            cgroup_parent,
            name: "latency-web-1".into(),
        }
    }

    fn stack(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stack"));
        cmd.envs(self.env.iter().map(|(k, v)| (k, v.as_os_str())));
        cmd
    }

    fn measure(&self, edits: usize) -> Result<Vec<Duration>, String> {
        let project = self.dir.join("project");
        std::fs::create_dir_all(project.join("src")).map_err(|e| e.to_string())?;
        std::fs::write(project.join("stack.yaml"), STACK_FILE).map_err(|e| e.to_string())?;
        let pid = self.start_container()?;
        let mut watch = self
            .stack()
            .arg("-f")
            .arg(project.join("stack.yaml"))
            .args(["watch", "--no-up", "--quiet"])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        let stdout = watch.stdout.take().ok_or("no stdout")?;
        // --quiet prints nothing until something goes wrong; give inotify
        // its watches before the first edit.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                eprintln!("{line}");
            }
        });
        std::thread::sleep(Duration::from_millis(500));
        let host = project.join("src/edit.txt");
        let inside = PathBuf::from(format!("/proc/{pid}/root/app/edit.txt"));
        let mut samples = Vec::with_capacity(edits);
        for i in 0..edits {
            let content = format!("edit {i}\n");
            let saved = Instant::now();
            std::fs::write(&host, &content).map_err(|e| e.to_string())?;
            loop {
                if std::fs::read_to_string(&inside).is_ok_and(|c| c == content) {
                    samples.push(saved.elapsed());
                    break;
                }
                if saved.elapsed() > Duration::from_secs(5) {
                    let _ = watch.kill();
                    return Err(format!("edit {i} not visible after 5 s"));
                }
                std::thread::sleep(Duration::from_micros(500));
            }
            // Let the batch finish before the next save, as a person would.
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = watch.kill();
        let _ = watch.wait();
        Ok(samples)
    }

    fn start_container(&self) -> Result<i32, String> {
        let rootfs = self.dir.join("rootfs");
        std::fs::create_dir_all(rootfs.join("bin")).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(rootfs.join("app")).map_err(|e| e.to_string())?;
        std::fs::copy("/bin/busybox", rootfs.join("bin/busybox"))
            .map_err(|e| format!("busybox-static (/bin/busybox): {e}"))?;
        std::os::unix::fs::symlink("busybox", rootfs.join("bin/sleep"))
            .map_err(|e| e.to_string())?;
        let opts = RunOptions {
            name: Some(self.name.clone()),
            process: ProcessOverrides {
                cmd: vec!["/bin/sleep".into(), "1000".into()],
                ..Default::default()
            },
            labels: [
                (labels::PROJECT.to_string(), "latency".to_string()),
                (labels::SERVICE.to_string(), "web".to_string()),
                (labels::CONTAINER_NUMBER.to_string(), "1".to_string()),
            ]
            .into(),
            // Loopback only: the container is started without the engine's
            // network step (see above), so it must not ask for a network.
            network: NetworkOptions {
                mode: NetworkMode::None,
                ..Default::default()
            },
            ..Default::default()
        };
        let record = self
            .containers
            .create(&ImageSource::Rootfs(rootfs), &opts)
            .map_err(|e| e.to_string())?;
        let started = stack_runtime::launch::start(
            Path::new(env!("CARGO_BIN_EXE_stack")),
            &record.dir,
            stack_runtime::launch::Attach::Detached,
        )
        .map_err(|e| e.to_string())?;
        Ok(started.pid)
    }

    fn teardown(&self) {
        let _ = self
            .stack()
            .args(["container", "rm", "--force", &self.name])
            .status();
        for h in std::fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = std::fs::remove_dir(h.path().join(&self.cgroup_parent));
        }
    }
}

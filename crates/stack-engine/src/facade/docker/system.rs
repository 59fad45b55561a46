//! `GET /version` and `GET /info` of the Docker API: what this host and
//! this state root are.

use std::collections::BTreeMap;

use stack_api::docker::system::{Component, Info, Platform, Plugins, Runtime, Swarm, Version};
use stack_api::docker::{API_VERSION, MIN_API_VERSION};
use stack_runtime::state::Status;

use super::super::Engine;

/// stack's version (the workspace's).
const STACK_VERSION: &str = env!("CARGO_PKG_VERSION");

fn kernel_version() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

impl Engine {
    pub fn docker_version(&self) -> Version {
        let details = BTreeMap::from([
            ("ApiVersion".to_string(), API_VERSION.to_string()),
            ("MinAPIVersion".to_string(), MIN_API_VERSION.to_string()),
            ("Os".to_string(), "linux".to_string()),
            ("Arch".to_string(), arch().to_string()),
            ("KernelVersion".to_string(), kernel_version()),
        ]);
        Version {
            platform: Platform {
                name: format!("stack {STACK_VERSION}"),
            },
            components: vec![Component {
                name: "Engine".into(),
                version: STACK_VERSION.into(),
                details,
            }],
            version: STACK_VERSION.into(),
            api_version: API_VERSION.into(),
            min_api_version: MIN_API_VERSION.into(),
            git_commit: String::new(),
            go_version: String::new(),
            os: "linux".into(),
            arch: arch().into(),
            kernel_version: kernel_version(),
            experimental: false,
            build_time: String::new(),
        }
    }

    pub fn docker_info(&self) -> Info {
        let records = self.containers.list();
        // Docker counts a paused container as paused, not running.
        let (mut running, mut paused) = (0, 0);
        for record in &records {
            match record.state.effective_status() {
                Status::Running if record.state.paused => paused += 1,
                Status::Running | Status::Restarting => running += 1,
                Status::Created | Status::Exited => {}
            }
        }
        let images = self
            .docker_images()
            .map(|rows| rows.len())
            .unwrap_or_default();
        let cgroup_v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
        let hostname = nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let default_runtime = crate::containers::run_args::default_backend(&self.paths)
            .map(|b| match b {
                stack_runtime::spec::Backend::Stack => "stack",
                stack_runtime::spec::Backend::Runc => "runc",
            })
            .unwrap_or("stack");
        Info {
            id: String::new(),
            containers: records.len(),
            containers_running: running,
            containers_paused: paused,
            containers_stopped: records.len() - running - paused,
            images,
            driver: "overlay".into(),
            driver_status: Vec::new(),
            plugins: Plugins {
                volume: vec!["local".into()],
                network: vec!["bridge".into(), "host".into(), "none".into()],
                authorization: None,
                log: vec!["json-file".into()],
            },
            memory_limit: true,
            swap_limit: false,
            cpu_cfs_period: true,
            cpu_cfs_quota: true,
            cpu_shares: true,
            pids_limit: true,
            ipv4_forwarding: true,
            debug: false,
            nfd: std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count()),
            n_goroutines: 0,
            system_time: stack_runtime::timefmt::now(),
            logging_driver: "json-file".into(),
            cgroup_driver: "cgroupfs".into(),
            cgroup_version: if cgroup_v2 { "2" } else { "1" }.into(),
            n_events_listener: 0,
            kernel_version: kernel_version(),
            operating_system: os_release("PRETTY_NAME"),
            os_version: os_release("VERSION_ID"),
            os_type: "linux".into(),
            architecture: std::env::consts::ARCH.into(),
            ncpu: std::thread::available_parallelism().map_or(1, |n| n.get()),
            mem_total: mem_total(),
            docker_root_dir: self.paths.state_root.display().to_string(),
            name: hostname,
            labels: Vec::new(),
            experimental_build: false,
            server_version: STACK_VERSION.into(),
            runtimes: BTreeMap::from([
                ("stack".to_string(), Runtime { path: exe }),
                (
                    "runc".to_string(),
                    Runtime {
                        path: "runc".into(),
                    },
                ),
            ]),
            default_runtime: default_runtime.into(),
            swarm: Swarm {
                node_id: String::new(),
                node_addr: String::new(),
                local_node_state: "inactive".into(),
                control_available: false,
                error: String::new(),
            },
            live_restore_enabled: true,
            isolation: String::new(),
            init_binary: String::new(),
            security_options: vec!["name=seccomp,profile=builtin".into()],
            warnings: Vec::new(),
        }
    }
}

/// A field of /etc/os-release, unquoted.
fn os_release(key: &str) -> String {
    std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_default()
}

/// `MemTotal` of /proc/meminfo, in bytes.
fn mem_total() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

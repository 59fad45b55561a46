//! What one container is: everything the runtime needs to create it, as plain
//! data. The engine writes it as `config.json` in the container's directory;
//! the helper process reads it back, so the two never share memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File name of the spec inside a container directory.
pub const SPEC_FILE: &str = "config.json";

/// Which implementation starts the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Stack's own namespaces/rootfs/cgroup code.
    #[default]
    Stack,
    /// An OCI bundle run by `runc`.
    Runc,
}

/// A runtime name that is neither `stack` nor `runc`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown runtime {0:?} (expected stack or runc)")]
pub struct UnknownBackend(pub String);

impl std::str::FromStr for Backend {
    type Err = UnknownBackend;
    fn from_str(s: &str) -> Result<Self, UnknownBackend> {
        match s {
            "stack" => Ok(Backend::Stack),
            "runc" => Ok(Backend::Runc),
            other => Err(UnknownBackend(other.to_string())),
        }
    }
}

/// A container, fully resolved by the engine (image config already applied).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerSpec {
    /// 64 hex digits.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub backend: Backend,
    /// Overlay lower directories, topmost first.
    pub lower_dirs: Vec<PathBuf>,
    pub process: ProcessSpec,
    pub hostname: String,
    #[serde(default)]
    pub mounts: Vec<MountSpec>,
    #[serde(default)]
    pub security: SecuritySpec,
    #[serde(default)]
    pub resources: Resources,
    /// Mount the rootfs read-only.
    #[serde(default)]
    pub read_only: bool,
    /// Run a minimal reaper as PID 1 that forwards signals to the process.
    #[serde(default)]
    pub init: bool,
    /// Remove the container when it exits.
    #[serde(default)]
    pub auto_remove: bool,
    /// Cgroup path relative to each hierarchy root, e.g. `stack/<id>`.
    pub cgroup_path: String,
    /// Signal `stop` sends first.
    #[serde(default = "default_stop_signal")]
    pub stop_signal: i32,
    /// Seconds `stop` waits before SIGKILL.
    #[serde(default = "default_stop_timeout")]
    pub stop_timeout: u64,
    /// State directory of runc (runc backend only).
    #[serde(default)]
    pub runc_root: Option<PathBuf>,
    /// Size at which the log file is rotated.
    #[serde(default = "default_log_max_bytes")]
    pub log_max_bytes: u64,
    /// The network namespace the container's processes live in.
    #[serde(default)]
    pub network: NetworkNamespace,
    /// Free-form labels; the engine keeps the Compose ones here
    /// (`com.docker.compose.project`, `.service`, `.container-number`,
    /// `.config-hash`, `.oneoff`), so a container tells what it belongs to.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// What to do when the first process exits.
    #[serde(default)]
    pub restart: RestartSpec,
    /// A probe run inside the container at intervals.
    #[serde(default)]
    pub healthcheck: Option<HealthcheckSpec>,
    /// A command (argv) the monitor runs once an auto-removed container has
    /// exited, before its directory goes: it releases what the engine set
    /// up outside that directory (network endpoints, the namespace file),
    /// like an OCI poststop hook. Nobody else is left to do it for a
    /// detached `run --rm`.
    #[serde(default)]
    pub on_removal: Vec<String>,
    /// Host devices made available inside (`--device`).
    #[serde(default)]
    pub devices: Vec<crate::devices::DeviceSpec>,
    /// Extra device cgroup rules (`--device-cgroup-rule`).
    #[serde(default)]
    pub device_cgroup_rules: Vec<crate::devices::DeviceRule>,
    /// Namespaced kernel parameters (`--sysctl`), checked against
    /// [`crate::sysctl::check`] before the container is made.
    #[serde(default)]
    pub sysctls: BTreeMap<String, String>,
    /// Whose PID namespace the processes live in.
    #[serde(default)]
    pub pid: SharedNamespace,
    /// Whose IPC namespace the processes live in.
    #[serde(default)]
    pub ipc: SharedNamespace,
    /// Size of /dev/shm in bytes; 64 MiB when unset, as in Docker.
    #[serde(default)]
    pub shm_size: Option<u64>,
    /// Where the root filesystem came from, as the user named it and as
    /// the image store identifies it (`None` for `--rootfs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageOrigin>,
    /// The upper directory will become an image layer (a build step):
    /// overlay must write it in the plain form every unpacker reads, with
    /// no redirect or metacopy xattrs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub layer_upper: bool,
    /// When the container was made, RFC 3339 UTC (records older than this
    /// field have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

/// The image a container was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageOrigin {
    /// The reference as given (`busybox`, `registry:5000/app:1`).
    pub reference: String,
    /// The image id (its config digest, `sha256:...`).
    pub id: String,
}

/// A namespace a container may have of its own, share with the host, or
/// share with another container (`pid: host`, `ipc: container:db`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SharedNamespace {
    #[default]
    Private,
    Host,
    /// The namespace of the container whose directory this is, entered
    /// through its running process when this container starts.
    Container {
        dir: PathBuf,
    },
}

/// Which network namespace a container's processes join.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NetworkNamespace {
    /// A fresh namespace with only loopback (`--network none`).
    #[default]
    Private,
    /// An existing namespace file (an nsfs bind mount below the runtime
    /// dir), made and connected by the engine before the start, so it
    /// outlives the processes and is reused across restarts.
    Join { path: PathBuf },
    /// The host's namespace (`network_mode: host`).
    Host,
}

/// Restart policy, as Compose and Docker name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case", tag = "name")]
pub enum RestartPolicy {
    #[default]
    No,
    Always,
    OnFailure {
        /// Give up after this many restarts; `None` retries forever.
        #[serde(default)]
        max_retries: Option<u32>,
    },
    UnlessStopped,
}

/// When and how a container is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RestartSpec {
    #[serde(default)]
    pub policy: RestartPolicy,
    /// Beyond Docker: also restart a container that stays unhealthy
    /// (`x-stack.restart_on_unhealthy`).
    #[serde(default)]
    pub when_unhealthy: bool,
}

/// A healthcheck with Compose's meaning; durations in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthcheckSpec {
    /// `["CMD", arg...]` or `["CMD-SHELL", "command line"]`.
    pub test: Vec<String>,
    pub interval_ms: u64,
    pub timeout_ms: u64,
    pub retries: u32,
    pub start_period_ms: u64,
    pub start_interval_ms: u64,
}

fn default_stop_signal() -> i32 {
    libc::SIGTERM
}
fn default_stop_timeout() -> u64 {
    10
}
fn default_log_max_bytes() -> u64 {
    10 << 20
}

/// The first process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ProcessSpec {
    pub args: Vec<String>,
    /// `KEY=VALUE`, already merged in Docker's order.
    pub env: Vec<String>,
    /// Absolute path inside the container.
    pub cwd: String,
    /// `name`, `uid`, `name:group`, `uid:gid`; empty means root.
    #[serde(default)]
    pub user: String,
    /// Allocate a pseudo-terminal.
    #[serde(default)]
    pub tty: bool,
    /// Keep stdin attached (otherwise it is /dev/null).
    #[serde(default)]
    pub stdin: bool,
    /// Close stdin once the first attacher that writes to it is gone
    /// (Docker's `StdinOnce`); otherwise it stays open between attaches.
    #[serde(default)]
    pub stdin_once: bool,
    #[serde(default)]
    pub rlimits: Vec<Rlimit>,
}

/// One resource limit; values above the current hard limit are lowered to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rlimit {
    /// `nofile`, `nproc`, `core`, ... (Docker's `--ulimit` names).
    pub name: String,
    pub soft: u64,
    pub hard: u64,
}

/// Capabilities, seccomp and privilege settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SecuritySpec {
    /// All capabilities, no seccomp, writable /sys, no masked paths.
    #[serde(default)]
    pub privileged: bool,
    /// Capability names (`NET_ADMIN` or `CAP_NET_ADMIN`, or `ALL`).
    #[serde(default)]
    pub cap_add: Vec<String>,
    #[serde(default)]
    pub cap_drop: Vec<String>,
    #[serde(default)]
    pub no_new_privileges: bool,
    /// `seccomp=unconfined` turns the default filter off.
    #[serde(default)]
    pub seccomp_unconfined: bool,
}

/// Resource limits applied through the container's cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Resources {
    /// Bytes.
    pub memory: Option<u64>,
    /// Bytes (soft limit / `memory.low`).
    pub memory_reservation: Option<u64>,
    /// CPUs, as `--cpus` (quota/period).
    pub cpus: Option<f64>,
    /// Relative weight in cgroup v1 shares (2..262144), as `--cpu-shares`.
    pub cpu_shares: Option<u64>,
    pub pids_limit: Option<i64>,
    /// Bytes of memory and swap together, as `--memory-swap` (set by
    /// `update`); -1: swap without limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_swap: Option<i64>,
}

/// A mount inside the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountSpec {
    /// Absolute path inside the container.
    pub destination: String,
    pub kind: MountKind,
    #[serde(default)]
    pub read_only: bool,
}

/// Where a mount's content comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MountKind {
    /// A host path bind-mounted in.
    Bind {
        source: PathBuf,
        /// `rprivate` (default), `private`, `rshared`, `shared`, `rslave`, `slave`.
        #[serde(default)]
        propagation: Option<String>,
    },
    /// A fresh tmpfs.
    Tmpfs {
        size: Option<u64>,
        mode: Option<u32>,
    },
    /// A named volume's data directory. When `fill` is set and the directory
    /// is empty, it is first filled with what the image has at the
    /// destination (Docker's rule for a new volume).
    Volume { source: PathBuf, fill: bool },
}

/// The per-container directories and files, all below one directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerDir {
    pub root: PathBuf,
}

impl ContainerDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ContainerDir { root: root.into() }
    }
    pub fn spec(&self) -> PathBuf {
        self.root.join(SPEC_FILE)
    }
    pub fn state(&self) -> PathBuf {
        self.root.join("state.json")
    }
    pub fn log(&self) -> PathBuf {
        self.root.join("container.log")
    }
    pub fn upper(&self) -> PathBuf {
        self.root.join("upper")
    }
    pub fn work(&self) -> PathBuf {
        self.root.join("work")
    }
    pub fn rootfs(&self) -> PathBuf {
        self.root.join("rootfs")
    }
    /// Files stack writes and bind-mounts over /etc/{hostname,hosts,resolv.conf}.
    pub fn etc_file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
    pub fn bundle(&self) -> PathBuf {
        self.root.join("bundle")
    }
    pub fn path(&self) -> &Path {
        &self.root
    }
}

impl ContainerSpec {
    /// Reads `config.json` from a container directory.
    pub fn load(dir: &ContainerDir) -> Result<ContainerSpec, crate::Error> {
        let path = dir.spec();
        let text = std::fs::read(&path).map_err(|source| crate::Error::Io {
            context: format!("read {}", path.display()),
            source,
        })?;
        serde_json::from_slice(&text).map_err(|err| crate::Error::Invalid {
            what: path.display().to_string(),
            message: err.to_string(),
        })
    }

    /// Writes `config.json` into a container directory.
    pub fn save(&self, dir: &ContainerDir) -> Result<(), crate::Error> {
        let text = serde_json::to_vec_pretty(self).map_err(|err| crate::Error::Invalid {
            what: "container spec".into(),
            message: err.to_string(),
        })?;
        crate::fsutil::write_atomic(&dir.spec(), &text)
    }
}

#[cfg(test)]
impl ContainerSpec {
    /// A minimal spec for unit tests of what is built from one.
    pub(crate) fn fixture() -> ContainerSpec {
        ContainerSpec {
            id: "c".repeat(64),
            name: "t".into(),
            backend: Default::default(),
            lower_dirs: vec!["/l/2".into(), "/l/1".into()],
            process: ProcessSpec::default(),
            hostname: "h".into(),
            mounts: vec![],
            security: Default::default(),
            resources: Default::default(),
            read_only: false,
            init: false,
            auto_remove: false,
            cgroup_path: "stack/c".into(),
            stop_signal: 15,
            stop_timeout: 10,
            log_max_bytes: 1 << 20,
            network: Default::default(),
            labels: Default::default(),
            restart: Default::default(),
            healthcheck: None,
            on_removal: Vec::new(),
            runc_root: None,
            devices: Vec::new(),
            device_cgroup_rules: Vec::new(),
            sysctls: Default::default(),
            pid: Default::default(),
            ipc: Default::default(),
            shm_size: None,
            image: None,
            layer_upper: false,
            created: None,
        }
    }
}

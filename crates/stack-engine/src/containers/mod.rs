//! Containers started by `stack run`: their records under
//! `<state root>/containers/<id>/` (the runtime's `config.json`,
//! `state.json` and log), lookup by id, id prefix or name, and the glue
//! from an image (lower directories + [`ImageConfig`]) and run options to a
//! runtime spec.
//!
//! Plugging images in is one call: [`ImageSource::Image`] goes through
//! [`resolve_image`], which must return the image's snapshot directories
//! (topmost first) and its config.

pub mod confinement;
mod damaged;
mod follow;
mod image_config;
pub mod network;
mod options;
mod rename;
pub mod run_args;

use std::path::PathBuf;

use crate::paths::HostPaths;

pub use damaged::DamagedRecord;
pub use follow::LogFollower;
pub use image_config::{
    parse_env_file, resolve, ImageConfig, ProcessError, ProcessOverrides, ResolvedProcess,
};
pub use options::{parse_size, parse_tmpfs, parse_volume, MountError, SizeError, VolumeRef};
use stack_runtime::spec::{ContainerSpec, ImageOrigin, ProcessSpec, Resources, SecuritySpec};

// The runtime's vocabulary a front end speaks when it runs, follows or
// stops containers here; front ends reach the runtime only through this
// crate.
pub use stack_runtime::launch::Attach;
pub use stack_runtime::logs::{Cursor, LogLine};
pub use stack_runtime::spec::{Backend, ContainerDir, HealthcheckSpec, RestartPolicy, RestartSpec};
pub use stack_runtime::state::{State, Status};

/// Where a container's filesystem comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// An image reference, resolved through [`resolve_image`].
    Image(String),
    /// A plain directory used read-only as the only lower layer (`--rootfs`).
    Rootfs(PathBuf),
    /// Layers given directly, topmost first, with the config to run them
    /// by: a build step, whose stage is no named image (the builder holds
    /// its layers).
    Layers {
        lower_dirs: Vec<PathBuf>,
        config: ImageConfig,
    },
}

/// Errors of container records and run options.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such container: {0}")]
    NotFound(String),
    #[error("container name {0:?} is already in use")]
    NameInUse(String),
    /// A change made only while the container's process is not alive.
    #[error("cannot {verb} container {name} while it runs: stop it first")]
    Live { name: String, verb: &'static str },
    #[error(transparent)]
    Runtime(#[from] stack_runtime::Error),
    #[error(transparent)]
    Network(#[from] stack_net::NetError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ContainerError {
    let context = context.into();
    move |source| ContainerError::Io { context, source }
}

/// The image's layers (topmost first) and config: pulled through the
/// configured registries and mirrors when missing, and leased to `holder`
/// (the container id) so `rmi` and `image prune` leave it alone while the
/// container exists.
pub fn resolve_image(
    paths: &HostPaths,
    holder: &str,
    reference: &str,
) -> Result<(Vec<PathBuf>, ImageConfig, ImageOrigin), ContainerError> {
    let image_error = |err: crate::images::ImageError| {
        ContainerError::Invalid(format!("image {reference}: {err}"))
    };
    let config = crate::config::Config::load(&paths.config_file)
        .map_err(|err| ContainerError::Invalid(err.to_string()))?;
    let images = crate::images::Images::open(paths, &config).map_err(image_error)?;
    let progress = crate::images::progress::for_stderr();
    let rootfs = images
        .ensure_rootfs(reference, holder, progress.as_ref())
        .map_err(image_error)?;
    let origin = ImageOrigin {
        reference: reference.to_string(),
        id: rootfs.id.to_string(),
    };
    let c = rootfs.config;
    let non_empty = |v: String| (!v.is_empty()).then_some(v);
    let image = ImageConfig {
        entrypoint: c.entrypoint,
        cmd: c.cmd,
        env: (!c.env.is_empty()).then_some(c.env),
        user: non_empty(c.user),
        working_dir: non_empty(c.working_dir),
        stop_signal: c.stop_signal,
    };
    Ok((rootfs.lower_dirs, image, origin))
}

/// Everything `stack run` can set.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub name: Option<String>,
    pub process: ProcessOverrides,
    pub volumes: Vec<String>,
    pub tmpfs: Vec<String>,
    pub read_only: bool,
    pub memory: Option<String>,
    pub memory_reservation: Option<String>,
    pub cpus: Option<f64>,
    pub cpu_shares: Option<u64>,
    pub pids_limit: Option<i64>,
    pub security: SecuritySpec,
    pub init: bool,
    pub interactive: bool,
    pub tty: bool,
    pub auto_remove: bool,
    pub backend: Backend,
    pub stop_signal: Option<i32>,
    pub stop_timeout: Option<u64>,
    /// Resource limits for the process.
    pub rlimits: Vec<stack_runtime::spec::Rlimit>,
    /// Networks, published ports, DNS settings.
    pub network: NetworkOptions,
    /// `--hostname`; the short id when unset.
    pub hostname: Option<String>,
    pub labels: std::collections::BTreeMap<String, String>,
    pub restart: stack_runtime::spec::RestartSpec,
    pub healthcheck: Option<stack_runtime::spec::HealthcheckSpec>,
    /// `--device HOST[:CONTAINER][:PERMS]`.
    pub devices: Vec<String>,
    /// `--device-cgroup-rule "c 1:3 rwm"`.
    pub device_cgroup_rules: Vec<String>,
    /// `--sysctl KEY=VALUE`, namespaced keys only.
    pub sysctls: std::collections::BTreeMap<String, String>,
    /// `--pid host|container:X`.
    pub pid: Option<String>,
    /// `--ipc host|private|shareable|container:X`.
    pub ipc: Option<String>,
    /// `--shm-size`: bytes of the container's /dev/shm (default 64 MiB).
    pub shm_size: Option<String>,
}

/// How a container is connected, as `stack run` flags and the stack file
/// say it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkOptions {
    pub mode: NetworkMode,
    /// `-p` / `ports:` values in Docker's short syntax
    /// (`[IP:][HOST:]CONTAINER[/PROTO]`, ranges allowed).
    pub publish: Vec<String>,
    /// `--dns` servers written to the container's resolv.conf.
    pub dns: Vec<String>,
    /// `--add-host NAME:IP`.
    pub extra_hosts: Vec<String>,
}

/// `--network` / `network_mode`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NetworkMode {
    /// Nothing said: the default network.
    #[default]
    Default,
    /// Only loopback.
    None,
    /// The host's namespace.
    Host,
    /// These networks, in order (the first one gets published ports).
    Networks(Vec<NetworkJoin>),
    /// Another container's namespace (`container:X`, `service:X`), by id or name.
    Container(String),
}

/// One network a container joins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkJoin {
    pub network: String,
    /// Names besides the container name (and the service name, which the
    /// engine passes as an alias).
    pub aliases: Vec<String>,
    pub ipv4_address: Option<std::net::Ipv4Addr>,
}

/// The container store of one state root.
#[derive(Debug, Clone)]
pub struct Containers {
    pub paths: HostPaths,
    pub state_root: PathBuf,
    pub run_dir: PathBuf,
    pub cgroup_parent: String,
}

/// A container as `ls` and `inspect` show it.
#[derive(Debug, Clone)]
pub struct ContainerRecord {
    pub dir: ContainerDir,
    pub spec: ContainerSpec,
    pub state: State,
}

impl ContainerRecord {
    /// The runtime's view of this container: exec, cgroup, whatever the
    /// backend.
    pub fn handle(&self) -> stack_runtime::handle::Container<'_> {
        stack_runtime::handle::Container::new(&self.dir, &self.spec, &self.state)
    }

    /// Its state as the runtime has it now (the record's copy is from when
    /// it was read); one that cannot be read counts as created.
    pub fn current_state(&self) -> State {
        State::load(&self.dir).unwrap_or_else(|_| State::created())
    }

    /// Whether its process runs now (what exec needs).
    pub fn is_running_now(&self) -> bool {
        let state = self.current_state();
        state.effective_status() == Status::Running && state.container_alive()
    }

    /// Stops it: its stop signal, then SIGKILL after `grace`.
    pub fn stop(&self, grace: std::time::Duration) -> Result<(), stack_runtime::Error> {
        stack_runtime::control::stop(&self.dir, grace)
    }

    /// Sends `signal` to its main process.
    pub fn signal(&self, signal: nix::sys::signal::Signal) -> Result<(), stack_runtime::Error> {
        stack_runtime::control::kill(&self.dir, signal)
    }

    /// Removes what is left of a container that never ran (`run --rm`
    /// whose start failed).
    pub fn discard(&self) -> Result<(), stack_runtime::Error> {
        stack_runtime::fsutil::remove_tree(self.dir.path())
    }
}

impl Containers {
    pub fn new(paths: &HostPaths) -> Containers {
        let cgroup_parent = std::env::var("STACK_CGROUP_PARENT")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "stack".into());
        Containers {
            paths: paths.clone(),
            state_root: paths.state_root.clone(),
            run_dir: paths.run_dir.clone(),
            cgroup_parent,
        }
    }

    fn base(&self) -> PathBuf {
        self.state_root.join("containers")
    }

    /// Every container record that can be read, oldest first; the others
    /// are [`Containers::damaged`].
    pub fn list(&self) -> Vec<ContainerRecord> {
        self.scan().0
    }

    /// The containers of one project (by their labels), oldest first.
    pub fn of_project(&self, project: &str) -> Vec<ContainerRecord> {
        self.list()
            .into_iter()
            .filter(|r| {
                crate::labels::membership(&r.spec.labels).is_some_and(|m| m.project == project)
            })
            .collect()
    }

    /// By full id, unique id prefix, or name.
    pub fn find(&self, key: &str) -> Result<ContainerRecord, ContainerError> {
        let all = self.list();
        if let Some(r) = all.iter().find(|r| r.spec.id == key || r.spec.name == key) {
            return Ok(r.clone());
        }
        let matches: Vec<_> = all
            .into_iter()
            .filter(|r| !key.is_empty() && r.spec.id.starts_with(key))
            .collect();
        match matches.len() {
            1 => Ok(matches.into_iter().next().expect("one match")),
            0 => Err(ContainerError::NotFound(key.into())),
            _ => Err(ContainerError::Invalid(format!(
                "{key:?} matches more than one container"
            ))),
        }
    }

    /// A name a container may take: well formed, and no container's.
    fn check_new_name(&self, name: &str) -> Result<(), ContainerError> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            return Err(ContainerError::Invalid(format!(
                "invalid container name {name:?}"
            )));
        }
        if self.list().iter().any(|r| r.spec.name == name) {
            return Err(ContainerError::NameInUse(name.to_string()));
        }
        Ok(())
    }

    /// Writes a new container's record and returns it, ready to start.
    pub fn create(
        &self,
        source: &ImageSource,
        opts: &RunOptions,
    ) -> Result<ContainerRecord, ContainerError> {
        let id = new_id()?;
        // The name is checked before the image is resolved, so a taken or
        // malformed name fails at once instead of after a pull.
        let name = match &opts.name {
            Some(n) => {
                self.check_new_name(n)?;
                n.clone()
            }
            None => format!("stack_{}", &id[..12]),
        };
        let confinement = confinement::check(opts)?;
        let find_dir = |target: &str| self.find(target).map(|r| r.dir.path().to_path_buf());
        let pid = confinement::shared_namespace(confinement.pid.as_ref(), find_dir)?;
        let ipc = confinement::shared_namespace(confinement.ipc.as_ref(), find_dir)?;
        let network = network::NetworkRequest::check(
            &opts.network,
            |n| network::network_exists(&self.state_root, n),
            |c| self.find(c).is_ok(),
        )?;
        let (lower_dirs, image, origin) = match source {
            ImageSource::Image(reference) => {
                let (dirs, image, origin) = resolve_image(&self.paths, &id, reference)?;
                (dirs, image, Some(origin))
            }
            ImageSource::Rootfs(dir) => {
                let dir =
                    std::path::absolute(dir).map_err(io(format!("rootfs {}", dir.display())))?;
                if !dir.is_dir() {
                    return Err(ContainerError::Invalid(format!(
                        "rootfs {} is not a directory",
                        dir.display()
                    )));
                }
                (vec![dir], ImageConfig::default(), None)
            }
            ImageSource::Layers { lower_dirs, config } => {
                (lower_dirs.clone(), config.clone(), None)
            }
        };
        let process = resolve(&image, &opts.process, |k| std::env::var(k).ok())
            .map_err(|e| ContainerError::Invalid(e.to_string()))?;
        let mut mounts = Vec::new();
        for v in &opts.volumes {
            let (mount, volume) = parse_volume(v, &self.state_root)
                .map_err(|e| ContainerError::Invalid(e.to_string()))?;
            if let Some(volume) = volume {
                std::fs::create_dir_all(&volume.data_dir)
                    .map_err(io(format!("create volume {}", volume.name)))?;
            }
            mounts.push(mount);
        }
        for t in &opts.tmpfs {
            mounts.push(parse_tmpfs(t).map_err(|e| ContainerError::Invalid(e.to_string()))?);
        }
        let size = |s: &Option<String>| {
            s.as_deref()
                .map(parse_size)
                .transpose()
                .map_err(|e| ContainerError::Invalid(e.to_string()))
        };
        let spec = ContainerSpec {
            id: id.clone(),
            name,
            backend: opts.backend,
            lower_dirs,
            process: ProcessSpec {
                args: process.args,
                env: process.env,
                cwd: process.cwd,
                user: process.user,
                tty: opts.tty,
                stdin: opts.interactive,
                stdin_once: false,
                rlimits: opts.rlimits.clone(),
            },
            hostname: opts
                .hostname
                .clone()
                .unwrap_or_else(|| id[..12].to_string()),
            mounts,
            security: opts.security.clone(),
            resources: Resources {
                memory: size(&opts.memory)?,
                memory_reservation: size(&opts.memory_reservation)?,
                cpus: opts.cpus,
                cpu_shares: opts.cpu_shares,
                pids_limit: opts.pids_limit,
                memory_swap: None,
            },
            read_only: opts.read_only,
            init: opts.init,
            auto_remove: opts.auto_remove,
            cgroup_path: format!("{}/{}", self.cgroup_parent, id),
            stop_signal: opts.stop_signal.unwrap_or(libc_sigterm()),
            stop_timeout: opts.stop_timeout.unwrap_or(10),
            runc_root: Some(self.run_dir.join("runc")),
            log_max_bytes: 10 << 20,
            // Chosen at each start from the saved network request.
            network: stack_runtime::spec::NetworkNamespace::Private,
            labels: opts.labels.clone(),
            restart: opts.restart,
            healthcheck: opts.healthcheck.clone(),
            on_removal: Vec::new(),
            devices: confinement.devices,
            device_cgroup_rules: confinement.device_cgroup_rules,
            sysctls: confinement.sysctls,
            pid,
            ipc,
            shm_size: size(&opts.shm_size)?,
            image: origin,
            layer_upper: matches!(source, ImageSource::Layers { .. }),
            created: Some(stack_runtime::timefmt::now()),
        };
        let dir = ContainerDir::new(self.base().join(&id));
        std::fs::create_dir_all(dir.path())
            .map_err(io(format!("create {}", dir.path().display())))?;
        if let Err(err) = spec
            .save(&dir)
            .map_err(ContainerError::from)
            .and_then(|()| network.save(dir.path()))
        {
            let _ = std::fs::remove_dir_all(dir.path());
            return Err(err);
        }
        Ok(ContainerRecord {
            dir,
            spec,
            state: State::created(),
        })
    }
}

impl Containers {
    /// Starts a created (or stopped) container: the one place where the
    /// parts a container needs besides its process (networks) are set up
    /// before the monitor starts it.
    pub fn start(
        &self,
        record: &ContainerRecord,
        attach: stack_runtime::launch::Attach,
    ) -> Result<stack_runtime::launch::Started, ContainerError> {
        let exe = std::env::current_exe().map_err(io("locate the stack binary"))?;
        let mut record = record.clone();
        let connected = network::connect(self, &mut record)?;
        stack_runtime::launch::start(&exe, &record.dir, attach).map_err(|err| {
            network::undo(self, &record, connected);
            err.into()
        })
    }

    /// Removes a container (killing it first when `force`) and everything
    /// that was set up for it.
    pub fn remove(&self, record: &ContainerRecord, force: bool) -> Result<(), ContainerError> {
        stack_runtime::control::remove(&record.dir, force)?;
        network::release(&self.state_root, &self.run_dir, &record.spec.id)
    }
}

fn libc_sigterm() -> i32 {
    15
}

/// 64 random hex digits, as Docker's ids.
fn new_id() -> Result<String, ContainerError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ContainerError::Invalid(format!("random id: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

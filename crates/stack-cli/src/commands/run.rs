//! `stack run`: create a container from an image (or `--rootfs DIR`), start
//! it, and either print its id (`-d`) or stay attached and exit with the
//! container's exit code, as `docker run` does.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use miette::{IntoDiagnostic, WrapErr};
use stack_engine::containers::{
    run_args, Attach, Backend, ContainerRecord, ImageSource, NetworkOptions, ProcessOverrides,
    RunOptions,
};

use crate::global::{HostArgs, ProjectArgs};

/// Arguments of `stack run`.
#[derive(Debug, Args)]
#[command(trailing_var_arg = true)]
pub struct RunArgs {
    /// Remove the container when it exits.
    #[arg(long)]
    rm: bool,
    /// Run in the background and print the container id.
    #[arg(short = 'd', long)]
    detach: bool,
    /// Container name.
    #[arg(long)]
    name: Option<String>,
    /// Set an environment variable (`K=V`, or `K` to pass the host's).
    #[arg(short = 'e', long = "env", value_name = "K=V")]
    env: Vec<String>,
    /// User: name, uid, name:group or uid:gid.
    #[arg(short = 'u', long)]
    user: Option<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long)]
    workdir: Option<String>,
    /// Override the image's entrypoint.
    #[arg(long)]
    entrypoint: Option<String>,
    /// Bind mount or named volume: SRC:DST[:ro].
    #[arg(short = 'v', long = "volume")]
    volumes: Vec<String>,
    /// Mount a tmpfs: DST[:size=..,mode=..].
    #[arg(long)]
    tmpfs: Vec<String>,
    /// Mount the root filesystem read-only.
    #[arg(long)]
    read_only: bool,
    /// Memory limit (e.g. 64m).
    #[arg(short = 'm', long)]
    memory: Option<String>,
    /// Memory soft limit.
    #[arg(long)]
    memory_reservation: Option<String>,
    /// Number of CPUs.
    #[arg(long)]
    cpus: Option<f64>,
    /// Relative CPU weight.
    #[arg(short = 'c', long)]
    cpu_shares: Option<u64>,
    /// Maximum number of processes.
    #[arg(long)]
    pids_limit: Option<i64>,
    /// Add a capability.
    #[arg(long)]
    cap_add: Vec<String>,
    /// Drop a capability.
    #[arg(long)]
    cap_drop: Vec<String>,
    /// Give the container every capability and no confinement.
    #[arg(long)]
    privileged: bool,
    /// `no-new-privileges` or `seccomp=unconfined`.
    #[arg(long)]
    security_opt: Vec<String>,
    /// Run a minimal init as PID 1 that reaps zombies and forwards signals.
    #[arg(long)]
    init: bool,
    /// Keep stdin open.
    #[arg(short = 'i', long)]
    interactive: bool,
    /// Allocate a pseudo-terminal.
    #[arg(short = 't', long)]
    tty: bool,
    /// Network to join (repeatable): a network's name, `none` (loopback
    /// only), `host`, or `container:X`. Default: the `bridge` network.
    #[arg(long = "network", alias = "net")]
    networks: Vec<String>,
    /// Another name for the container on its (first) network.
    #[arg(long = "network-alias")]
    network_aliases: Vec<String>,
    /// Publish a port: [IP:][HOST:]CONTAINER[/PROTO], ranges allowed
    /// (`-p` too, as in Docker).
    #[arg(long = "publish")]
    publish: Vec<String>,
    /// IPv4 address on the (first) network.
    #[arg(long)]
    ip: Option<String>,
    /// DNS server for the container's resolv.conf.
    #[arg(long)]
    dns: Vec<String>,
    /// Extra /etc/hosts line: NAME:IP.
    #[arg(long = "add-host")]
    add_host: Vec<String>,
    /// Host name inside the container (default: the short id).
    #[arg(long)]
    hostname: Option<String>,
    /// Container backend: stack (built in) or runc.
    #[arg(long)]
    runtime: Option<Backend>,
    /// Resource limit: NAME=SOFT[:HARD] (lowered to the host's hard limit).
    #[arg(long)]
    ulimit: Vec<String>,
    /// Signal to stop the container with.
    #[arg(long)]
    stop_signal: Option<String>,
    /// Seconds to wait for a stop before killing.
    #[arg(long)]
    stop_timeout: Option<u64>,
    /// Restart policy and healthcheck.
    #[command(flatten)]
    supervise: super::run_supervise_args::SuperviseArgs,
    /// Devices, sysctls, shared namespaces.
    #[command(flatten)]
    isolation: super::run_isolation_args::IsolationArgs,
    /// Use a directory as the root filesystem instead of an image.
    #[arg(long, value_name = "DIR")]
    rootfs: Option<PathBuf>,
    #[command(flatten)]
    labels: LabelArgs,
    #[command(flatten)]
    service: super::run_service::ServiceRunArgs,
    /// IMAGE then CMD... (only CMD... with --rootfs), or SERVICE then CMD...
    /// for a one-off container of a service of the stack file.
    #[arg(allow_hyphen_values = true)]
    args: Vec<String>,
}

/// `--label`/`--label-file`: metadata on the container (Compose's
/// project labels among them).
#[derive(Debug, Args)]
pub struct LabelArgs {
    /// Set a label (`KEY=VALUE`, or `KEY` for an empty value); repeatable.
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE")]
    labels: Vec<String>,
    /// Read labels from a file of `KEY=VALUE` lines (`#` starts a comment).
    #[arg(long = "label-file", value_name = "FILE")]
    label_files: Vec<PathBuf>,
}

impl LabelArgs {
    /// The labels, files first, then `--label` (a later one wins).
    fn to_map(&self) -> miette::Result<std::collections::BTreeMap<String, String>> {
        let mut map = std::collections::BTreeMap::new();
        for file in &self.label_files {
            let text = std::fs::read_to_string(file)
                .into_diagnostic()
                .wrap_err_with(|| format!("label file {}", file.display()))?;
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (k, v) = run_args::parse_label(line)
                    .map_err(|e| miette::miette!("{}:{}: {e}", file.display(), n + 1))?;
                map.insert(k, v);
            }
        }
        for label in &self.labels {
            let (k, v) =
                run_args::parse_label(label).map_err(|e| miette::miette!("--label: {e}"))?;
            map.insert(k, v);
        }
        Ok(map)
    }
}

/// Parses a signal name (`TERM`, `SIGTERM`) or number.
pub fn parse_signal(text: &str) -> miette::Result<nix::sys::signal::Signal> {
    stack_engine::facade::parse_signal(text).map_err(|e| miette::miette!("{e}"))
}

pub fn run(host: &HostArgs, project: &ProjectArgs, args: RunArgs) -> miette::Result<ExitCode> {
    let service = match (&args.rootfs, args.args.first()) {
        (None, Some(first)) => super::run_service::lookup(project, first)?,
        _ => None,
    };
    if let (None, Some(flag)) = (&service, args.service.given()) {
        let why = match (&args.rootfs, args.args.first()) {
            (None, Some(first)) => format!("{first:?} is no service of a stack file here"),
            _ => "not to --rootfs".to_string(),
        };
        miette::bail!("stack run: {flag} only applies to `stack run SERVICE`; {why}");
    }
    let publish = args.publish.clone();
    let network = NetworkOptions {
        mode: run_args::network_mode(&args.networks, &args.network_aliases, args.ip.as_deref())
            .map_err(|e| miette::miette!("{e}"))?,
        publish,
        dns: args.dns.clone(),
        extra_hosts: args.add_host.clone(),
    };
    let (restart, healthcheck) = args
        .supervise
        .to_spec(args.rm)
        .map_err(|e| miette::miette!("stack run: {e}"))?;
    let paths = host.paths();
    let backend = match args.runtime {
        Some(b) => b,
        None => run_args::default_backend(&paths).map_err(|e| miette::miette!("{e}"))?,
    };
    let (source, cmd) = match &args.rootfs {
        Some(dir) => (ImageSource::Rootfs(dir.clone()), args.args.clone()),
        None => {
            let (image, cmd) = args.args.split_first().ok_or_else(|| {
                miette::miette!("stack run: an IMAGE or --rootfs DIR is required")
            })?;
            (ImageSource::Image(image.clone()), cmd.to_vec())
        }
    };
    let mut env_files = Vec::new();
    for file in &project.env_files {
        let text = std::fs::read_to_string(file)
            .into_diagnostic()
            .wrap_err_with(|| format!("env file {}", file.display()))?;
        env_files.extend(stack_engine::containers::parse_env_file(&text));
    }
    let security = run_args::security(
        args.privileged,
        args.cap_add,
        args.cap_drop,
        &args.security_opt,
    )
    .map_err(|e| miette::miette!("{e}"))?;
    let rlimits = args
        .ulimit
        .iter()
        .map(|u| run_args::parse_ulimit(u).map_err(|e| miette::miette!("{e}")))
        .collect::<miette::Result<Vec<_>>>()?;
    let stop_signal = args
        .stop_signal
        .as_deref()
        .map(parse_signal)
        .transpose()?
        .map(|s| s as i32);
    let isolation = args.isolation.resolve()?;
    let opts = RunOptions {
        name: args.name,
        process: ProcessOverrides {
            entrypoint: args.entrypoint,
            cmd,
            env_files,
            env: args.env,
            user: args.user,
            workdir: args.workdir,
        },
        volumes: args.volumes,
        tmpfs: args.tmpfs,
        read_only: args.read_only,
        memory: args.memory,
        memory_reservation: args.memory_reservation,
        cpus: args.cpus,
        cpu_shares: args.cpu_shares,
        pids_limit: args.pids_limit,
        security,
        init: args.init,
        interactive: args.interactive,
        tty: args.tty,
        auto_remove: args.rm,
        backend,
        stop_signal,
        stop_timeout: args.stop_timeout,
        rlimits,
        network,
        hostname: args.hostname,
        restart,
        healthcheck,
        labels: args.labels.to_map()?,
        devices: isolation.devices,
        device_cgroup_rules: isolation.device_cgroup_rules,
        sysctls: isolation.sysctls,
        pid: isolation.pid,
        ipc: isolation.ipc,
        shm_size: isolation.shm_size,
    };
    let (source, opts) = match &service {
        Some((stack, name)) => {
            super::run_service::start_dependencies(host, stack, name, &args.service)?;
            super::build::ensure_built(host, stack, name)?;
            let (image, opts) = super::run_service::options(stack, name, &args.service, opts)?;
            (ImageSource::Image(image), opts)
        }
        None => (source, opts),
    };
    // Docker's `run` reports the create; start and die come from the monitor.
    let engine = stack_engine::facade::Engine::new(paths);
    let record = engine
        .create_container(&source, &opts)
        .map_err(|e| miette::miette!("{e}"))?;
    let store = engine.containers();
    let attach = if args.detach {
        Attach::Detached
    } else {
        Attach::Foreground {
            stdin: args.interactive,
        }
    };
    let raw = if args.tty && !args.detach {
        RawTerminal::enter()
    } else {
        None
    };
    let started = match store.start(&record, attach) {
        Ok(s) => s,
        Err(err) => {
            drop(raw);
            if args.rm {
                let _ = record.discard();
            }
            return Err(miette::miette!("{err}"));
        }
    };
    if args.detach {
        println!("{}", record.spec.id);
        return Ok(ExitCode::SUCCESS);
    }
    if !args.tty {
        proxy_signals(record.clone());
    }
    let exit = started.wait();
    drop(raw);
    let exit = exit.map_err(|e| miette::miette!("{e}"))?;
    Ok(ExitCode::from(exit.code.clamp(0, 255) as u8))
}

/// Forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to this command to
/// the container, as `docker run` does (with a pty, ^C travels as input).
fn proxy_signals(record: ContainerRecord) {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    for sig in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
    ] {
        set.add(sig);
    }
    if set.thread_block().is_err() {
        return;
    }
    std::thread::spawn(move || {
        while let Ok(sig) = set.wait() {
            let _ = record.signal(sig);
        }
    });
}

/// The user's terminal in raw mode while a `-t` container is attached;
/// restored on drop.
struct RawTerminal {
    saved: nix::sys::termios::Termios,
}

impl RawTerminal {
    fn enter() -> Option<RawTerminal> {
        use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
        let stdin = std::io::stdin();
        let saved = tcgetattr(&stdin).ok()?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(&stdin, SetArg::TCSANOW, &raw).ok()?;
        Some(RawTerminal { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = nix::sys::termios::tcsetattr(
            std::io::stdin(),
            nix::sys::termios::SetArg::TCSANOW,
            &self.saved,
        );
    }
}

#[cfg(test)]
mod label_tests {
    use super::*;

    #[test]
    fn labels_from_files_then_flags() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("labels");
        std::fs::write(
            &file,
            "# project\ncom.docker.compose.project=shop\nrole=db\n\nflag\n",
        )
        .expect("write");
        let args = LabelArgs {
            labels: vec!["role=web".into(), "x=a=b".into()],
            label_files: vec![file.clone()],
        };
        let map = args.to_map().expect("labels");
        assert_eq!(map["com.docker.compose.project"], "shop");
        assert_eq!(map["role"], "web");
        assert_eq!(map["x"], "a=b");
        assert_eq!(map["flag"], "");
        std::fs::write(&file, "ok=1\n=nokey\n").expect("write");
        let err = args.to_map().expect_err("no key").to_string();
        assert!(err.contains(":2:"), "{err}");
    }
}

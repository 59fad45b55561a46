//! `stack run`: create a container from an image (or `--rootfs DIR`), start
//! it, and either print its id (`-d`) or stay attached and exit with the
//! container's exit code, as `docker run` does.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use miette::{IntoDiagnostic, WrapErr};
use stack_engine::containers::{
    Containers, ImageSource, NetworkJoin, NetworkMode, NetworkOptions, ProcessOverrides, RunOptions,
};
use stack_runtime::launch::Attach;
use stack_runtime::spec::{Backend, SecuritySpec};

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
                let (k, v) = parse_label(line)
                    .map_err(|e| miette::miette!("{}:{}: {e}", file.display(), n + 1))?;
                map.insert(k, v);
            }
        }
        for label in &self.labels {
            let (k, v) = parse_label(label).map_err(|e| miette::miette!("--label: {e}"))?;
            map.insert(k, v);
        }
        Ok(map)
    }
}

/// `KEY=VALUE` or `KEY` (empty value), as Docker's labels.
fn parse_label(text: &str) -> Result<(String, String), String> {
    let (key, value) = text.split_once('=').unwrap_or((text, ""));
    if key.trim().is_empty() {
        return Err(format!("{text:?}: the label has no key"));
    }
    Ok((key.trim().to_string(), value.to_string()))
}

/// Parses a signal name (`TERM`, `SIGTERM`) or number.
pub fn parse_signal(text: &str) -> miette::Result<nix::sys::signal::Signal> {
    use std::str::FromStr;
    if let Ok(n) = text.parse::<i32>() {
        return nix::sys::signal::Signal::try_from(n)
            .into_diagnostic()
            .wrap_err_with(|| format!("signal {text}"));
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    nix::sys::signal::Signal::from_str(&name)
        .into_diagnostic()
        .wrap_err_with(|| format!("unknown signal {text:?}"))
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
        mode: network_mode(&args.networks, &args.network_aliases, args.ip.as_deref())
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
    let config = stack_engine::config::Config::load(&paths.config_file)?;
    let backend = match args.runtime {
        Some(b) => b,
        None => config
            .runtime
            .default
            .parse::<Backend>()
            .map_err(|e| miette::miette!("{}: {e}", paths.config_file.display()))?,
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
    let mut security = SecuritySpec {
        privileged: args.privileged,
        cap_add: args.cap_add,
        cap_drop: args.cap_drop,
        ..Default::default()
    };
    for opt in &args.security_opt {
        match opt.as_str() {
            "no-new-privileges" | "no-new-privileges:true" | "no-new-privileges=true" => {
                security.no_new_privileges = true
            }
            "seccomp=unconfined" | "seccomp:unconfined" => security.seccomp_unconfined = true,
            other => miette::bail!("--security-opt {other:?} is not supported"),
        }
    }
    let rlimits = args
        .ulimit
        .iter()
        .map(|u| parse_ulimit(u))
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
            let (image, opts) = super::run_service::options(stack, name, &args.service, opts)?;
            (ImageSource::Image(image), opts)
        }
        None => (source, opts),
    };
    let store = Containers::new(&paths);
    let record = store.create(&source, &opts).into_diagnostic()?;
    // Docker's `run` reports the create; start and die come from the monitor.
    let _ = stack_runtime::event_log::append(
        &store.state_root,
        &stack_engine::project::actions::container_event(&record, "create"),
    );
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
                let _ = stack_runtime::fsutil::remove_tree(record.dir.path());
            }
            return Err(miette::miette!("{err}"));
        }
    };
    if args.detach {
        println!("{}", record.spec.id);
        return Ok(ExitCode::SUCCESS);
    }
    if !args.tty {
        proxy_signals(record.dir.clone());
    }
    let exit = started.wait();
    drop(raw);
    let exit = exit.map_err(|e| miette::miette!("{e}"))?;
    Ok(ExitCode::from(exit.code.clamp(0, 255) as u8))
}

/// Forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to this command to
/// the container, as `docker run` does (with a pty, ^C travels as input).
fn proxy_signals(dir: stack_runtime::spec::ContainerDir) {
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
            let _ = stack_runtime::control::kill(&dir, sig);
        }
    });
}

/// `--network` values (with `--network-alias` and `--ip`, which apply to
/// the first network) as a network mode.
fn network_mode(
    networks: &[String],
    aliases: &[String],
    ip: Option<&str>,
) -> Result<NetworkMode, String> {
    let ip = ip
        .map(|ip| {
            ip.parse::<std::net::Ipv4Addr>()
                .map_err(|_| format!("--ip {ip:?} is not an IPv4 address"))
        })
        .transpose()?;
    let special = |n: &str| n == "none" || n == "host" || n.starts_with("container:");
    if networks.len() > 1 {
        if let Some(n) = networks.iter().find(|n| special(n)) {
            return Err(format!(
                "--network {n} cannot be combined with other networks"
            ));
        }
    }
    let first = networks.first().map(String::as_str);
    let joins_nothing = matches!(first, Some(n) if special(n));
    if joins_nothing && (ip.is_some() || !aliases.is_empty()) {
        return Err(format!(
            "--ip and --network-alias need a network; --network {} has none",
            first.unwrap_or_default()
        ));
    }
    Ok(match first {
        None if aliases.is_empty() && ip.is_none() => NetworkMode::Default,
        None => NetworkMode::Networks(vec![NetworkJoin {
            network: stack_engine::containers::network::DEFAULT_NETWORK.into(),
            aliases: aliases.to_vec(),
            ipv4_address: ip,
        }]),
        Some("none") => NetworkMode::None,
        Some("host") => NetworkMode::Host,
        Some(n) if n.starts_with("container:") => {
            let other = &n["container:".len()..];
            if other.is_empty() {
                return Err("--network container: needs a container name or id".into());
            }
            NetworkMode::Container(other.to_string())
        }
        Some(_) => NetworkMode::Networks(
            networks
                .iter()
                .enumerate()
                .map(|(i, n)| NetworkJoin {
                    network: n.clone(),
                    aliases: if i == 0 { aliases.to_vec() } else { Vec::new() },
                    ipv4_address: if i == 0 { ip } else { None },
                })
                .collect(),
        ),
    })
}

/// `nofile=1024:2048` or `nproc=512`.
fn parse_ulimit(text: &str) -> miette::Result<stack_runtime::spec::Rlimit> {
    let bad = || miette::miette!("--ulimit {text:?}: expected NAME=SOFT[:HARD]");
    let (name, values) = text.split_once('=').ok_or_else(bad)?;
    let (soft, hard) = values.split_once(':').unwrap_or((values, values));
    let parse = |v: &str| {
        if v == "-1" || v == "unlimited" {
            Ok(u64::MAX)
        } else {
            v.parse::<u64>().map_err(|_| bad())
        }
    };
    Ok(stack_runtime::spec::Rlimit {
        name: name.to_string(),
        soft: parse(soft)?,
        hard: parse(hard)?,
    })
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
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn network_flags() {
        assert_eq!(network_mode(&[], &[], None), Ok(NetworkMode::Default));
        assert_eq!(
            network_mode(&strings(&["none"]), &[], None),
            Ok(NetworkMode::None)
        );
        assert_eq!(
            network_mode(&strings(&["host"]), &[], None),
            Ok(NetworkMode::Host)
        );
        assert_eq!(
            network_mode(&strings(&["container:web"]), &[], None),
            Ok(NetworkMode::Container("web".into()))
        );
        let NetworkMode::Networks(joins) = network_mode(
            &strings(&["front", "back"]),
            &strings(&["api"]),
            Some("10.5.0.9"),
        )
        .expect("two networks") else {
            panic!("expected networks");
        };
        assert_eq!(joins.len(), 2);
        assert_eq!(joins[0].aliases, strings(&["api"]));
        assert_eq!(joins[0].ipv4_address, Some("10.5.0.9".parse().expect("ip")));
        assert!(joins[1].aliases.is_empty() && joins[1].ipv4_address.is_none());
        let NetworkMode::Networks(joins) =
            network_mode(&[], &strings(&["db"]), None).expect("alias on the default network")
        else {
            panic!("expected networks");
        };
        assert_eq!(joins[0].network, "bridge");
        assert!(network_mode(&strings(&["none", "front"]), &[], None).is_err());
        assert!(network_mode(&strings(&["host"]), &[], Some("10.0.0.2")).is_err());
        assert!(network_mode(&strings(&["front"]), &[], Some("ten")).is_err());
        assert!(network_mode(&strings(&["container:"]), &[], None).is_err());
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

//! `stack run SERVICE [CMD...]`: a one-off container of a service, as
//! `docker compose run` makes it. The service's settings come first, the
//! flags on the command line override them, and the container is marked as
//! a one-off (`com.docker.compose.oneoff=True`) so `up`, `down`'s orphan
//! handling and the project verbs never take it for a replica.
//!
//! `stack run` stays Docker's `run IMAGE` when the first argument names no
//! service of the project's stack file (or there is no stack file), so
//! both users feel at home: in a project directory `stack run web sh` is
//! Compose's, anywhere else `stack run busybox sh` is Docker's.

use clap::Args;
use stack_engine::apply::{Host, Slot, UpOptions};
use stack_engine::containers::{NetworkMode, RunOptions};
use stack_engine::labels;
use stack_engine::plan::PlanOptions;
use stack_engine::spec::Project;

use crate::global::{HostArgs, ProjectArgs};

/// Flags that only mean something for `stack run SERVICE`.
#[derive(Debug, Clone, Default, Args)]
pub struct ServiceRunArgs {
    /// Do not start the services SERVICE depends on.
    #[arg(long)]
    pub no_deps: bool,
    /// Publish the service's ports too (a one-off publishes only `-p`).
    #[arg(long)]
    pub service_ports: bool,
    /// Give the one-off the service's network aliases (the service name
    /// among them), so it answers for the service as a replica does.
    #[arg(long)]
    pub use_aliases: bool,
}

impl ServiceRunArgs {
    /// The first of these flags that was given: they mean nothing for
    /// `stack run IMAGE`, which refuses them rather than ignore them.
    pub fn given(&self) -> Option<&'static str> {
        [
            (self.no_deps, "--no-deps"),
            (self.service_ports, "--service-ports"),
            (self.use_aliases, "--use-aliases"),
        ]
        .into_iter()
        .find_map(|(set, flag)| set.then_some(flag))
    }
}

/// The project and service that `stack run NAME` means, when NAME names a
/// service of the stack file that `-f` gives or that lies in the current
/// directory. A stack file named with `-f` that fails to load is an error;
/// a discovered one that fails to load leaves `run` to Docker's meaning.
pub fn lookup(project_args: &ProjectArgs, name: &str) -> miette::Result<Option<(Project, String)>> {
    let explicit = !project_args.files.is_empty();
    if !super::project::has_stack_file(project_args) {
        return Ok(None);
    }
    let options = super::project::load_options(project_args, &[]);
    let project = match stack_engine::spec::load(&options) {
        Ok(project) => project,
        Err(diagnostics) if explicit => return Err(diagnostics.into()),
        Err(_) => return Ok(None),
    };
    if !project.services.contains_key(name) {
        return Ok(None);
    }
    Ok(Some((project, name.to_string())))
}

/// Starts what the service depends on (unless `--no-deps`), as `up -d`
/// of those services would.
pub fn start_dependencies(
    host_args: &HostArgs,
    project: &Project,
    service: &str,
    flags: &ServiceRunArgs,
) -> miette::Result<()> {
    let Some(definition) = project.services.get(service) else {
        return Ok(());
    };
    if flags.no_deps || definition.depends_on.is_empty() {
        return Ok(());
    }
    let paths = host_args.paths();
    let host = Host::open(&paths).map_err(|e| miette::miette!("{e}"))?;
    let plan = PlanOptions {
        services: definition.depends_on.keys().cloned().collect(),
        ..PlanOptions::default()
    };
    let prepared = crate::switch::waiting(&project.name, || {
        stack_engine::apply::prepare_up(&host, project, &plan)
    })
    .map_err(|e| miette::miette!("{e}"))?;
    let options = UpOptions {
        plan,
        parallel: stack_engine::apply::default_parallelism(),
    };
    stack_engine::apply::up(&host, project, prepared, &options, &|_, _| {})
        .map_err(|e| miette::miette!("starting the dependencies of {service}: {e}"))?;
    Ok(())
}

/// The one-off container's options: the service's, then the flags' (`cmd`
/// already split off the service name).
pub fn options(
    project: &Project,
    service: &str,
    flags: &ServiceRunArgs,
    from_flags: RunOptions,
) -> miette::Result<(String, RunOptions)> {
    let definition = project
        .services
        .get(service)
        .ok_or_else(|| miette::miette!("no such service: {service}"))?;
    let image = match (&definition.image, &definition.build) {
        (_, Some(_)) => stack_engine::build::image_name(project, definition),
        (Some(image), None) => image.clone(),
        (None, None) => miette::bail!("service {service} has neither image nor build"),
    };
    let suffix = random_suffix()?;
    let name = format!("{}-{service}-run-{suffix}", project.name);
    let slot = Slot {
        name: &name,
        replica: 0,
        config_hash: "",
        image_digest: None,
    };
    let mut opts = stack_engine::apply::run_options(project, definition, &slot)
        .map_err(|e| miette::miette!("{e}"))?;
    merge_flags(&mut opts, from_flags, flags.service_ports);
    if !flags.use_aliases {
        drop_aliases(&mut opts.network.mode);
    }
    opts.labels.insert(labels::ONEOFF.into(), "True".into());
    opts.labels.remove(labels::CONTAINER_NUMBER);
    opts.labels.remove(labels::CONFIG_HASH);
    Ok((image, opts))
}

/// As Compose: a one-off joins the service's networks under its own names
/// only. With the service's aliases it would answer for the service, and
/// `stack run --rm db psql -h db` would reach itself instead of the db.
fn drop_aliases(mode: &mut NetworkMode) {
    if let NetworkMode::Networks(joins) = mode {
        for join in joins {
            join.aliases.clear();
        }
    }
}

/// Compose's rules for a one-off: the command replaces the service's, the
/// flags that were given win, environment, volumes and labels add up, no
/// restart policy, no ports unless `--service-ports`.
fn merge_flags(opts: &mut RunOptions, flags: RunOptions, service_ports: bool) {
    if !flags.process.cmd.is_empty() {
        opts.process.cmd = flags.process.cmd;
    }
    if flags.process.entrypoint.is_some() {
        opts.process.entrypoint = flags.process.entrypoint;
    }
    opts.process.env.extend(flags.process.env);
    opts.process.env_files.extend(flags.process.env_files);
    if flags.process.user.is_some() {
        opts.process.user = flags.process.user;
    }
    if flags.process.workdir.is_some() {
        opts.process.workdir = flags.process.workdir;
    }
    if flags.name.is_some() {
        opts.name = flags.name;
    }
    opts.volumes.extend(flags.volumes);
    opts.tmpfs.extend(flags.tmpfs);
    opts.labels.extend(flags.labels);
    if !service_ports {
        opts.network.publish.clear();
    }
    opts.network.publish.extend(flags.network.publish);
    opts.network.dns.extend(flags.network.dns);
    opts.network.extra_hosts.extend(flags.network.extra_hosts);
    opts.restart = Default::default();
    opts.healthcheck = None;
    opts.auto_remove = flags.auto_remove;
    opts.interactive |= flags.interactive;
    opts.tty |= flags.tty;
    opts.init |= flags.init;
    opts.read_only |= flags.read_only;
    opts.backend = flags.backend;
    opts.security.privileged |= flags.security.privileged;
    opts.security.cap_add.extend(flags.security.cap_add);
    opts.security.cap_drop.extend(flags.security.cap_drop);
    if flags.memory.is_some() {
        opts.memory = flags.memory;
    }
    if flags.cpus.is_some() {
        opts.cpus = flags.cpus;
    }
    if flags.pids_limit.is_some() {
        opts.pids_limit = flags.pids_limit;
    }
    if flags.hostname.is_some() {
        opts.hostname = flags.hostname;
    }
}

/// Twelve hex digits, as Compose's one-off names end.
fn random_suffix() -> miette::Result<String> {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).map_err(|e| miette::miette!("random name: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use stack_engine::containers::{NetworkJoin, NetworkOptions, ProcessOverrides};

    #[test]
    fn flags_override_the_service_and_one_offs_never_restart() {
        let mut service = RunOptions {
            process: ProcessOverrides {
                cmd: vec!["httpd".into()],
                env: vec!["A=1".into()],
                user: Some("www".into()),
                ..Default::default()
            },
            network: NetworkOptions {
                publish: vec!["8080:80".into()],
                ..Default::default()
            },
            restart: stack_engine::containers::RestartSpec {
                policy: stack_engine::containers::RestartPolicy::Always,
                when_unhealthy: false,
            },
            ..Default::default()
        };
        let flags = RunOptions {
            process: ProcessOverrides {
                cmd: vec!["sh".into(), "-c".into(), "env".into()],
                env: vec!["B=2".into()],
                ..Default::default()
            },
            auto_remove: true,
            ..Default::default()
        };
        merge_flags(&mut service, flags, false);
        assert_eq!(service.process.cmd, ["sh", "-c", "env"]);
        assert_eq!(service.process.env, ["A=1", "B=2"]);
        assert_eq!(service.process.user.as_deref(), Some("www"));
        assert!(
            service.network.publish.is_empty(),
            "no ports without --service-ports"
        );
        assert_eq!(
            service.restart.policy,
            stack_engine::containers::RestartPolicy::No
        );
        assert!(service.auto_remove);
    }

    #[test]
    fn a_one_off_has_no_aliases_unless_asked() {
        let opts = stack_engine::spec::LoadOptions {
            files: vec!["-".into()],
            working_dir: std::env::temp_dir(),
            stdin: Some(
                "name: p\nservices:\n  db:\n    image: busybox\n    networks:\n      back:\n        aliases: [database]\nnetworks:\n  back: {}\n"
                    .into(),
            ),
            ..Default::default()
        };
        let project = stack_engine::spec::load(&opts).expect("stack file");
        let aliases = |use_aliases: bool| {
            let flags = ServiceRunArgs {
                use_aliases,
                ..Default::default()
            };
            let (_, opts) =
                options(&project, "db", &flags, RunOptions::default()).expect("options");
            match opts.network.mode {
                NetworkMode::Networks(joins) => joins
                    .into_iter()
                    .map(|j: NetworkJoin| (j.network, j.aliases))
                    .collect::<Vec<_>>(),
                other => panic!("networks expected: {other:?}"),
            }
        };
        assert_eq!(aliases(false), [("p_back".to_string(), vec![])]);
        assert_eq!(
            aliases(true),
            [(
                "p_back".to_string(),
                vec!["db".to_string(), "database".to_string()]
            )]
        );
    }
}

//! `stack up`: plan the stack against what runs, print each action with its
//! reason as it is done, then either return (`-d`), wait for health
//! (`--wait`), or stay attached to the merged logs until the containers
//! exit or Ctrl-C stops them (a second Ctrl-C kills them).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use miette::IntoDiagnostic;
use stack_api::projects::{PlanFlags, ProjectEvent};
use stack_engine::apply::{self, Host};
use stack_engine::plan::PullPolicy;

use super::project;
use crate::follow::attach::{attach, AttachOptions};
use crate::global::{HostArgs, ProjectArgs};
use crate::progress::Printer;

/// Arguments of `stack up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Start in the background and return.
    #[arg(short = 'd', long)]
    detach: bool,
    /// Print the plan and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Stop every container when one exits; exit with its code.
    #[arg(long, conflicts_with_all = ["detach", "wait"])]
    abort_on_container_exit: bool,
    /// Stop every container when one fails; exit with its code.
    #[arg(long, conflicts_with_all = ["detach", "wait", "abort_on_container_exit"])]
    abort_on_container_failure: bool,
    /// Exit with this service's exit code (implies --abort-on-container-exit).
    #[arg(long, value_name = "SERVICE", conflicts_with_all = ["detach", "wait"])]
    exit_code_from: Option<String>,
    /// Detach, then wait until every container is running and healthy.
    #[arg(long)]
    wait: bool,
    /// Seconds `--wait` waits at most.
    #[arg(long, value_name = "SECONDS")]
    wait_timeout: Option<u64>,
    /// Do not start the services the named ones depend on.
    #[arg(long)]
    no_deps: bool,
    /// Recreate containers even if nothing changed.
    #[arg(long, conflicts_with = "no_recreate")]
    force_recreate: bool,
    /// Never recreate existing containers.
    #[arg(long)]
    no_recreate: bool,
    /// Pull images: always, missing (default), never or build.
    #[arg(long, value_name = "POLICY")]
    pull: Option<PullPolicy>,
    /// Build the images of services with `build:` before starting.
    #[arg(long, conflicts_with = "no_build")]
    build: bool,
    /// Never build; a service whose image is missing fails.
    #[arg(long)]
    no_build: bool,
    /// Remove containers of services no longer in the stack file.
    #[arg(long)]
    remove_orphans: bool,
    /// Actions run at once (default: a few per CPU).
    #[arg(long, value_name = "N")]
    parallel: Option<usize>,
    /// Number of replicas of a service: SERVICE=N (repeatable).
    #[arg(long, value_name = "SERVICE=N")]
    scale: Vec<String>,
    /// Seconds to wait for containers to stop before killing them.
    #[arg(short = 't', long, value_name = "SECONDS")]
    timeout: Option<u64>,
    /// Print lines without the service prefix.
    #[arg(long)]
    no_log_prefix: bool,
    /// Produce monochrome output.
    #[arg(long)]
    no_color: bool,
    /// Show each log line's timestamp.
    #[arg(long)]
    timestamps: bool,
    /// After bringing the stack up, follow edits to the stack file and the
    /// services' `develop.watch` paths (as `stack watch`).
    #[arg(long, conflicts_with_all = ["detach", "wait", "dry_run"])]
    watch: bool,
    /// Only these services (and what they depend on).
    services: Vec<String>,
}

pub fn run(host: &HostArgs, project_args: &ProjectArgs, args: UpArgs) -> miette::Result<ExitCode> {
    let project = project::load(project_args, &args.services)?;
    let flags = PlanFlags {
        force_recreate: args.force_recreate,
        no_recreate: args.no_recreate,
        no_deps: args.no_deps,
        remove_orphans: args.remove_orphans,
        pull: args.pull.map(pull_word),
        build: match (args.build, args.no_build) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        services: args.services.clone(),
        scale: parse_scale(&args.scale)?,
    };
    let via = crate::switch::choose(host)?;
    let printer = Printer::new(host.progress, "Running");
    if args.dry_run {
        let answer =
            crate::switch::waiting(&project.name, || via.api().project_plan(&project, &flags))?;
        for adopted in &answer.adopted {
            printer.project_event(&ProjectEvent::Adopted {
                name: adopted.clone(),
            });
        }
        print!("{}", answer.text);
        return Ok(ExitCode::SUCCESS);
    }
    // Attached, the logs start here: what a container left running wrote
    // before is not shown again.
    let began = stack_engine::timefmt::now();
    crate::switch::waiting(&project.name, || {
        via.api().project_up(&project, &flags, args.parallel, &|e| {
            printer.project_event(e)
        })
    })?;
    if args.detach && !args.wait {
        return Ok(ExitCode::SUCCESS);
    }
    if args.watch {
        return super::watch::watch_project(host, project_args, &args.services, false, false);
    }
    if args.wait {
        // Health is read from this host's records, which the daemon (when
        // it did the work) keeps on the same host.
        let paths = host.paths();
        let engine = Host::open(&paths).into_diagnostic()?;
        let limit = args.wait_timeout.map(Duration::from_secs);
        return wait_healthy(&engine, &project, &args.services, limit);
    }
    let abort_on_exit = args.abort_on_container_exit || args.exit_code_from.is_some();
    let (members, mut session) = via.project_session(&project.name, &args.services, None)?;
    attach(
        &members,
        session.as_mut(),
        &AttachOptions {
            abort_on_exit,
            abort_on_failure: args.abort_on_container_failure,
            exit_code_from: args.exit_code_from.clone(),
            stop_timeout: args.timeout.map(Duration::from_secs),
            prefix: !args.no_log_prefix,
            timestamps: args.timestamps,
            no_color: args.no_color,
            since: Some(began),
            waves: project
                .graph()
                .map(|g| g.waves().to_vec())
                .unwrap_or_default(),
        },
    )
}

/// The wire word of a pull policy.
fn pull_word(policy: PullPolicy) -> String {
    match policy {
        PullPolicy::Always => "always",
        PullPolicy::Missing => "missing",
        PullPolicy::Never => "never",
        PullPolicy::Build => "build",
    }
    .to_string()
}

/// `--scale web=3 --scale db=1`.
fn parse_scale(values: &[String]) -> miette::Result<BTreeMap<String, u32>> {
    values
        .iter()
        .map(|v| {
            let (service, n) = v
                .split_once('=')
                .ok_or_else(|| miette::miette!("--scale {v:?}: expected SERVICE=N"))?;
            let n = n
                .parse::<u32>()
                .map_err(|_| miette::miette!("--scale {v:?}: {n:?} is not a number"))?;
            Ok((service.to_string(), n))
        })
        .collect()
}

/// `--wait`: every selected container running, and healthy when it has a
/// healthcheck; a container that exits is a failure unless it exited 0 and
/// a service depends on it completing.
fn wait_healthy(
    engine: &Host,
    project: &stack_engine::spec::Project,
    services: &[String],
    limit: Option<Duration>,
) -> miette::Result<ExitCode> {
    use stack_engine::supervise::{
        evaluate_dependency, Condition, Dependency, GateState, ServiceObserver,
    };
    let completes: Vec<&str> = project
        .services
        .values()
        .flat_map(|s| s.depends_on.iter())
        .filter(|(_, d)| {
            d.condition == stack_engine::spec::DependencyCondition::ServiceCompletedSuccessfully
        })
        .map(|(name, _)| name.as_str())
        .collect();
    let names: Vec<&String> = project
        .services
        .keys()
        .filter(|s| services.is_empty() || services.contains(s))
        .collect();
    let mut observer = apply::HostObserver {
        containers: &engine.containers,
        project: &project.name,
    };
    let began = Instant::now();
    loop {
        let mut waiting = Vec::new();
        for name in &names {
            let observed = observer.observe(name);
            let condition = if completes.contains(&name.as_str()) {
                Condition::CompletedSuccessfully
            } else if observed.as_ref().is_some_and(|o| o.has_healthcheck) {
                Condition::Healthy
            } else {
                Condition::Started
            };
            let dep = Dependency {
                service: name.to_string(),
                condition,
                required: true,
            };
            if condition == Condition::Started {
                if let Some(o) = &observed {
                    if let Some(code) = o.replicas.iter().find_map(|r| r.exit()) {
                        miette::bail!("service {name} exited (code {code})");
                    }
                }
            }
            match evaluate_dependency(&dep, observed.as_ref()) {
                GateState::Satisfied | GateState::Skipped(_) => {}
                GateState::Waiting(w) => waiting.push(w),
                GateState::Failed(reason) => miette::bail!("{reason}"),
            }
        }
        if waiting.is_empty() {
            return Ok(ExitCode::SUCCESS);
        }
        if limit.is_some_and(|l| began.elapsed() >= l) {
            miette::bail!("timed out waiting for {}", waiting.join(", "));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

//! `stack watch [SERVICE...]`: the dev loop. Source edits are synced into
//! the running containers (then a restart or an exec, as `develop.watch`
//! says), and stack file edits are reloaded and handed to the applier.
//!
//! `stack up --watch` calls [`watch_project`] (with `up: false`) once its
//! containers are up.

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use clap::Args;
use miette::IntoDiagnostic;
use stack_engine::apply::{self, Outcome, UpOptions};
use stack_engine::containers::Containers;
use stack_engine::plan::{Action, PlanOptions};
use stack_engine::spec::Project;
use stack_engine::watch::{self, StackApplier, Timing, WatchEvent, WatchOptions};

use crate::global::{HostArgs, ProjectArgs};

/// Arguments of `stack watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Services to watch (default: every service with `develop.watch`).
    services: Vec<String>,
    /// Do not bring the stack up before watching.
    #[arg(long)]
    no_up: bool,
    /// Accepted as Compose's flag; stack rebuilds no images, so there are
    /// no dangling images to prune.
    #[arg(long)]
    prune: bool,
    /// Print only problems and stack file reloads, not every batch.
    #[arg(long)]
    quiet: bool,
}

pub fn run(host: &HostArgs, project: &ProjectArgs, args: WatchArgs) -> miette::Result<ExitCode> {
    let _ = args.prune;
    watch_project(host, project, &args.services, !args.no_up, args.quiet)
}

/// Watches the project until interrupted. With `up`, the project is
/// brought up first (through the applier).
pub fn watch_project(
    host: &HostArgs,
    project: &ProjectArgs,
    services: &[String],
    up: bool,
    quiet: bool,
) -> miette::Result<ExitCode> {
    let paths = host.paths();
    let containers = Containers::new(&paths);
    let load = super::project::load_options(project, services);
    let applier = EngineApplier {
        host: apply::Host::open(&paths).into_diagnostic()?,
    };
    let opts = WatchOptions {
        services: services.to_vec(),
        timing: Timing::default(),
        up,
    };
    // Ctrl-C ends the process; nothing is left half-made between batches.
    let stop = AtomicBool::new(false);
    let mut print = |event: WatchEvent| print_event(&event, quiet);
    watch::run(&load, &containers, &applier, &opts, &stop, &mut print).into_diagnostic()?;
    Ok(ExitCode::SUCCESS)
}

fn print_event(event: &WatchEvent, quiet: bool) {
    match event {
        WatchEvent::Batch(b) if quiet && b.errors.is_empty() => {}
        WatchEvent::Watching { .. } if quiet => {}
        WatchEvent::StackInvalid(_)
        | WatchEvent::ApplyFailed(_)
        | WatchEvent::Warning(_)
        | WatchEvent::RebuildFailed { .. } => {
            eprintln!("{event}")
        }
        _ => println!("{event}"),
    }
}

/// Brings the running stack to a changed stack file through the engine's
/// apply, as `stack up` does: new services started, changed ones
/// recreated, removed ones (orphans now) removed, the rest untouched. The
/// plan is printed first so the user sees what a save is about to do.
struct EngineApplier {
    host: apply::Host,
}

impl StackApplier for EngineApplier {
    fn apply(&self, project: &Project) -> Result<(), apply::ApplyError> {
        self.up(
            project,
            PlanOptions {
                remove_orphans: true,
                ..Default::default()
            },
        )
    }

    fn rebuild(&self, project: &Project, service: &str) -> Result<(), apply::ApplyError> {
        self.up(
            project,
            PlanOptions {
                build: Some(true),
                no_deps: true,
                services: vec![service.to_string()],
                ..Default::default()
            },
        )
    }
}

impl EngineApplier {
    fn up(&self, project: &Project, plan_opts: PlanOptions) -> Result<(), apply::ApplyError> {
        let prepared = crate::switch::waiting(&project.name, || {
            apply::prepare_up(&self.host, project, &plan_opts)
        })?;
        if prepared.plan.actions.is_empty() {
            return Ok(());
        }
        print!("{}", prepared.plan.render_text());
        let opts = UpOptions {
            plan: plan_opts,
            parallel: apply::default_parallelism(),
        };
        let progress = |action: &Action, outcome: &Outcome| {
            if let Outcome::Failed(e) = outcome {
                eprintln!("{action}: failed: {}", e.kind);
            }
        };
        apply::up(&self.host, project, prepared, &opts, &progress).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::commands::Cli;
    use crate::commands::Command;

    #[test]
    fn watch_takes_services_and_its_flags() {
        let cli = Cli::try_parse_from([
            "stack", "-f", "s.yaml", "watch", "web", "api", "--no-up", "--prune", "--quiet",
        ])
        .expect("parses");
        let Command::Watch(args) = cli.command else {
            panic!("not watch: {:?}", cli.command)
        };
        assert_eq!(args.services, ["web", "api"]);
        assert!(args.no_up && args.prune && args.quiet);
        let cli = Cli::try_parse_from(["stack", "watch"]).expect("parses");
        let Command::Watch(args) = cli.command else {
            panic!("not watch")
        };
        assert!(args.services.is_empty() && !args.no_up && !args.quiet);
    }
}

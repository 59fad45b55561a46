//! `stack down`: stop and remove a project's containers in reverse
//! dependency order, then its networks, and with `-v` its named volumes.
//! Works without the stack file (`-p NAME`): the store and the containers'
//! labels say what the project has.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use miette::IntoDiagnostic;
use stack_engine::apply::{self, Host, Outcome};
use stack_engine::paths::HostPaths;
use stack_engine::plan::{Action, DownOptions};

use super::project;
use crate::global::{HostArgs, ProjectArgs};

/// Arguments of `stack down`.
#[derive(Debug, Args)]
pub struct DownArgs {
    /// Seconds to wait for each container to stop before killing it.
    #[arg(short = 't', long, value_name = "SECONDS")]
    timeout: Option<u64>,
    /// Also remove the project's named volumes.
    #[arg(short = 'v', long)]
    volumes: bool,
    /// Also remove containers of services no longer in the stack file.
    #[arg(long)]
    remove_orphans: bool,
    /// Print the plan and change nothing.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(
    host: &HostArgs,
    project_args: &ProjectArgs,
    args: DownArgs,
) -> miette::Result<ExitCode> {
    // The file, when there is one, tells orphans from services; without
    // it (`-p NAME` alone) every container of the project goes.
    let (name, file_services) = match project::load(project_args, &[]) {
        Ok(p) => (
            p.name.clone(),
            Some(p.services.keys().cloned().collect::<BTreeSet<_>>()),
        ),
        Err(err) => match project::name(project_args) {
            Ok(name) if project_args.project_name.is_some() || project_args.files.is_empty() => {
                (name, None)
            }
            _ => return Err(err),
        },
    };
    let paths = HostPaths::resolve(host.state_root.clone(), None, host.config_file.clone());
    let engine = Host::open(&paths).into_diagnostic()?;
    let opts = DownOptions {
        remove_volumes: args.volumes,
        remove_orphans: args.remove_orphans,
        file_services,
    };
    let plan = apply::prepare_down(&engine, &name, &opts).into_diagnostic()?;
    if args.dry_run {
        print!("{}", plan.render_text());
        return Ok(ExitCode::SUCCESS);
    }
    for warning in &plan.warnings {
        eprintln!("warning: {warning}");
    }
    let progress = |action: &Action, outcome: &Outcome| match outcome {
        Outcome::Done => eprintln!("{action}: done"),
        Outcome::Failed(e) => eprintln!("{action}: failed: {e}"),
    };
    apply::down(
        &engine,
        &plan,
        args.timeout.map(Duration::from_secs),
        apply::default_parallelism(),
        &progress,
    )
    .into_diagnostic()?;
    Ok(ExitCode::SUCCESS)
}

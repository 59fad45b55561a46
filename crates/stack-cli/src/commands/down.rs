//! `stack down`: stop and remove a project's containers in reverse
//! dependency order, then its networks, and with `-v` its named volumes.
//! Works without the stack file (`-p NAME`): the store and the containers'
//! labels say what the project has.

use std::collections::BTreeSet;
use std::process::ExitCode;

use clap::Args;
use stack_api::projects::DownRequest;

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
    let req = DownRequest {
        remove_volumes: args.volumes,
        remove_orphans: args.remove_orphans,
        file_services: file_services.map(|s| s.into_iter().collect()),
        timeout: args.timeout,
    };
    if args.dry_run {
        // Planning only reads; it needs no daemon.
        let paths = host.paths();
        let prepared = stack_engine::facade::Engine::new(paths)
            .prepare_down(&name, &req)
            .map_err(|e| miette::miette!("{e}"))?;
        print!("{}", prepared.plan().render_text());
        return Ok(ExitCode::SUCCESS);
    }
    let printer = crate::progress::Printer::new(host.progress, "Running");
    let via = crate::switch::choose(host)?;
    crate::switch::waiting(&name, || {
        via.api()
            .project_down(&name, &req, &|e| printer.project_event(e))
    })?;
    Ok(ExitCode::SUCCESS)
}

//! `start`, `stop`, `restart`, `kill`, `pause`, `unpause` and `rm` of a
//! project's services:
//! stops in reverse dependency order, starts in dependency order, the
//! containers of one wave in parallel. The work is the daemon's shared
//! operation (through the daemon or in this process); this side reads the
//! stack file, when there is one, and prints the outcomes.

use std::process::ExitCode;

use clap::Args;
use stack_api::project_actions::ProjectAction;
use stack_api::project_actions::{ActionOutcome, ActionRequest, ActionResult};

use crate::global::{HostArgs, ProjectArgs};
use crate::progress::{Mark, Printer};

use super::targets::context;

/// `stack start [SERVICE...]`.
#[derive(Debug, Args)]
pub struct StartArgs {
    services: Vec<String>,
}

/// `stack stop [-t N] [SERVICE...]`.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait for a container to stop before killing it
    /// (default: each container's stop timeout).
    #[arg(short = 't', long = "timeout")]
    timeout: Option<u64>,
    services: Vec<String>,
}

/// `stack restart [-t N] [SERVICE...]`.
#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Seconds to wait for a container to stop before killing it.
    #[arg(short = 't', long = "timeout")]
    timeout: Option<u64>,
    services: Vec<String>,
}

/// `stack kill [-s SIGNAL] [SERVICE...]`.
#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal to send (name or number).
    #[arg(short = 's', long = "signal", default_value = "SIGKILL")]
    signal: String,
    services: Vec<String>,
}

/// `stack pause [SERVICE...]` and `stack unpause [SERVICE...]`.
#[derive(Debug, Args)]
pub struct PauseArgs {
    services: Vec<String>,
}

/// `stack rm [-f|--force] [-s] [-v] [SERVICE...]`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Remove running containers too, killing them (`-f` after `rm` means
    /// this; before the verb it names a stack file).
    #[arg(long)]
    force: bool,
    /// Stop running containers gracefully, then remove them.
    #[arg(short = 's', long)]
    stop: bool,
    /// Accepted for Compose compatibility: containers here have no
    /// anonymous volumes to remove.
    #[arg(short = 'v', long)]
    volumes: bool,
    services: Vec<String>,
}

/// Prints one line per container as Compose does
/// (` Container NAME  Stopped`) and every error; false when any step
/// failed.
fn report(printer: &Printer, outcomes: &[ActionOutcome]) -> bool {
    let mut ok = true;
    for outcome in outcomes {
        match outcome.result {
            ActionResult::Acted => {
                printer.step("Container", &outcome.name, &outcome.step, Mark::Done, "")
            }
            ActionResult::Skipped => {}
            ActionResult::Failed => {
                ok = false;
                let error = outcome.error.as_deref().unwrap_or("failed");
                printer.step("Container", &outcome.name, "Error", Mark::Failed, error);
            }
        }
    }
    ok
}

/// Runs `action` with `req` (its services and options) on the project the
/// global flags name, filling in what the stack file declares.
fn act(
    host: &HostArgs,
    project: &ProjectArgs,
    action: ProjectAction,
    mut req: ActionRequest,
) -> miette::Result<ExitCode> {
    let ctx = context(host, project, &req.services)?;
    req.declared = ctx.declared.into_iter().collect();
    req.waves = ctx.waves;
    let via = crate::switch::choose(host)?;
    let answer = crate::switch::waiting(&ctx.name, || {
        via.api().project_action(&ctx.name, action, &req)
    })?;
    let title = match action {
        ProjectAction::Stop => "Stopping",
        ProjectAction::Restart => "Restarting",
        ProjectAction::Kill => "Killing",
        ProjectAction::Pause => "Pausing",
        ProjectAction::Unpause => "Unpausing",
        ProjectAction::Remove => "Removing",
        ProjectAction::Start => "Running",
    };
    Ok(
        if report(&Printer::new(host.progress, title), &answer.outcomes) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

pub fn start(host: &HostArgs, project: &ProjectArgs, args: StartArgs) -> miette::Result<ExitCode> {
    let req = ActionRequest {
        services: args.services,
        ..Default::default()
    };
    act(host, project, ProjectAction::Start, req)
}

pub fn stop(host: &HostArgs, project: &ProjectArgs, args: StopArgs) -> miette::Result<ExitCode> {
    let req = ActionRequest {
        services: args.services,
        timeout: args.timeout,
        ..Default::default()
    };
    act(host, project, ProjectAction::Stop, req)
}

pub fn restart(
    host: &HostArgs,
    project: &ProjectArgs,
    args: RestartArgs,
) -> miette::Result<ExitCode> {
    let req = ActionRequest {
        services: args.services,
        timeout: args.timeout,
        ..Default::default()
    };
    act(host, project, ProjectAction::Restart, req)
}

pub fn kill(host: &HostArgs, project: &ProjectArgs, args: KillArgs) -> miette::Result<ExitCode> {
    let req = ActionRequest {
        services: args.services,
        signal: Some(args.signal),
        ..Default::default()
    };
    act(host, project, ProjectAction::Kill, req)
}

pub fn pause(host: &HostArgs, project: &ProjectArgs, args: PauseArgs) -> miette::Result<ExitCode> {
    let req = ActionRequest {
        services: args.services,
        ..Default::default()
    };
    act(host, project, ProjectAction::Pause, req)
}

pub fn unpause(
    host: &HostArgs,
    project: &ProjectArgs,
    args: PauseArgs,
) -> miette::Result<ExitCode> {
    let req = ActionRequest {
        services: args.services,
        ..Default::default()
    };
    act(host, project, ProjectAction::Unpause, req)
}

pub fn rm(host: &HostArgs, project: &ProjectArgs, args: RmArgs) -> miette::Result<ExitCode> {
    let _ = args.volumes;
    let req = ActionRequest {
        services: args.services,
        force: args.force,
        stop: args.stop,
        ..Default::default()
    };
    act(host, project, ProjectAction::Remove, req)
}

//! `start`, `stop`, `restart`, `kill` and `rm` of a project's services:
//! stops in reverse dependency order, starts in dependency order, the
//! containers of one wave in parallel.

use std::process::ExitCode;

use clap::Args;
use stack_engine::project::actions::{self, RemoveRunning};

use crate::global::{HostArgs, ProjectArgs};

use super::targets::{report, targets};

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

/// `stack rm [--force] [-s] [-v] [SERVICE...]`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Remove running containers too, killing them (long form only: `-f`
    /// names stack files).
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

fn exit(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

pub fn start(host: &HostArgs, project: &ProjectArgs, args: StartArgs) -> miette::Result<ExitCode> {
    let t = targets(host, project, &args.services)?;
    let store = &t.context.store;
    let waves = t.selection.start_waves(&t.context.waves);
    let outcomes = actions::run_waves(&waves, false, |r| actions::start(store, r));
    Ok(exit(report(&outcomes, "Started", "")))
}

pub fn stop(host: &HostArgs, project: &ProjectArgs, args: StopArgs) -> miette::Result<ExitCode> {
    let t = targets(host, project, &args.services)?;
    let store = &t.context.store;
    let waves = t.selection.stop_waves(&t.context.waves);
    let outcomes = actions::run_waves(&waves, true, |r| actions::stop(store, r, args.timeout));
    Ok(exit(report(&outcomes, "Stopped", "")))
}

pub fn restart(
    host: &HostArgs,
    project: &ProjectArgs,
    args: RestartArgs,
) -> miette::Result<ExitCode> {
    let t = targets(host, project, &args.services)?;
    let store = &t.context.store;
    let stopped = actions::run_waves(&t.selection.stop_waves(&t.context.waves), true, |r| {
        actions::stop(store, r, args.timeout)
    });
    if !report(&stopped, "Stopped", "") {
        return Ok(ExitCode::FAILURE);
    }
    let started = actions::run_waves(&t.selection.start_waves(&t.context.waves), false, |r| {
        actions::start(store, r)
    });
    Ok(exit(report(&started, "Started", "")))
}

pub fn kill(host: &HostArgs, project: &ProjectArgs, args: KillArgs) -> miette::Result<ExitCode> {
    let signal = super::run::parse_signal(&args.signal)?;
    let t = targets(host, project, &args.services)?;
    let store = &t.context.store;
    let all: Vec<_> = t.selection.all().collect();
    let outcomes = actions::run_waves(&[all], true, |r| actions::kill(store, r, signal));
    Ok(exit(report(&outcomes, "Killed", "")))
}

pub fn rm(host: &HostArgs, project: &ProjectArgs, args: RmArgs) -> miette::Result<ExitCode> {
    let _ = args.volumes;
    let running = if args.force {
        RemoveRunning::Kill
    } else if args.stop {
        RemoveRunning::Stop
    } else {
        RemoveRunning::Refuse
    };
    let t = targets(host, project, &args.services)?;
    let store = &t.context.store;
    let waves = t.selection.stop_waves(&t.context.waves);
    let outcomes = actions::run_waves(&waves, true, |r| actions::remove(store, r, running));
    Ok(exit(report(&outcomes, "Removed", "")))
}

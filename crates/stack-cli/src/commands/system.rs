//! `stack system check [--repair]`: what disagrees between the state
//! database, the container records and the host, and its repair. Runs in
//! this process, on the state root of this host, even when a daemon is
//! running: it is the way back when the daemon cannot start.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use stack_engine::system_check;

use crate::global::HostArgs;

/// Arguments of `stack system`.
#[derive(Debug, Args)]
pub struct SystemArgs {
    #[command(subcommand)]
    command: SystemCommand,
}

#[derive(Debug, Subcommand)]
enum SystemCommand {
    /// Report what is inconsistent between the database, the container
    /// records and the host; exit 1 when something is.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Also repair: move a damaged database aside and rebuild it, rebuild
    /// damaged container states, remove leftovers nobody uses.
    #[arg(long)]
    repair: bool,
}

pub fn run(host: &HostArgs, args: SystemArgs) -> miette::Result<ExitCode> {
    let SystemCommand::Check(check) = args.command;
    let paths = host.paths();
    if !check.repair {
        let inv = system_check::check(&paths);
        for f in &inv.findings {
            println!("found: {}", f.what);
        }
        if inv.findings.is_empty() {
            println!("no problems found");
            return Ok(ExitCode::SUCCESS);
        }
        println!("run `stack system check --repair` to repair what can be repaired");
        return Ok(ExitCode::FAILURE);
    }
    let repaired = system_check::repair(&paths).map_err(|e| miette::miette!("{e}"))?;
    for line in &repaired.found {
        println!("found: {line}");
    }
    for line in &repaired.done {
        println!("done: {line}");
    }
    for line in &repaired.left {
        println!("left: {line}");
    }
    if repaired.found.is_empty() && repaired.done.is_empty() && repaired.left.is_empty() {
        println!("no problems found");
    }
    Ok(if repaired.left.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

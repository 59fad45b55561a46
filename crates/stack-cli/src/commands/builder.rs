//! `stack builder prune`: the build cache forgotten and its space
//! reclaimed.

use clap::{Args, Subcommand};

use crate::global::HostArgs;
use crate::progress::human_size;

/// Arguments of `stack builder`.
#[derive(Debug, Args)]
pub struct BuilderArgs {
    #[command(subcommand)]
    pub command: BuilderCommand,
}

/// The `builder` subcommands.
#[derive(Debug, Subcommand)]
pub enum BuilderCommand {
    /// Remove the build cache: its entries, the `RUN --mount=type=cache`
    /// directories, the layers no image uses, and what interrupted builds
    /// left (their step containers and temporary directories).
    Prune {
        /// Accepted for Docker compatibility; prune never asks.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(host: &HostArgs, args: &BuilderArgs) -> miette::Result<()> {
    match args.command {
        BuilderCommand::Prune { force: _ } => {
            let report = stack_engine::build::prune_cache(&host.paths())
                .map_err(|e| miette::miette!("{e}"))?;
            println!(
                "Removed {} cache entr{}, {} cache mount(s) ({}) and {} layer blob(s) ({}); reclaimed {}",
                report.entries.len(),
                if report.entries.len() == 1 { "y" } else { "ies" },
                report.mounts,
                human_size(report.mount_bytes),
                report.store.blobs,
                human_size(report.store.bytes),
                human_size(report.mount_bytes + report.store.bytes)
            );
            let left = &report.leftovers;
            if left.containers + left.dirs > 0 {
                println!(
                    "Removed what interrupted builds left: {} step container(s), {} temporary director{}",
                    left.containers,
                    left.dirs,
                    if left.dirs == 1 { "y" } else { "ies" }
                );
            }
        }
    }
    Ok(())
}

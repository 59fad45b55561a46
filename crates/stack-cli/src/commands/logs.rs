//! `stack logs`: the merged logs of a project's containers (see
//! [`crate::follow::logs`]), here or through the daemon.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Args;

use super::project;
use crate::follow::logs::{Multiplexer, Style};
use crate::global::{HostArgs, ProjectArgs};

/// Arguments of `stack logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Keep printing new lines (`-f` too, as in Docker).
    #[arg(long)]
    follow: bool,
    /// Lines to show from the end of each container's log, or `all`.
    #[arg(short = 'n', long, value_name = "N")]
    tail: Option<String>,
    /// Only lines since a time (RFC 3339) or a duration ago (`10m`, `1h30m`).
    #[arg(long)]
    since: Option<String>,
    /// Show each line's timestamp.
    #[arg(short = 't', long)]
    timestamps: bool,
    /// Print lines without the service prefix.
    #[arg(long)]
    no_log_prefix: bool,
    /// Produce monochrome output (no colored prefixes on a terminal).
    #[arg(long)]
    no_color: bool,
    /// Only the replica with this number (`web-2`: 2) of the one service
    /// named.
    #[arg(long, value_name = "N")]
    index: Option<u32>,
    /// Only these services.
    services: Vec<String>,
}

pub fn run(
    host: &HostArgs,
    project_args: &ProjectArgs,
    args: LogsArgs,
) -> miette::Result<ExitCode> {
    let name = project::name(project_args)?;
    let tail = match args.tail.as_deref() {
        None | Some("all") => None,
        Some(n) => Some(
            n.parse::<usize>()
                .map_err(|_| miette::miette!("--tail {n:?}: expected a number or `all`"))?,
        ),
    };
    let since = args.since.as_deref().map(parse_since).transpose()?;
    if args.index.is_some() && args.services.len() != 1 {
        // Compose's words: a replica number means nothing across services.
        miette::bail!("--index requires one service to be selected");
    }
    let style = Style::new(
        !args.no_log_prefix,
        args.timestamps,
        !args.no_color && std::io::stdout().is_terminal(),
    );
    let via = crate::switch::choose(host)?;
    let (members, mut source) = via.project_session(&name, &args.services, args.index)?;
    if let (Some(n), true) = (args.index, members.is_empty()) {
        miette::bail!(
            "service {:?} has no container with index {n}",
            args.services[0]
        );
    }
    let mux = Multiplexer::new(&members, style);
    mux.print_existing(source.existing()?, tail, since.as_deref());
    if args.follow {
        mux.follow(source.as_mut(), || false);
    }
    Ok(ExitCode::SUCCESS)
}

/// `10m`, `1h30m`, `45s` -> an RFC 3339 time that long ago; an RFC 3339
/// time as is. Log times are RFC 3339 UTC, so they compare as text.
fn parse_since(text: &str) -> miette::Result<String> {
    if text.contains('T') {
        return Ok(text.to_string());
    }
    let ago = stack_engine::spec::Duration::parse(text)
        .map_err(|e| miette::miette!("--since {text:?}: {e}"))?
        .0;
    let then = std::time::SystemTime::now()
        .checked_sub(ago)
        .unwrap_or(std::time::UNIX_EPOCH);
    Ok(stack_engine::timefmt::format(then))
}

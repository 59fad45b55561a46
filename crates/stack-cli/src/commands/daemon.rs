//! `stack daemon`: the long-running API server on a UNIX socket.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use miette::IntoDiagnostic;

use crate::global::HostArgs;

/// Arguments of `stack daemon`.
#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Socket to listen on (default: $STACK_RUN/stack.sock, /run/stack/stack.sock).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Also listen on this socket (e.g. /var/run/docker.sock, for tools
    /// that hard-code Docker's path); the same APIs and the same access
    /// check as the main socket.
    #[arg(long, value_name = "PATH")]
    docker_socket: Option<PathBuf>,
    /// Log filter: error, warn, info, debug, trace, or tracing's directives.
    #[arg(long, default_value = "info", value_name = "LEVEL")]
    log_level: String,
    /// Append logs to this file instead of stderr.
    #[arg(long, value_name = "FILE")]
    log_file: Option<PathBuf>,
    /// Stop every running container when the daemon shuts down (default:
    /// containers keep running; their monitors stay with them).
    #[arg(long)]
    shutdown_stops: bool,
}

pub fn run(host: &HostArgs, args: DaemonArgs) -> miette::Result<ExitCode> {
    let paths = host.paths();
    // A bad config file stops the daemon at once, not at the first pull.
    stack_engine::config::Config::load(&paths.config_file)?;
    stack_daemon::init_logging(&args.log_level, args.log_file.as_deref()).into_diagnostic()?;
    let socket = args.socket.unwrap_or_else(|| paths.daemon_socket());
    stack_daemon::run(stack_daemon::Options {
        paths,
        socket,
        docker_socket: args.docker_socket,
        shutdown_stops: args.shutdown_stops,
    })
    .into_diagnostic()?;
    Ok(ExitCode::SUCCESS)
}

//! `stack exec SERVICE CMD...`: a command in a running container of a
//! service (replica `--index`, default 1), its exit code passed through
//! as Compose does. In process the command shares this terminal's
//! standard streams; through the daemon it gets a pty of its own (when
//! stdin is a terminal and `-T` is not given) or pipes, so it is
//! interactive whenever `stack` is. `-d` always runs in process.

use std::process::ExitCode;

use clap::Args;
use miette::IntoDiagnostic;
use stack_engine::project::ProjectError;

use crate::global::{HostArgs, ProjectArgs};

use super::targets::targets;

/// Arguments of `stack exec`.
#[derive(Debug, Args)]
#[command(trailing_var_arg = true)]
pub struct ExecArgs {
    /// Run the command in the background.
    #[arg(short = 'd', long)]
    detach: bool,
    /// Keep stdin attached (the default, as Compose).
    #[arg(short = 'i', long, default_value_t = true)]
    interactive: bool,
    /// Do not give the command this terminal (it gets no stdin).
    #[arg(short = 'T', long = "no-TTY")]
    no_tty: bool,
    /// Accepted for Compose compatibility: the command shares this
    /// terminal whenever stdin is one.
    #[arg(short = 't', long)]
    tty: bool,
    /// Set an environment variable (`K=V`).
    #[arg(short = 'e', long = "env", value_name = "K=V")]
    env: Vec<String>,
    /// User: name, uid, name:group or uid:gid.
    #[arg(short = 'u', long)]
    user: Option<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long)]
    workdir: Option<String>,
    /// Which replica of the service (container number).
    #[arg(long, default_value_t = 1)]
    index: u32,
    /// Run with every capability and no confinement (not supported).
    #[arg(long)]
    privileged: bool,
    service: String,
    #[arg(allow_hyphen_values = true, required = true)]
    command: Vec<String>,
}

pub fn run(host: &HostArgs, project: &ProjectArgs, args: ExecArgs) -> miette::Result<ExitCode> {
    if args.privileged {
        miette::bail!("exec --privileged is not supported");
    }
    let _ = (args.interactive, args.tty);
    let services = [args.service.clone()];
    let t = targets(host, project, &services)?;
    let record = t
        .selection
        .replica(&args.service, args.index)
        .into_diagnostic()?;
    if !record.is_running_now() {
        return Err(ProjectError::NotRunning(args.service.clone())).into_diagnostic();
    }
    // KEY alone passes this environment's value on, as Compose does.
    let env = args
        .env
        .iter()
        .filter_map(|e| match e.split_once('=') {
            Some(_) => Some(e.clone()),
            None => std::env::var(e).ok().map(|v| format!("{e}={v}")),
        })
        .collect();
    let via = crate::switch::choose(host)?;
    // stdin attached unless -T (or -d); a terminal when this one is and -T
    // is not given. Without a daemon the exec helper runs here with this
    // process's streams; through it, over an attached stream.
    let tty = !args.no_tty && !args.detach && crate::switch::exec::terminal::is_terminal(0);
    let req = crate::switch::exec::request(
        args.command,
        env,
        args.user,
        args.workdir,
        tty,
        !args.no_tty && !args.detach,
    );
    if args.detach {
        // Started here, whoever else serves this host: the command runs in
        // the container and nobody waits for it.
        stack_engine::facade::Engine::new(host.paths())
            .exec_detached(&record.spec.id, &req)
            .into_diagnostic()?;
        return Ok(ExitCode::SUCCESS);
    }
    let code = via.exec(&record.spec.id, &req)?;
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}

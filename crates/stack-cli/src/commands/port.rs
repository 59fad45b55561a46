//! `stack port SERVICE PRIVATE_PORT`: the host address a container port of
//! a service replica is published on, as `docker compose port` prints it.

use std::process::ExitCode;

use clap::Args;
use miette::IntoDiagnostic;
use stack_engine::project::ports::{find, published};

use crate::global::{HostArgs, ProjectArgs};

use super::targets::targets;

/// Arguments of `stack port`.
#[derive(Debug, Args)]
pub struct PortArgs {
    /// `tcp` or `udp`.
    #[arg(long, default_value = "tcp")]
    protocol: String,
    /// Which replica of the service (container number).
    #[arg(long, default_value_t = 1)]
    index: u32,
    service: String,
    /// The container port.
    private_port: u16,
}

pub fn run(host: &HostArgs, project: &ProjectArgs, args: PortArgs) -> miette::Result<ExitCode> {
    let protocol = args.protocol.to_ascii_lowercase();
    if protocol != "tcp" && protocol != "udp" {
        miette::bail!("--protocol {:?}: use tcp or udp", args.protocol);
    }
    let services = [args.service.clone()];
    let t = targets(host, project, &services)?;
    let record = t
        .selection
        .replica(&args.service, args.index)
        .into_diagnostic()?;
    let ports = published(&t.context.store.state_root, &record.spec.id).into_diagnostic()?;
    match find(&ports, args.private_port, &protocol) {
        Some(binding) => {
            println!("{binding}");
            Ok(ExitCode::SUCCESS)
        }
        None => miette::bail!(
            "no port {}/{protocol} of {} is published",
            args.private_port,
            record.spec.name
        ),
    }
}

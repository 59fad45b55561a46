//! `stack version`: this binary, and the daemon when one does the work.

use std::process::ExitCode;

use crate::global::HostArgs;

pub fn run(host: &HostArgs) -> miette::Result<ExitCode> {
    println!("Client: stack {}", env!("CARGO_PKG_VERSION"));
    match crate::switch::choose(host)?.server_version()? {
        Some(v) => println!(
            "Server: stack {} (API v{}, {}/{}, pid {})",
            v.version, v.api_version, v.os, v.arch, v.pid
        ),
        None => println!("Server: none (the engine runs in this process)"),
    }
    Ok(ExitCode::SUCCESS)
}

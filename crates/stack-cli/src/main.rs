//! The `stack` command: parses arguments and hands each verb to its module
//! under `commands/`. Output and exit codes follow Docker's where Docker has
//! the same verb.

mod commands;
mod global;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = global::Cli::parse();
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(1)
        }
    }
}

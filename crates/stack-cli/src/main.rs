//! The `stack` command: parses arguments and hands each verb to its module
//! under `commands/`. Output and exit codes follow Docker's where Docker has
//! the same verb.

mod argv;
mod commands;
mod follow;
mod global;
mod progress;
mod switch;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    if let Some(code) = hidden_mode() {
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    let command = commands::Cli::command();
    let argv = argv::docker_shorts(std::env::args_os().collect(), &command);
    let matches = command.get_matches_from(argv);
    let cli = match commands::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    let checked = match matches.subcommand_name() {
        Some(verb) if !cli.command.takes_project() => {
            global::refuse_project_flags(verb, &cli.project)
        }
        _ => Ok(()),
    };
    match checked.and_then(|()| commands::dispatch(cli)) {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(1)
        }
    }
}

/// The helper modes (container monitor, exec, DNS resolver, network
/// release), chosen by argv[1] before any argument parsing.
fn hidden_mode() -> Option<i32> {
    stack_engine::helper_modes::run(std::env::args_os().skip(1))
}

//! A verb that exists in the product but is not built yet: it accepts any
//! arguments and exits non-zero with one line saying so, so scripts fail
//! loudly instead of doing nothing.

use std::process::ExitCode;

use clap::Args;

/// Exit status of a verb that is not built yet.
const NOT_BUILT: u8 = 3;

/// Arguments of a verb that is not built yet (all accepted, none used).
#[derive(Debug, Args)]
pub struct Unbuilt {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

impl Unbuilt {
    pub fn report(&self, verb: &str) -> ExitCode {
        eprintln!("stack {verb}: not built yet in this version of stack");
        ExitCode::from(NOT_BUILT)
    }
}

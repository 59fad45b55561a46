//! The helper processes the `stack` binary re-executes itself as: the
//! container monitor and the exec helper (runtime), the DNS resolver and
//! the network release (networking). Each is chosen by the first argument,
//! before any argument parsing, so a helper starts as fast as it can; the
//! front end only hands its arguments here.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::containers::network::{self, resolver};

/// Runs the helper `args` names (the binary's arguments after its own
/// name) and answers its exit code; `None`: not a helper invocation.
pub fn run(args: impl IntoIterator<Item = OsString>) -> Option<i32> {
    let mut args = args.into_iter();
    let mode = args.next()?;
    let mut path = || args.next().map(PathBuf::from);
    if mode == stack_runtime::launch::MONITOR_MODE {
        let dir = path()?;
        return Some(stack_runtime::monitor::main(&dir));
    }
    if mode == stack_runtime::launch::EXEC_MODE {
        let dir = path()?;
        let request = path()?.to_string_lossy().into_owned();
        return Some(stack_runtime::exec::main(&dir, &request));
    }
    if mode == resolver::RESOLVER_MODE {
        let state_root = path()?;
        let run_dir = path()?;
        return Some(resolver::main(&state_root, &run_dir));
    }
    if mode == network::RELEASE_MODE {
        let state_root = path()?;
        let run_dir = path()?;
        let id = path()?.to_string_lossy().into_owned();
        return Some(network::release_main(&state_root, &run_dir, &id));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_arguments_are_not_a_helper() {
        assert_eq!(run(["up", "-d"].map(OsString::from)), None);
        assert_eq!(run(Vec::<OsString>::new()), None);
    }

    #[test]
    fn a_helper_mode_without_its_arguments_is_not_run() {
        let mode = OsString::from(stack_runtime::launch::MONITOR_MODE);
        assert_eq!(run([mode]), None);
    }
}

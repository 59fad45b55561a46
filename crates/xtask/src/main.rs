//! Developer entry points, so a fresh machine with only Rust needs nothing
//! else first: `cargo xtask <task>` (aliases: `cargo demo`, `cargo test-all`).
//! The justfile calls the same tasks.
//!
//! - `demo`     install what the demo needs, then a tour of stack on a local registry
//! - `test`     install what the tests need, then run the whole suite
//! - `lint`     cargo fmt --check, clippy -D warnings, and the shape rules
//!   (no file over 600 lines, no import circle between files)
//! - `ci`       lint, then test (what `.ci/run` runs)
//! - `bench`    the benchmarks, side by side with the peers that are installed
//!   (`--peers` installs them first)
//! - `deps`     only install the system packages and tools
//! - `fixtures` build the test images (target/fixtures) if out of date

mod demo;
mod deps;
mod fixtures;
mod run;
mod structure;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match task {
        "deps" => deps::ensure_all(),
        "test" => deps::ensure_all()
            .and_then(|()| fixtures::ensure().map(drop))
            .and_then(|()| run::test(rest)),
        "lint" => run::lint(),
        "ci" => deps::ensure_all()
            .and_then(|()| fixtures::ensure().map(drop))
            .and_then(|()| run::lint())
            .and_then(|()| run::test(rest)),
        "demo" => deps::ensure_all()
            .and_then(|()| fixtures::ensure())
            .and_then(|dir| demo::run(&dir, rest)),
        "bench" => {
            // `--peers` installs Docker, Podman, buildah and
            // podman-compose first; the rest goes to `cargo bench`.
            let peers = rest.iter().any(|a| a == "--peers");
            let rest: Vec<String> = rest.iter().filter(|a| *a != "--peers").cloned().collect();
            deps::ensure_all()
                .and_then(|()| if peers { deps::ensure_peers() } else { Ok(()) })
                .and_then(|()| fixtures::ensure().map(drop))
                .and_then(|()| run::bench(&rest))
        }
        "fixtures" => fixtures::ensure().map(|dir| println!("{}", dir.display())),
        "help" | "-h" | "--help" => {
            println!("usage: cargo xtask <demo|test|lint|ci|bench|deps|fixtures> [args]");
            Ok(())
        }
        other => Err(format!("unknown task {other:?}; try `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {task}: {message}");
            ExitCode::FAILURE
        }
    }
}

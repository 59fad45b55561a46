//! The tasks themselves.

use std::process::Command;

/// Runs a command, inheriting output; an error names the command.
pub fn checked(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|err| format!("cannot start {:?}: {err}", cmd.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({status})"))
    }
}

/// The whole test suite: every crate's unit tests, privileged tests in their
/// sandboxes, and end-to-end tests against the built binary.
pub fn test(extra: &[String]) -> Result<(), String> {
    checked(
        Command::new("cargo")
            .args(["nextest", "run", "--workspace", "--no-fail-fast"])
            .args(extra),
    )?;
    checked(Command::new("cargo").args(["test", "--workspace", "--doc", "--quiet"]))
}

/// Formatting and lints, warnings as errors.
pub fn lint() -> Result<(), String> {
    checked(Command::new("cargo").args(["fmt", "--all", "--check"]))?;
    checked(Command::new("cargo").args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--quiet",
        "--",
        "-D",
        "warnings",
    ]))
}

/// Benchmarks, side by side with whichever peers are installed.
pub fn bench(extra: &[String]) -> Result<(), String> {
    checked(
        Command::new("cargo")
            .args(["bench", "--workspace"])
            .args(extra),
    )?;
    // Image pull + unpack against skopeo + umoci (and podman when present).
    checked(Command::new("bash").arg("tests/bench/image-pull.sh"))?;
    // Memory and CPU of idle container monitors, with and without healthchecks.
    checked(Command::new("bash").arg("tests/bench/monitor-memory.sh"))?;
    // Network setup + teardown per container (and podman's when present).
    checked(Command::new("bash").arg("tests/bench/network.sh"))?;
    // Daemon memory and container-list latency over the API.
    checked(Command::new("bash").arg("tests/bench/daemon.sh"))?;
    // up -d / down -t 0 of 10 and 100 services (and Compose, podman-compose).
    checked(Command::new("bash").arg("tests/bench/up-down.sh"))
}

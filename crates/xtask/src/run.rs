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
    // The CLI's end-to-end tests of the project and container verbs once
    // more, each sandbox's commands going through a daemon of its own, so
    // both paths are held to the same results.
    checked(
        Command::new("cargo")
            .args(["nextest", "run", "-p", "stack-cli", "--no-fail-fast", "-E"])
            .arg(VIA_DAEMON_TESTS)
            .env("STACK_TEST_VIA_DAEMON", "1")
            .args(extra),
    )?;
    checked(Command::new("cargo").args(["test", "--workspace", "--doc", "--quiet"]))
}

/// The test binaries of `stack-cli` that drive `up`, `down`, `ps`, `logs`,
/// `run` and the container verbs (the daemon's own tests start their own
/// daemon and are left out).
const VIA_DAEMON_TESTS: &str = "binary(=up_basic) | binary(=up_attached) | binary(=up_crash) \
    | binary(=up_example) | binary(=up_gating) | binary(=up_network) | binary(=project_verbs) | binary(=project_events) \
    | binary(=project_verbs_up) | binary(=project_pause) | binary(=run_basic) | binary(=run_lifecycle) \
    | binary(=run_pause) | binary(=run_update) \
    | binary(=run_service) | binary(=run_supervise) | binary(=watch_up) | binary(=volume_e2e) \
    | binary(=network_e2e) | binary(=up_isolation) | binary(=pull_services)";

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
    ]))?;
    let workspace = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    crate::structure::check(&workspace)
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
    // Image builds (and BuildKit, buildah).
    checked(Command::new("bash").arg("tests/bench/build.sh"))?;
    // up -d / down -t 0 of 10 and 100 services (and Compose, podman-compose).
    checked(Command::new("bash").arg("tests/bench/up-down.sh"))?;
    // The docker CLI and Compose through stack's socket and through dockerd.
    checked(Command::new("bash").arg("tests/bench/docker-api.sh"))?;
    // The example up for 10 minutes with healthchecks every second: monitor
    // CPU, memory, children and the containers' pids must stay flat.
    checked(Command::new("bash").arg("tests/bench/soak.sh"))
}

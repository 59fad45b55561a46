//! The per-test sandbox: re-exec under fresh namespaces, temporary paths.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Set in the environment of the inner, sandboxed run of a test.
const INSIDE_VAR: &str = "STACK_TESTKIT_INSIDE";

/// A test's private world: its own network and mount namespace (already
/// entered) and temporary stack locations. Removes its directories on drop.
#[derive(Debug)]
pub struct Sandbox {
    dir: PathBuf,
    /// Temporary state root (`STACK_ROOT`).
    pub state_root: PathBuf,
    /// Temporary runtime directory (`STACK_RUN`).
    pub run_dir: PathBuf,
    /// Config file path (`STACK_CONFIG`); absent until the test writes it.
    pub config_file: PathBuf,
    /// Cgroup parent for this test's containers (`STACK_CGROUP_PARENT`),
    /// below `stack/` as DESIGN.md requires, unique per test process.
    pub cgroup_parent: String,
}

/// Enters the sandbox for the calling test (see the crate docs).
///
/// Returns `None` in the outer process once the sandboxed run has passed, or
/// when the test is skipped for lack of root.
pub fn sandbox() -> Option<Sandbox> {
    if std::env::var_os(INSIDE_VAR).is_some() {
        return Some(Sandbox::create().unwrap_or_else(|err| panic!("sandbox setup: {err}")));
    }
    let test_name = std::thread::current()
        .name()
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("sandbox() must be called from a #[test] thread"));
    if !nix::unistd::geteuid().is_root() {
        if std::env::var("STACK_TEST_PRIVILEGED").as_deref() == Ok("1") {
            panic!("{test_name}: needs root (STACK_TEST_PRIVILEGED=1 makes this a failure)");
        }
        eprintln!("skipped {test_name}: needs root (set STACK_TEST_PRIVILEGED=1 to fail instead)");
        return None;
    }
    run_inside_namespaces(&test_name);
    None
}

fn run_inside_namespaces(test_name: &str) {
    let exe = std::env::current_exe().unwrap_or_else(|err| panic!("current_exe: {err}"));
    let status = Command::new("unshare")
        .args(["--net", "--mount", "--propagation", "private", "--"])
        .arg(&exe)
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(INSIDE_VAR, "1")
        .status()
        .unwrap_or_else(|err| panic!("cannot run unshare (util-linux): {err}"));
    assert!(
        status.success(),
        "{test_name} failed inside its sandbox ({status}); its output is above"
    );
}

static SEQUENCE: AtomicUsize = AtomicUsize::new(0);

impl Sandbox {
    fn create() -> std::io::Result<Sandbox> {
        run_checked(Command::new("ip").args(["link", "set", "lo", "up"]))?;
        let unique = format!(
            "stack-test-{}-{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let dir = std::env::temp_dir().join(&unique);
        let state_root = dir.join("root");
        let run_dir = dir.join("run");
        std::fs::create_dir_all(&state_root)?;
        std::fs::create_dir_all(&run_dir)?;
        Ok(Sandbox {
            config_file: dir.join("config.toml"),
            cgroup_parent: format!("stack/{unique}"),
            state_root,
            run_dir,
            dir,
        })
    }

    /// Scratch directory of this sandbox, for the test's own files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Environment that points a `stack` process at this sandbox.
    pub fn env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        vec![
            ("STACK_ROOT", self.state_root.clone().into_os_string()),
            ("STACK_RUN", self.run_dir.clone().into_os_string()),
            ("STACK_CONFIG", self.config_file.clone().into_os_string()),
            ("STACK_CGROUP_PARENT", self.cgroup_parent.clone().into()),
        ]
    }

    /// A command for `program` with [`Sandbox::env`] applied.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.envs(self.env());
        cmd
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Mounts die with the mount namespace; files on the host filesystem
        // do not, so the scratch directory is removed here.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(crate) fn run_checked(cmd: &mut Command) -> std::io::Result<String> {
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(std::io::Error::other(format!(
            "{:?} failed: {}",
            cmd,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

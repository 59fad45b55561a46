//! The per-test sandbox: re-exec under fresh namespaces, temporary paths.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::via_daemon::SandboxDaemon;

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
    /// The daemon of the via-daemon mode, once started.
    pub(crate) daemon: Mutex<Option<SandboxDaemon>>,
    /// Set by [`Sandbox::stay_in_process`].
    pub(crate) in_process_only: AtomicBool,
    /// Set by [`Sandbox::use_daemon`].
    pub(crate) force_daemon: AtomicBool,
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
        // The modes stack gives a state root and runtime dir it makes
        // (stack_engine::private_dirs), so commands have nothing to fix.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&state_root, std::fs::Permissions::from_mode(0o700))?;
        std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o711))?;
        Ok(Sandbox {
            config_file: dir.join("config.toml"),
            cgroup_parent: format!("stack/{unique}"),
            state_root,
            run_dir,
            dir,
            daemon: Mutex::new(None),
            in_process_only: AtomicBool::new(false),
            force_daemon: AtomicBool::new(false),
        })
    }

    /// Scratch directory of this sandbox, for the test's own files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Environment that points a `stack` process at this sandbox (and, in
    /// the via-daemon mode once its daemon runs, at that daemon).
    pub fn env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        let mut env = self.base_env();
        env.extend(self.daemon_env());
        env
    }

    /// The sandbox's paths, without `STACK_HOST`.
    pub(crate) fn base_env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        vec![
            ("STACK_ROOT", self.state_root.clone().into_os_string()),
            ("STACK_RUN", self.run_dir.clone().into_os_string()),
            ("STACK_CONFIG", self.config_file.clone().into_os_string()),
            ("STACK_CGROUP_PARENT", self.cgroup_parent.clone().into()),
        ]
    }

    /// A command for `program` with [`Sandbox::env`] applied. In the
    /// via-daemon mode, the first `stack` command starts the daemon.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        self.ensure_daemon(program.as_ref());
        let mut cmd = Command::new(program);
        cmd.envs(self.env());
        cmd
    }
}

impl Drop for Sandbox {
    /// Runs on success and on panic alike, so a failing test leaves nothing
    /// on the host either. Leaks are asserted by [`Sandbox::assert_no_leaks`]
    /// before this; here everything is removed regardless.
    fn drop(&mut self) {
        self.stop_daemon();
        // A failed test may leave containers running: their monitors live
        // outside any cgroup of ours, their processes inside the sandbox's
        // cgroup parent. Kill both, or they outlive the test on the host.
        self.kill_leftover_processes();
        // Mounts die with the mount namespace, but while it lives a mount
        // point (a netns file, say) cannot be unlinked: detach them first.
        for point in self.mount_points_inside() {
            let _ = nix::mount::umount2(point.as_str(), nix::mount::MntFlags::MNT_DETACH);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        self.remove_cgroup_parent();
    }
}

impl Sandbox {
    /// SIGKILLs every `stack` helper process (monitor, resolver) whose
    /// command line names this sandbox's directory, and every process in
    /// its cgroup parent.
    fn kill_leftover_processes(&self) {
        let dir = self.dir.to_string_lossy().into_owned();
        let me = std::process::id();
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let Some(pid) = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<u32>().ok())
                else {
                    continue;
                };
                if pid == me {
                    continue;
                }
                let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline);
                if cmdline.contains("__stack-") && cmdline.contains(dir.as_str()) {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid as i32),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
        }
        let Ok(hierarchies) = std::fs::read_dir("/sys/fs/cgroup") else {
            return;
        };
        for h in hierarchies.flatten() {
            let parent = h.path().join(&self.cgroup_parent);
            // A paused container's processes take a SIGKILL only once
            // thawed: a test that failed while one was paused would leave
            // it frozen on the host for good.
            for state in walk_files(&parent, "freezer.state") {
                let _ = std::fs::write(state, "THAWED");
            }
            for freeze in walk_files(&parent, "cgroup.freeze") {
                let _ = std::fs::write(freeze, "0");
            }
            for procs in walk_files(&parent, "cgroup.procs") {
                for pid in std::fs::read_to_string(&procs).unwrap_or_default().lines() {
                    if let Ok(pid) = pid.trim().parse::<i32>() {
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(pid),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                    }
                }
            }
        }
    }

    /// Mount points below the scratch directory, deepest first.
    fn mount_points_inside(&self) -> Vec<String> {
        let dir = self.dir.to_string_lossy().into_owned();
        let mut points: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.split_whitespace().nth(4))
            .filter(|point| point.starts_with(&dir))
            .map(str::to_owned)
            .collect();
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        points
    }

    /// Removes this test's cgroup parent (and any empty child left by a
    /// failed test) in every hierarchy. cgroups are not namespaced by the
    /// sandbox, so without this they would stay on the host. A v1 cgroup
    /// can refuse removal for a moment after its last task left: retry.
    pub(crate) fn remove_cgroup_parent(&self) {
        let Ok(hierarchies) = std::fs::read_dir("/sys/fs/cgroup") else {
            return;
        };
        for h in hierarchies.flatten() {
            let parent = h.path().join(&self.cgroup_parent);
            if !parent.is_dir() {
                continue;
            }
            for _ in 0..20 {
                let children: Vec<_> = std::fs::read_dir(&parent)
                    .map(|d| d.flatten().filter(|e| e.path().is_dir()).collect())
                    .unwrap_or_default();
                for child in children {
                    let _ = std::fs::remove_dir(child.path());
                }
                if std::fs::remove_dir(&parent).is_ok() || !parent.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
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

/// Every file named `name` below `dir` (cgroup trees are shallow).
fn walk_files(dir: &std::path::Path, name: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk_files(&path, name));
        } else if entry.file_name() == name {
            out.push(path);
        }
    }
    out
}

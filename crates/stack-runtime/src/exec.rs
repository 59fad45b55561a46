//! `exec`: a new process in a running container. The hidden exec mode of
//! the `stack` binary joins the container's cgroup and every namespace of
//! its first process (setns affects only the calling thread, and this
//! helper has just one), forks so the child lands in the PID namespace, and
//! the child becomes the process with the same user, capability and seccomp
//! rules as the first one.

use std::os::fd::AsFd;
use std::path::Path;

use nix::sched::CloneFlags;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};
use serde::{Deserialize, Serialize};

use crate::error::{Context, Error};
use crate::spec::{ContainerDir, ContainerSpec};
use crate::state::State;

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ExecRequest {
    pub args: Vec<String>,
    /// Added to the container's environment (`KEY=VALUE`).
    #[serde(default)]
    pub env: Vec<String>,
    /// Empty: the container's user.
    #[serde(default)]
    pub user: String,
    /// Empty: the container's working directory.
    #[serde(default)]
    pub cwd: String,
}

/// Options of the hidden exec mode read from the same JSON as the
/// request (unknown to [`ExecRequest`], so callers that do not need them
/// are unaffected).
#[derive(Debug, Default, Deserialize)]
struct HelperOptions {
    /// The caller gave this helper a pty (from the container's devpts) as
    /// stdin/stdout/stderr: the command starts its own session with it as
    /// controlling terminal, so it gets SIGHUP when the other end closes
    /// and SIGWINCH on resize, as `docker exec -t` does. The daemon's
    /// attached exec sets it; the in-process exec shares the caller's
    /// terminal and does not.
    #[serde(default)]
    tty: bool,
}

/// Exit status of an exec whose command could not be started: 127 when it
/// does not exist, else 126 (the shell's and Docker's convention).
fn cannot_run_status(err: &Error) -> i32 {
    let text = err.to_string();
    if text.contains("not found in $PATH") || text.contains("No such file or directory") {
        CANNOT_FIND
    } else {
        126
    }
}

/// Exit status of an exec whose command does not exist (the shell's and
/// Docker's convention).
pub const CANNOT_FIND: i32 = 127;

/// PATH when the container's environment has none (runc's and Docker's).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Why `req`'s command cannot be found in the container whose root
/// filesystem is seen at `root` (`/proc/<pid>/root`), looked up as runc
/// will: on the PATH of `env` (the container's) with the request's own
/// additions, symlinks resolved inside the root. `None` when it is there.
/// runc answers a missing command with its own status 255; the caller
/// answers 127 with this error, as the native exec helper does.
pub fn missing_command(root: &Path, env: &[String], req: &ExecRequest) -> Option<Error> {
    let name = req.args.first()?;
    let executable = |path: &str| crate::kernel::executable_in_root(root, path);
    if name.contains('/') {
        let absolute = if name.starts_with('/') {
            name.clone()
        } else {
            format!("/{name}")
        };
        return (!executable(&absolute))
            .then(|| Error::Setup(format!("exec {name:?}: No such file or directory")));
    }
    // The request's own PATH wins over the container's; the last one of each.
    let path = req
        .env
        .iter()
        .rev()
        .chain(env.iter().rev())
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    let found = path
        .split(':')
        .filter(|d| !d.is_empty())
        .any(|dir| executable(&format!("{dir}/{name}")));
    (!found).then(|| Error::Setup(format!("exec {name:?}: executable file not found in $PATH")))
}

/// Entry point of the hidden exec mode.
pub fn main(dir: &Path, request: &str) -> i32 {
    match run(&ContainerDir::new(dir), request) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("stack exec: {err}");
            126
        }
    }
}

fn run(dir: &ContainerDir, request: &str) -> Result<i32, Error> {
    let req: ExecRequest =
        serde_json::from_str(request).map_err(|e| Error::invalid("exec request", e.to_string()))?;
    let options: HelperOptions =
        serde_json::from_str(request).map_err(|e| Error::invalid("exec request", e.to_string()))?;
    let spec = ContainerSpec::load(dir)?;
    let state = State::load(dir)?;
    let pid = state
        .pid
        .filter(|_| state.container_alive())
        .ok_or_else(|| Error::NotRunning(spec.name.clone()))?;
    let root = Path::new(crate::cgroup::CGROUP_ROOT);
    let layout = crate::cgroup::Layout::detect(root)?;
    crate::cgroup::Cgroup::at(root, &layout, &spec.cgroup_path)
        .join_existing(std::process::id() as i32)?;
    // Open every namespace first: /proc of the host is gone after mnt.
    let order = [
        ("cgroup", CloneFlags::CLONE_NEWCGROUP),
        ("ipc", CloneFlags::CLONE_NEWIPC),
        ("uts", CloneFlags::CLONE_NEWUTS),
        ("net", CloneFlags::CLONE_NEWNET),
        ("pid", CloneFlags::CLONE_NEWPID),
        ("mnt", CloneFlags::CLONE_NEWNS),
    ];
    let mut files = Vec::new();
    for (name, flag) in order {
        let path = format!("/proc/{pid}/ns/{name}");
        files.push((
            std::fs::File::open(&path).context(|| format!("open {path}"))?,
            flag,
            name,
        ));
    }
    for (file, flag, name) in &files {
        nix::sched::setns(file.as_fd(), *flag).context(|| format!("join the {name} namespace"))?;
    }
    drop(files);
    let mut env = spec.process.env.clone();
    for e in &req.env {
        let key = e.split('=').next().unwrap_or_default();
        env.retain(|x| x.split('=').next() != Some(key));
        env.push(e.clone());
    }
    let user = if req.user.is_empty() {
        spec.process.user.clone()
    } else {
        req.user.clone()
    };
    let cwd = if req.cwd.is_empty() {
        spec.process.cwd.clone()
    } else {
        req.cwd.clone()
    };
    // SAFETY: this helper process is single-threaded.
    match unsafe { fork() }.context(|| "fork".to_string())? {
        ForkResult::Child => {
            let err = (|| {
                if options.tty {
                    take_terminal()?;
                }
                let prepared = crate::process::prepare(&req.args, &env, &user, &spec.security)?;
                let cwd = if cwd.is_empty() { "/".to_string() } else { cwd };
                nix::unistd::chdir(cwd.as_str())
                    .context(|| format!("working directory {cwd:?}"))?;
                Ok::<_, Error>(crate::process::switch_and_exec(&prepared))
            })()
            .unwrap_or_else(|e| e);
            eprintln!("stack exec: {err}");
            let status = cannot_run_status(&err);
            // SAFETY: leave the forked child without running destructors.
            unsafe { libc::_exit(status) }
        }
        ForkResult::Parent { child } => loop {
            match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => return Ok(code),
                Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
                Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(Error::sys("wait for the exec'd process", e)),
            }
        },
    }
}

/// A new session whose controlling terminal is stdin (a pty slave).
fn take_terminal() -> Result<(), Error> {
    nix::unistd::setsid().map_err(|e| Error::sys("start a session", e))?;
    // SAFETY: TIOCSCTTY on our stdin, a pty slave; no memory involved.
    if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } != 0 {
        return Err(Error::sys(
            "make the pty the controlling terminal",
            nix::errno::Errno::last(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_commands_exit_127_other_failures_126() {
        let missing = crate::process::find_executable("nope", "/nonexistent").expect_err("none");
        assert_eq!(cannot_run_status(&missing), 127);
        assert_eq!(
            cannot_run_status(&Error::Setup("permission denied".into())),
            126
        );
    }

    #[test]
    fn commands_are_looked_up_inside_the_root_on_its_path() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile_root();
        std::fs::create_dir_all(root.join("bin")).expect("bin");
        std::fs::create_dir_all(root.join("opt/tools")).expect("opt");
        std::fs::write(root.join("bin/busybox"), "").expect("busybox");
        std::fs::set_permissions(
            root.join("bin/busybox"),
            std::fs::Permissions::from_mode(0o755),
        )
        .expect("chmod");
        std::os::unix::fs::symlink("busybox", root.join("bin/sh")).expect("applet");
        std::os::unix::fs::symlink("/bin/busybox", root.join("opt/tools/abs")).expect("link");
        std::fs::write(root.join("bin/plain"), "").expect("not executable");
        let env = vec!["PATH=/bin".to_string()];
        let req = |args: &[&str], extra: &[&str]| ExecRequest {
            args: args.iter().map(|a| a.to_string()).collect(),
            env: extra.iter().map(|a| a.to_string()).collect(),
            ..Default::default()
        };
        assert!(missing_command(&root, &env, &req(&["sh", "-c", "true"], &[])).is_none());
        assert!(missing_command(&root, &env, &req(&["/bin/sh"], &[])).is_none());
        let missing = missing_command(&root, &env, &req(&["nope"], &[])).expect("missing");
        assert_eq!(cannot_run_status(&missing), 127);
        assert!(missing_command(&root, &env, &req(&["plain"], &[])).is_some());
        // A link to an absolute path resolves inside the root.
        assert!(missing_command(&root, &env, &req(&["abs"], &[])).is_some());
        assert!(missing_command(&root, &env, &req(&["abs"], &["PATH=/opt/tools"])).is_none());
        assert!(
            missing_command(&root, &[], &req(&["sh"], &[])).is_none(),
            "default PATH"
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    fn tempfile_root() -> std::path::PathBuf {
        let root = std::env::temp_dir().join(format!("stack-exec-lookup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        root
    }

    #[test]
    fn helper_options_default_off_and_ignore_the_request_fields() {
        let json = serde_json::to_string(&ExecRequest {
            args: vec!["true".into()],
            ..Default::default()
        })
        .expect("json");
        let options: HelperOptions = serde_json::from_str(&json).expect("options");
        assert!(!options.tty);
        let options: HelperOptions =
            serde_json::from_str(r#"{"args":["sh"],"tty":true}"#).expect("options");
        assert!(options.tty);
    }
}

//! One run of the container's first process, as the monitor starts it:
//! its stdio, the /etc files, the cgroup and namespaces (or runc), and the
//! clean-up after it exited. The restart loop around it is
//! [`super::supervisor`].

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::wait::waitpid;
use nix::unistd::{fork, pipe2, ForkResult, Pid};

use crate::cgroup::{Cgroup, Layout, CGROUP_ROOT};
use crate::error::{Context, Error};
use crate::spec::{Backend, ContainerDir, ContainerSpec, NetworkNamespace, SharedNamespace};

/// The container side and the monitor side of the output.
struct Stdio {
    child_in: OwnedFd,
    child_out: OwnedFd,
    child_err: OwnedFd,
    /// Read ends for the monitor: (fd, stream name).
    sources: Vec<(OwnedFd, &'static str)>,
    /// A pty master that also takes the user's input.
    pty_master: Option<OwnedFd>,
}

fn dev_null() -> Result<OwnedFd, Error> {
    nix::fcntl::open(
        "/dev/null",
        OFlag::O_RDWR | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .context(|| "open /dev/null".to_string())
}

/// The monitor's own stdin, for the container (an attached `stack run -i`).
pub(crate) fn dup_stdin() -> Result<OwnedFd, Error> {
    std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .context(|| "dup stdin".to_string())
}

fn make_stdio(spec: &ContainerSpec, dir: &ContainerDir) -> Result<Stdio, Error> {
    if spec.process.tty {
        let pty = nix::pty::openpty(None, None).context(|| "open a pty".to_string())?;
        // Size the pty like the user's terminal, when there is one.
        // SAFETY: TIOCGWINSZ/TIOCSWINSZ read and write a winsize struct.
        unsafe {
            let mut ws: libc::winsize = std::mem::zeroed();
            if libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) == 0 {
                libc::ioctl(pty.master.as_raw_fd(), libc::TIOCSWINSZ, &ws);
            }
        }
        let slave = pty.slave;
        return Ok(Stdio {
            child_in: slave.try_clone().context(|| "dup pty".to_string())?,
            child_out: slave.try_clone().context(|| "dup pty".to_string())?,
            child_err: slave,
            sources: Vec::new(),
            pty_master: Some(pty.master),
        });
    }
    let child_in = if spec.process.stdin {
        match crate::input::open_read(dir, true)? {
            Some(fifo) => fifo,
            None => dup_stdin()?,
        }
    } else {
        dev_null()?
    };
    let (out_r, out_w) = pipe2(OFlag::O_CLOEXEC).context(|| "stdout pipe".to_string())?;
    let (err_r, err_w) = pipe2(OFlag::O_CLOEXEC).context(|| "stderr pipe".to_string())?;
    Ok(Stdio {
        child_in,
        child_out: out_w,
        child_err: err_w,
        sources: vec![(out_r, "stdout"), (err_r, "stderr")],
        pty_master: None,
    })
}

fn write_etc_files(spec: &ContainerSpec, dir: &ContainerDir) -> Result<(), Error> {
    let h = &spec.hostname;
    let hosts = format!(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{h}\n"
    );
    // Host nameservers on loopback mean nothing inside another netns.
    let resolv: String = std::fs::read_to_string("/etc/resolv.conf")
        .unwrap_or_default()
        .lines()
        .filter(|l| !(l.starts_with("nameserver") && (l.contains(" 127.") || l.contains(" ::1"))))
        .map(|l| format!("{l}\n"))
        .collect();
    for (name, text) in [
        ("hostname", format!("{h}\n")),
        ("hosts", hosts),
        ("resolv.conf", resolv),
    ] {
        let path = dir.etc_file(name);
        if spec.network != NetworkNamespace::Private && path.exists() {
            continue; // written by the engine for the container's networks
        }
        std::fs::write(&path, text).context(|| format!("write {}", path.display()))?;
    }
    Ok(())
}

/// One run of the container's first process, as started by the monitor.
pub(crate) struct Process {
    pub pid: Pid,
    pub cgroup: Cgroup,
    /// Read ends for the monitor: (fd, stream name).
    pub sources: Vec<(OwnedFd, &'static str)>,
    pub pty_master: Option<OwnedFd>,
}

/// Makes the directories and /etc files every run shares (once per monitor).
pub(crate) fn prepare(spec: &ContainerSpec, dir: &ContainerDir) -> Result<(), Error> {
    make_overlay_dirs(dir)?;
    write_etc_files(spec, dir)
}

/// The overlay's upper, work and mount point directories, where missing.
pub(crate) fn make_overlay_dirs(dir: &ContainerDir) -> Result<(), Error> {
    for d in [dir.upper(), dir.work(), dir.rootfs()] {
        std::fs::create_dir_all(&d).context(|| format!("create {}", d.display()))?;
    }
    Ok(())
}

/// Starts the first process in a fresh cgroup and PID namespace, with the
/// same rootfs (upper directory kept) and network namespace each time.
pub(crate) fn start_process(spec: &ContainerSpec, dir: &ContainerDir) -> Result<Process, Error> {
    let stdio = make_stdio(spec, dir)?;
    let root = Path::new(CGROUP_ROOT);
    let (pid, cgroup) = match spec.backend {
        Backend::Stack => {
            let layout = Layout::detect(root)?;
            let cgroup = Cgroup::at(root, &layout, &spec.cgroup_path);
            let devices = crate::devices::rules(
                spec.security.privileged,
                &spec.devices,
                &spec.device_cgroup_rules,
            );
            cgroup
                .create(root, &spec.resources, devices.as_deref())
                .inspect_err(|_| {
                    let _ = cgroup.remove();
                })?;
            match start_native(spec, dir, &cgroup, &stdio) {
                Ok(pid) => (pid, cgroup),
                Err(err) => {
                    let _ = cgroup.remove();
                    return Err(err);
                }
            }
        }
        Backend::Runc => crate::runc::start(spec, dir, &stdio_for_runc(&stdio))?,
    };
    let Stdio {
        sources,
        pty_master,
        child_in,
        child_out,
        child_err,
    } = stdio;
    drop((child_in, child_out, child_err));
    Ok(Process {
        pid,
        cgroup,
        sources,
        pty_master,
    })
}

/// After the process exited: whether the OOM killer ended it, and the
/// removal of what the run left (cgroup, runc state, the overlay mount).
pub(crate) fn clean_up_run(
    spec: &ContainerSpec,
    dir: &ContainerDir,
    cgroup: &Cgroup,
) -> (bool, Result<(), Error>) {
    let oom_killed = cgroup.oom_kills() > 0;
    crate::backend::of(spec.backend).forget_run(spec, dir);
    (oom_killed, cgroup.remove())
}

/// Runs the spec's `on_removal` command and waits for it; its failure is
/// recorded in the log of the monitor's caller, never fatal to the exit.
pub(crate) fn run_removal_hook(spec: &ContainerSpec) {
    let Some((program, args)) = spec.on_removal.split_first() else {
        return;
    };
    // Children of the monitor go to the container's PID namespace, whose
    // init is gone: fork there fails (ENOMEM). Point new children back at
    // the monitor's own namespace.
    if let Ok(own) = std::fs::File::open("/proc/self/ns/pid") {
        let _ = nix::sched::setns(own, nix::sched::CloneFlags::CLONE_NEWPID);
    }
    let status = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status();
    if let Err(err) = status {
        eprintln!("stack: release of container {}: {err}", spec.name);
    }
}

fn stdio_for_runc(stdio: &Stdio) -> [i32; 3] {
    [
        stdio.child_in.as_raw_fd(),
        stdio.child_out.as_raw_fd(),
        stdio.child_err.as_raw_fd(),
    ]
}

/// Makes the next child the first process of a fresh PID namespace, a
/// process of the host's, or one of another container's (`pid: host`,
/// `pid: container:db`).
fn pid_namespace_for_children(mode: &SharedNamespace) -> Result<(), Error> {
    match crate::namespaces::pid_plan(mode) {
        Some(op) => crate::kernel::Kernel::run(&mut crate::kernel::Linux::default(), &op),
        None => Ok(()),
    }
}

/// Points the monitor's later children back at its own PID namespace, so
/// healthcheck helpers are not made inside the container's namespace
/// (where a killed container could not finish dying until they are
/// reaped), and the next restart can `unshare` a fresh one again.
fn own_pid_namespace_for_children() -> Result<(), Error> {
    let own = std::fs::File::open("/proc/self/ns/pid")
        .context(|| "open /proc/self/ns/pid".to_string())?;
    nix::sched::setns(own.as_fd(), CloneFlags::CLONE_NEWPID)
        .context(|| "return to the monitor's PID namespace".to_string())
}

fn start_native(
    spec: &ContainerSpec,
    dir: &ContainerDir,
    cgroup: &Cgroup,
    stdio: &Stdio,
) -> Result<Pid, Error> {
    let cgroup_mounts = crate::rootfs::host_cgroup_mounts();
    let (go_r, go_w) = pipe2(OFlag::O_CLOEXEC).context(|| "sync pipe".to_string())?;
    let (report_r, report_w) = pipe2(OFlag::O_CLOEXEC).context(|| "report pipe".to_string())?;
    let dup = |fd: &OwnedFd| fd.try_clone().context(|| "dup stdio".to_string());
    let (child_in, child_out, child_err) = (
        dup(&stdio.child_in)?,
        dup(&stdio.child_out)?,
        dup(&stdio.child_err)?,
    );
    // Only children enter the new (or shared) PID namespace; a new one
    // has the first child as its init.
    pid_namespace_for_children(&spec.pid)?;
    // SAFETY: the monitor is single-threaded.
    let child = match unsafe { fork() }.context(|| "fork the container process".to_string())? {
        ForkResult::Child => {
            drop((go_w, report_r));
            let io = crate::child::ChildIo {
                go: go_r,
                report: report_w,
                stdin: child_in,
                stdout: child_out,
                stderr: child_err,
            };
            crate::child::run(spec, dir, &cgroup_mounts, io)
        }
        ForkResult::Parent { child } => child,
    };
    drop((go_r, report_w, child_in, child_out, child_err));
    let released = own_pid_namespace_for_children()
        .and_then(|()| cgroup.join(child.as_raw()))
        .and_then(|()| {
            std::fs::File::from(go_w)
                .write_all(b"1")
                .context(|| "release the container process".to_string())
        });
    if let Err(err) = released {
        let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
        let _ = waitpid(child, None);
        return Err(err);
    }
    let mut message = String::new();
    let _ = std::fs::File::from(report_r).read_to_string(&mut message);
    if !message.is_empty() {
        let _ = waitpid(child, None);
        return Err(Error::Setup(message));
    }
    Ok(child)
}

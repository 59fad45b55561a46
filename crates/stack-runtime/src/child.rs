//! The container's first process, from fork to exec. It runs in a fresh
//! PID namespace (the monitor unshared it before forking), waits until the
//! monitor has put it in its cgroup, then creates the other namespaces,
//! builds the rootfs and becomes the container's process. Any error is sent
//! back over the report pipe with its context, since after pivot_root
//! nothing printed here would be seen.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::sched::CloneFlags;

use crate::error::{Context, Error};
use crate::kernel::{Kernel, Linux};
use crate::rootfs::CgroupMount;
use crate::spec::{ContainerDir, ContainerSpec, NetworkNamespace, SharedNamespace};

/// Descriptors the first process starts with.
pub struct ChildIo {
    /// Readable; one byte arrives once the cgroup is joined.
    pub go: OwnedFd,
    /// Close-on-exec; an error message is written here on failure.
    pub report: OwnedFd,
    pub stdin: OwnedFd,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// Never returns: execs the container process or exits with status 127.
pub fn run(spec: &ContainerSpec, dir: &ContainerDir, cgroups: &[CgroupMount], io: ChildIo) -> ! {
    let mut report = std::fs::File::from(io.report);
    let err = setup_and_exec(
        spec,
        dir,
        cgroups,
        io.go,
        io.stdin,
        io.stdout,
        io.stderr,
        report.as_raw_fd(),
    );
    let _ = report.write_all(err.to_string().as_bytes());
    // SAFETY: _exit skips atexit handlers inherited from the monitor.
    unsafe { libc::_exit(127) }
}

#[allow(clippy::too_many_arguments)]
fn setup_and_exec(
    spec: &ContainerSpec,
    dir: &ContainerDir,
    cgroups: &[CgroupMount],
    go: OwnedFd,
    stdin: OwnedFd,
    stdout: OwnedFd,
    stderr: OwnedFd,
    report_fd: i32,
) -> Error {
    match prepare(spec, dir, cgroups, go, stdin, stdout, stderr, report_fd) {
        Ok(prepared) => crate::process::switch_and_exec(&prepared),
        Err(err) => err,
    }
}

#[allow(clippy::too_many_arguments)]
fn prepare(
    spec: &ContainerSpec,
    dir: &ContainerDir,
    cgroups: &[CgroupMount],
    go: OwnedFd,
    stdin: OwnedFd,
    stdout: OwnedFd,
    stderr: OwnedFd,
    report_fd: i32,
) -> Result<crate::process::Prepared, Error> {
    let mut byte = [0u8; 1];
    std::fs::File::from(go)
        .read_exact(&mut byte)
        .context(|| "wait for the cgroup to be joined".to_string())?;
    for (fd, target) in [(&stdin, 0), (&stdout, 1), (&stderr, 2)] {
        // SAFETY: dup2 onto the standard descriptors of this process.
        if unsafe { libc::dup2(fd.as_raw_fd(), target) } < 0 {
            return Err(Error::io(
                format!("set up fd {target}"),
                std::io::Error::last_os_error(),
            ));
        }
    }
    drop((stdin, stdout, stderr));
    enter_network(&spec.network)?;
    let mut fresh =
        CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWCGROUP;
    match &spec.ipc {
        SharedNamespace::Private => fresh |= CloneFlags::CLONE_NEWIPC,
        SharedNamespace::Host => {}
        SharedNamespace::Container { dir } => {
            let ns = namespace_of(dir, "ipc")?;
            nix::sched::setns(ns.as_fd(), CloneFlags::CLONE_NEWIPC)
                .context(|| format!("join the IPC namespace of {}", dir.display()))?;
        }
    }
    nix::sched::unshare(fresh).context(|| "create namespaces".to_string())?;
    nix::unistd::sethostname(&spec.hostname)
        .context(|| format!("set hostname {:?}", spec.hostname))?;
    let mut kernel = Linux::in_root(dir.rootfs());
    for op in crate::rootfs::plan(spec, dir, cgroups, &kernel) {
        kernel.run(&op)?;
    }
    crate::process::apply_rlimits(&spec.process.rlimits)?;
    let prepared = crate::process::prepare(
        &spec.process.args,
        &spec.process.env,
        &spec.process.user,
        &spec.security,
    )?;
    let cwd = if spec.process.cwd.is_empty() {
        "/"
    } else {
        spec.process.cwd.as_str()
    };
    if !spec.read_only {
        let _ = std::fs::create_dir_all(cwd);
    }
    nix::unistd::chdir(cwd).context(|| format!("working directory {cwd:?}"))?;
    if spec.init {
        crate::init::become_init(report_fd)?;
    }
    nix::unistd::setsid().context(|| "setsid".to_string())?;
    if spec.process.tty {
        // SAFETY: TIOCSCTTY on our stdin, a pty slave; no memory involved.
        if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } != 0 {
            return Err(Error::io(
                "make the pty the controlling terminal",
                std::io::Error::last_os_error(),
            ));
        }
    }
    Ok(prepared)
}

/// The `kind` namespace (`pid`, `ipc`) of the running container whose
/// directory is `dir`, opened through its process; an error names the
/// container when it is not running, since joining needs a live member.
pub(crate) fn namespace_of(dir: &std::path::Path, kind: &str) -> Result<std::fs::File, Error> {
    let state = crate::state::State::load(&ContainerDir::new(dir))?;
    let pid = state
        .pid
        .filter(|_| state.container_alive())
        .ok_or_else(|| {
            Error::Setup(format!(
                "cannot share the {kind} namespace of the container in {}: it is not running",
                dir.display()
            ))
        })?;
    std::fs::File::open(format!("/proc/{pid}/ns/{kind}"))
        .context(|| format!("open the {kind} namespace of process {pid}"))
}

/// Puts this process in the network namespace the spec names: a fresh one
/// with loopback up, the engine's namespace file (already connected to the
/// container's networks, and kept across restarts), or the host's own.
/// Done before the mount namespace is unshared, while the file is still
/// reachable at its host path; this process is single-threaded, so
/// `setns` moves all of it.
fn enter_network(network: &NetworkNamespace) -> Result<(), Error> {
    match network {
        NetworkNamespace::Private => {
            nix::sched::unshare(CloneFlags::CLONE_NEWNET)
                .context(|| "create the network namespace".to_string())?;
            loopback_up()
        }
        NetworkNamespace::Join { path } => {
            let file = std::fs::File::open(path)
                .context(|| format!("open network namespace {}", path.display()))?;
            nix::sched::setns(file, CloneFlags::CLONE_NEWNET)
                .context(|| format!("join network namespace {}", path.display()))
        }
        NetworkNamespace::Host => Ok(()),
    }
}

/// Brings `lo` up in the new network namespace.
fn loopback_up() -> Result<(), Error> {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .context(|| "socket for loopback".to_string())?;
    // SAFETY: ifreq is plain data; the name is NUL-terminated.
    unsafe {
        let mut req: libc::ifreq = std::mem::zeroed();
        req.ifr_name[0] = b'l' as libc::c_char;
        req.ifr_name[1] = b'o' as libc::c_char;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) != 0 {
            return Err(Error::io("read lo flags", std::io::Error::last_os_error()));
        }
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) != 0 {
            return Err(Error::io("bring lo up", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

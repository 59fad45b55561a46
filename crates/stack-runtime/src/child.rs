//! The container's first process, from fork to exec. It runs in a fresh
//! PID namespace (the monitor unshared it before forking), waits until the
//! monitor has put it in its cgroup, then enters its other namespaces,
//! builds the rootfs and becomes the container's process. Any error is sent
//! back over the report pipe with its context, since after pivot_root
//! nothing printed here would be seen.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};

use crate::error::{Context, Error};
use crate::kernel::{Kernel, Linux};
use crate::rootfs::CgroupMount;
use crate::spec::{ContainerDir, ContainerSpec};

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
    let mut kernel = Linux::in_root(dir.rootfs());
    for op in crate::namespaces::plan(spec) {
        kernel.run(&op)?;
    }
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

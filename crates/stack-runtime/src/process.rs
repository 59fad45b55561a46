//! Turning the setup process into the container's process: rlimits, user
//! and groups, capabilities, no_new_privs, seccomp, closing inherited file
//! descriptors, finding the program on the container's PATH, and exec.
//! Shared by the first process and by `exec`.

use std::ffi::CString;
use std::path::Path;

use caps::CapsHashSet;
use nix::unistd::{Gid, Uid};

use crate::error::{Context, Error};
use crate::spec::{Rlimit, SecuritySpec};
use crate::user::ResolvedUser;

/// Everything decided before the final switch, computed while files of
/// the container (passwd, group) are readable and memory can be allocated.
pub struct Prepared {
    pub program: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    pub user: ResolvedUser,
    pub caps: CapsHashSet,
    pub seccomp: Vec<seccompiler::BpfProgram>,
    pub no_new_privileges: bool,
}

/// Resolves user, program and security for `args` in the current root.
pub fn prepare(
    args: &[String],
    env: &[String],
    user: &str,
    security: &SecuritySpec,
) -> Result<Prepared, Error> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let user = crate::user::resolve(user, &passwd, &group)?;
    let mut env: Vec<String> = env.to_vec();
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", user.home));
    }
    let path_var = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    let first = args
        .first()
        .ok_or_else(|| Error::Setup("no command given".into()))?;
    let program = find_executable(first, path_var)?;
    let cstr = |s: &str| {
        CString::new(s).map_err(|_| Error::invalid(format!("{s:?}"), "contains a NUL byte"))
    };
    let caps = crate::capabilities::resolve(security)?;
    let seccomp = if security.privileged || security.seccomp_unconfined {
        Vec::new()
    } else {
        crate::seccomp::filters(&caps)?
    };
    Ok(Prepared {
        program: cstr(&program)?,
        argv: args.iter().map(|a| cstr(a)).collect::<Result<_, _>>()?,
        envp: env.iter().map(|e| cstr(e)).collect::<Result<_, _>>()?,
        user,
        caps,
        seccomp,
        no_new_privileges: security.no_new_privileges,
    })
}

/// `name` if it has a slash, else the first executable match on `path`.
pub fn find_executable(name: &str, path: &str) -> Result<String, Error> {
    use std::os::unix::fs::PermissionsExt;
    if name.contains('/') {
        return Ok(name.to_string());
    }
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(dir).join(name);
        if let Ok(meta) = std::fs::metadata(&candidate) {
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return Ok(candidate.display().to_string());
            }
        }
    }
    Err(Error::Setup(format!(
        "exec {name:?}: executable file not found in $PATH"
    )))
}

/// Applies limits, never above the current hard limit (raising it needs
/// CAP_SYS_RESOURCE, which hosts may not have).
pub fn apply_rlimits(limits: &[Rlimit]) -> Result<(), Error> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    for limit in limits {
        let resource = match limit
            .name
            .trim_start_matches("RLIMIT_")
            .to_ascii_lowercase()
            .as_str()
        {
            "nofile" => Resource::RLIMIT_NOFILE,
            "nproc" => Resource::RLIMIT_NPROC,
            "core" => Resource::RLIMIT_CORE,
            "stack" => Resource::RLIMIT_STACK,
            "memlock" => Resource::RLIMIT_MEMLOCK,
            "fsize" => Resource::RLIMIT_FSIZE,
            "cpu" => Resource::RLIMIT_CPU,
            "as" => Resource::RLIMIT_AS,
            "data" => Resource::RLIMIT_DATA,
            "msgqueue" => Resource::RLIMIT_MSGQUEUE,
            "nice" => Resource::RLIMIT_NICE,
            "rtprio" => Resource::RLIMIT_RTPRIO,
            "sigpending" => Resource::RLIMIT_SIGPENDING,
            other => return Err(Error::invalid(format!("ulimit {other:?}"), "unknown limit")),
        };
        let (_, current_hard) =
            getrlimit(resource).context(|| format!("getrlimit {}", limit.name))?;
        let hard = limit.hard.min(current_hard);
        let soft = limit.soft.min(hard);
        setrlimit(resource, soft, hard)
            .context(|| format!("setrlimit {} {soft}:{hard}", limit.name))?;
    }
    Ok(())
}

/// Switches to the prepared user with the container's capabilities and
/// filters, closes inherited descriptors and execs. Returns only on error.
/// Seccomp is loaded before the user change, while CAP_SYS_ADMIN still
/// allows it without no_new_privs; every later syscall is on the list.
pub fn switch_and_exec(p: &Prepared) -> Error {
    match switch(p) {
        Ok(()) => {}
        Err(err) => return err,
    }
    let err = nix::unistd::execve(&p.program, &p.argv, &p.envp).err();
    Error::Setup(format!(
        "exec {:?}: {}",
        p.program,
        err.map(|e| e.desc()).unwrap_or("unknown error")
    ))
}

fn switch(p: &Prepared) -> Result<(), Error> {
    crate::capabilities::limit_bounding(&p.caps)?;
    if p.no_new_privileges {
        nix::sys::prctl::set_no_new_privs().context(|| "set no_new_privs".to_string())?;
    }
    let is_root = p.user.uid == 0;
    // Keep the permitted set across setuid so a root-in-name user can have
    // caps restored; for non-root they are cleared below anyway.
    nix::sys::prctl::set_keepcaps(true).context(|| "set keepcaps".to_string())?;
    crate::seccomp::load(&p.seccomp)?;
    let groups: Vec<Gid> = p.user.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    nix::unistd::setgroups(&groups).context(|| "setgroups".to_string())?;
    let gid = Gid::from_raw(p.user.gid);
    nix::unistd::setresgid(gid, gid, gid).context(|| format!("setgid {}", p.user.gid))?;
    let uid = Uid::from_raw(p.user.uid);
    nix::unistd::setresuid(uid, uid, uid).context(|| format!("setuid {}", p.user.uid))?;
    crate::capabilities::set_process_sets(&p.caps, is_root)?;
    close_inherited_fds()
}

/// Marks every descriptor above stderr close-on-exec (runc's fix for
/// CVE-2024-21626), so nothing of stack's leaks into the container.
pub fn close_inherited_fds() -> Result<(), Error> {
    // SAFETY: close_range only changes descriptor flags of this process.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    // Older kernels: walk /proc/self/fd.
    let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .context(|| "list /proc/self/fd".to_string())?
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .filter(|fd| *fd > 2)
        .collect();
    for fd in fds {
        // SAFETY: only sets a descriptor flag.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_on_path() {
        assert_eq!(find_executable("/bin/x", "").expect("abs"), "/bin/x");
        let found = find_executable("sh", "/nonexistent:/bin:/usr/bin").expect("sh");
        assert!(found.ends_with("/sh"), "{found}");
        let err = find_executable("no-such-program-here", "/bin").expect_err("missing");
        assert!(err.to_string().contains("not found in $PATH"), "{err}");
    }
}

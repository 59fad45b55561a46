//! The default seccomp filter: an allow-list equivalent to Docker's default
//! profile on x86_64 (every other syscall fails with EPERM), with Docker's
//! extra syscalls for added capabilities, its argument rules for `clone`
//! and `personality`, and `clone3` answering ENOSYS so libc falls back to
//! `clone`, where the namespace flags are checked. `seccomp=unconfined` and
//! `privileged` turn it off.
//!
//! Built with seccompiler (pure Rust, no libseccomp to link), from syscall
//! numbers checked at compile time through `libc::SYS_*`.

use std::collections::BTreeMap;

use caps::{Capability, CapsHashSet};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::error::Error;

macro_rules! syscalls {
    ($($name:ident),* $(,)?) => { &[$((stringify!($name), libc::$name as i64)),*] };
}

fn strip(list: &'static [(&'static str, i64)]) -> impl Iterator<Item = (&'static str, i64)> {
    list.iter()
        .map(|(n, nr)| (n.strip_prefix("SYS_").unwrap_or(n), *nr))
}

/// Allowed for every container.
const ALWAYS: &[(&str, i64)] = syscalls![
    SYS_accept,
    SYS_accept4,
    SYS_access,
    SYS_adjtimex,
    SYS_alarm,
    SYS_bind,
    SYS_brk,
    SYS_capget,
    SYS_capset,
    SYS_chdir,
    SYS_chmod,
    SYS_chown,
    SYS_clock_adjtime,
    SYS_clock_getres,
    SYS_clock_gettime,
    SYS_clock_nanosleep,
    SYS_close,
    SYS_close_range,
    SYS_connect,
    SYS_copy_file_range,
    SYS_creat,
    SYS_dup,
    SYS_dup2,
    SYS_dup3,
    SYS_epoll_create,
    SYS_epoll_create1,
    SYS_epoll_ctl,
    SYS_epoll_ctl_old,
    SYS_epoll_pwait,
    SYS_epoll_pwait2,
    SYS_epoll_wait,
    SYS_epoll_wait_old,
    SYS_eventfd,
    SYS_eventfd2,
    SYS_execve,
    SYS_execveat,
    SYS_exit,
    SYS_exit_group,
    SYS_faccessat,
    SYS_faccessat2,
    SYS_fadvise64,
    SYS_fallocate,
    SYS_fanotify_mark,
    SYS_fchdir,
    SYS_fchmod,
    SYS_fchmodat,
    SYS_fchmodat2,
    SYS_fchown,
    SYS_fchownat,
    SYS_fcntl,
    SYS_fdatasync,
    SYS_fgetxattr,
    SYS_flistxattr,
    SYS_flock,
    SYS_fork,
    SYS_fremovexattr,
    SYS_fsetxattr,
    SYS_fstat,
    SYS_fstatfs,
    SYS_fsync,
    SYS_ftruncate,
    SYS_futex,
    SYS_futex_waitv,
    SYS_futimesat,
    SYS_getcpu,
    SYS_getcwd,
    SYS_getdents,
    SYS_getdents64,
    SYS_getegid,
    SYS_geteuid,
    SYS_getgid,
    SYS_getgroups,
    SYS_getitimer,
    SYS_getpeername,
    SYS_getpgid,
    SYS_getpgrp,
    SYS_getpid,
    SYS_getppid,
    SYS_getpriority,
    SYS_getrandom,
    SYS_getresgid,
    SYS_getresuid,
    SYS_getrlimit,
    SYS_get_robust_list,
    SYS_getrusage,
    SYS_getsid,
    SYS_getsockname,
    SYS_getsockopt,
    SYS_get_thread_area,
    SYS_gettid,
    SYS_gettimeofday,
    SYS_getuid,
    SYS_getxattr,
    SYS_inotify_add_watch,
    SYS_inotify_init,
    SYS_inotify_init1,
    SYS_inotify_rm_watch,
    SYS_io_cancel,
    SYS_ioctl,
    SYS_io_destroy,
    SYS_io_getevents,
    SYS_ioprio_get,
    SYS_ioprio_set,
    SYS_io_setup,
    SYS_io_submit,
    SYS_kill,
    SYS_landlock_add_rule,
    SYS_landlock_create_ruleset,
    SYS_landlock_restrict_self,
    SYS_lchown,
    SYS_lgetxattr,
    SYS_link,
    SYS_linkat,
    SYS_listen,
    SYS_listxattr,
    SYS_llistxattr,
    SYS_lremovexattr,
    SYS_lseek,
    SYS_lsetxattr,
    SYS_lstat,
    SYS_madvise,
    SYS_membarrier,
    SYS_memfd_create,
    SYS_memfd_secret,
    SYS_mincore,
    SYS_mkdir,
    SYS_mkdirat,
    SYS_mknod,
    SYS_mknodat,
    SYS_mlock,
    SYS_mlock2,
    SYS_mlockall,
    SYS_mmap,
    SYS_mprotect,
    SYS_mq_getsetattr,
    SYS_mq_notify,
    SYS_mq_open,
    SYS_mq_timedreceive,
    SYS_mq_timedsend,
    SYS_mq_unlink,
    SYS_mremap,
    SYS_msgctl,
    SYS_msgget,
    SYS_msgrcv,
    SYS_msgsnd,
    SYS_msync,
    SYS_munlock,
    SYS_munlockall,
    SYS_munmap,
    SYS_name_to_handle_at,
    SYS_nanosleep,
    SYS_newfstatat,
    SYS_open,
    SYS_openat,
    SYS_openat2,
    SYS_pause,
    SYS_pidfd_open,
    SYS_pidfd_send_signal,
    SYS_pipe,
    SYS_pipe2,
    SYS_pkey_alloc,
    SYS_pkey_free,
    SYS_pkey_mprotect,
    SYS_poll,
    SYS_ppoll,
    SYS_prctl,
    SYS_pread64,
    SYS_preadv,
    SYS_preadv2,
    SYS_prlimit64,
    SYS_process_mrelease,
    SYS_pselect6,
    SYS_pwrite64,
    SYS_pwritev,
    SYS_pwritev2,
    SYS_read,
    SYS_readahead,
    SYS_readlink,
    SYS_readlinkat,
    SYS_readv,
    SYS_recvfrom,
    SYS_recvmmsg,
    SYS_recvmsg,
    SYS_remap_file_pages,
    SYS_removexattr,
    SYS_rename,
    SYS_renameat,
    SYS_renameat2,
    SYS_restart_syscall,
    SYS_rmdir,
    SYS_rseq,
    SYS_rt_sigaction,
    SYS_rt_sigpending,
    SYS_rt_sigprocmask,
    SYS_rt_sigqueueinfo,
    SYS_rt_sigreturn,
    SYS_rt_sigsuspend,
    SYS_rt_sigtimedwait,
    SYS_rt_tgsigqueueinfo,
    SYS_sched_getaffinity,
    SYS_sched_getattr,
    SYS_sched_getparam,
    SYS_sched_get_priority_max,
    SYS_sched_get_priority_min,
    SYS_sched_getscheduler,
    SYS_sched_rr_get_interval,
    SYS_sched_setaffinity,
    SYS_sched_setattr,
    SYS_sched_setparam,
    SYS_sched_setscheduler,
    SYS_sched_yield,
    SYS_seccomp,
    SYS_select,
    SYS_semctl,
    SYS_semget,
    SYS_semop,
    SYS_semtimedop,
    SYS_sendfile,
    SYS_sendmmsg,
    SYS_sendmsg,
    SYS_sendto,
    SYS_setfsgid,
    SYS_setfsuid,
    SYS_setgid,
    SYS_setgroups,
    SYS_setitimer,
    SYS_setpgid,
    SYS_setpriority,
    SYS_setregid,
    SYS_setresgid,
    SYS_setresuid,
    SYS_setreuid,
    SYS_setrlimit,
    SYS_set_robust_list,
    SYS_setsid,
    SYS_setsockopt,
    SYS_set_thread_area,
    SYS_set_tid_address,
    SYS_setuid,
    SYS_setxattr,
    SYS_shmat,
    SYS_shmctl,
    SYS_shmdt,
    SYS_shmget,
    SYS_shutdown,
    SYS_sigaltstack,
    SYS_signalfd,
    SYS_signalfd4,
    SYS_socket,
    SYS_socketpair,
    SYS_splice,
    SYS_stat,
    SYS_statfs,
    SYS_statx,
    SYS_symlink,
    SYS_symlinkat,
    SYS_sync,
    SYS_sync_file_range,
    SYS_syncfs,
    SYS_sysinfo,
    SYS_tee,
    SYS_tgkill,
    SYS_time,
    SYS_timer_create,
    SYS_timer_delete,
    SYS_timer_getoverrun,
    SYS_timer_gettime,
    SYS_timer_settime,
    SYS_timerfd_create,
    SYS_timerfd_gettime,
    SYS_timerfd_settime,
    SYS_times,
    SYS_tkill,
    SYS_truncate,
    SYS_umask,
    SYS_uname,
    SYS_unlink,
    SYS_unlinkat,
    SYS_utime,
    SYS_utimensat,
    SYS_utimes,
    SYS_vfork,
    SYS_vmsplice,
    SYS_wait4,
    SYS_waitid,
    SYS_write,
    SYS_writev,
    SYS_arch_prctl,
    SYS_modify_ldt,
    SYS_chroot,
    SYS_ptrace,
    SYS_kcmp,
    SYS_process_vm_readv,
    SYS_process_vm_writev,
];

/// Newer syscalls the libc crate does not name yet (x86_64 numbers).
const ALWAYS_NUMBERED: &[(&str, i64)] = &[
    ("io_pgetevents", 333),
    ("cachestat", 451),
    ("map_shadow_stack", 453),
    ("futex_wake", 454),
    ("futex_wait", 455),
    ("futex_requeue", 456),
];

const FOR_SYS_ADMIN: &[(&str, i64)] = syscalls![
    SYS_bpf,
    SYS_fanotify_init,
    SYS_lookup_dcookie,
    SYS_mount,
    SYS_perf_event_open,
    SYS_quotactl,
    SYS_setdomainname,
    SYS_sethostname,
    SYS_setns,
    SYS_syslog,
    SYS_umount2,
    SYS_unshare,
    SYS_clone3,
    SYS_open_by_handle_at,
    SYS_pivot_root,
];

fn extra_for(cap: Capability) -> &'static [(&'static str, i64)] {
    match cap {
        Capability::CAP_SYS_ADMIN => FOR_SYS_ADMIN,
        Capability::CAP_SYS_BOOT => syscalls![SYS_reboot],
        Capability::CAP_SYS_MODULE => {
            syscalls![SYS_delete_module, SYS_init_module, SYS_finit_module]
        }
        Capability::CAP_SYS_PACCT => syscalls![SYS_acct],
        Capability::CAP_SYS_RAWIO => syscalls![SYS_iopl, SYS_ioperm],
        Capability::CAP_SYS_TIME => syscalls![SYS_settimeofday, SYS_clock_settime],
        Capability::CAP_SYS_TTY_CONFIG => syscalls![SYS_vhangup],
        Capability::CAP_SYS_NICE => syscalls![SYS_get_mempolicy, SYS_mbind, SYS_set_mempolicy],
        Capability::CAP_SYSLOG => syscalls![SYS_syslog],
        _ => &[],
    }
}

/// Namespace flags `clone` may not carry without CAP_SYS_ADMIN (Docker's mask).
const CLONE_NAMESPACE_FLAGS: u64 = 0x7E02_0000;
/// `personality` values Docker allows.
const PERSONALITIES: &[u64] = &[0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

/// The syscalls (name, number) allowed for a container with `caps`; `clone`
/// and `personality` carry argument rules on top (see [`filters`]).
pub fn allowed(caps: &CapsHashSet) -> Vec<(&'static str, i64)> {
    let mut list: Vec<(&str, i64)> = strip(ALWAYS)
        .chain(ALWAYS_NUMBERED.iter().copied())
        .collect();
    for cap in caps {
        list.extend(strip(extra_for(*cap)));
    }
    list.sort();
    list.dedup();
    list
}

fn arch() -> Result<TargetArch, Error> {
    std::env::consts::ARCH.try_into().map_err(|_| {
        Error::Setup(format!(
            "seccomp: unsupported architecture {}",
            std::env::consts::ARCH
        ))
    })
}

fn fail(e: impl std::fmt::Display) -> Error {
    Error::Setup(format!("build seccomp filter: {e}"))
}

/// The BPF programs to load, in order: the allow-list, then the one that
/// makes `clone3` answer ENOSYS when it is not allowed outright.
pub fn filters(caps: &CapsHashSet) -> Result<Vec<BpfProgram>, Error> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = allowed(caps)
        .into_iter()
        .map(|(_, nr)| (nr, Vec::new()))
        .collect();
    let sys_admin = caps.contains(&Capability::CAP_SYS_ADMIN);
    let clone_rule = if sys_admin {
        Vec::new()
    } else {
        vec![SeccompRule::new(vec![SeccompCondition::new(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(CLONE_NAMESPACE_FLAGS),
            0,
        )
        .map_err(fail)?])
        .map_err(fail)?]
    };
    rules.insert(libc::SYS_clone, clone_rule);
    // Docker's profile: every socket family but AF_VSOCK, which reaches the
    // hypervisor's side of a virtual machine.
    rules.insert(
        libc::SYS_socket,
        vec![SeccompRule::new(vec![SeccompCondition::new(
            0,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Ne,
            libc::AF_VSOCK as u64,
        )
        .map_err(fail)?])
        .map_err(fail)?],
    );
    let personality = PERSONALITIES
        .iter()
        .map(|v| {
            SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, *v)
                .and_then(|c| SeccompRule::new(vec![c]))
                .map_err(fail)
        })
        .collect::<Result<Vec<_>, _>>()?;
    rules.insert(libc::SYS_personality, personality);
    let arch = arch()?;
    let allow = SeccompFilter::new(
        rules,
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        arch,
    )
    .map_err(fail)?;
    let mut programs = vec![BpfProgram::try_from(allow).map_err(fail)?];
    if !sys_admin {
        let clone3 = SeccompFilter::new(
            [(libc::SYS_clone3, Vec::new())].into_iter().collect(),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOSYS as u32),
            arch,
        )
        .map_err(fail)?;
        programs.push(BpfProgram::try_from(clone3).map_err(fail)?);
    }
    Ok(programs)
}

/// Loads the programs into the calling thread. Uses the seccomp syscall
/// directly: seccompiler's loader also sets no_new_privs, which Docker
/// leaves off unless asked (`--security-opt no-new-privileges`); the
/// caller still holds CAP_SYS_ADMIN, so the kernel accepts the filter.
pub fn load(programs: &[BpfProgram]) -> Result<(), Error> {
    for program in programs {
        let prog = libc::sock_fprog {
            len: program.len() as u16,
            filter: program.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: prog points at a live, well-formed BPF program.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &prog as *const libc::sock_fprog,
            )
        };
        if rc != 0 {
            return Err(Error::io(
                "load seccomp filter",
                std::io::Error::last_os_error(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_list_excludes_admin_syscalls() {
        let caps: CapsHashSet = crate::capabilities::DOCKER_DEFAULT
            .iter()
            .copied()
            .collect();
        let names: Vec<&str> = allowed(&caps).into_iter().map(|(n, _)| n).collect();
        assert!(names.contains(&"read") && names.contains(&"execve"));
        for forbidden in ["mount", "unshare", "setns", "reboot", "kexec_load", "bpf"] {
            assert!(
                !names.contains(&forbidden),
                "{forbidden} must not be allowed"
            );
        }
        assert!(filters(&caps).expect("filters").len() == 2);
    }

    #[test]
    fn sys_admin_adds_mount_and_allows_clone3() {
        let caps: CapsHashSet = [Capability::CAP_SYS_ADMIN].into_iter().collect();
        let names: Vec<&str> = allowed(&caps).into_iter().map(|(n, _)| n).collect();
        assert!(names.contains(&"mount") && names.contains(&"unshare"));
        assert_eq!(filters(&caps).expect("filters").len(), 1);
    }
}

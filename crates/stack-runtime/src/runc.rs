//! The second backend: the same container as an OCI runtime bundle run by
//! `runc`. The monitor mounts the overlay rootfs in a private mount
//! namespace of its own (so the mount dies with it), writes
//! `bundle/config.json` through oci-spec, runs `runc create`, reads the
//! pid, `runc start`s it and then reaps it like a native container (it is
//! a child subreaper, so runc's init is re-parented to it).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::mount::MsFlags;
use nix::unistd::Pid;
use serde_json::{json, Value};

use crate::cgroup::{Cgroup, Layout, CGROUP_ROOT};
use crate::devices::{DeviceKind, DeviceRule};
use crate::error::{Context, Error};
use crate::exec::ExecRequest;
use crate::kernel::{join_in_root, read_in_root, Kernel, Linux, Op};
use crate::rootfs::{MASKED_PATHS, READONLY_PATHS};
use crate::spec::{ContainerDir, ContainerSpec, MountKind, NetworkNamespace, SharedNamespace};

fn runc_root(spec: &ContainerSpec) -> PathBuf {
    spec.runc_root
        .clone()
        .unwrap_or_else(|| PathBuf::from("/run/stack/runc"))
}

fn runc(spec: &ContainerSpec) -> Command {
    let mut cmd = Command::new("runc");
    cmd.arg("--root").arg(runc_root(spec));
    cmd
}

fn checked(cmd: &mut Command, what: &str) -> Result<(), Error> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .context(|| format!("run runc {what}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Setup(format!(
            "runc {what}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Starts the container under runc with the given stdio descriptors.
pub fn start(
    spec: &ContainerSpec,
    dir: &ContainerDir,
    stdio: &[i32; 3],
) -> Result<(Pid, Cgroup), Error> {
    nix::sys::prctl::set_child_subreaper(true).context(|| "become a subreaper".to_string())?;
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .context(|| "private mount namespace".to_string())?;
    let mut kernel = Linux::in_root(dir.rootfs());
    kernel.run(&Op::Mount {
        source: None,
        target: "/".into(),
        fstype: None,
        flags: MsFlags::MS_SLAVE | MsFlags::MS_REC,
        data: None,
    })?;
    kernel.run(&crate::rootfs::overlay(spec, dir))?;
    for m in &spec.mounts {
        if let MountKind::Volume { source, fill: true } = &m.kind {
            kernel.run(&Op::FillIfEmpty {
                from: join_in_root(&dir.rootfs(), &m.destination),
                to: source.clone(),
            })?;
        }
    }
    let config = bundle_config(spec, dir)?;
    let bundle = dir.bundle();
    std::fs::create_dir_all(&bundle).context(|| format!("create {}", bundle.display()))?;
    config
        .save(bundle.join("config.json"))
        .map_err(|e| Error::Setup(format!("write OCI bundle: {e}")))?;
    let pid_file = dir.path().join("runc.pid");
    let mut create = runc(spec);
    create
        .args(["create", "--bundle"])
        .arg(&bundle)
        .arg("--pid-file")
        .arg(&pid_file)
        .arg(&spec.id);
    // SAFETY: dup2 only, between fork and exec.
    let fds = *stdio;
    unsafe {
        use std::os::unix::process::CommandExt;
        create.pre_exec(move || {
            for (i, fd) in fds.iter().enumerate() {
                if libc::dup2(*fd, i as i32) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let status = create.status().context(|| "run runc create".to_string())?;
    if !status.success() {
        return Err(Error::Setup(format!("runc create failed ({status})")));
    }
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .context(|| format!("read {}", pid_file.display()))?
        .trim()
        .parse()
        .map_err(|_| Error::Setup("runc wrote no pid".into()))?;
    if let Err(err) = checked(runc(spec).args(["start", &spec.id]), "start") {
        delete(spec);
        return Err(err);
    }
    let layout = Layout::detect(Path::new(CGROUP_ROOT))?;
    Ok((
        Pid::from_raw(pid),
        Cgroup::at(Path::new(CGROUP_ROOT), &layout, &spec.cgroup_path),
    ))
}

/// Forgets the container in runc (its cgroup and state); best effort.
pub fn delete(spec: &ContainerSpec) {
    let _ = checked(runc(spec).args(["delete", "--force", &spec.id]), "delete");
}

/// Freezes the container's processes (`runc pause`).
pub fn pause(spec: &ContainerSpec) -> Result<(), Error> {
    checked(runc(spec).args(["pause", &spec.id]), "pause")
}

/// Thaws them again (`runc resume`).
pub fn resume(spec: &ContainerSpec) -> Result<(), Error> {
    checked(runc(spec).args(["resume", &spec.id]), "resume")
}

/// Applies the spec's resource limits to the running container
/// (`runc update`; only the limits that are set).
pub fn update(spec: &ContainerSpec) -> Result<(), Error> {
    let r = &spec.resources;
    let mut cmd = runc(spec);
    cmd.arg("update");
    let mut flag = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            cmd.arg(format!("--{name}={value}"));
        }
    };
    flag("memory", r.memory.map(|v| v.to_string()));
    flag(
        "memory-reservation",
        r.memory_reservation.map(|v| v.to_string()),
    );
    flag("memory-swap", r.memory_swap.map(|v| v.to_string()));
    flag("cpu-period", r.cpus.map(|_| "100000".to_string()));
    flag(
        "cpu-quota",
        r.cpus.map(|c| ((c * 100_000.0).round() as i64).to_string()),
    );
    flag("cpu-share", r.cpu_shares.map(|v| v.to_string()));
    // 0 or less means no limit, which runc spells -1.
    flag(
        "pids-limit",
        r.pids_limit
            .map(|v| if v <= 0 { -1 } else { v }.to_string()),
    );
    checked(cmd.arg(&spec.id), "update")
}

/// Why runc would not find `req`'s command in the container whose first
/// process is `pid` (see [`crate::exec::missing_command`]); callers answer
/// [`crate::exec::CANNOT_FIND`] with it instead of running runc, whose own
/// status for that is 255.
pub fn missing_command(spec: &ContainerSpec, pid: i32, req: &ExecRequest) -> Option<Error> {
    let root = PathBuf::from(format!("/proc/{pid}/root"));
    crate::exec::missing_command(&root, &spec.process.env, req)
}

/// The `runc exec` command for `req` (with more flags such as `--tty`),
/// not started, so the caller chooses its stdio (the daemon's attached
/// exec gives it pipes or a pty; runc passes them on). runc takes numeric
/// ids only: a user name is resolved with the container's own passwd and
/// group files, read through `/proc/<pid>/root`.
pub fn exec_command(
    spec: &ContainerSpec,
    pid: i32,
    req: &ExecRequest,
    flags: &[&std::ffi::OsStr],
) -> Result<Command, Error> {
    let mut cmd = runc(spec);
    cmd.arg("exec").args(flags);
    for e in &req.env {
        cmd.arg("--env").arg(e);
    }
    if !req.cwd.is_empty() {
        cmd.arg("--cwd").arg(&req.cwd);
    }
    if !req.user.is_empty() {
        let root = PathBuf::from(format!("/proc/{pid}/root"));
        let read = |path: &str| read_in_root(&root, path).unwrap_or_default();
        let user = crate::user::resolve(&req.user, &read("/etc/passwd"), &read("/etc/group"))?;
        cmd.arg("--user").arg(format!("{}:{}", user.uid, user.gid));
        for gid in &user.groups {
            cmd.arg("--additional-gids").arg(gid.to_string());
        }
    }
    cmd.arg(&spec.id).args(&req.args);
    Ok(cmd)
}

/// The OCI runtime spec equivalent of `spec`.
pub fn bundle_config(
    spec: &ContainerSpec,
    dir: &ContainerDir,
) -> Result<oci_spec::runtime::Spec, Error> {
    let rootfs = dir.rootfs();
    let passwd = read_in_root(&rootfs, "/etc/passwd").unwrap_or_default();
    let group = read_in_root(&rootfs, "/etc/group").unwrap_or_default();
    let user = crate::user::resolve(&spec.process.user, &passwd, &group)?;
    let caps = crate::capabilities::names(&crate::capabilities::resolve(&spec.security)?);
    let seccomp = if spec.security.privileged || spec.security.seccomp_unconfined {
        Value::Null
    } else {
        seccomp_json(&crate::capabilities::resolve(&spec.security)?)
    };
    let mut env = spec.process.env.clone();
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", user.home));
    }
    let mut mounts: Vec<Value> = crate::mounts::system_mounts(spec)
        .into_iter()
        .map(|m| json!({"destination": m.destination, "type": m.fstype, "source": m.source, "options": m.options}))
        .collect();
    // runc mounts the container's own cgroup here (a namespace of its own).
    mounts.push(json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid","noexec","nodev","relatime", if spec.security.privileged {"rw"} else {"ro"}]}));
    for m in &spec.mounts {
        let ro = if m.read_only { "ro" } else { "rw" };
        mounts.push(match &m.kind {
            MountKind::Bind { source, propagation } => json!({"destination": m.destination, "type": "bind", "source": source, "options": ["rbind", ro, propagation.clone().unwrap_or_else(|| "rprivate".into())]}),
            MountKind::Volume { source, .. } => json!({"destination": m.destination, "type": "bind", "source": source, "options": ["rbind", ro]}),
            MountKind::Tmpfs { size, mode } => json!({"destination": m.destination, "type": "tmpfs", "source": "tmpfs", "options": crate::mounts::tmpfs_options(*size, *mode, m.read_only)}),
        });
    }
    for name in ["hostname", "hosts", "resolv.conf"] {
        mounts.push(json!({"destination": format!("/etc/{name}"), "type": "bind", "source": dir.etc_file(name), "options": ["rbind","rprivate"]}));
    }
    let rlimits: Vec<Value> = spec.process.rlimits.iter().map(|r| json!({"type": format!("RLIMIT_{}", r.name.trim_start_matches("RLIMIT_").to_ascii_uppercase()), "soft": r.soft, "hard": r.hard})).collect();
    let r = &spec.resources;
    let mut resources = json!({});
    if r.memory.is_some() || r.memory_reservation.is_some() || r.memory_swap.is_some() {
        resources["memory"] =
            json!({"limit": r.memory, "reservation": r.memory_reservation, "swap": r.memory_swap});
    }
    if r.cpus.is_some() || r.cpu_shares.is_some() {
        resources["cpu"] = json!({"quota": r.cpus.map(|c| (c * 100_000.0).round() as i64), "period": r.cpus.map(|_| 100_000u64), "shares": r.cpu_shares});
    }
    if let Some(limit) = r.pids_limit {
        resources["pids"] = json!({"limit": limit});
    }
    resources["devices"] = oci_device_rules(crate::devices::rules(
        spec.security.privileged,
        &spec.devices,
        &spec.device_cgroup_rules,
    ));
    let devices: Vec<Value> = spec
        .devices
        .iter()
        .map(|d| {
            json!({"path": d.path, "type": if d.kind == DeviceKind::Block { "b" } else { "c" },
                "major": d.major, "minor": d.minor, "fileMode": d.file_mode, "uid": d.uid, "gid": d.gid})
        })
        .collect();
    let (masked, readonly): (Vec<&str>, Vec<&str>) = if spec.security.privileged {
        (vec![], vec![])
    } else {
        (MASKED_PATHS.to_vec(), READONLY_PATHS.to_vec())
    };
    let value = json!({
        "ociVersion": "1.0.2",
        "root": {"path": rootfs, "readonly": spec.read_only},
        "hostname": spec.hostname,
        "process": {
            "terminal": false,
            "user": {"uid": user.uid, "gid": user.gid, "additionalGids": user.groups},
            "args": spec.process.args,
            "env": env,
            "cwd": if spec.process.cwd.is_empty() { "/" } else { spec.process.cwd.as_str() },
            "capabilities": {"bounding": caps, "effective": if user.uid == 0 { caps.clone() } else { vec![] }, "permitted": if user.uid == 0 { caps.clone() } else { vec![] }},
            "rlimits": rlimits,
            "noNewPrivileges": spec.security.no_new_privileges,
        },
        "mounts": mounts,
        "linux": {
            "cgroupsPath": format!("/{}", spec.cgroup_path),
            "resources": resources,
            "namespaces": namespaces(spec)?,
            "devices": devices,
            "sysctl": spec.sysctls,
            "maskedPaths": masked,
            "readonlyPaths": readonly,
            "seccomp": seccomp,
        },
    });
    let value = strip_nulls(value);
    serde_json::from_value(value).map_err(|e| Error::Setup(format!("build OCI spec: {e}")))
}

/// The OCI namespace list: the network entry carries the engine's
/// namespace file for a joined network; a namespace shared with the host
/// is left out; one shared with another container names its process's.
fn namespaces(spec: &ContainerSpec) -> Result<Value, Error> {
    let mut list = Vec::new();
    for (kind, mode) in [("pid", &spec.pid), ("ipc", &spec.ipc)] {
        match mode {
            SharedNamespace::Private => list.push(json!({ "type": kind })),
            SharedNamespace::Host => {}
            SharedNamespace::Container { dir } => {
                let state = crate::state::State::load(&ContainerDir::new(dir))?;
                let pid = state.pid.filter(|_| state.container_alive()).ok_or_else(|| {
                    Error::Setup(format!(
                        "cannot share the {kind} namespace of the container in {}: it is not running",
                        dir.display()
                    ))
                })?;
                list.push(json!({"type": kind, "path": format!("/proc/{pid}/ns/{kind}")}));
            }
        }
    }
    match &spec.network {
        NetworkNamespace::Private => list.push(json!({"type":"network"})),
        NetworkNamespace::Join { path } => list.push(json!({"type":"network","path":path})),
        NetworkNamespace::Host => {}
    }
    for kind in ["uts", "mount", "cgroup"] {
        list.push(json!({ "type": kind }));
    }
    Ok(Value::Array(list))
}

/// Device rules in OCI form: deny everything, then the allowlist; a
/// privileged container gets every device.
fn oci_device_rules(rules: Option<Vec<DeviceRule>>) -> Value {
    let Some(rules) = rules else {
        return json!([{"allow": true, "access": "rwm"}]);
    };
    let mut list = vec![json!({"allow": false, "access": "rwm"})];
    for rule in rules {
        let kind = match rule.kind {
            DeviceKind::All => "a",
            DeviceKind::Char => "c",
            DeviceKind::Block => "b",
        };
        list.push(json!({"allow": rule.allow, "type": kind, "major": rule.major, "minor": rule.minor, "access": rule.access.to_string()}));
    }
    Value::Array(list)
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// The same filter as the native backend, in OCI form.
fn seccomp_json(caps: &caps::CapsHashSet) -> Value {
    let names: Vec<&str> = crate::seccomp::allowed(caps)
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| *n != "socket")
        .collect();
    let sys_admin = caps.contains(&caps::Capability::CAP_SYS_ADMIN);
    let mut syscalls = vec![json!({"names": names, "action": "SCMP_ACT_ALLOW"})];
    syscalls.push(json!({"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index":0,"value":libc::AF_VSOCK,"op":"SCMP_CMP_NE"}]}));
    syscalls.push(json!({"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]}));
    for v in [8u64, 0x20000, 0x20008, 0xffff_ffff] {
        syscalls.push(json!({"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index":0,"value":v,"op":"SCMP_CMP_EQ"}]}));
    }
    if sys_admin {
        syscalls.push(json!({"names": ["clone"], "action": "SCMP_ACT_ALLOW"}));
    } else {
        syscalls.push(json!({"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index":0,"value":0x7E02_0000u64,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]}));
        syscalls.push(
            json!({"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::ENOSYS}),
        );
    }
    json!({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": libc::EPERM, "architectures": ["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"], "syscalls": syscalls})
}

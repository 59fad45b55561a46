//! The container's filesystem view as a list of [`Op`]s: overlay root,
//! /proc, /dev, /sys, cgroups, user mounts, the /etc files stack writes,
//! pivot_root, then runc's masked and read-only paths. Building the plan is
//! pure (given [`Kernel::is_dir`]), so it is tested without root.

use std::path::{Path, PathBuf};

use nix::mount::MsFlags;

use crate::kernel::{join_in_root, Kernel, Op};
use crate::spec::{ContainerDir, ContainerSpec, MountKind};

/// runc's default masked paths.
pub const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// runc's default read-only paths.
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// A cgroup hierarchy to mount inside the container (relative to
/// /sys/fs/cgroup; empty for a unified-only host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupMount {
    pub dir: String,
    pub fstype: String,
    pub options: Option<String>,
}

/// The cgroup hierarchies of this host that containers join, from
/// /proc/self/mountinfo.
pub fn host_cgroup_mounts() -> Vec<CgroupMount> {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    let mut mounts = Vec::new();
    for line in info.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let point = left.split_whitespace().nth(4).unwrap_or_default();
        let mut r = right.split_whitespace();
        let fstype = r.next().unwrap_or_default();
        let super_opts = r.nth(1).unwrap_or_default();
        let Some(rel) = point.strip_prefix(crate::cgroup::CGROUP_ROOT) else {
            continue;
        };
        let rel = rel.trim_start_matches('/').to_string();
        match fstype {
            "cgroup2" => mounts.push(CgroupMount {
                dir: rel,
                fstype: "cgroup2".into(),
                options: None,
            }),
            "cgroup"
                if rel
                    .split(',')
                    .any(|c| crate::cgroup::MANAGED_V1.contains(&c)) =>
            {
                let opts: Vec<&str> = super_opts
                    .split(',')
                    .filter(|o| !matches!(*o, "rw" | "ro" | "relatime"))
                    .collect();
                mounts.push(CgroupMount {
                    dir: rel,
                    fstype: "cgroup".into(),
                    options: Some(opts.join(",")),
                });
            }
            _ => {}
        }
    }
    mounts.dedup_by(|a, b| a.dir == b.dir);
    mounts
}

fn mount(source: &str, target: PathBuf, fstype: &str, flags: MsFlags, data: Option<&str>) -> Op {
    Op::Mount {
        source: Some(source.to_string()),
        target,
        fstype: Some(fstype.to_string()),
        flags,
        data: data.map(str::to_string),
    }
}

fn bind(source: &Path, target: PathBuf, flags: MsFlags) -> Op {
    Op::Mount {
        source: Some(source.display().to_string()),
        target,
        fstype: None,
        flags: MsFlags::MS_BIND | flags,
        data: None,
    }
}

fn remount(target: PathBuf, flags: MsFlags) -> Op {
    Op::Mount {
        source: None,
        target,
        fstype: None,
        flags: MsFlags::MS_BIND | MsFlags::MS_REMOUNT | flags,
        data: None,
    }
}

fn propagation(name: Option<&str>) -> MsFlags {
    match name.unwrap_or("rprivate") {
        "shared" => MsFlags::MS_SHARED,
        "rshared" => MsFlags::MS_SHARED | MsFlags::MS_REC,
        "slave" => MsFlags::MS_SLAVE,
        "rslave" => MsFlags::MS_SLAVE | MsFlags::MS_REC,
        "private" => MsFlags::MS_PRIVATE,
        _ => MsFlags::MS_PRIVATE | MsFlags::MS_REC,
    }
}

/// Overlay options; lower dirs are topmost first, as overlayfs wants.
pub fn overlay_data(spec: &ContainerSpec, dir: &ContainerDir) -> String {
    let lowers: Vec<String> = spec
        .lower_dirs
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    // A --rm container's upper layer is thrown away with it, so overlay need
    // not sync it to disk when the container's mount namespace goes away
    // (`volatile`): that sync would sit on the exit path of every run.
    let volatile = if spec.auto_remove { ",volatile" } else { "" };
    let plain = if spec.layer_upper {
        plain_upper_options(|name| {
            Path::new("/sys/module/overlay/parameters")
                .join(name)
                .exists()
        })
    } else {
        String::new()
    };
    format!(
        "lowerdir={},upperdir={},workdir={}{volatile}{plain}",
        lowers.join(":"),
        dir.upper().display(),
        dir.work().display()
    )
}

/// The container's root filesystem mounted on its `rootfs` directory.
pub fn overlay(spec: &ContainerSpec, dir: &ContainerDir) -> Op {
    mount(
        "overlay",
        dir.rootfs(),
        "overlay",
        MsFlags::empty(),
        Some(&overlay_data(spec, dir)),
    )
}

/// `,redirect_dir=off,metacopy=off` for the features this kernel's
/// overlay has (an option it does not know would fail the mount).
fn plain_upper_options(kernel_has: impl Fn(&str) -> bool) -> String {
    ["redirect_dir", "metacopy"]
        .iter()
        .filter(|name| kernel_has(name))
        .map(|name| format!(",{name}=off"))
        .collect()
}

/// Every step from a fresh mount namespace to the finished view.
pub fn plan(
    spec: &ContainerSpec,
    dir: &ContainerDir,
    cgroups: &[CgroupMount],
    kernel: &dyn Kernel,
) -> Vec<Op> {
    let root = dir.rootfs();
    let at = |p: &str| join_in_root(&root, p);
    let mut ops = vec![
        Op::Mount {
            source: None,
            target: "/".into(),
            fstype: None,
            flags: MsFlags::MS_SLAVE | MsFlags::MS_REC,
            data: None,
        },
        overlay(spec, dir),
    ];
    // /proc, /dev and below, /sys: only ever on real directories inside
    // the rootfs (the image's symlinks were replaced by the unpacker's
    // rules, and these are made before any user mount).
    for m in crate::mounts::system_mounts(spec) {
        let target = at(m.destination);
        let (flags, data) = m.flags_and_data();
        ops.push(Op::Mkdir {
            path: target.clone(),
            mode: m.dir_mode,
        });
        ops.push(mount(m.source, target, m.fstype, flags, data.as_deref()));
    }
    ops.extend(dev_nodes(&at("/dev")));
    for device in &spec.devices {
        ops.push(Op::Mknod {
            path: at(&device.path),
            kind: device.kind,
            major: device.major.into(),
            minor: device.minor.into(),
            mode: device.file_mode,
            owner: Some((device.uid, device.gid)),
        });
    }
    ops.extend(cgroup_ops(
        &at("/sys/fs/cgroup"),
        cgroups,
        !spec.security.privileged,
    ));
    ops.extend(user_mounts(spec, &root, kernel, true));
    for name in ["hostname", "hosts", "resolv.conf"] {
        let target = at(&format!("/etc/{name}"));
        ops.push(Op::Touch {
            path: target.clone(),
        });
        ops.push(bind(&dir.etc_file(name), target, MsFlags::empty()));
    }
    ops.push(Op::PivotRoot { new_root: root });
    ops.extend(spec.sysctls.iter().map(|(key, value)| Op::Sysctl {
        key: key.clone(),
        value: value.clone(),
    }));
    if !spec.security.privileged {
        ops.extend(MASKED_PATHS.iter().map(|p| Op::Mask { path: p.into() }));
        ops.extend(
            READONLY_PATHS
                .iter()
                .map(|p| Op::ReadOnly { path: p.into() }),
        );
    }
    if spec.read_only {
        ops.push(remount("/".into(), MsFlags::MS_RDONLY));
    }
    ops
}

/// The user's mounts (`-v`, `--mount`, `--tmpfs`) on the rootfs at `root`,
/// shallowest first, each target made first where missing. Without
/// `with_tmpfs`, tmpfs mounts are left out (a copy into a stopped
/// container: there is nothing in them yet).
pub fn user_mounts(
    spec: &ContainerSpec,
    root: &Path,
    kernel: &dyn Kernel,
    with_tmpfs: bool,
) -> Vec<Op> {
    let mut ops = Vec::new();
    let mut user_mounts: Vec<_> = spec.mounts.iter().collect();
    user_mounts.sort_by_key(|m| m.destination.matches('/').count());
    for m in user_mounts {
        let target = join_in_root(root, &m.destination);
        match &m.kind {
            MountKind::Bind {
                source,
                propagation: p,
            } => {
                ops.push(if kernel.is_dir(source) {
                    Op::Mkdir {
                        path: target.clone(),
                        mode: 0o755,
                    }
                } else {
                    Op::Touch {
                        path: target.clone(),
                    }
                });
                ops.push(bind(source, target.clone(), MsFlags::MS_REC));
                ops.push(Op::Mount {
                    source: None,
                    target: target.clone(),
                    fstype: None,
                    flags: propagation(p.as_deref()),
                    data: None,
                });
                if m.read_only {
                    ops.push(remount(target, MsFlags::MS_RDONLY));
                }
            }
            MountKind::Tmpfs { .. } if !with_tmpfs => {}
            MountKind::Tmpfs { size, mode } => {
                ops.push(Op::Mkdir {
                    path: target.clone(),
                    mode: 0o755,
                });
                let options = crate::mounts::tmpfs_options(*size, *mode, m.read_only);
                let (flags, data) = crate::mounts::flags_and_data(&options);
                ops.push(mount("tmpfs", target, "tmpfs", flags, data.as_deref()));
            }
            MountKind::Volume { source, fill } => {
                ops.push(Op::Mkdir {
                    path: target.clone(),
                    mode: 0o755,
                });
                if *fill {
                    ops.push(Op::FillIfEmpty {
                        from: target.clone(),
                        to: source.clone(),
                    });
                }
                ops.push(bind(source, target.clone(), MsFlags::MS_REC));
                if m.read_only {
                    ops.push(remount(target, MsFlags::MS_RDONLY));
                }
            }
        }
    }
    ops
}

/// The device nodes and links of the container's /dev (mounted before).
fn dev_nodes(dev: &Path) -> Vec<Op> {
    let mut ops = Vec::new();
    for (name, major, minor) in [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ] {
        ops.push(Op::Mknod {
            path: dev.join(name),
            kind: crate::devices::DeviceKind::Char,
            major,
            minor,
            mode: 0o666,
            owner: None,
        });
    }
    ops.push(Op::Symlink {
        target: "pts/ptmx".into(),
        link: dev.join("ptmx"),
    });
    for (link, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        ops.push(Op::Symlink {
            target: target.into(),
            link: dev.join(link),
        });
    }
    ops
}

/// A cgroup namespace makes each mount show the container's own cgroup as
/// its root; the whole tree is read-only unless privileged.
fn cgroup_ops(base: &Path, cgroups: &[CgroupMount], read_only: bool) -> Vec<Op> {
    let ro = if read_only {
        MsFlags::MS_RDONLY
    } else {
        MsFlags::empty()
    };
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | ro;
    let mut ops = Vec::new();
    if cgroups.len() == 1 && cgroups[0].dir.is_empty() {
        ops.push(mount("cgroup", base.to_path_buf(), "cgroup2", flags, None));
        return ops;
    }
    ops.push(mount(
        "tmpfs",
        base.to_path_buf(),
        "tmpfs",
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=755"),
    ));
    for cg in cgroups.iter().filter(|c| !c.dir.is_empty()) {
        let target = base.join(&cg.dir);
        ops.push(Op::Mkdir {
            path: target.clone(),
            mode: 0o555,
        });
        ops.push(mount(
            "cgroup",
            target,
            &cg.fstype,
            flags,
            cg.options.as_deref(),
        ));
    }
    if read_only {
        ops.push(remount(
            base.to_path_buf(),
            MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        ));
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::MountSpec;

    /// Records ops instead of performing them.
    struct Recorder {
        dirs: Vec<PathBuf>,
        ops: Vec<Op>,
    }
    impl Kernel for Recorder {
        fn run(&mut self, op: &Op) -> Result<(), crate::Error> {
            self.ops.push(op.clone());
            Ok(())
        }
        fn is_dir(&self, path: &Path) -> bool {
            self.dirs.iter().any(|d| d == path)
        }
    }

    fn spec() -> ContainerSpec {
        ContainerSpec::fixture()
    }

    fn targets(ops: &[Op]) -> Vec<String> {
        ops.iter()
            .filter_map(|op| match op {
                Op::Mount {
                    target,
                    fstype: Some(t),
                    ..
                } => Some(format!("{t}:{}", target.display())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn overlay_first_pivot_then_masks() {
        let dir = ContainerDir::new("/s/containers/c");
        let rec = Recorder {
            dirs: vec![],
            ops: vec![],
        };
        let ops = plan(
            &spec(),
            &dir,
            &[CgroupMount {
                dir: "".into(),
                fstype: "cgroup2".into(),
                options: None,
            }],
            &rec,
        );
        let t = targets(&ops);
        assert_eq!(t[0], "overlay:/s/containers/c/rootfs");
        assert!(
            matches!(&ops[1], Op::Mount { data: Some(d), .. } if d == "lowerdir=/l/2:/l/1,upperdir=/s/containers/c/upper,workdir=/s/containers/c/work")
        );
        for want in [
            "proc:/s/containers/c/rootfs/proc",
            "devpts:/s/containers/c/rootfs/dev/pts",
            "mqueue:/s/containers/c/rootfs/dev/mqueue",
            "cgroup2:/s/containers/c/rootfs/sys/fs/cgroup",
        ] {
            assert!(t.iter().any(|x| x == want), "missing {want} in {t:?}");
        }
        let pivot = ops
            .iter()
            .position(|o| matches!(o, Op::PivotRoot { .. }))
            .expect("pivot");
        let first_mask = ops
            .iter()
            .position(|o| matches!(o, Op::Mask { .. }))
            .expect("mask");
        assert!(pivot < first_mask, "masks apply to the container's /proc");
        assert!(ops.contains(&Op::Mask {
            path: "/proc/kcore".into()
        }));
        assert!(ops.contains(&Op::ReadOnly {
            path: "/proc/sys".into()
        }));
        let sys = ops
            .iter()
            .find(|o| matches!(o, Op::Mount { fstype: Some(t), .. } if t == "sysfs"))
            .expect("sysfs");
        assert!(matches!(sys, Op::Mount { flags, .. } if flags.contains(MsFlags::MS_RDONLY)));
    }

    #[test]
    fn privileged_has_no_masks_and_writable_sys() {
        let mut s = spec();
        s.security.privileged = true;
        let rec = Recorder {
            dirs: vec![],
            ops: vec![],
        };
        let ops = plan(&s, &ContainerDir::new("/c"), &[], &rec);
        assert!(!ops
            .iter()
            .any(|o| matches!(o, Op::Mask { .. } | Op::ReadOnly { .. })));
        let sys = ops
            .iter()
            .find(|o| matches!(o, Op::Mount { fstype: Some(t), .. } if t == "sysfs"))
            .expect("sysfs");
        assert!(matches!(sys, Op::Mount { flags, .. } if !flags.contains(MsFlags::MS_RDONLY)));
    }

    #[test]
    fn user_mounts_prepare_their_targets_and_volumes_fill_first() {
        let mut s = spec();
        s.read_only = true;
        s.mounts = vec![
            MountSpec {
                destination: "/data/sub".into(),
                kind: MountKind::Tmpfs {
                    size: Some(1 << 20),
                    mode: Some(0o700),
                },
                read_only: false,
            },
            MountSpec {
                destination: "/etc/app.conf".into(),
                kind: MountKind::Bind {
                    source: "/host/app.conf".into(),
                    propagation: None,
                },
                read_only: true,
            },
            MountSpec {
                destination: "/data".into(),
                kind: MountKind::Volume {
                    source: "/s/volumes/v/_data".into(),
                    fill: true,
                },
                read_only: false,
            },
        ];
        let rec = Recorder {
            dirs: vec![],
            ops: vec![],
        };
        let dir = ContainerDir::new("/c");
        let ops = plan(&s, &dir, &[], &rec);
        let pos = |op: &Op| {
            ops.iter()
                .position(|o| o == op)
                .unwrap_or_else(|| panic!("missing {op:?}"))
        };
        let fill = pos(&Op::FillIfEmpty {
            from: "/c/rootfs/data".into(),
            to: "/s/volumes/v/_data".into(),
        });
        let tmpfs = ops
            .iter()
            .position(
                |o| matches!(o, Op::Mount { data: Some(d), .. } if d == "mode=700,size=1048576"),
            )
            .expect("tmpfs");
        assert!(fill < tmpfs, "shallower mounts first");
        pos(&Op::Touch {
            path: "/c/rootfs/etc/app.conf".into(),
        });
        assert!(
            matches!(ops.last(), Some(Op::Mount { target, flags, .. }) if target == Path::new("/") && flags.contains(MsFlags::MS_RDONLY))
        );
        let executed = {
            let mut r = Recorder {
                dirs: vec![],
                ops: vec![],
            };
            for op in &ops {
                r.run(op).expect("record");
            }
            r.ops
        };
        assert_eq!(executed, ops);
    }
}

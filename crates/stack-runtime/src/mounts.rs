//! The filesystems every container gets (/proc, /dev and what is under it,
//! /sys), written once as data in the OCI vocabulary. The native runtime
//! renders them to mount(2) calls ([`crate::rootfs::plan`]), the runc
//! backend to its `config.json` ([`crate::runc`]); both see the same
//! sources, types and options, so the two backends cannot drift apart.

use nix::mount::MsFlags;

use crate::spec::ContainerSpec;

/// Docker's default /dev/shm size.
const DEFAULT_SHM_BYTES: u64 = 64 << 20;

/// The size of the container's /dev/shm.
pub fn shm_bytes(spec: &ContainerSpec) -> u64 {
    spec.shm_size.unwrap_or(DEFAULT_SHM_BYTES)
}

/// One filesystem mounted in every container, as an OCI mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemMount {
    pub destination: &'static str,
    pub fstype: &'static str,
    pub source: &'static str,
    /// OCI options: flag words (`nosuid`, `ro`, …) and filesystem data
    /// (`mode=755`, …).
    pub options: Vec<String>,
    /// Mode of the directory made for it when the image has none.
    pub dir_mode: u32,
}

impl SystemMount {
    /// The options split for mount(2).
    pub fn flags_and_data(&self) -> (MsFlags, Option<String>) {
        flags_and_data(&self.options)
    }
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| w.to_string()).collect()
}

/// The system mounts in mount order (parents first). /sys is read-only
/// unless the container is privileged, as in Docker.
pub fn system_mounts(spec: &ContainerSpec) -> Vec<SystemMount> {
    let sys_access = if spec.security.privileged { "rw" } else { "ro" };
    vec![
        SystemMount {
            destination: "/proc",
            fstype: "proc",
            source: "proc",
            options: words(&["nosuid", "noexec", "nodev"]),
            dir_mode: 0o555,
        },
        SystemMount {
            destination: "/dev",
            fstype: "tmpfs",
            source: "tmpfs",
            options: words(&["nosuid", "strictatime", "mode=755", "size=65536k"]),
            dir_mode: 0o755,
        },
        SystemMount {
            destination: "/dev/pts",
            fstype: "devpts",
            source: "devpts",
            options: words(&[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ]),
            dir_mode: 0o755,
        },
        SystemMount {
            destination: "/dev/shm",
            fstype: "tmpfs",
            source: "shm",
            options: {
                let mut o = words(&["nosuid", "noexec", "nodev", "mode=1777"]);
                o.push(format!("size={}", shm_bytes(spec)));
                o
            },
            dir_mode: 0o1777,
        },
        SystemMount {
            destination: "/dev/mqueue",
            fstype: "mqueue",
            source: "mqueue",
            options: words(&["nosuid", "noexec", "nodev"]),
            dir_mode: 0o755,
        },
        SystemMount {
            destination: "/sys",
            fstype: "sysfs",
            source: "sysfs",
            options: words(&["nosuid", "noexec", "nodev", sys_access]),
            dir_mode: 0o555,
        },
    ]
}

/// The options of a user's tmpfs mount (`tmpfs:` or `--tmpfs`): never
/// setuid, devices or exec, world-writable with the sticky bit unless a
/// mode is given, as Docker mounts it.
pub fn tmpfs_options(size: Option<u64>, mode: Option<u32>, read_only: bool) -> Vec<String> {
    let mut options = words(&["nosuid", "nodev", "noexec"]);
    options.push(if read_only { "ro" } else { "rw" }.to_string());
    options.push(format!("mode={:o}", mode.unwrap_or(0o1777)));
    if let Some(size) = size {
        options.push(format!("size={size}"));
    }
    options
}

/// Splits OCI mount options into mount(2) flags and the filesystem's data
/// (what is not a flag word, comma-joined).
pub fn flags_and_data(options: &[String]) -> (MsFlags, Option<String>) {
    let mut flags = MsFlags::empty();
    let mut data: Vec<&str> = Vec::new();
    for option in options {
        match option.as_str() {
            "nosuid" => flags |= MsFlags::MS_NOSUID,
            "nodev" => flags |= MsFlags::MS_NODEV,
            "noexec" => flags |= MsFlags::MS_NOEXEC,
            "strictatime" => flags |= MsFlags::MS_STRICTATIME,
            "relatime" => flags |= MsFlags::MS_RELATIME,
            "ro" => flags |= MsFlags::MS_RDONLY,
            "rw" => {}
            other => data.push(other),
        }
    }
    let data = (!data.is_empty()).then(|| data.join(","));
    (flags, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_split_into_flags_and_data() {
        let (flags, data) = flags_and_data(&words(&[
            "nosuid",
            "strictatime",
            "mode=755",
            "size=65536k",
        ]));
        assert_eq!(flags, MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME);
        assert_eq!(data.as_deref(), Some("mode=755,size=65536k"));
        let (flags, data) = flags_and_data(&words(&["nosuid", "noexec", "nodev", "ro"]));
        assert!(flags.contains(MsFlags::MS_RDONLY) && data.is_none());
    }

    #[test]
    fn sys_is_read_only_unless_privileged_and_shm_follows_the_spec() {
        let mut spec = ContainerSpec::fixture();
        spec.shm_size = Some(1 << 20);
        let mounts = system_mounts(&spec);
        let sys = mounts.iter().find(|m| m.destination == "/sys");
        assert!(sys.is_some_and(|m| m.options.iter().any(|o| o == "ro")));
        let shm = mounts.iter().find(|m| m.destination == "/dev/shm");
        assert!(shm.is_some_and(|m| m.options.iter().any(|o| o == "size=1048576")));
        spec.security.privileged = true;
        let mounts = system_mounts(&spec);
        let sys = mounts.iter().find(|m| m.destination == "/sys");
        assert!(sys.is_some_and(|m| m.options.iter().any(|o| o == "rw")));
    }

    #[test]
    fn tmpfs_options_default_to_sticky_world_writable() {
        assert_eq!(
            tmpfs_options(Some(4096), None, true),
            ["nosuid", "nodev", "noexec", "ro", "mode=1777", "size=4096"]
        );
    }
}

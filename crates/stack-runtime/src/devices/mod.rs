//! Which devices a container may use: Docker's default allowlist, the
//! devices a user passes in (`devices:`, `--device`) and extra cgroup rules
//! (`device_cgroup_rules:`, `--device-cgroup-rule`).
//!
//! A default container keeps `CAP_MKNOD`, as in Docker, so it can make any
//! device node; what stops it from reading a host disk through one is the
//! device controller: `mknod` is allowed for every device, but open only
//! for the few in [`DEFAULT_ALLOWED`] and those the user adds. The rules
//! are data, rendered three ways: v1 `devices.allow`/`devices.deny` lines
//! ([`cgroup`](crate::cgroup)), a BPF program for cgroup v2 ([`bpf`]), and
//! OCI `linux.resources.devices` for runc.

pub mod bpf;
mod rule;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Error;
pub use rule::{Access, AccessError, DeviceKind, DeviceRule, RuleError};

/// Docker's default device rules after "deny everything": mknod of any
/// character or block device, and read/write of null, zero, full, random,
/// urandom, tty, console, ptmx and the pty slaves.
pub const DEFAULT_ALLOWED: &[&str] = &[
    "c *:* m",
    "b *:* m",
    "c 1:3 rwm",
    "c 1:5 rwm",
    "c 1:7 rwm",
    "c 1:8 rwm",
    "c 1:9 rwm",
    "c 5:0 rwm",
    "c 5:1 rwm",
    "c 5:2 rwm",
    "c 136:* rwm",
];

/// A host device made available in the container (`--device`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSpec {
    /// Where the node is made inside the container.
    pub path: String,
    pub kind: DeviceKind,
    pub major: u32,
    pub minor: u32,
    /// What the container may do with it (`rwm` or a part of it).
    pub access: Access,
    /// The host node's mode, owner and group, kept as Docker does.
    pub file_mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl DeviceSpec {
    /// Parses Docker's `HOST[:CONTAINER][:PERMISSIONS]` and looks the host
    /// device up. A path that is not a character or block device, or
    /// permissions other than a part of `rwm`, are errors naming the entry.
    pub fn from_docker(entry: &str) -> Result<DeviceSpec, Error> {
        let bad = |message: String| Error::invalid(format!("device {entry:?}"), message);
        let parts: Vec<&str> = entry.split(':').collect();
        let (host, container, perms) = match parts.as_slice() {
            [host] => (*host, *host, "rwm"),
            [host, second] if Access::parse(second).is_ok() && !second.starts_with('/') => {
                (*host, *host, *second)
            }
            [host, container] => (*host, *container, "rwm"),
            [host, container, perms] => (*host, *container, *perms),
            _ => return Err(bad("expected HOST[:CONTAINER][:PERMISSIONS]".into())),
        };
        if !host.starts_with('/') || !container.starts_with('/') {
            return Err(bad("device paths must be absolute".into()));
        }
        let access = Access::parse(perms).map_err(|_| {
            bad(format!(
                "permissions {perms:?} must be a combination of r, w and m"
            ))
        })?;
        let st = nix::sys::stat::stat(Path::new(host))
            .map_err(|e| bad(format!("cannot stat {host}: {e}")))?;
        let kind = match st.st_mode & libc::S_IFMT {
            libc::S_IFCHR => DeviceKind::Char,
            libc::S_IFBLK => DeviceKind::Block,
            _ => return Err(bad(format!("{host} is not a character or block device"))),
        };
        Ok(DeviceSpec {
            path: container.to_string(),
            kind,
            major: nix::sys::stat::major(st.st_rdev) as u32,
            minor: nix::sys::stat::minor(st.st_rdev) as u32,
            access,
            file_mode: st.st_mode & 0o7777,
            uid: st.st_uid,
            gid: st.st_gid,
        })
    }

    /// The cgroup rule that lets the container use this device.
    pub fn rule(&self) -> DeviceRule {
        DeviceRule {
            allow: true,
            kind: self.kind,
            major: Some(self.major),
            minor: Some(self.minor),
            access: self.access,
        }
    }
}

/// The device rules of a container, in order, after an implicit "deny
/// everything": Docker's defaults, then each `--device`, then each extra
/// rule. `None` for a privileged container, which may use every device.
pub fn rules(
    privileged: bool,
    devices: &[DeviceSpec],
    extra: &[DeviceRule],
) -> Option<Vec<DeviceRule>> {
    if privileged {
        return None;
    }
    let mut rules: Vec<DeviceRule> = DEFAULT_ALLOWED
        .iter()
        .filter_map(|r| r.parse().ok())
        .collect();
    rules.extend(devices.iter().map(DeviceSpec::rule));
    rules.extend(extra.iter().cloned());
    Some(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_rule_parses() {
        let list = rules(false, &[], &[]).expect("restricted");
        assert_eq!(list.len(), DEFAULT_ALLOWED.len());
        assert!(rules(true, &[], &[]).is_none(), "privileged: every device");
    }

    #[test]
    fn docker_device_entries() {
        let d = DeviceSpec::from_docker("/dev/null").expect("null");
        assert_eq!((d.kind, d.major, d.minor), (DeviceKind::Char, 1, 3));
        assert_eq!(d.path, "/dev/null");
        assert_eq!(d.rule().to_string(), "c 1:3 rwm");
        let d = DeviceSpec::from_docker("/dev/null:/dev/mine:r").expect("renamed");
        assert_eq!(d.path, "/dev/mine");
        assert_eq!(d.rule().to_string(), "c 1:3 r");
        let d = DeviceSpec::from_docker("/dev/zero:rw").expect("perms only");
        assert_eq!(
            (d.path.as_str(), d.rule().to_string().as_str()),
            ("/dev/zero", "c 1:5 rw")
        );
        for bad in [
            "/etc/passwd",
            "dev/null",
            "/dev/null:/x:rwx",
            "/nonexistent",
            "/a:/b:r:x",
        ] {
            let err = DeviceSpec::from_docker(bad).expect_err(bad);
            assert!(err.to_string().contains(bad), "{err}");
        }
    }
}

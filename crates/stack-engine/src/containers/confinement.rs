//! The options that loosen or share a container's isolation — devices,
//! device cgroup rules, sysctls, the PID and IPC namespaces — checked and
//! turned into the runtime's form. Checked once for every way they enter
//! (`stack run` flags, a stack file's service), and before anything is
//! made: `up` checks every service first, so one refused option fails the
//! whole `up` instead of starting the other services.

use std::collections::BTreeMap;

use stack_runtime::devices::{DeviceRule, DeviceSpec};
use stack_runtime::spec::SharedNamespace;

use super::{ContainerError, NetworkMode, RunOptions};

/// Where a shared namespace comes from, before the target is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceRequest {
    Private,
    Host,
    /// A container by name or id (`container:X`; `service:X` is turned
    /// into the service's first container by the stack-file path).
    Container(String),
}

/// The checked options, in the runtime's form but for shared namespaces,
/// whose target container is looked up at creation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confinement {
    pub devices: Vec<DeviceSpec>,
    pub device_cgroup_rules: Vec<DeviceRule>,
    pub sysctls: BTreeMap<String, String>,
    pub pid: Option<NamespaceRequest>,
    pub ipc: Option<NamespaceRequest>,
}

fn invalid(message: String) -> ContainerError {
    ContainerError::Invalid(message)
}

/// `pid`/`ipc` values as Docker takes them: `host`, `container:NAME`, and
/// for ipc also `private` and `shareable` (every stack container's IPC
/// namespace can be joined, so both mean a namespace of its own).
fn namespace(kind: &str, value: Option<&str>) -> Result<Option<NamespaceRequest>, ContainerError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let request = match value {
        "host" => NamespaceRequest::Host,
        "private" | "shareable" if kind == "ipc" => NamespaceRequest::Private,
        other => match other.strip_prefix("container:") {
            Some(target) if !target.is_empty() => NamespaceRequest::Container(target.to_string()),
            _ => {
                let allowed = if kind == "ipc" {
                    "host, private, shareable, container:NAME or service:NAME"
                } else {
                    "host, container:NAME or service:NAME"
                };
                return Err(invalid(format!(
                    "{kind} {value:?} is not supported (use {allowed})"
                )));
            }
        },
    };
    Ok(Some(request))
}

/// Checks `opts`' devices, rules, sysctls and namespaces.
pub fn check(opts: &RunOptions) -> Result<Confinement, ContainerError> {
    let devices = opts
        .devices
        .iter()
        .map(|d| DeviceSpec::from_docker(d).map_err(|e| invalid(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let device_cgroup_rules = opts
        .device_cgroup_rules
        .iter()
        .map(|r| r.parse::<DeviceRule>().map_err(|e| invalid(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let pid = namespace("pid", opts.pid.as_deref())?;
    let ipc = namespace("ipc", opts.ipc.as_deref())?;
    // A sysctl of a namespace the container shares with the host, or with
    // another container, would change theirs.
    let shared_network = matches!(
        opts.network.mode,
        NetworkMode::Host | NetworkMode::Container(_)
    );
    let shared_ipc = matches!(
        ipc,
        Some(NamespaceRequest::Host | NamespaceRequest::Container(_))
    );
    for key in opts.sysctls.keys() {
        stack_runtime::sysctl::check(key, shared_network, shared_ipc)
            .map_err(|e| invalid(e.to_string()))?;
    }
    Ok(Confinement {
        devices,
        device_cgroup_rules,
        sysctls: opts.sysctls.clone(),
        pid,
        ipc,
    })
}

/// The runtime's form of a namespace request, a container target looked up
/// by `find` (name or id to the container's directory).
pub fn shared_namespace(
    request: Option<&NamespaceRequest>,
    find: impl Fn(&str) -> Result<std::path::PathBuf, ContainerError>,
) -> Result<SharedNamespace, ContainerError> {
    Ok(match request {
        None | Some(NamespaceRequest::Private) => SharedNamespace::Private,
        Some(NamespaceRequest::Host) => SharedNamespace::Host,
        Some(NamespaceRequest::Container(target)) => {
            SharedNamespace::Container { dir: find(target)? }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> RunOptions {
        RunOptions::default()
    }

    #[test]
    fn namespaces_as_docker_names_them() {
        let mut o = opts();
        o.pid = Some("host".into());
        o.ipc = Some("container:db".into());
        let c = check(&o).expect("ok");
        assert_eq!(c.pid, Some(NamespaceRequest::Host));
        assert_eq!(c.ipc, Some(NamespaceRequest::Container("db".into())));
        for (pid, ipc) in [
            ("private", ""),
            ("", "none"),
            ("container:", ""),
            ("bogus", ""),
        ] {
            let mut o = opts();
            o.pid = Some(pid.into());
            o.ipc = Some(ipc.into());
            let err = check(&o).expect_err(pid).to_string();
            assert!(err.contains("not supported"), "{err}");
        }
    }

    #[test]
    fn sysctls_of_shared_namespaces_are_refused() {
        let mut o = opts();
        o.sysctls.insert("net.core.somaxconn".into(), "1024".into());
        check(&o).expect("own network namespace");
        o.network.mode = NetworkMode::Host;
        let err = check(&o).expect_err("host network").to_string();
        assert!(err.contains("net.core.somaxconn"), "{err}");
        let mut o = opts();
        o.sysctls.insert("kernel.shmmax".into(), "1".into());
        o.ipc = Some("host".into());
        assert!(check(&o).is_err());
        let mut o = opts();
        o.sysctls.insert("vm.swappiness".into(), "1".into());
        assert!(check(&o).is_err());
    }

    #[test]
    fn devices_and_rules_are_checked() {
        let mut o = opts();
        o.devices = vec!["/dev/null:/dev/n:rw".into()];
        o.device_cgroup_rules = vec!["c 1:3 r".into()];
        let c = check(&o).expect("ok");
        assert_eq!(c.devices[0].path, "/dev/n");
        assert_eq!(c.device_cgroup_rules[0].to_string(), "c 1:3 r");
        let mut o = opts();
        o.devices = vec!["/etc/passwd".into()];
        assert!(check(&o).is_err());
        let mut o = opts();
        o.device_cgroup_rules = vec!["c 1:3".into()];
        assert!(check(&o).is_err());
    }
}

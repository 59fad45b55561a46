//! `stack run`'s flags that loosen or share the container's isolation,
//! with Docker's names: devices, device cgroup rules, sysctls, the PID and
//! IPC namespaces, and the size of /dev/shm. The engine checks them
//! (`stack_engine::containers::confinement`).

use std::collections::BTreeMap;

use clap::Args;
use miette::miette;

/// Isolation flags of `stack run`.
#[derive(Debug, Args, Default)]
pub struct IsolationArgs {
    /// Make a host device available: HOST[:CONTAINER][:PERMISSIONS], e.g.
    /// /dev/fuse or /dev/sdb:/dev/xvdc:r (repeatable).
    #[arg(long = "device", value_name = "DEVICE")]
    devices: Vec<String>,
    /// Add a rule to the container's device allowlist, e.g. "c 1:3 rwm".
    #[arg(long = "device-cgroup-rule", value_name = "RULE")]
    device_cgroup_rules: Vec<String>,
    /// Set a namespaced kernel parameter: KEY=VALUE (net.*, kernel.shm*,
    /// kernel.msg*, kernel.sem, fs.mqueue.*, kernel.domainname).
    #[arg(long = "sysctl", value_name = "KEY=VALUE")]
    sysctls: Vec<String>,
    /// PID namespace: host, or container:NAME to share another's.
    #[arg(long, value_name = "MODE")]
    pid: Option<String>,
    /// IPC namespace: private, shareable, host, or container:NAME.
    #[arg(long, value_name = "MODE")]
    ipc: Option<String>,
    /// Size of /dev/shm (e.g. 256m; default 64m).
    #[arg(long, value_name = "SIZE")]
    shm_size: Option<String>,
}

/// The flags in the engine's run options.
pub struct Isolation {
    pub devices: Vec<String>,
    pub device_cgroup_rules: Vec<String>,
    pub sysctls: BTreeMap<String, String>,
    pub pid: Option<String>,
    pub ipc: Option<String>,
    pub shm_size: Option<String>,
}

impl IsolationArgs {
    pub fn resolve(self) -> miette::Result<Isolation> {
        let sysctls = stack_engine::containers::run_args::sysctls(&self.sysctls)
            .map_err(|e| miette!("{e}"))?;
        Ok(Isolation {
            devices: self.devices,
            device_cgroup_rules: self.device_cgroup_rules,
            sysctls,
            pid: self.pid,
            ipc: self.ipc,
            shm_size: self.shm_size,
        })
    }
}

//! Containers as Docker's clients read them: the list, the inspect
//! document, and `wait`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::create::{Config, HostConfig};

/// One row of `GET /containers/json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSummary {
    pub id: String,
    /// `/name`.
    pub names: Vec<String>,
    pub image: String,
    #[serde(rename = "ImageID")]
    pub image_id: String,
    pub command: String,
    /// Unix seconds.
    pub created: i64,
    pub ports: Vec<Port>,
    pub labels: BTreeMap<String, String>,
    /// `created`, `running`, `restarting`, `exited`.
    pub state: String,
    /// `Up 2 minutes`, `Exited (0) 3 seconds ago`.
    pub status: String,
    pub host_config: SummaryHostConfig,
    pub network_settings: SummaryNetworks,
    pub mounts: Vec<MountPoint>,
    /// Bytes the container wrote (its upper directory); with `size=1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<i64>,
    /// Those and its image's; with `size=1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<i64>,
}

/// A published (or only exposed) port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Port {
    #[serde(rename = "IP", default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    pub private_port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_port: Option<u16>,
    #[serde(rename = "Type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryHostConfig {
    pub network_mode: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryNetworks {
    pub networks: BTreeMap<String, EndpointSettings>,
}

/// A container's place on one network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointSettings {
    pub aliases: Option<Vec<String>>,
    pub mac_address: String,
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub gateway: String,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    #[serde(rename = "IPv6Gateway")]
    pub ipv6_gateway: String,
    #[serde(rename = "GlobalIPv6Address")]
    pub global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen")]
    pub global_ipv6_prefix_len: u8,
    #[serde(rename = "DNSNames")]
    pub dns_names: Option<Vec<String>>,
}

/// A mount, as list and inspect show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MountPoint {
    /// `bind`, `volume` or `tmpfs`.
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub source: String,
    pub destination: String,
    pub driver: String,
    pub mode: String,
    #[serde(rename = "RW")]
    pub rw: bool,
    pub propagation: String,
}

/// `GET /containers/{id}/json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerInspect {
    pub id: String,
    /// RFC 3339.
    pub created: String,
    pub path: String,
    pub args: Vec<String>,
    pub state: ContainerState,
    /// The image id (`sha256:...`).
    pub image: String,
    pub resolv_conf_path: String,
    pub hostname_path: String,
    pub hosts_path: String,
    pub log_path: String,
    /// `/name`.
    pub name: String,
    pub restart_count: u32,
    pub driver: String,
    pub platform: String,
    pub mount_label: String,
    pub process_label: String,
    pub app_armor_profile: String,
    #[serde(rename = "ExecIDs")]
    pub exec_ids: Option<Vec<String>>,
    pub host_config: HostConfig,
    pub mounts: Vec<MountPoint>,
    pub config: Config,
    pub network_settings: NetworkSettings,
}

/// `State` of the inspect document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerState {
    pub status: String,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub dead: bool,
    pub pid: i32,
    pub exit_code: i32,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
}

/// `State.Health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    pub status: String,
    pub failing_streak: u32,
    pub log: Vec<HealthProbe>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthProbe {
    pub start: String,
    pub end: String,
    pub exit_code: i32,
    pub output: String,
}

/// `NetworkSettings` of the inspect document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    pub bridge: String,
    #[serde(rename = "SandboxID")]
    pub sandbox_id: String,
    pub sandbox_key: String,
    /// `"80/tcp": [{"HostIp", "HostPort"}]`, null when only exposed.
    pub ports: BTreeMap<String, Option<Vec<super::create::PortBinding>>>,
    pub networks: BTreeMap<String, EndpointSettings>,
}

/// `POST /containers/{id}/wait`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitResponse {
    pub status_code: i64,
    pub error: Option<WaitError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitError {
    pub message: String,
}

/// `GET /containers/{id}/top`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TopResponse {
    pub titles: Vec<String>,
    pub processes: Vec<Vec<String>>,
}

/// What `HEAD`/`GET /containers/{id}/archive` say of the path, base64
/// JSON in the `X-Docker-Container-Path-Stat` header: `docker cp` reads
/// it to tell files, directories and symlinks apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerPathStat {
    pub name: String,
    pub size: i64,
    /// Go's `os.FileMode` bits: permissions, plus the type and the
    /// setuid, setgid and sticky bits in Go's own positions.
    pub mode: u32,
    /// RFC 3339 with nanoseconds.
    pub mtime: String,
    /// For a symlink, the absolute path it leads to inside the container,
    /// every link on the way followed; empty otherwise.
    #[serde(rename = "linkTarget")]
    pub link_target: String,
}

/// One entry of `GET /containers/{id}/changes` (`docker diff`): what the
/// container changed in its root filesystem. `Kind` is 0 for a modified
/// path, 1 for an added one, 2 for a deleted one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerChange {
    pub path: String,
    pub kind: u8,
}

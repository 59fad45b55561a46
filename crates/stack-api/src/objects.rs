//! Wire types of `/v1/networks` and `/v1/volumes`, shared by the server
//! and the client (and described in `schemas/stack-api.openapi.yaml`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One network, with the containers attached to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSummary {
    pub name: String,
    /// Hex digest of the name (stable across restarts).
    pub id: String,
    pub created: String,
    /// Always `bridge`.
    pub driver: String,
    /// The host's bridge (`stk-…`).
    pub bridge: String,
    /// IPv4 CIDR.
    pub subnet: String,
    pub gateway: String,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    pub containers: Vec<NetworkEndpoint>,
}

/// A container's place on a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkEndpoint {
    pub id: String,
    pub name: String,
    /// `address/prefix`.
    pub ipv4_address: String,
    /// Interface inside the container (`eth0`).
    pub interface: String,
    /// Host side of its veth (`stkv…`).
    pub host_interface: String,
    /// Names it answers to on this network.
    pub aliases: Vec<String>,
}

/// `POST /v1/networks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NetworkCreateRequest {
    pub name: String,
    /// IPv4 CIDR; the next free one of the pools when absent.
    #[serde(default)]
    pub subnet: Option<String>,
    /// The first address of the subnet when absent.
    #[serde(default)]
    pub gateway: Option<String>,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// `POST /v1/networks/prune`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkPruneResult {
    pub networks: Vec<String>,
}

/// One volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeSummary {
    pub name: String,
    /// Always `local`.
    pub driver: String,
    /// Host directory holding its files.
    pub mountpoint: String,
    pub labels: BTreeMap<String, String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// Always `local`.
    pub scope: String,
    /// The project whose `up` made it.
    pub project: Option<String>,
    /// Containers (running or not) that mount it.
    pub used_by: Vec<String>,
}

/// `POST /v1/volumes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VolumeCreateRequest {
    /// A random name (and the anonymous label) when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Only `local`.
    #[serde(default)]
    pub driver: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// `POST /v1/volumes/prune`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumePruneResult {
    pub volumes: Vec<String>,
    /// Bytes of the files removed.
    pub bytes: u64,
}

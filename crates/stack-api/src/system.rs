//! The JSON bodies of the API, shared by the server and the client so both
//! sides agree by construction. `schemas/stack-api.openapi.yaml` describes
//! the same shapes for other clients; a test keeps the two in step.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the API served under `/v1`.
pub const API_VERSION: &str = "1";

/// Every error: what went wrong, and a machine-readable kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub message: String,
    /// The word of an [`ErrorClass`](crate::error::ErrorClass) (`not_found`,
    /// `conflict`, `busy`, `bad_request`, `unavailable`, `internal`), or of
    /// the transport: `forbidden`, `method_not_allowed`.
    pub kind: String,
}

/// `GET /v1/version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub version: String,
    pub api_version: String,
    pub os: String,
    pub arch: String,
    /// Process id of the daemon.
    pub pid: u32,
}

/// One container in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSummary {
    pub id: String,
    pub name: String,
    /// `created`, `running`, `restarting` or `exited`.
    pub status: String,
    pub exit_code: Option<i32>,
    pub oom_killed: bool,
    pub command: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub pid: Option<i32>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// `starting`, `healthy` or `unhealthy` when it has a healthcheck.
    pub health: Option<String>,
    /// Restarts by its restart policy.
    pub restart_count: u32,
    /// Published ports as `docker ps` shows them.
    pub ports: String,
}

/// `POST /v1/containers/{id}/update`: new limits and restart policy for a
/// container, applied at once when it runs and kept for its later
/// starts. A field left out keeps its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ContainerUpdate {
    /// Bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    /// Bytes of memory and swap together; -1: swap without limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_swap: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_shares: Option<u64>,
    /// 0 or less: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<i64>,
    /// `no`, `always`, `unless-stopped`, `on-failure[:N]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<String>,
}

/// `POST /v1/containers/{id}/exec`: a command run to completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ExecRequest {
    pub cmd: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub workdir: Option<String>,
}

/// What an exec printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecResult {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// One record of a container's log, as the log file keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRecord {
    pub log: String,
    /// `stdout` or `stderr`.
    pub stream: String,
    pub time: String,
}

/// One local image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSummary {
    /// Full normalized reference (`docker.io/library/busybox:latest`).
    pub reference: String,
    /// Config digest, as Docker shows image ids.
    pub id: String,
    /// Manifest digest.
    pub manifest: String,
    pub created: Option<String>,
    /// Uncompressed size of all layers.
    pub size: u64,
}

/// `POST /v1/images/pull`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    pub reference: String,
    #[serde(default)]
    pub platform: Option<String>,
}

/// One line of the pull progress stream (NDJSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PullEvent {
    LayerStarted {
        digest: String,
        size: u64,
    },
    Progress {
        digest: String,
        bytes: u64,
    },
    LayerDone {
        digest: String,
        note: String,
    },
    Message {
        line: String,
    },
    /// The last line of a successful pull.
    Pulled {
        reference: String,
        source: String,
        source_is_mirror: bool,
        manifest: String,
        id: String,
        layers_downloaded: usize,
        layers_present: usize,
    },
    /// The last line of a failed pull (the status line was already sent).
    Error {
        message: String,
    },
}

/// `DELETE /v1/images/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovedImage {
    pub untagged: String,
    pub deleted: String,
}

/// `POST /v1/images/prune`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneResult {
    pub images: Vec<String>,
    pub blobs: usize,
    pub snapshots: usize,
    pub bytes: u64,
}

/// One event of `GET /v1/events`: a line of the host's event log, whose
/// writer (the runtime) keeps this same JSON shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// RFC 3339, UTC, nanoseconds.
    pub time: String,
    /// `container`, `image`, `network`, `volume`.
    #[serde(rename = "type")]
    pub kind: String,
    pub action: String,
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// Containers matching a list query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerFilter {
    /// Include stopped and created containers.
    #[serde(default)]
    pub all: bool,
    /// `key` or `key=value`.
    pub label: Option<String>,
    /// Substring of the name.
    pub name: Option<String>,
    /// `created`, `running` or `exited`.
    pub status: Option<String>,
    /// Compose project (its label).
    pub project: Option<String>,
}

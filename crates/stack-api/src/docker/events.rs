//! `GET /events`: one JSON object per event, as Docker's `events.Message`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One event. `status`, `id` and `from` are the pre-1.22 fields Docker
/// still sends for container events, which older clients read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMessage {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: EventActor,
    /// Always `local`: stack has no swarm.
    pub scope: String,
    /// Unix seconds.
    pub time: u64,
    #[serde(rename = "timeNano")]
    pub time_nano: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// What the event is about: its id and attributes (a container's labels,
/// `name`, `image`, `exitCode`...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventActor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

//! What Docker's prune endpoints answer (`docker container|image|network|
//! volume|builder|system prune`).

use serde::{Deserialize, Serialize};

use super::images::DeleteItem;

/// `POST /containers/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainersPruned {
    pub containers_deleted: Vec<String>,
    pub space_reclaimed: u64,
}

/// `POST /images/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImagesPruned {
    pub images_deleted: Vec<DeleteItem>,
    pub space_reclaimed: u64,
}

/// `POST /networks/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworksPruned {
    pub networks_deleted: Vec<String>,
}

/// `POST /volumes/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumesPruned {
    pub volumes_deleted: Vec<String>,
    pub space_reclaimed: u64,
}

/// `POST /build/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BuildCachePruned {
    pub caches_deleted: Vec<String>,
    pub space_reclaimed: u64,
}

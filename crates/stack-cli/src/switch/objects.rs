//! Networks and volumes, through the daemon or in process. Calls on one
//! object return the error text instead of failing, so verbs that take
//! several names can report each and go on, as Docker does.

use std::collections::BTreeMap;

use stack_api::client::{encode, Method};
use stack_api::objects::{
    NetworkCreateRequest, NetworkPruneResult, NetworkSummary, VolumeCreateRequest,
    VolumePruneResult, VolumeSummary,
};
use stack_api::paths;

use super::{api, remote, Via};

impl Via {
    pub fn list_networks(&self) -> miette::Result<Vec<NetworkSummary>> {
        match self {
            Via::InProcess(h) => h.list_networks().map_err(api),
            Via::Daemon(c) => c.get(paths::NETWORKS).map_err(remote),
        }
    }

    pub fn inspect_network(&self, name: &str) -> Result<NetworkSummary, String> {
        match self {
            Via::InProcess(h) => h.inspect_network(name).map_err(|e| e.to_string()),
            Via::Daemon(c) => c.get(&paths::network(name)).map_err(|e| e.to_string()),
        }
    }

    pub fn create_network(&self, req: &NetworkCreateRequest) -> miette::Result<NetworkSummary> {
        match self {
            Via::InProcess(h) => h.create_network(req).map_err(api),
            Via::Daemon(c) => c
                .send_json(Method::POST, paths::NETWORKS, req)
                .map_err(remote),
        }
    }

    pub fn remove_network(&self, name: &str) -> Result<(), String> {
        match self {
            Via::InProcess(h) => h.remove_network(name).map_err(|e| e.to_string()),
            Via::Daemon(c) => c
                .call(Method::DELETE, &paths::network(name))
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }

    pub fn prune_networks(&self) -> miette::Result<NetworkPruneResult> {
        match self {
            Via::InProcess(h) => h.prune_networks().map_err(api),
            Via::Daemon(c) => c
                .send_json(Method::POST, paths::NETWORKS_PRUNE, &())
                .map_err(remote),
        }
    }

    /// `filters`: Docker's map (`{"label": ["k=v"]}`).
    pub fn list_volumes(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> miette::Result<Vec<VolumeSummary>> {
        match self {
            Via::InProcess(h) => h.list_volumes(filters).map_err(api),
            Via::Daemon(c) => {
                let mut path = paths::VOLUMES.to_string();
                if !filters.is_empty() {
                    let json = serde_json::to_string(filters)
                        .map_err(|e| miette::miette!("filters: {e}"))?;
                    path.push_str(&format!("?filters={}", encode(&json)));
                }
                c.get(&path).map_err(remote)
            }
        }
    }

    pub fn inspect_volume(&self, name: &str) -> Result<VolumeSummary, String> {
        match self {
            Via::InProcess(h) => h.inspect_volume(name).map_err(|e| e.to_string()),
            Via::Daemon(c) => c.get(&paths::volume(name)).map_err(|e| e.to_string()),
        }
    }

    pub fn create_volume(&self, req: &VolumeCreateRequest) -> miette::Result<VolumeSummary> {
        match self {
            Via::InProcess(h) => h.create_volume(req).map(|(v, _)| v).map_err(api),
            Via::Daemon(c) => c
                .send_json(Method::POST, paths::VOLUMES, req)
                .map_err(remote),
        }
    }

    pub fn remove_volume(&self, name: &str, force: bool) -> Result<(), String> {
        match self {
            Via::InProcess(h) => h.remove_volume(name, force).map_err(|e| e.to_string()),
            Via::Daemon(c) => c
                .call(
                    Method::DELETE,
                    &format!("{}?force={force}", paths::volume(name)),
                )
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }

    pub fn prune_volumes(&self, all: bool) -> miette::Result<VolumePruneResult> {
        match self {
            Via::InProcess(h) => h.prune_volumes(all).map_err(api),
            Via::Daemon(c) => c
                .send_json(
                    Method::POST,
                    &format!("{}?all={all}", paths::VOLUMES_PRUNE),
                    &(),
                )
                .map_err(remote),
        }
    }
}

//! Persistence under `<state root>/networks/`: one JSON file per network
//! (`defs/<name>.json`) and per connected container (`containers/<id>.json`).
//! Together they are every input of the firewall rules and the DNS
//! registry, so both can be rebuilt after a restart or a firewall flush.
//! Files are written to a temporary name and renamed, so a crash leaves
//! either the old or the new record, never half of one.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{NetError, Result};
use crate::model::{ContainerNetworking, Network};

/// The records of all networks and connected containers.
#[derive(Debug, Clone)]
pub struct Store {
    defs: PathBuf,
    containers: PathBuf,
}

impl Store {
    /// Opens (creating if needed) `<state_root>/networks/`.
    pub fn open(state_root: &Path) -> Result<Store> {
        let base = state_root.join("networks");
        let store = Store {
            defs: base.join("defs"),
            containers: base.join("containers"),
        };
        for dir in [&store.defs, &store.containers] {
            std::fs::create_dir_all(dir)
                .map_err(NetError::io(format!("create {}", dir.display())))?;
        }
        Ok(store)
    }

    pub fn networks(&self) -> Result<Vec<Network>> {
        read_all(&self.defs)
    }

    pub fn containers(&self) -> Result<Vec<ContainerNetworking>> {
        read_all(&self.containers)
    }

    pub fn save_network(&self, network: &Network) -> Result<()> {
        write(&self.defs.join(file_name(&network.name)?), network)
    }

    pub fn remove_network(&self, name: &str) -> Result<()> {
        remove(&self.defs.join(file_name(name)?))
    }

    pub fn save_container(&self, record: &ContainerNetworking) -> Result<()> {
        write(
            &self.containers.join(file_name(&record.container_id)?),
            record,
        )
    }

    pub fn remove_container(&self, container_id: &str) -> Result<()> {
        remove(&self.containers.join(file_name(container_id)?))
    }
}

/// A record's file name; names that could escape the directory are refused.
fn file_name(name: &str) -> Result<String> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !ok {
        return Err(NetError::Invalid {
            network: name.to_string(),
            reason: "names may hold only letters, digits, '_', '-' and '.', and not start with '.'"
                .to_string(),
        });
    }
    Ok(format!("{name}.json"))
}

fn read_all<T: DeserializeOwned>(dir: &Path) -> Result<Vec<T>> {
    let entries =
        std::fs::read_dir(dir).map_err(NetError::io(format!("read {}", dir.display())))?;
    let mut records = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(NetError::io(format!("read {}", dir.display())))?
            .path();
        if path.extension().is_some_and(|e| e == "json") {
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                // Removed between the listing and the read (another
                // container's release): that record no longer exists.
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(err) => return Err(NetError::io(format!("read {}", path.display()))(err)),
            };
            let record = serde_json::from_slice(&bytes).map_err(|err| NetError::State {
                path: path.clone(),
                reason: err.to_string(),
            })?;
            records.push(record);
        }
    }
    Ok(records)
}

fn write<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|err| NetError::State {
        path: path.to_path_buf(),
        reason: err.to_string(),
    })?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes).map_err(NetError::io(format!("write {}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(NetError::io(format!("rename to {}", path.display())))
}

fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(NetError::io(format!("remove {}", path.display()))(err))
        }
        _ => Ok(()),
    }
}

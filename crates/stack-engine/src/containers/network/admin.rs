//! Networks as objects of their own (`stack network create|ls|inspect|rm|prune`),
//! and the network events every change appends to the host's event log.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use stack_net::{Endpoint, Network, NetworkSpec};
use stack_runtime::event_log::{self, EventRecord};
use stack_spec::names::{check_object_name, ObjectKind};

use super::Session;
use crate::containers::{ContainerError, Containers};

/// What `network create` takes.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub name: String,
    pub subnet: Option<Ipv4Net>,
    pub gateway: Option<Ipv4Addr>,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
}

/// Labels and creation time, kept beside the network's record.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Meta {
    created: String,
    labels: BTreeMap<String, String>,
}

/// A network as `ls` and `inspect` show it.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkInfo {
    pub name: String,
    pub id: String,
    pub created: String,
    pub driver: &'static str,
    pub bridge: String,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    pub containers: Vec<AttachedContainer>,
}

/// One container on a network.
#[derive(Debug, Clone, Serialize)]
pub struct AttachedContainer {
    pub id: String,
    pub name: String,
    pub endpoint: Endpoint,
}

/// Appends a `network` event; never fails the action.
pub fn network_event(state_root: &Path, action: &str, network: &str) {
    let _ = event_log::append(
        state_root,
        &EventRecord::now("network", action, &network_id(network), network)
            .with("name", network)
            .with("type", "bridge"),
    );
}

/// Appends a `network connect|disconnect` event for a container.
pub fn endpoint_event(state_root: &Path, action: &str, network: &str, container_id: &str) {
    let _ = event_log::append(
        state_root,
        &EventRecord::now("network", action, &network_id(network), network)
            .with("name", network)
            .with("container", container_id)
            .with("type", "bridge"),
    );
}

/// A stable id for a network: the hex digest of its name.
pub(super) fn network_id(name: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The network name rule (stack-spec's, shared with the stack-file
/// loader and with volumes): the name becomes a file name under the state
/// root.
pub fn check_name(name: &str) -> Result<(), ContainerError> {
    check_object_name(ObjectKind::Network, name).map_err(|e| ContainerError::Invalid(e.to_string()))
}

/// `<root>/networks/meta/<name>.json`, for a name that passes [`check_name`].
fn meta_path(state_root: &Path, name: &str) -> Result<std::path::PathBuf, ContainerError> {
    check_name(name)?;
    crate::paths::child(
        &state_root.join("networks").join("meta"),
        &format!("{name}.json"),
    )
    .map_err(|e| ContainerError::Invalid(e.to_string()))
}

fn read_meta(state_root: &Path, name: &str) -> Meta {
    meta_path(state_root, name)
        .ok()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn session(containers: &Containers) -> Result<Session, ContainerError> {
    Session::open(
        &containers.state_root,
        &containers.run_dir,
        super::pools(containers)?,
    )
}

/// What `network create` asks stack-net for.
pub fn network_spec(options: &CreateOptions) -> NetworkSpec {
    NetworkSpec {
        name: options.name.clone(),
        subnet: options.subnet,
        gateway: options.gateway,
        internal: options.internal,
        external: false,
        standalone: true,
    }
}

/// `network create`: a standalone network (kept when its last container
/// goes), with its bridge and firewall rules in place.
pub fn create(
    containers: &Containers,
    options: &CreateOptions,
) -> Result<NetworkInfo, ContainerError> {
    check_name(&options.name)?;
    let spec = network_spec(options);
    spec.validate()?;
    let session = session(containers)?;
    if session.manager.network(&options.name).is_ok() {
        return Err(ContainerError::Invalid(format!(
            "network with name {} already exists",
            options.name
        )));
    }
    let network = session.block_on(session.manager.create_network(&spec))?;
    let meta = Meta {
        created: stack_runtime::timefmt::now(),
        labels: options.labels.clone(),
    };
    let path = meta_path(&containers.state_root, &network.name)?;
    let saved = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&path, serde_json::to_vec(&meta).unwrap_or_default()));
    let started = saved.map_err(|source| ContainerError::Io {
        context: format!("write {}", path.display()),
        source,
    });
    if let Err(err) = started {
        let _ = session.block_on(session.manager.remove_network(&network.name));
        let _ = std::fs::remove_file(&path);
        return Err(err);
    }
    network_event(&containers.state_root, "create", &network.name);
    Ok(info(containers, network, &[]))
}

/// Every network, by name.
pub fn list(containers: &Containers) -> Result<Vec<NetworkInfo>, ContainerError> {
    let store = stack_net::store::Store::open(&containers.state_root)?;
    let records = store.containers()?;
    let mut all: Vec<NetworkInfo> = store
        .networks()?
        .into_iter()
        .map(|n| info(containers, n, &records))
        .collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

/// One network by name.
pub fn inspect(containers: &Containers, name: &str) -> Result<NetworkInfo, ContainerError> {
    list(containers)?
        .into_iter()
        .find(|n| n.name == name)
        .ok_or_else(|| ContainerError::NotFound(format!("network {name}")))
}

fn info(
    containers: &Containers,
    network: Network,
    records: &[stack_net::ContainerNetworking],
) -> NetworkInfo {
    let names: BTreeMap<String, String> = containers
        .list()
        .into_iter()
        .map(|r| (r.spec.id, r.spec.name))
        .collect();
    let attached = records
        .iter()
        .flat_map(|c| {
            c.endpoints
                .iter()
                .filter(|e| e.network == network.name)
                .map(|e| AttachedContainer {
                    id: c.container_id.clone(),
                    name: names.get(&c.container_id).cloned().unwrap_or_default(),
                    endpoint: e.clone(),
                })
        })
        .collect();
    let meta = read_meta(&containers.state_root, &network.name);
    NetworkInfo {
        id: network_id(&network.name),
        name: network.name,
        created: meta.created,
        driver: "bridge",
        bridge: network.bridge,
        subnet: network.subnet,
        gateway: network.gateway,
        internal: network.internal,
        labels: meta.labels,
        containers: attached,
    }
}

/// `network rm`: refused while containers are attached (they are named);
/// the resolver stops with the last network.
pub fn remove(containers: &Containers, name: &str) -> Result<(), ContainerError> {
    let found = inspect(containers, name)?;
    if !found.containers.is_empty() {
        let users: Vec<String> = found
            .containers
            .iter()
            .map(|c| {
                if c.name.is_empty() {
                    c.id[..12].to_string()
                } else {
                    c.name.clone()
                }
            })
            .collect();
        return Err(ContainerError::Invalid(format!(
            "network {name} has active endpoints: {}",
            users.join(", ")
        )));
    }
    let session = session(containers)?;
    session.block_on(session.manager.remove_network(name))?;
    if let Ok(path) = meta_path(&containers.state_root, name) {
        let _ = std::fs::remove_file(path);
    }
    network_event(&containers.state_root, "destroy", name);
    session.notify_resolver();
    session.stop_resolver_if_idle()
}

/// `network prune`: removes every network without containers; returns
/// their names.
pub fn prune(containers: &Containers) -> Result<Vec<String>, ContainerError> {
    let mut removed = Vec::new();
    for network in list(containers)? {
        if network.containers.is_empty() {
            remove(containers, &network.name)?;
            removed.push(network.name);
        }
    }
    Ok(removed)
}

//! Networks added to or taken from a container before its first start
//! (Docker's `network connect` and `disconnect` of a created container).
//! Only its saved request changes: the first start joins every network
//! the request then names, as for the networks given at create. A
//! container that has started has endpoints on the host; changing those
//! is not built, and the caller refuses it before coming here.

use super::{JoinRecord, NetworkRequest, RequestedMode};
use crate::containers::{ContainerError, ContainerRecord};

/// Why a join could not be added or taken away.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("container {container} has no network of its own (network mode {mode})")]
    NoNetworks { container: String, mode: String },
    #[error("container {container} is already connected to network {network}")]
    AlreadyJoined { container: String, network: String },
    #[error("container {container} is not connected to network {network}")]
    NotJoined { container: String, network: String },
    #[error("network {network} is the only network of container {container}: stack does not leave a container without one (remove it, or connect another first)")]
    LastNetwork { container: String, network: String },
    #[error(transparent)]
    Container(#[from] ContainerError),
}

/// Adds `join` to the networks the container joins at its first start.
pub fn add(record: &ContainerRecord, join: JoinRecord) -> Result<(), JoinError> {
    let (mut request, dir) = load(record)?;
    let joins = joins_of(record, &mut request)?;
    if joins.iter().any(|j| j.network == join.network) {
        return Err(JoinError::AlreadyJoined {
            container: record.spec.name.clone(),
            network: join.network,
        });
    }
    joins.push(join);
    request.save(&dir)?;
    Ok(())
}

/// Takes `network` out of the networks the container joins at its first
/// start.
pub fn remove(record: &ContainerRecord, network: &str) -> Result<(), JoinError> {
    let (mut request, dir) = load(record)?;
    let joins = joins_of(record, &mut request)?;
    let Some(at) = joins.iter().position(|j| j.network == network) else {
        return Err(JoinError::NotJoined {
            container: record.spec.name.clone(),
            network: network.to_string(),
        });
    };
    if joins.len() == 1 {
        return Err(JoinError::LastNetwork {
            container: record.spec.name.clone(),
            network: network.to_string(),
        });
    }
    joins.remove(at);
    request.save(&dir)?;
    Ok(())
}

fn load(record: &ContainerRecord) -> Result<(NetworkRequest, std::path::PathBuf), JoinError> {
    let dir = record.dir.path().to_path_buf();
    match NetworkRequest::load(&dir)? {
        Some(request) => Ok((request, dir)),
        None => Err(JoinError::NoNetworks {
            container: record.spec.name.clone(),
            mode: "none".into(),
        }),
    }
}

fn joins_of<'a>(
    record: &ContainerRecord,
    request: &'a mut NetworkRequest,
) -> Result<&'a mut Vec<JoinRecord>, JoinError> {
    let mode = match &request.mode {
        RequestedMode::None => "none".to_string(),
        RequestedMode::Host => "host".to_string(),
        RequestedMode::Container(other) => format!("container:{other}"),
        RequestedMode::Networks(_) => String::new(),
    };
    match &mut request.mode {
        RequestedMode::Networks(joins) => Ok(joins),
        _ => Err(JoinError::NoNetworks {
            container: record.spec.name.clone(),
            mode,
        }),
    }
}

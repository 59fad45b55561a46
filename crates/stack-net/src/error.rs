//! Errors of the networking layer, each naming the object at fault.

use std::path::PathBuf;

/// Anything that can go wrong while making or removing networks.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("network {network:?}: {reason}")]
    Invalid { network: String, reason: String },
    #[error("network {0:?} does not exist")]
    NoSuchNetwork(String),
    #[error("network {0:?} already exists")]
    NetworkExists(String),
    #[error("network {network:?}: no free subnet left in the address pools {pools}")]
    PoolsExhausted { network: String, pools: String },
    #[error("network {network:?}: no free address left in {subnet}")]
    SubnetFull { network: String, subnet: String },
    #[error("network {network:?}: address {address} is {reason}")]
    AddressUnavailable {
        network: String,
        address: String,
        reason: String,
    },
    #[error("network {network:?} still has endpoints: {containers}")]
    InUse { network: String, containers: String },
    #[error("netlink: {context}: {source}")]
    Netlink {
        context: String,
        #[source]
        source: rtnetlink::Error,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("state file {path}: {reason}")]
    State { path: PathBuf, reason: String },
    #[error("firewall: {0}")]
    Firewall(String),
    #[error("dns: {0}")]
    Dns(String),
    #[error("{} errors: {}", .0.len(), join(.0))]
    Many(Vec<NetError>),
}

fn join(errors: &[NetError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl NetError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> NetError {
        let context = context.into();
        move |source| NetError::Io { context, source }
    }

    pub(crate) fn netlink(context: impl Into<String>) -> impl FnOnce(rtnetlink::Error) -> NetError {
        let context = context.into();
        move |source| NetError::Netlink { context, source }
    }
}

/// Collects errors during best-effort work (teardown) so every step still
/// runs and the caller sees all failures at once.
#[derive(Debug, Default)]
pub struct ErrorList(Vec<NetError>);

impl ErrorList {
    pub fn push(&mut self, result: Result<(), NetError>) {
        if let Err(err) = result {
            match err {
                NetError::Many(inner) => self.0.extend(inner),
                other => self.0.push(other),
            }
        }
    }

    pub fn into_result(mut self) -> Result<(), NetError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(self.0.remove(0)),
            _ => Err(NetError::Many(self.0)),
        }
    }
}

pub type Result<T, E = NetError> = std::result::Result<T, E>;

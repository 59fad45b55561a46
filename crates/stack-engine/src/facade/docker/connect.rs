//! `POST /networks/{id}/connect` and `/disconnect` for a container that
//! has not started: its saved request gains or loses the network, and its
//! first start joins what the request then names. A started container
//! has endpoints on the host, which these do not change yet: they are
//! refused with a message that says so.

use stack_api::docker::is_unset;
use stack_api::docker::objects::{NetworkConnectRequest, NetworkDisconnectRequest};
use stack_runtime::state::Status;

use super::super::{view, Engine, EngineError};
use super::create::endpoint_options;
use crate::containers::network::{joins, JoinRecord};
use crate::containers::ContainerRecord;

impl Engine {
    /// Adds the network `network_key` (name, id or id prefix) to the
    /// networks of a created container, with the endpoint's aliases and
    /// address.
    pub fn docker_connect(
        &self,
        network_key: &str,
        req: &NetworkConnectRequest,
    ) -> Result<(), EngineError> {
        refuse_unmapped(&req.unmapped)?;
        let network = self.find_network(network_key)?;
        let record = self.docker_container(&req.container)?;
        not_started(&record, "connect")?;
        let (aliases, ip) = match &req.endpoint_config {
            Some(endpoint) => endpoint_options("EndpointConfig.", endpoint)?,
            None => (Vec::new(), None),
        };
        let ipv4_address = ip
            .map(|ip| {
                ip.parse().map_err(|_| {
                    EngineError::Invalid(format!(
                        "EndpointConfig.IPAMConfig.IPv4Address {ip:?} is not an IPv4 address"
                    ))
                })
            })
            .transpose()?;
        joins::add(
            &record,
            JoinRecord {
                network: network.name,
                aliases,
                ipv4_address,
            },
        )?;
        Ok(())
    }

    /// Takes the network `network_key` out of the networks of a created
    /// container.
    pub fn docker_disconnect(
        &self,
        network_key: &str,
        req: &NetworkDisconnectRequest,
    ) -> Result<(), EngineError> {
        refuse_unmapped(&req.unmapped)?;
        let network = self.find_network(network_key)?;
        let record = self.docker_container(&req.container)?;
        not_started(&record, "disconnect")?;
        joins::remove(&record, &network.name)?;
        Ok(())
    }

    /// The container `key`, or Docker's `No such container` (the network
    /// of the same request has its own not-found words).
    fn docker_container(&self, key: &str) -> Result<ContainerRecord, EngineError> {
        use crate::error_class::{Classify, ErrorClass};
        self.find(key).map_err(|err| match err.class() {
            ErrorClass::NotFound => EngineError::NotFound(format!("No such container: {key}")),
            _ => err,
        })
    }
}

fn refuse_unmapped(
    unmapped: &std::collections::BTreeMap<String, serde_json::Value>,
) -> Result<(), EngineError> {
    match unmapped.iter().find(|(_, v)| !is_unset(v)) {
        Some((key, value)) => Err(EngineError::Invalid(format!(
            "{key} is not supported by stack (got {value})"
        ))),
        None => Ok(()),
    }
}

/// Only a container that never started: one that did has endpoints on the
/// host, and moving them while it lives is not built.
fn not_started(record: &ContainerRecord, verb: &str) -> Result<(), EngineError> {
    let status = record.state.effective_status();
    if status == Status::Created {
        return Ok(());
    }
    Err(EngineError::Conflict(format!(
        "network {verb} of container {} ({}): stack changes the networks of a container only before its first start",
        record.spec.name,
        view::word_of(&record.state, status)
    )))
}

//! Networks and volumes in Docker's shapes, and Docker's create requests
//! checked and turned into the native ones.

use std::collections::BTreeMap;

use stack_api::docker::filters::{labels_match, Filters};
use stack_api::docker::is_unset;
use stack_api::docker::objects::{
    ConfigReference, Ipam, IpamConfig, Network, NetworkContainer, NetworkCreateRequest,
    NetworkCreateResponse, Volume, VolumeCreateRequest,
};
use stack_api::objects::{
    NetworkCreateRequest as NativeNetworkCreate, NetworkSummary,
    VolumeCreateRequest as NativeVolumeCreate, VolumeSummary,
};

use super::super::{Engine, EngineError};
use super::time_or_zero;

fn invalid(message: String) -> EngineError {
    EngineError::Invalid(message)
}

impl Engine {
    /// `GET /networks` with the `name`, `id`, `label` and `driver` filters.
    pub fn docker_networks(&self, filters: &Filters) -> Result<Vec<Network>, EngineError> {
        const KNOWN: &[&str] = &["name", "id", "label", "driver", "scope", "type"];
        if let Some(name) = filters.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(invalid(format!("invalid filter '{name}'")));
        }
        let any = |name: &str, test: &dyn Fn(&str) -> bool| {
            filters
                .get(name)
                .is_none_or(|values| values.iter().any(|v| test(v)))
        };
        Ok(self
            .list_networks()?
            .iter()
            .filter(|n| {
                any("name", &|v| n.name.contains(v))
                    && any("id", &|v| n.id.starts_with(v))
                    && any("driver", &|v| v == n.driver)
                    && any("scope", &|v| v == "local")
                    && any("type", &|v| v == "custom")
                    && filters
                        .get("label")
                        .is_none_or(|w| labels_match(w, &n.labels))
            })
            .map(network)
            .collect())
    }

    /// `GET /networks/{id}`, by name, id or id prefix.
    pub fn docker_network(&self, key: &str) -> Result<Network, EngineError> {
        self.find_network(key).map(|n| network(&n))
    }

    pub(super) fn find_network(&self, key: &str) -> Result<NetworkSummary, EngineError> {
        let all = self.list_networks()?;
        let by_name = all.iter().find(|n| n.name == key);
        let by_id = || {
            let found: Vec<&NetworkSummary> = all
                .iter()
                .filter(|n| !key.is_empty() && n.id.starts_with(key))
                .collect();
            (found.len() == 1).then(|| found[0])
        };
        by_name
            .or_else(by_id)
            .cloned()
            .ok_or_else(|| EngineError::NotFound(format!("network {key} not found")))
    }

    /// `POST /networks/create`: a bridge network; every other driver and
    /// option is refused by name.
    pub fn docker_create_network(
        &self,
        req: &NetworkCreateRequest,
    ) -> Result<NetworkCreateResponse, EngineError> {
        if let Some((key, value)) = req.unmapped.iter().find(|(_, v)| !is_unset(v)) {
            return Err(invalid(format!(
                "{key} is not supported by stack networks (got {value})"
            )));
        }
        if !matches!(req.driver.as_str(), "" | "bridge") {
            return Err(invalid(format!(
                "network driver {:?} is not supported: stack makes bridge networks",
                req.driver
            )));
        }
        if !matches!(req.scope.as_str(), "" | "local") {
            return Err(invalid(format!("Scope {:?} is not supported", req.scope)));
        }
        if req.enable_ipv4 == Some(false) {
            return Err(invalid("EnableIPv4 false is not supported".into()));
        }
        let (subnet, gateway) = match &req.ipam {
            None => (None, None),
            Some(ipam) => ipam_request(ipam)?,
        };
        let made = self.create_network(&NativeNetworkCreate {
            name: req.name.clone(),
            subnet,
            gateway,
            internal: req.internal,
            labels: req.labels.clone().unwrap_or_default(),
        })?;
        Ok(NetworkCreateResponse {
            id: made.id,
            warning: String::new(),
        })
    }

    /// `DELETE /networks/{id}`.
    pub fn docker_remove_network(&self, key: &str) -> Result<(), EngineError> {
        let found = self.find_network(key)?;
        self.remove_network(&found.name)
    }

    /// `GET /volumes` (filters as the native list takes them).
    pub fn docker_volumes(&self, filters: &Filters) -> Result<Vec<Volume>, EngineError> {
        Ok(self.list_volumes(filters)?.iter().map(volume).collect())
    }

    pub fn docker_volume(&self, name: &str) -> Result<Volume, EngineError> {
        match self.inspect_volume(name) {
            Ok(v) => Ok(volume(&v)),
            Err(err) if err_is_not_found(&err) => {
                Err(EngineError::NotFound(format!("get {name}: no such volume")))
            }
            Err(err) => Err(err),
        }
    }

    /// `POST /volumes/create`: a `local` volume without driver options.
    pub fn docker_create_volume(&self, req: &VolumeCreateRequest) -> Result<Volume, EngineError> {
        if let Some((key, value)) = req.unmapped.iter().find(|(_, v)| !is_unset(v)) {
            return Err(invalid(format!(
                "{key} is not supported by stack volumes (got {value})"
            )));
        }
        if let Some((key, _)) = req.driver_opts.iter().flatten().next() {
            return Err(invalid(format!(
                "DriverOpts {key:?} is not supported: stack volumes are plain directories"
            )));
        }
        let (made, _) = self.create_volume(&NativeVolumeCreate {
            name: Some(req.name.clone()).filter(|n| !n.is_empty()),
            driver: Some(req.driver.clone()).filter(|d| !d.is_empty()),
            labels: req.labels.clone().unwrap_or_default(),
        })?;
        Ok(volume(&made))
    }
}

fn err_is_not_found(err: &EngineError) -> bool {
    use crate::error_class::{Classify, ErrorClass};
    err.class() == ErrorClass::NotFound
}

/// One `IPAM.Config` entry at most, with a subnet and a gateway only.
fn ipam_request(ipam: &Ipam) -> Result<(Option<String>, Option<String>), EngineError> {
    if !matches!(ipam.driver.as_str(), "" | "default") {
        return Err(invalid(format!(
            "IPAM driver {:?} is not supported",
            ipam.driver
        )));
    }
    if let Some((key, _)) = ipam.options.iter().flatten().next() {
        return Err(invalid(format!("IPAM.Options {key:?} is not supported")));
    }
    let configs = ipam.config.as_deref().unwrap_or_default();
    let Some(first) = configs.first() else {
        return Ok((None, None));
    };
    if configs.len() > 1 {
        return Err(invalid(
            "IPAM.Config: stack networks have one IPv4 subnet".into(),
        ));
    }
    if !first.ip_range.is_empty() {
        return Err(invalid("IPAM.Config.IPRange is not supported".into()));
    }
    if first
        .auxiliary_addresses
        .as_ref()
        .is_some_and(|a| !a.is_empty())
    {
        return Err(invalid(
            "IPAM.Config.AuxiliaryAddresses is not supported".into(),
        ));
    }
    let some = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
    Ok((some(&first.subnet), some(&first.gateway)))
}

fn network(n: &NetworkSummary) -> Network {
    Network {
        name: n.name.clone(),
        id: n.id.clone(),
        created: time_or_zero(&n.created),
        scope: "local".into(),
        driver: n.driver.clone(),
        enable_ipv4: true,
        enable_ipv6: false,
        ipam: Ipam {
            driver: "default".into(),
            options: Some(BTreeMap::new()),
            config: Some(vec![IpamConfig {
                subnet: n.subnet.clone(),
                gateway: n.gateway.clone(),
                ..IpamConfig::default()
            }]),
        },
        internal: n.internal,
        attachable: false,
        ingress: false,
        config_from: ConfigReference::default(),
        config_only: false,
        containers: n
            .containers
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    NetworkContainer {
                        name: c.name.clone(),
                        endpoint_id: String::new(),
                        mac_address: String::new(),
                        ipv4_address: c.ipv4_address.clone(),
                        ipv6_address: String::new(),
                    },
                )
            })
            .collect(),
        options: BTreeMap::new(),
        labels: n.labels.clone(),
    }
}

fn volume(v: &VolumeSummary) -> Volume {
    Volume {
        name: v.name.clone(),
        driver: v.driver.clone(),
        mountpoint: v.mountpoint.clone(),
        created_at: time_or_zero(&v.created_at),
        labels: v.labels.clone(),
        scope: v.scope.clone(),
        options: BTreeMap::new(),
        usage_data: None,
    }
}

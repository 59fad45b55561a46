//! Network and volume operations shared by the daemon's routes and the
//! in-process CLI: thin adapters over `stack_engine::containers::network::
//! admin` and `stack_engine::volumes`, checking the request first so both
//! paths refuse bad input with the same words and status.

use std::collections::BTreeMap;

use super::{Engine, EngineError};
use crate::containers::network::admin::{self, CreateOptions, NetworkInfo};
use crate::volumes::{CreateVolume, VolumeFilter, VolumeInfo, Volumes};
use stack_api::objects::{
    NetworkCreateRequest, NetworkEndpoint, NetworkPruneResult, NetworkSummary, VolumeCreateRequest,
    VolumePruneResult, VolumeSummary,
};

impl Engine {
    pub fn list_networks(&self) -> Result<Vec<NetworkSummary>, EngineError> {
        let all = admin::list(self.containers())?;
        Ok(all.iter().map(network_summary).collect())
    }

    pub fn inspect_network(&self, name: &str) -> Result<NetworkSummary, EngineError> {
        self.list_networks()?
            .into_iter()
            .find(|n| n.name == name)
            .ok_or_else(|| EngineError::NotFound(format!("no such network: {name}")))
    }

    /// 409 when the name is taken, 400 for a bad name, subnet or gateway.
    pub fn create_network(
        &self,
        req: &NetworkCreateRequest,
    ) -> Result<NetworkSummary, EngineError> {
        let options = create_options(req)?;
        if self.list_networks()?.iter().any(|n| n.name == req.name) {
            return Err(EngineError::Conflict(format!(
                "network with name {} already exists",
                req.name
            )));
        }
        let made = admin::create(self.containers(), &options)?;
        Ok(network_summary(&made))
    }

    /// 409 while containers are attached (they are named).
    pub fn remove_network(&self, name: &str) -> Result<(), EngineError> {
        let found = self.inspect_network(name)?;
        if !found.containers.is_empty() {
            let users: Vec<&str> = found.containers.iter().map(|c| c.name.as_str()).collect();
            return Err(EngineError::Conflict(format!(
                "network {name} has active endpoints: {}",
                users.join(", ")
            )));
        }
        Ok(admin::remove(self.containers(), name)?)
    }

    pub fn prune_networks(&self) -> Result<NetworkPruneResult, EngineError> {
        Ok(NetworkPruneResult {
            networks: admin::prune(self.containers())?,
        })
    }

    fn volumes(&self) -> Result<Volumes, EngineError> {
        Ok(Volumes::open(&self.paths)?)
    }

    /// Docker's filter map: `{"label": ["k=v"], "name": [...], "dangling": ["true"]}`.
    pub fn list_volumes(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<VolumeSummary>, EngineError> {
        let filter = VolumeFilter::from_map(filters)?;
        Ok(self
            .volumes()?
            .list(&filter)?
            .iter()
            .map(volume_summary)
            .collect())
    }

    pub fn inspect_volume(&self, name: &str) -> Result<VolumeSummary, EngineError> {
        Ok(volume_summary(&self.volumes()?.inspect(name)?))
    }

    /// The volume, and whether it was made now (an existing name is kept).
    pub fn create_volume(
        &self,
        req: &VolumeCreateRequest,
    ) -> Result<(VolumeSummary, bool), EngineError> {
        let (info, created) = self.volumes()?.create(&CreateVolume {
            name: req.name.clone(),
            driver: req.driver.clone(),
            labels: req.labels.clone(),
        })?;
        Ok((volume_summary(&info), created))
    }

    /// 409 while a container mounts it; with `force`, a missing volume is
    /// not an error.
    pub fn remove_volume(&self, name: &str, force: bool) -> Result<(), EngineError> {
        self.volumes()?.remove(name, force)?;
        Ok(())
    }

    pub fn prune_volumes(&self, all: bool) -> Result<VolumePruneResult, EngineError> {
        let report = self.volumes()?.prune(all)?;
        Ok(VolumePruneResult {
            volumes: report.volumes,
            bytes: report.bytes,
        })
    }
}

/// Checks `network create`'s values; each error names the one at fault.
fn create_options(req: &NetworkCreateRequest) -> Result<CreateOptions, EngineError> {
    let name = &req.name;
    admin::check_name(name)?;
    let subnet = req
        .subnet
        .as_deref()
        .map(|s| {
            s.parse().map_err(|_| {
                EngineError::Invalid(format!("subnet {s:?} is not an IPv4 CIDR (a.b.c.d/n)"))
            })
        })
        .transpose()?;
    let gateway = req
        .gateway
        .as_deref()
        .map(|g| {
            g.parse()
                .map_err(|_| EngineError::Invalid(format!("gateway {g:?} is not an IPv4 address")))
        })
        .transpose()?;
    if let Some(bad) = req.labels.keys().find(|k| k.is_empty()) {
        return Err(EngineError::Invalid(format!(
            "label {bad:?}: expected KEY=VALUE"
        )));
    }
    let options = CreateOptions {
        name: name.clone(),
        subnet,
        gateway,
        internal: req.internal,
        labels: req.labels.clone(),
    };
    // The address rules (stack-net's), before anything is looked up or made.
    admin::network_spec(&options).validate()?;
    Ok(options)
}

fn network_summary(n: &NetworkInfo) -> NetworkSummary {
    NetworkSummary {
        name: n.name.clone(),
        id: n.id.clone(),
        created: n.created.clone(),
        driver: n.driver.to_string(),
        bridge: n.bridge.clone(),
        subnet: n.subnet.to_string(),
        gateway: n.gateway.to_string(),
        internal: n.internal,
        labels: n.labels.clone(),
        containers: n
            .containers
            .iter()
            .map(|c| NetworkEndpoint {
                id: c.id.clone(),
                name: if c.name.is_empty() {
                    c.id.chars().take(12).collect()
                } else {
                    c.name.clone()
                },
                ipv4_address: format!("{}/{}", c.endpoint.address, c.endpoint.prefix_len),
                interface: c.endpoint.container_ifname.clone(),
                host_interface: c.endpoint.host_veth.clone(),
                aliases: c.endpoint.names.clone(),
            })
            .collect(),
    }
}

fn volume_summary(v: &VolumeInfo) -> VolumeSummary {
    VolumeSummary {
        name: v.name.clone(),
        driver: v.driver.clone(),
        mountpoint: v.mountpoint.display().to_string(),
        labels: v.labels.clone(),
        created_at: v.created_at.clone(),
        scope: "local".into(),
        project: v.project.clone(),
        used_by: v.used_by.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_class::{Classify, ErrorClass};

    use crate::facade::test_engine as host;

    #[test]
    fn network_requests_are_checked_before_any_work() {
        let bad = |req: NetworkCreateRequest| create_options(&req).expect_err("refused");
        let err = bad(NetworkCreateRequest {
            name: "a/b".into(),
            ..Default::default()
        });
        assert_eq!(err.class(), ErrorClass::InvalidInput);
        let err = bad(NetworkCreateRequest {
            name: "x".into(),
            subnet: Some("10.99.0.0".into()),
            ..Default::default()
        });
        assert!(
            err.to_string().contains("\"10.99.0.0\""),
            "{}",
            err.to_string()
        );
        let err = bad(NetworkCreateRequest {
            name: "x".into(),
            gateway: Some("gw".into()),
            ..Default::default()
        });
        assert!(err.to_string().contains("gateway"), "{}", err.to_string());
        // Ranges that would masquerade all egress, shadow the host's own
        // routes, or fail deep in netlink: a 400 naming network and subnet.
        for (subnet, gateway) in [
            ("0.0.0.0/0", None),
            ("127.0.0.0/8", None),
            ("169.254.0.0/16", None),
            ("224.0.0.0/4", None),
            ("239.255.0.0/24", None),
            ("10.0.0.0/31", None),
            ("10.0.0.1/32", None),
            ("0.0.0.0/8", None),
            ("255.255.255.255/32", None),
            ("10.99.0.0/24", Some("10.98.0.1")),
        ] {
            let err = bad(NetworkCreateRequest {
                name: "evil".into(),
                subnet: Some(subnet.into()),
                gateway: gateway.map(Into::into),
                ..Default::default()
            });
            assert_eq!(err.class(), ErrorClass::InvalidInput, "{subnet}: {err}");
            assert!(
                err.to_string().contains("\"evil\"")
                    && err
                        .to_string()
                        .contains(subnet.split('/').next().unwrap_or(subnet)),
                "{subnet}: {err}"
            );
        }
        let ok = create_options(&NetworkCreateRequest {
            name: "front".into(),
            subnet: Some("10.99.0.0/24".into()),
            gateway: Some("10.99.0.1".into()),
            internal: true,
            labels: [("team".to_string(), "web".to_string())].into(),
        })
        .expect("good values");
        assert!(ok.internal);
        assert_eq!(ok.labels.get("team").map(String::as_str), Some("web"));
    }

    #[test]
    fn volume_errors_have_their_status() {
        let dir = tempfile::tempdir().expect("tempdir");
        let h = host(dir.path());
        let err = h.inspect_volume("nope").expect_err("missing");
        assert_eq!(err.class(), ErrorClass::NotFound);
        assert_eq!(err.to_string(), "no such volume: nope");
        let err = h
            .create_volume(&VolumeCreateRequest {
                name: Some(".x".into()),
                ..Default::default()
            })
            .expect_err("bad name");
        assert_eq!(err.class(), ErrorClass::InvalidInput);
        let filters = [("colour".to_string(), vec!["red".to_string()])].into();
        assert_eq!(
            h.list_volumes(&filters).expect_err("filter").class(),
            ErrorClass::InvalidInput
        );
        let (v, created) = h
            .create_volume(&VolumeCreateRequest {
                name: Some("data".into()),
                ..Default::default()
            })
            .expect("create");
        assert!(created);
        assert_eq!(v.scope, "local");
        h.remove_volume("data", false).expect("rm");
        h.remove_volume("data", true).expect("rm -f of nothing");
        assert_eq!(
            h.remove_volume("data", false).expect_err("gone").class(),
            ErrorClass::NotFound
        );
    }
}

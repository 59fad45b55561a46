//! The API the engine calls: networks and container attachments, keeping
//! kernel objects, firewall, DNS registry and state files in step.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use tokio::sync::Mutex;

use crate::connect;
use crate::dns::{self, DnsEntry, DnsRegistry, DnsServer};
use crate::error::{ErrorList, NetError, Result};
use crate::firewall::{
    Firewall, IptablesRunner, NetworkRules, PortForward, RuleSet, SystemIptables,
};
use crate::ipam;
use crate::model::{
    AddressPool, AttachRequest, ContainerNetworking, Endpoint, Network, NetworkSpec,
};
use crate::names;
use crate::netlink::Netlink;
use crate::store::Store;

/// How a [`NetworkManager`] is set up.
#[derive(Debug, Clone)]
pub struct ManagerOptions {
    /// The state root; records go to `<state_root>/networks/`.
    pub state_root: PathBuf,
    /// Pools for subnets of new networks (`NetworkConfig`).
    pub pools: Vec<AddressPool>,
    /// Where the resolver listens in the host namespace; `None` runs no
    /// resolver (containers then get no names).
    pub dns_bind: Option<SocketAddr>,
    /// Resolvers for names that are not ours, usually
    /// [`dns::upstreams_from_resolv_conf`] of the host's file.
    pub upstreams: Vec<SocketAddr>,
    /// Port of a resolver serving in another process (see
    /// [`dns::service`]), used for the firewall's redirect when
    /// `dns_bind` is `None`.
    pub external_dns_port: Option<u16>,
    /// Re-fill the firewall chains on open. A long-lived owner wants it
    /// (the inputs may have changed while it was away); a short command
    /// that only attaches one container does not pay for it, and calls
    /// [`NetworkManager::refresh_firewall`] when it knows they changed.
    pub refresh_on_open: bool,
}

impl ManagerOptions {
    /// Defaults for a state root: default pools, resolver on a free port of
    /// every host address, upstreams from the host's `/etc/resolv.conf`.
    pub fn new(state_root: impl Into<PathBuf>) -> ManagerOptions {
        let upstreams = std::fs::read_to_string("/etc/resolv.conf")
            .map(|t| dns::upstreams_from_resolv_conf(&t))
            .unwrap_or_default();
        ManagerOptions {
            state_root: state_root.into(),
            pools: AddressPool::default_pools(),
            dns_bind: Some(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))),
            upstreams,
            external_dns_port: None,
            refresh_on_open: true,
        }
    }
}

/// Networks and attachments of one stack installation.
pub struct NetworkManager<R: IptablesRunner = SystemIptables> {
    store: Store,
    pools: Vec<AddressPool>,
    host: Netlink,
    /// Also the lock that serializes every change.
    firewall: Mutex<Firewall<R>>,
    registry: DnsRegistry,
    dns: Option<DnsServer>,
    external_dns_port: Option<u16>,
}

impl NetworkManager<SystemIptables> {
    /// Opens the state, starts the resolver and re-applies the firewall of
    /// any existing networks. Must be called inside a tokio runtime.
    pub async fn open(options: ManagerOptions) -> Result<NetworkManager<SystemIptables>> {
        NetworkManager::open_with(options, SystemIptables).await
    }
}

impl<R: IptablesRunner> NetworkManager<R> {
    /// [`NetworkManager::open`] with another iptables runner.
    pub async fn open_with(options: ManagerOptions, runner: R) -> Result<NetworkManager<R>> {
        let store = Store::open(&options.state_root)?;
        let registry = DnsRegistry::new();
        let dns = match options.dns_bind {
            Some(bind) => Some(DnsServer::start(bind, registry.clone(), options.upstreams).await?),
            None => None,
        };
        let manager = NetworkManager {
            store,
            pools: options.pools,
            host: Netlink::host()?,
            firewall: Mutex::new(Firewall::new(runner)),
            registry,
            dns,
            external_dns_port: options.external_dns_port,
        };
        for network in manager.store.networks()? {
            manager
                .registry
                .set_internal(&network.name, network.internal);
        }
        for record in manager.store.containers()? {
            manager.register_names(&record);
        }
        if options.refresh_on_open {
            manager.refresh_firewall().await?;
        }
        Ok(manager)
    }

    /// Re-fills every chain from the records (e.g. the resolver's port
    /// changed while nobody was running). Nothing happens without networks.
    pub async fn refresh_firewall(&self) -> Result<()> {
        if self.store.networks()?.is_empty() {
            return Ok(());
        }
        let set = self.rule_set()?;
        self.firewall.lock().await.refresh(&set).await
    }

    /// The name table the resolver answers from.
    pub fn registry(&self) -> &DnsRegistry {
        &self.registry
    }

    /// Where the resolver listens, if it runs in this process.
    pub fn dns_addr(&self) -> Option<SocketAddr> {
        self.dns.as_ref().map(DnsServer::local_addr)
    }

    /// Points the firewall's DNS redirect at a resolver in another process
    /// (takes effect with the next change or [`NetworkManager::refresh_firewall`]).
    pub fn set_external_dns_port(&mut self, port: Option<u16>) {
        self.external_dns_port = port;
    }

    /// The port the firewall redirects DNS to: this process's resolver, or
    /// the one serving elsewhere.
    pub fn dns_port(&self) -> Option<u16> {
        self.dns_addr().map(|a| a.port()).or(self.external_dns_port)
    }

    pub fn networks(&self) -> Result<Vec<Network>> {
        self.store.networks()
    }

    pub fn network(&self, name: &str) -> Result<Network> {
        self.store
            .networks()?
            .into_iter()
            .find(|n| n.name == name)
            .ok_or_else(|| NetError::NoSuchNetwork(name.to_string()))
    }

    /// The networking record of a container, if it is attached.
    pub fn container(&self, container_id: &str) -> Result<Option<ContainerNetworking>> {
        Ok(self
            .store
            .containers()?
            .into_iter()
            .find(|c| c.container_id == container_id))
    }

    /// The namespace file of an attached container: what
    /// `network_mode: service:X` / `container:X` join (the engine starts the
    /// new container in it and attaches nothing). `none` is a fresh namespace
    /// that is never attached; `host` uses no namespace of its own.
    pub fn netns_of(&self, container_id: &str) -> Result<Option<PathBuf>> {
        Ok(self.container(container_id)?.map(|c| c.netns))
    }

    /// Creates a network (idempotent: an existing network with the same
    /// settings is returned). `external` networks must already exist.
    pub async fn create_network(&self, spec: &NetworkSpec) -> Result<Network> {
        let mut firewall = self.firewall.lock().await;
        let existing = self.store.networks()?;
        if let Some(found) = existing.iter().find(|n| n.name == spec.name) {
            return check_same(found, spec).map(|()| found.clone());
        }
        if spec.external {
            return Err(NetError::NoSuchNetwork(spec.name.clone()));
        }
        spec.validate()?;
        let network = self.plan_network(spec, &existing).await?;
        self.store.save_network(&network)?;
        let made = async {
            connect::ensure_bridge(&self.host, &network).await?;
            firewall.apply(&self.rule_set()?).await
        }
        .await;
        if let Err(err) = made {
            // Roll back: nothing half-made stays behind.
            let _ = self.store.remove_network(&network.name);
            let _ = self.host.delete_link(&network.bridge).await;
            if let Ok(set) = self.rule_set() {
                let _ = firewall.apply(&set).await;
            }
            return Err(err);
        }
        self.registry.set_internal(&network.name, network.internal);
        Ok(network)
    }

    async fn plan_network(&self, spec: &NetworkSpec, existing: &[Network]) -> Result<Network> {
        let invalid = |reason: String| NetError::Invalid {
            network: spec.name.clone(),
            reason,
        };
        let subnet = match spec.subnet {
            Some(subnet) => {
                if let Some(other) = existing.iter().find(|n| ipam::overlaps(&n.subnet, &subnet)) {
                    return Err(invalid(format!(
                        "subnet {subnet} overlaps network {:?} ({})",
                        other.name, other.subnet
                    )));
                }
                subnet.trunc()
            }
            None => {
                let mut taken: Vec<_> = existing.iter().map(|n| n.subnet).collect();
                taken.extend(self.host.ipv4_route_destinations().await?);
                ipam::allocate_subnet(&self.pools, &taken).ok_or_else(|| {
                    NetError::PoolsExhausted {
                        network: spec.name.clone(),
                        pools: format!(
                            "{:?}",
                            self.pools.iter().map(|p| p.base).collect::<Vec<_>>()
                        ),
                    }
                })?
            }
        };
        let gateway = match spec.gateway {
            Some(gw) => {
                if !subnet.contains(&gw) || gw == subnet.network() || gw == subnet.broadcast() {
                    return Err(invalid(format!(
                        "gateway {gw} is not a host address of {subnet}"
                    )));
                }
                gw
            }
            None => ipam::default_gateway(&subnet)
                .ok_or_else(|| invalid(format!("subnet {subnet} has no host addresses")))?,
        };
        Ok(Network {
            name: spec.name.clone(),
            bridge: names::bridge_name(&spec.name),
            subnet,
            gateway,
            internal: spec.internal,
            external: spec.standalone,
        })
    }

    /// Removes a network that has no endpoints left: firewall rules first,
    /// then the bridge, then the record. Removing an absent network is fine.
    pub async fn remove_network(&self, name: &str) -> Result<()> {
        let mut firewall = self.firewall.lock().await;
        let Some(network) = self.store.networks()?.into_iter().find(|n| n.name == name) else {
            return Ok(());
        };
        let users: Vec<String> = self
            .store
            .containers()?
            .into_iter()
            .filter(|c| c.endpoints.iter().any(|e| e.network == name))
            .map(|c| c.container_id)
            .collect();
        if !users.is_empty() {
            return Err(NetError::InUse {
                network: name.to_string(),
                containers: users.join(", "),
            });
        }
        self.store.remove_network(name)?;
        let mut errors = ErrorList::default();
        // 1. Firewall first, while the bridge still routes (a packet could
        //    otherwise leak to the default gateway).
        errors.push(self.apply_or_clear(&mut firewall).await);
        // 2. The bridge last.
        errors.push(self.host.delete_link(&network.bridge).await.map(drop));
        self.registry.set_internal(name, false);
        errors.into_result()
    }

    /// Applies the current rule set, or removes all our chains when no
    /// network is left.
    async fn apply_or_clear(&self, firewall: &mut Firewall<R>) -> Result<()> {
        if self.store.networks()?.is_empty() {
            firewall.remove_all().await
        } else {
            firewall.apply(&self.rule_set()?).await
        }
    }

    /// Repairs the firewall if something flushed or changed our chains.
    /// Returns whether a repair was needed.
    pub async fn reconcile(&self) -> Result<bool> {
        let mut firewall = self.firewall.lock().await;
        if self.store.networks()?.is_empty() {
            return Ok(false);
        }
        firewall.reconcile(&self.rule_set()?).await
    }

    /// The firewall inputs, from the persisted records.
    fn rule_set(&self) -> Result<RuleSet> {
        let networks = self.store.networks()?;
        let mut ports = Vec::new();
        for record in self.store.containers()? {
            let Some(target) = record.port_target() else {
                continue;
            };
            let internal = networks
                .iter()
                .any(|n| n.name == target.network && n.internal);
            if internal {
                continue; // internal networks publish nothing
            }
            for mapping in &record.ports {
                ports.extend(mapping.pairs().map(|(host_port, target_port)| PortForward {
                    host_ip: mapping.host_ip,
                    host_port,
                    target: target.address,
                    target_port,
                    protocol: mapping.protocol,
                }));
            }
        }
        Ok(RuleSet {
            networks: networks
                .iter()
                .map(|n| NetworkRules {
                    bridge: n.bridge.clone(),
                    subnet: n.subnet,
                    gateway: n.gateway,
                    internal: n.internal,
                })
                .collect(),
            ports,
            dns_port: self.dns_port(),
        })
    }

    fn register_names(&self, record: &ContainerNetworking) {
        self.registry.set_container(
            &record.container_id,
            record
                .endpoints
                .iter()
                .map(|e| DnsEntry {
                    network: e.network.clone(),
                    address: e.address,
                    names: e.names.clone(),
                })
                .collect(),
        );
    }

    /// Connects a container's namespace to its networks. Attaching again
    /// (after a restart of the container or of stack) keeps the addresses
    /// it had. On failure, everything made so far is removed again.
    pub async fn attach(&self, request: &AttachRequest) -> Result<ContainerNetworking> {
        let mut firewall = self.firewall.lock().await;
        for mapping in &request.ports {
            mapping.validate().map_err(|reason| NetError::Invalid {
                network: request.container_id.clone(),
                reason: reason.to_string(),
            })?;
        }
        let networks = self.store.networks()?;
        let others: Vec<ContainerNetworking> = self.store.containers()?;
        let previous = others
            .iter()
            .find(|c| c.container_id == request.container_id)
            .cloned();
        let others: Vec<&ContainerNetworking> = others
            .iter()
            .filter(|c| c.container_id != request.container_id)
            .collect();
        let mut plan = Vec::new();
        for (i, attachment) in request.attachments.iter().enumerate() {
            let network = networks
                .iter()
                .find(|n| n.name == attachment.network)
                .ok_or_else(|| NetError::NoSuchNetwork(attachment.network.clone()))?;
            let used: BTreeSet<Ipv4Addr> = others
                .iter()
                .flat_map(|c| c.endpoints.iter())
                .filter(|e| e.network == network.name)
                .map(|e| e.address)
                .collect();
            let kept = previous
                .as_ref()
                .and_then(|p| p.endpoints.iter().find(|e| e.network == network.name))
                .map(|e| e.address);
            let address = ipam::allocate_address(
                &network.subnet,
                network.gateway,
                &used,
                attachment.ipv4_address.or(kept),
            )
            .map_err(|err| NetError::AddressUnavailable {
                network: network.name.clone(),
                address: attachment
                    .ipv4_address
                    .or(kept)
                    .map_or_else(|| "an address".to_string(), |a| a.to_string()),
                reason: err.describe(&network.subnet),
            })?;
            plan.push((
                network,
                Endpoint {
                    network: network.name.clone(),
                    address,
                    prefix_len: network.subnet.prefix_len(),
                    gateway: network.gateway,
                    host_veth: names::host_veth_name(&request.container_id, &network.name),
                    container_ifname: format!("eth{i}"),
                    names: attachment.names.clone(),
                },
            ));
        }
        if let Some(previous) = &previous {
            // Veths of an earlier attachment (a namespace that was recreated).
            for endpoint in &previous.endpoints {
                let _ = self.host.delete_link(&endpoint.host_veth).await;
            }
        }
        let record = ContainerNetworking {
            container_id: request.container_id.clone(),
            netns: request.netns.clone(),
            endpoints: plan.iter().map(|(_, e)| e.clone()).collect(),
            ports: request.ports.clone(),
        };
        let connected = async {
            connect::connect(&self.host, request, &plan).await?;
            self.store.save_container(&record)?;
            if !record.ports.is_empty() || previous.is_some_and(|p| !p.ports.is_empty()) {
                firewall.apply(&self.rule_set()?).await?;
            }
            Ok(())
        }
        .await;
        if let Err(err) = connected {
            for (_, endpoint) in &plan {
                let _ = self.host.delete_link(&endpoint.host_veth).await;
            }
            let _ = self.store.remove_container(&request.container_id);
            return Err(err);
        }
        self.register_names(&record);
        Ok(record)
    }

    /// Disconnects a container: its published ports first, then its veths,
    /// then bridges left without endpoints (unless external). Idempotent;
    /// errors are collected while the rest goes on.
    pub async fn detach(&self, container_id: &str) -> Result<()> {
        self.disconnect(container_id, true).await
    }

    /// Like [`NetworkManager::detach`] but leaves the veths to the kernel,
    /// for a caller that deletes the container's namespace right after
    /// (`run --rm`, `down`): deleting a veth waits for an RCU grace period
    /// (~20 ms here), while a dying namespace takes its veths along in the
    /// background. Their host ends linger for a second or so.
    pub async fn release(&self, container_id: &str) -> Result<()> {
        self.disconnect(container_id, false).await
    }

    async fn disconnect(&self, container_id: &str, delete_veths: bool) -> Result<()> {
        let mut firewall = self.firewall.lock().await;
        let Some(record) = self
            .store
            .containers()?
            .into_iter()
            .find(|c| c.container_id == container_id)
        else {
            return Ok(());
        };
        let mut errors = ErrorList::default();
        self.registry.remove_container(container_id);
        errors.push(self.store.remove_container(container_id));
        if !record.ports.is_empty() {
            errors.push(self.apply_or_clear(&mut firewall).await);
        }
        if delete_veths {
            for endpoint in &record.endpoints {
                errors.push(self.host.delete_link(&endpoint.host_veth).await.map(drop));
            }
        }
        errors.push(self.remove_idle_bridges(&record).await);
        errors.into_result()
    }

    /// Deletes the bridges of `record`'s networks that no container uses
    /// any more; the network itself (record, rules) stays until removed.
    async fn remove_idle_bridges(&self, record: &ContainerNetworking) -> Result<()> {
        let remaining = self.store.containers()?;
        let mut errors = ErrorList::default();
        for network in self.store.networks()? {
            let was_on = record.endpoints.iter().any(|e| e.network == network.name);
            let in_use = remaining
                .iter()
                .any(|c| c.endpoints.iter().any(|e| e.network == network.name));
            if was_on && !in_use && !network.external {
                errors.push(self.host.delete_link(&network.bridge).await.map(drop));
            }
        }
        errors.into_result()
    }

    /// Removes everything this manager made: attachments, networks,
    /// firewall chains. Errors are collected while the rest goes on.
    pub async fn teardown_all(&self) -> Result<()> {
        let mut errors = ErrorList::default();
        for record in self.store.containers()? {
            errors.push(self.detach(&record.container_id).await);
        }
        for network in self.store.networks()? {
            errors.push(self.remove_network(&network.name).await);
        }
        let mut firewall = self.firewall.lock().await;
        errors.push(firewall.remove_all().await);
        errors.into_result()
    }

    /// `/etc/resolv.conf` for an attached container: the resolver at the
    /// gateway of its first network, or `dns` servers when given.
    pub fn resolv_conf(&self, record: &ContainerNetworking, dns: &[IpAddr]) -> String {
        let servers: Vec<IpAddr> = if dns.is_empty() {
            record
                .endpoints
                .first()
                .map(|e| vec![IpAddr::V4(e.gateway)])
                .unwrap_or_default()
        } else {
            dns.to_vec()
        };
        dns::resolv_conf(&servers, &[], &[])
    }

    /// `/etc/hosts` for an attached container, with `extra_hosts`.
    pub fn hosts(&self, record: &ContainerNetworking, extra_hosts: &[(String, IpAddr)]) -> String {
        let own: Vec<(Ipv4Addr, Vec<String>)> = record
            .endpoints
            .iter()
            .map(|e| (e.address, e.names.clone()))
            .collect();
        dns::hosts_file(&own, extra_hosts)
    }
}

fn check_same(found: &Network, spec: &NetworkSpec) -> Result<()> {
    let differs = spec.subnet.is_some_and(|s| s.trunc() != found.subnet)
        || spec.gateway.is_some_and(|g| g != found.gateway)
        || (!spec.external && spec.internal != found.internal);
    if differs {
        return Err(NetError::NetworkExists(format!(
            "{} (with other settings: subnet {}, gateway {}, internal {})",
            found.name, found.subnet, found.gateway, found.internal
        )));
    }
    Ok(())
}

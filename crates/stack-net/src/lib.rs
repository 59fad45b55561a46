//! Container networking: bridges, veth pairs, IPAM, firewall rules,
//! published ports and DNS by service name.
//!
//! The engine drives everything through [`NetworkManager`]: create and
//! remove networks, attach a container's network namespace (a path the
//! engine owns) to its networks and detach it, and [`NetworkManager::reconcile`]
//! to repair the firewall after someone flushed it. State lives under
//! `<state root>/networks/` so it survives a restart of stack.
//!
//! `network_mode` is the engine's choice: `none` is a namespace that is
//! never attached, `host` no namespace at all, and `service:X` /
//! `container:X` start the container in X's namespace
//! ([`NetworkManager::netns_of`]) with X's `/etc/hosts` and
//! `/etc/resolv.conf` ([`NetworkManager::hosts`], [`NetworkManager::resolv_conf`]).
//! When a container goes for good, [`NetworkManager::release`] skips the
//! slow per-veth delete that [`NetworkManager::detach`] does.
//!
//! Every change is decided by the pure functions of [`plan`] from the
//! stored records, then carried out through the [`links::Links`] trait
//! (the kernel in production, a recording fake in the unit tests).
//!
//! Netlink goes through `rtnetlink` (see [`netlink`] for how a container's
//! namespace is reached without `setns` on a tokio worker); the firewall
//! through `iptables-restore` batches (see [`firewall`]); DNS through an
//! embedded `hickory-server` (see [`dns`]).

mod connect;
pub mod dns;
pub mod error;
pub mod firewall;
pub mod garp;
pub mod ipam;
pub mod links;
mod manager;
pub mod model;
pub mod names;
pub mod netlink;
pub mod netns;
pub mod plan;
pub mod ranges;
pub mod store;

pub use error::{NetError, Result};
pub use manager::{ManagerOptions, NetworkManager};
pub use model::{
    AddressPool, AttachRequest, Attachment, ContainerNetworking, Endpoint, MappingError, Network,
    NetworkSpec, PoolError, PortMapping, PortRange, Protocol,
};

//! Who is called what, on which network: the table the resolver answers
//! from. The engine (through the network manager) updates it as containers
//! start and stop; answers follow at once because every answer has TTL 0.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

/// One container's presence on one network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsEntry {
    pub network: String,
    pub address: Ipv4Addr,
    /// Service name, container name, aliases (any case).
    pub names: Vec<String>,
}

/// The outcome of a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The name is known on a network of the querier: these addresses,
    /// rotated on each query so replicas share the load.
    Addresses(Vec<Ipv4Addr>),
    /// Not a name of ours: ask the upstream resolvers.
    Forward,
    /// Not a name of ours and the querier is only on internal networks.
    NotFound,
    /// The query does not come from a container we know.
    UnknownQuerier,
}

#[derive(Debug, Default)]
struct Table {
    /// Container id → its entries.
    containers: HashMap<String, Vec<DnsEntry>>,
    internal: BTreeSet<String>,
}

/// Shared, cheaply cloned handle on the name table.
#[derive(Debug, Clone, Default)]
pub struct DnsRegistry {
    table: Arc<RwLock<Table>>,
    rotation: Arc<AtomicUsize>,
}

/// Lower-cases and drops the trailing dot, as names are compared.
fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl DnsRegistry {
    pub fn new() -> DnsRegistry {
        DnsRegistry::default()
    }

    /// Replaces everything known about `container_id`.
    pub fn set_container(&self, container_id: &str, entries: Vec<DnsEntry>) {
        let entries = entries
            .into_iter()
            .map(|e| DnsEntry {
                names: e.names.iter().map(|n| normalize(n)).collect(),
                ..e
            })
            .collect();
        if let Ok(mut table) = self.table.write() {
            table.containers.insert(container_id.to_string(), entries);
        }
    }

    /// Replaces the whole table at once (a resolver reloading the
    /// persisted records), so no lookup sees half of the old and new.
    pub fn replace_all(
        &self,
        containers: Vec<(String, Vec<DnsEntry>)>,
        internal: impl IntoIterator<Item = String>,
    ) {
        let containers = containers
            .into_iter()
            .map(|(id, entries)| {
                let entries = entries
                    .into_iter()
                    .map(|e| DnsEntry {
                        names: e.names.iter().map(|n| normalize(n)).collect(),
                        ..e
                    })
                    .collect();
                (id, entries)
            })
            .collect();
        let table = Table {
            containers,
            internal: internal.into_iter().collect(),
        };
        if let Ok(mut current) = self.table.write() {
            *current = table;
        }
    }

    pub fn remove_container(&self, container_id: &str) {
        if let Ok(mut table) = self.table.write() {
            table.containers.remove(container_id);
        }
    }

    /// Marks a network internal: names unknown to it are not forwarded.
    pub fn set_internal(&self, network: &str, internal: bool) {
        if let Ok(mut table) = self.table.write() {
            if internal {
                table.internal.insert(network.to_string());
            } else {
                table.internal.remove(network);
            }
        }
    }

    /// Answers `name` for a query that came from `source`, looking only at
    /// the networks that the querying container is on.
    pub fn lookup(&self, source: IpAddr, name: &str) -> Answer {
        let IpAddr::V4(source) = source else {
            return Answer::UnknownQuerier;
        };
        let Ok(table) = self.table.read() else {
            return Answer::UnknownQuerier;
        };
        let networks: BTreeSet<&str> = table
            .containers
            .values()
            .filter(|entries| entries.iter().any(|e| e.address == source))
            .flat_map(|entries| entries.iter().map(|e| e.network.as_str()))
            .collect();
        if networks.is_empty() {
            return Answer::UnknownQuerier;
        }
        let name = normalize(name);
        let mut found: Vec<Ipv4Addr> = table
            .containers
            .values()
            .flatten()
            .filter(|e| networks.contains(e.network.as_str()) && e.names.contains(&name))
            .map(|e| e.address)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if found.is_empty() {
            return if networks.iter().all(|n| table.internal.contains(*n)) {
                Answer::NotFound
            } else {
                Answer::Forward
            };
        }
        let turn = self.rotation.fetch_add(1, Ordering::Relaxed) % found.len();
        found.rotate_left(turn);
        Answer::Addresses(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(network: &str, last: u8, names: &[&str]) -> DnsEntry {
        DnsEntry {
            network: network.into(),
            address: Ipv4Addr::new(10, 89, 0, last),
            names: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 89, 0, last))
    }

    fn registry() -> DnsRegistry {
        let r = DnsRegistry::new();
        r.set_container("web-1", vec![entry("front", 2, &["web", "p-web-1"])]);
        r.set_container("web-2", vec![entry("front", 3, &["web", "p-web-2"])]);
        r.set_container(
            "api-1",
            vec![
                entry("front", 4, &["api"]),
                entry("back", 20, &["api", "API-Alias"]),
            ],
        );
        r.set_container("db-1", vec![entry("back", 21, &["db"])]);
        r
    }

    #[test]
    fn answers_only_names_of_the_queriers_networks() {
        let r = registry();
        assert_eq!(r.lookup(ip(2), "db"), Answer::Forward, "web is not on back");
        assert_eq!(
            r.lookup(ip(20), "db."),
            Answer::Addresses(vec![Ipv4Addr::new(10, 89, 0, 21)])
        );
        // api is on both networks: from front, the front address only.
        assert_eq!(
            r.lookup(ip(2), "api"),
            Answer::Addresses(vec![Ipv4Addr::new(10, 89, 0, 4)])
        );
        assert_eq!(
            r.lookup(ip(21), "api-alias"),
            Answer::Addresses(vec![Ipv4Addr::new(10, 89, 0, 20)])
        );
        // The querier's second network counts even when it asks from the first.
        assert_eq!(
            r.lookup(ip(4), "DB"),
            Answer::Addresses(vec![Ipv4Addr::new(10, 89, 0, 21)])
        );
        assert_eq!(r.lookup(ip(99), "web"), Answer::UnknownQuerier);
    }

    #[test]
    fn replicas_all_answered_in_rotating_order() {
        let r = registry();
        let first = r.lookup(ip(4), "web");
        let second = r.lookup(ip(4), "web");
        let (Answer::Addresses(a), Answer::Addresses(b)) = (first, second) else {
            panic!("web must resolve");
        };
        assert_eq!(a.len(), 2);
        assert_eq!(BTreeSet::from_iter(&a), BTreeSet::from_iter(&b));
        assert_ne!(a[0], b[0], "order rotates");
    }

    #[test]
    fn removal_and_internal_networks() {
        let r = registry();
        r.remove_container("db-1");
        assert_eq!(r.lookup(ip(20), "db"), Answer::Forward);
        r.set_internal("back", true);
        r.set_internal("front", true);
        assert_eq!(r.lookup(ip(20), "example.org"), Answer::NotFound);
        r.set_internal("front", false);
        assert_eq!(r.lookup(ip(20), "example.org"), Answer::Forward);
    }
}

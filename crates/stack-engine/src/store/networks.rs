//! Network rows and the IP addresses handed out on each network.
//!
//! Choosing an address is IPAM's job (stack-net); the store only records the
//! choice, and the primary key makes a double hand-out impossible even when
//! two processes race.

use std::collections::BTreeMap;

use rusqlite::{params, Row};

use super::error::SqlContext;
use super::{Reader, StoreError, Writer};

/// One network stack made (or an external one a project uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRecord {
    /// Full name, `<project>_<key>` unless `name:` says otherwise.
    pub name: String,
    /// Owning project; `None` for networks outside any project.
    pub project: Option<String>,
    /// Key in the stack file's `networks:` map.
    pub key: String,
    pub driver: String,
    pub config_hash: String,
    /// Per-field view of the configuration (see the planner's `ConfigFields`).
    pub config_fields: BTreeMap<String, String>,
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    /// Host bridge interface (`stk-…`).
    pub bridge: Option<String>,
    pub external: bool,
    pub created_at_ms: i64,
}

/// One address held by one container on one network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpAllocation {
    pub network: String,
    pub address: String,
    pub container_id: String,
}

const COLUMNS: &str = "name, project, key, driver, config_hash, config_fields, subnet, gateway, \
     bridge, external, created_at_ms";

fn from_row(row: &Row<'_>) -> rusqlite::Result<NetworkRecord> {
    Ok(NetworkRecord {
        name: row.get(0)?,
        project: row.get(1)?,
        key: row.get(2)?,
        driver: row.get(3)?,
        config_hash: row.get(4)?,
        config_fields: super::fields_from_json(row, 5)?,
        subnet: row.get(6)?,
        gateway: row.get(7)?,
        bridge: row.get(8)?,
        external: row.get(9)?,
        created_at_ms: row.get(10)?,
    })
}

impl Reader<'_> {
    pub fn network(&self, name: &str) -> Result<Option<NetworkRecord>, StoreError> {
        let mut v = self.query(
            &format!("SELECT {COLUMNS} FROM networks WHERE name = ?1"),
            name,
            from_row,
        )?;
        Ok(v.pop())
    }

    /// Networks owned by a project, by name.
    pub fn networks_of(&self, project: &str) -> Result<Vec<NetworkRecord>, StoreError> {
        self.query(
            &format!("SELECT {COLUMNS} FROM networks WHERE project = ?1 ORDER BY name"),
            project,
            from_row,
        )
    }

    /// Addresses handed out on a network, by address text.
    pub fn ip_allocations(&self, network: &str) -> Result<Vec<IpAllocation>, StoreError> {
        self.query(
            "SELECT network, address, container_id FROM ip_allocations \
             WHERE network = ?1 ORDER BY address",
            network,
            |row| {
                Ok(IpAllocation {
                    network: row.get(0)?,
                    address: row.get(1)?,
                    container_id: row.get(2)?,
                })
            },
        )
    }

    /// Runs a one-argument query and collects its rows.
    pub(super) fn query<T>(
        &self,
        sql: &str,
        arg: &str,
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).ctx("prepare a query")?;
        let rows = stmt.query_map([arg], map).ctx("run a query")?;
        rows.collect::<rusqlite::Result<Vec<T>>>()
            .ctx("read query rows")
    }
}

impl Writer<'_> {
    /// Stores a network; [`StoreError::Conflict`] if the name is taken.
    pub fn insert_network(&self, n: &NetworkRecord) -> Result<(), StoreError> {
        self.tx
            .execute(
                &format!("INSERT INTO networks ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
                params![
                    n.name,
                    n.project,
                    n.key,
                    n.driver,
                    n.config_hash,
                    super::fields_to_json(&n.config_fields),
                    n.subnet,
                    n.gateway,
                    n.bridge,
                    n.external,
                    n.created_at_ms
                ],
            )
            .ctx(format!("store network {}", n.name))?;
        Ok(())
    }

    /// Removes a network and every address handed out on it.
    pub fn remove_network(&self, name: &str) -> Result<bool, StoreError> {
        let n = self
            .tx
            .execute("DELETE FROM networks WHERE name = ?1", [name])
            .ctx(format!("remove network {name}"))?;
        Ok(n > 0)
    }

    /// Records that `container_id` holds `address` on `network`.
    /// [`StoreError::Conflict`] if the address is taken or the container
    /// already has one there.
    pub fn record_ip(&self, a: &IpAllocation) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO ip_allocations (network, address, container_id) VALUES (?1, ?2, ?3)",
                params![a.network, a.address, a.container_id],
            )
            .ctx(format!(
                "give {} on {} to container {}",
                a.address, a.network, a.container_id
            ))?;
        Ok(())
    }

    /// Frees every address a container holds; returns how many.
    pub fn release_ips(&self, container_id: &str) -> Result<usize, StoreError> {
        self.tx
            .execute(
                "DELETE FROM ip_allocations WHERE container_id = ?1",
                [container_id],
            )
            .ctx(format!("free the addresses of container {container_id}"))
    }
}

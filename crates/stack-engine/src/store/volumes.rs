//! Volume rows: named volumes stack created (or external ones a project uses).

use std::collections::BTreeMap;

use rusqlite::{params, Row};

use super::error::SqlContext;
use super::{Reader, StoreError, Writer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeRecord {
    /// Full name, `<project>_<key>` unless `name:` says otherwise.
    pub name: String,
    pub project: Option<String>,
    pub key: String,
    pub driver: String,
    pub config_hash: String,
    pub config_fields: BTreeMap<String, String>,
    pub external: bool,
    pub created_at_ms: i64,
}

const COLUMNS: &str =
    "name, project, key, driver, config_hash, config_fields, external, created_at_ms";

fn from_row(row: &Row<'_>) -> rusqlite::Result<VolumeRecord> {
    Ok(VolumeRecord {
        name: row.get(0)?,
        project: row.get(1)?,
        key: row.get(2)?,
        driver: row.get(3)?,
        config_hash: row.get(4)?,
        config_fields: super::fields_from_json(row, 5)?,
        external: row.get(6)?,
        created_at_ms: row.get(7)?,
    })
}

impl Reader<'_> {
    pub fn volume(&self, name: &str) -> Result<Option<VolumeRecord>, StoreError> {
        let mut v = self.query(
            &format!("SELECT {COLUMNS} FROM volumes WHERE name = ?1"),
            name,
            from_row,
        )?;
        Ok(v.pop())
    }

    pub fn volumes_of(&self, project: &str) -> Result<Vec<VolumeRecord>, StoreError> {
        self.query(
            &format!("SELECT {COLUMNS} FROM volumes WHERE project = ?1 ORDER BY name"),
            project,
            from_row,
        )
    }
}

impl Writer<'_> {
    pub fn insert_volume(&self, v: &VolumeRecord) -> Result<(), StoreError> {
        self.tx
            .execute(
                &format!("INSERT INTO volumes ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
                params![
                    v.name,
                    v.project,
                    v.key,
                    v.driver,
                    v.config_hash,
                    super::fields_to_json(&v.config_fields),
                    v.external,
                    v.created_at_ms
                ],
            )
            .ctx(format!("store volume {}", v.name))?;
        Ok(())
    }

    pub fn remove_volume(&self, name: &str) -> Result<bool, StoreError> {
        let n = self
            .tx
            .execute("DELETE FROM volumes WHERE name = ?1", [name])
            .ctx(format!("remove volume {name}"))?;
        Ok(n > 0)
    }
}

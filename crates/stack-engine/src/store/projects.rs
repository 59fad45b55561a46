//! Project rows: a project exists in the store while anything of it does, so
//! `down` and `ps` work without the stack file.

use rusqlite::{params, OptionalExtension, Row};

use super::error::SqlContext;
use super::{Reader, StoreError, Writer};

/// One project. Times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRecord {
    pub name: String,
    pub working_dir: Option<String>,
    pub config_files: Vec<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

fn from_row(row: &Row<'_>) -> Result<ProjectRecord, StoreError> {
    let files: String = row.get(2)?;
    Ok(ProjectRecord {
        name: row.get(0)?,
        working_dir: row.get(1)?,
        config_files: serde_json::from_str(&files).map_err(|_| StoreError::Corrupt {
            field: "projects.config_files",
            value: files,
        })?,
        created_at_ms: row.get(3)?,
        updated_at_ms: row.get(4)?,
    })
}

const COLUMNS: &str = "name, working_dir, config_files, created_at_ms, updated_at_ms";

impl Reader<'_> {
    pub fn project(&self, name: &str) -> Result<Option<ProjectRecord>, StoreError> {
        let raw = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM projects WHERE name = ?1"),
                [name],
                |row| Ok(from_row(row)),
            )
            .optional()
            .ctx(format!("read project {name}"))?;
        raw.transpose()
    }

    /// Every stored project, by name.
    pub fn projects(&self) -> Result<Vec<ProjectRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM projects ORDER BY name"))
            .ctx("list projects")?;
        let rows = stmt
            .query_map([], |row| Ok(from_row(row)))
            .ctx("list projects")?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.ctx("list projects")??);
        }
        Ok(out)
    }
}

impl Writer<'_> {
    /// Stores a project, or updates its working directory and files while
    /// keeping its creation time.
    pub fn upsert_project(&self, p: &ProjectRecord) -> Result<(), StoreError> {
        let files = serde_json::to_string(&p.config_files).unwrap_or_else(|_| "[]".into());
        self.tx
            .execute(
                "INSERT INTO projects (name, working_dir, config_files, created_at_ms, updated_at_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT(name) DO UPDATE SET working_dir = excluded.working_dir, \
                 config_files = excluded.config_files, updated_at_ms = excluded.updated_at_ms",
                params![p.name, p.working_dir, files, p.created_at_ms, p.updated_at_ms],
            )
            .ctx(format!("store project {}", p.name))?;
        Ok(())
    }

    /// Removes a project. Fails with [`StoreError::Conflict`] while any of its
    /// containers, networks or volumes is still stored.
    pub fn remove_project(&self, name: &str) -> Result<bool, StoreError> {
        let n = self
            .tx
            .execute("DELETE FROM projects WHERE name = ?1", [name])
            .ctx(format!("remove project {name}"))?;
        Ok(n > 0)
    }
}

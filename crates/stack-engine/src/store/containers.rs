//! Container rows: one per container stack made, with what the planner and
//! the supervisor need to decide about it later.

use std::collections::BTreeMap;

use rusqlite::{params, Row};

use stack_runtime::state::Status;

use super::error::SqlContext;
use super::{HealthStatus, Reader, StoreError, Writer};

/// One container. Times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRecord {
    pub id: String,
    pub project: String,
    pub service: String,
    /// Replica number from 1, stable across scale changes.
    pub replica: u32,
    /// `<project>-<service>-<replica>` unless `container_name:` says otherwise.
    pub name: String,
    /// A one-off `stack run` container, never counted as a replica.
    pub oneoff: bool,
    pub config_hash: String,
    /// The per-field view the hash was made from, kept so a later plan can
    /// name the field that changed (`environment.DEBUG`).
    pub config_fields: BTreeMap<String, String>,
    pub image_ref: String,
    pub image_digest: Option<String>,
    /// As last observed in the container's `state.json`.
    pub state: Status,
    pub health: Option<HealthStatus>,
    pub pid: Option<i32>,
    pub exit_code: Option<i32>,
    pub restart_count: u32,
    /// Stopped by a user: restart policies leave it alone.
    pub manual_stop: bool,
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    /// Services this one depends on, so `down` can stop in reverse order
    /// without the stack file.
    pub depends_on: Vec<String>,
}

const COLUMNS: &str = "id, project, service, replica, name, oneoff, config_hash, config_fields, \
     image_ref, image_digest, state, health, pid, exit_code, restart_count, manual_stop, \
     created_at_ms, started_at_ms, finished_at_ms, depends_on";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<ContainerRecord, StoreError>> {
    let fields_json: String = row.get(7)?;
    let state: String = row.get(10)?;
    let health: Option<String> = row.get(11)?;
    let depends_json: String = row.get(19)?;
    let build = || -> Result<ContainerRecord, StoreError> {
        let config_fields =
            serde_json::from_str(&fields_json).map_err(|_| StoreError::Corrupt {
                field: "containers.config_fields",
                value: fields_json.clone(),
            })?;
        let state = Status::parse(&state).ok_or_else(|| StoreError::Corrupt {
            field: "containers.state",
            value: state.clone(),
        })?;
        let health = match health {
            None => None,
            Some(h) => Some(HealthStatus::parse(&h).ok_or(StoreError::Corrupt {
                field: "containers.health",
                value: h,
            })?),
        };
        Ok(ContainerRecord {
            id: row.get(0)?,
            project: row.get(1)?,
            service: row.get(2)?,
            replica: row.get(3)?,
            name: row.get(4)?,
            oneoff: row.get(5)?,
            config_hash: row.get(6)?,
            config_fields,
            image_ref: row.get(8)?,
            image_digest: row.get(9)?,
            state,
            health,
            pid: row.get(12)?,
            exit_code: row.get(13)?,
            restart_count: row.get(14)?,
            manual_stop: row.get(15)?,
            created_at_ms: row.get(16)?,
            started_at_ms: row.get(17)?,
            finished_at_ms: row.get(18)?,
            depends_on: serde_json::from_str(&depends_json).map_err(|_| StoreError::Corrupt {
                field: "containers.depends_on",
                value: depends_json.clone(),
            })?,
        })
    };
    Ok(build())
}

impl Reader<'_> {
    /// The container with this id, if stored.
    pub fn container(&self, id: &str) -> Result<Option<ContainerRecord>, StoreError> {
        self.query_containers(
            &format!("SELECT {COLUMNS} FROM containers WHERE id = ?1"),
            &[id],
        )
        .map(|mut v| v.pop())
    }

    /// The container with this name, if stored.
    pub fn container_by_name(&self, name: &str) -> Result<Option<ContainerRecord>, StoreError> {
        self.query_containers(
            &format!("SELECT {COLUMNS} FROM containers WHERE name = ?1"),
            &[name],
        )
        .map(|mut v| v.pop())
    }

    /// Every container of a project, by service then replica.
    pub fn containers_of(&self, project: &str) -> Result<Vec<ContainerRecord>, StoreError> {
        self.query_containers(
            &format!(
                "SELECT {COLUMNS} FROM containers WHERE project = ?1 \
                 ORDER BY service, oneoff, replica, name"
            ),
            &[project],
        )
    }

    fn query_containers(
        &self,
        sql: &str,
        args: &[&str],
    ) -> Result<Vec<ContainerRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).ctx("query containers")?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), from_row)
            .ctx("query containers")?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.ctx("read a container")??);
        }
        Ok(out)
    }
}

impl Writer<'_> {
    /// Stores a new container. Fails with [`StoreError::Conflict`] if its id,
    /// its name or its replica slot is taken, or its project is not stored.
    pub fn insert_container(&self, c: &ContainerRecord) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(&format!(
                "INSERT INTO containers ({COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
            ))
            .and_then(|mut stmt| execute_with(&mut stmt, c))
            .ctx(format!("store container {}", c.name))?;
        Ok(())
    }

    /// Replaces every field of a stored container.
    pub fn update_container(&self, c: &ContainerRecord) -> Result<(), StoreError> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE containers SET project = ?2, service = ?3, replica = ?4, name = ?5, \
                 oneoff = ?6, config_hash = ?7, config_fields = ?8, image_ref = ?9, \
                 image_digest = ?10, state = ?11, health = ?12, pid = ?13, exit_code = ?14, \
                 restart_count = ?15, manual_stop = ?16, created_at_ms = ?17, \
                 started_at_ms = ?18, finished_at_ms = ?19, depends_on = ?20 WHERE id = ?1",
            )
            .and_then(|mut stmt| execute_with(&mut stmt, c))
            .ctx(format!("update container {}", c.name))?;
        if changed == 0 {
            return Err(StoreError::NotFound {
                what: format!("container {}", c.id),
            });
        }
        Ok(())
    }

    /// Removes a container with its IP allocations and health history.
    /// Returns whether it was stored.
    pub fn remove_container(&self, id: &str) -> Result<bool, StoreError> {
        let n = self
            .tx
            .execute("DELETE FROM containers WHERE id = ?1", [id])
            .ctx(format!("remove container {id}"))?;
        Ok(n > 0)
    }
}

fn execute_with(
    stmt: &mut rusqlite::Statement<'_>,
    c: &ContainerRecord,
) -> rusqlite::Result<usize> {
    // A map of strings always serializes; the fallback is never taken.
    let fields = serde_json::to_string(&c.config_fields).unwrap_or_else(|_| "{}".into());
    let depends_on = serde_json::to_string(&c.depends_on).unwrap_or_else(|_| "[]".into());
    stmt.execute(params![
        c.id,
        c.project,
        c.service,
        c.replica,
        c.name,
        c.oneoff,
        c.config_hash,
        fields,
        c.image_ref,
        c.image_digest,
        c.state.as_str(),
        c.health.map(HealthStatus::as_str),
        c.pid,
        c.exit_code,
        c.restart_count,
        c.manual_stop,
        c.created_at_ms,
        c.started_at_ms,
        c.finished_at_ms,
        depends_on,
    ])
}

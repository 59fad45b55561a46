//! Health status and the history of healthcheck probes per container.

use rusqlite::params;

use super::error::SqlContext;
use super::{Reader, StoreError, Writer};

/// Defined with the supervision machines in the runtime (the monitor
/// records them in `state.json`); the store keeps the same values.
pub use stack_runtime::supervise::{HealthStatus, ProbeOutcome};

/// One probe, as `inspect` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthProbeRecord {
    pub started_ms: i64,
    pub ended_ms: i64,
    pub exit_code: Option<i32>,
    pub outcome: ProbeOutcome,
    /// The probe's output, cut to a few KiB by the caller.
    pub output: String,
}

impl Reader<'_> {
    /// Probes of a container, oldest first.
    pub fn health_history(&self, container_id: &str) -> Result<Vec<HealthProbeRecord>, StoreError> {
        let rows = self.query(
            "SELECT started_ms, ended_ms, exit_code, outcome, output FROM health_history \
             WHERE container_id = ?1 ORDER BY seq",
            container_id,
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, Option<i32>>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                ))
            },
        )?;
        rows.into_iter()
            .map(|(started_ms, ended_ms, exit_code, outcome, output)| {
                let outcome = ProbeOutcome::parse(&outcome).ok_or(StoreError::Corrupt {
                    field: "health_history.outcome",
                    value: outcome,
                })?;
                Ok(HealthProbeRecord {
                    started_ms,
                    ended_ms,
                    exit_code,
                    outcome,
                    output,
                })
            })
            .collect()
    }
}

impl Writer<'_> {
    /// Appends a probe and keeps only the newest `keep` of this container
    /// (Docker keeps 5), in the same transaction.
    pub fn append_health_probe(
        &self,
        container_id: &str,
        probe: &HealthProbeRecord,
        keep: usize,
    ) -> Result<(), StoreError> {
        let context = || format!("record a health probe of container {container_id}");
        self.tx
            .execute(
                "INSERT INTO health_history (container_id, started_ms, ended_ms, exit_code, outcome, output) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    container_id,
                    probe.started_ms,
                    probe.ended_ms,
                    probe.exit_code,
                    probe.outcome.as_str(),
                    probe.output
                ],
            )
            .ctx(context())?;
        self.tx
            .execute(
                "DELETE FROM health_history WHERE container_id = ?1 AND seq NOT IN \
                 (SELECT seq FROM health_history WHERE container_id = ?1 ORDER BY seq DESC LIMIT ?2)",
                params![container_id, keep as i64],
            )
            .ctx(context())?;
        Ok(())
    }
}

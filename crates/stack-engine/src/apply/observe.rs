//! Observed state = the store reconciled with the container records.
//!
//! A container's record (`containers/<id>/`, its labels and `state.json`)
//! is the truth about it; the store is what stack last wrote down. A
//! `stack up` killed half-way can leave either side ahead, so before
//! planning: a record found by its labels but missing from the store is
//! adopted, a store row whose record is gone is dropped, and every row
//! takes its state from `state.json`. All in one transaction.

use std::collections::{BTreeMap, BTreeSet};

use stack_runtime::state::Status;

use super::service_options::{depends_on_from_label, DEPENDS_ON_LABEL, IMAGE_LABEL};
use super::ApplyError;
use crate::containers::{ContainerRecord, Containers};
use crate::labels;
use crate::plan::{observe_from_store, ObservedProject};
use crate::store::{self, ContainerState, ProjectRecord, Store};

/// What a reconciliation found and fixed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Containers found by label that the store did not know.
    pub adopted: Vec<String>,
    /// Store rows whose container was gone.
    pub dropped: Vec<String>,
}

/// The store's view of a container state from its record.
pub fn store_state(record: &ContainerRecord) -> ContainerState {
    match record.state.effective_status() {
        Status::Created => ContainerState::Created,
        Status::Running => ContainerState::Running,
        Status::Restarting => ContainerState::Restarting,
        Status::Exited => ContainerState::Exited,
    }
}

/// Brings the store's rows of `project` in line with its container records.
pub fn reconcile(
    store: &Store,
    containers: &Containers,
    project: &str,
) -> Result<(Reconciled, Vec<ContainerRecord>), ApplyError> {
    let records: Vec<ContainerRecord> = containers
        .of_project(project)
        .into_iter()
        .filter(|r| {
            labels::membership(&r.spec.labels).is_some_and(|m| !m.oneoff && m.number.is_some())
        })
        .collect();
    let by_id: BTreeMap<&str, &ContainerRecord> =
        records.iter().map(|r| (r.spec.id.as_str(), r)).collect();
    let mut report = Reconciled::default();
    store.write(|w| {
        let rows = w.read().containers_of(project)?;
        let known: BTreeSet<String> = rows.iter().map(|r| r.id.clone()).collect();
        if !records.is_empty() && w.read().project(project)?.is_none() {
            w.upsert_project(&project_row(project, &records[0]))?;
        }
        for row in rows {
            match by_id.get(row.id.as_str()) {
                None => {
                    w.release_ips(&row.id)?;
                    w.remove_container(&row.id)?;
                    report.dropped.push(row.name.clone());
                }
                Some(record) => {
                    let mut updated = row.clone();
                    apply_state(&mut updated, record);
                    if updated != row {
                        w.update_container(&updated)?;
                    }
                }
            }
        }
        for record in records.iter().filter(|r| !known.contains(&r.spec.id)) {
            if let Some(row) = adopted_row(record) {
                w.insert_container(&row)?;
                report.adopted.push(row.name);
            }
        }
        Ok(())
    })?;
    Ok((report, records))
}

/// The observed project for the planner: reconciled rows, plus the digests
/// of the images present locally (`digests`: reference as written -> digest).
pub fn observe(
    store: &Store,
    project: &str,
    digests: &BTreeMap<String, String>,
) -> Result<ObservedProject, ApplyError> {
    let mut observed = store.read(|r| observe_from_store(r, project, std::iter::empty()))?;
    observed.local_images.extend(digests.clone());
    Ok(observed)
}

fn apply_state(row: &mut store::ContainerRecord, record: &ContainerRecord) {
    row.state = store_state(record);
    row.pid = record
        .state
        .pid
        .filter(|_| row.state == ContainerState::Running);
    row.exit_code = record.state.exit_code;
}

fn project_row(project: &str, record: &ContainerRecord) -> ProjectRecord {
    let now = store::now_ms();
    ProjectRecord {
        name: project.to_string(),
        working_dir: record.spec.labels.get(labels::WORKING_DIR).cloned(),
        config_files: record
            .spec
            .labels
            .get(labels::CONFIG_FILES)
            .map(|f| {
                f.split(',')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        created_at_ms: now,
        updated_at_ms: now,
    }
}

/// A store row rebuilt from a container's labels. Its per-field config is
/// unknown, so a later change of it reads "configuration changed".
fn adopted_row(record: &ContainerRecord) -> Option<store::ContainerRecord> {
    let l = &record.spec.labels;
    let m = labels::membership(l)?;
    let mut row = store::ContainerRecord {
        id: record.spec.id.clone(),
        project: m.project.to_string(),
        service: m.service.to_string(),
        replica: m.number?,
        name: record.spec.name.clone(),
        oneoff: m.oneoff,
        config_hash: l.get(labels::CONFIG_HASH).cloned().unwrap_or_default(),
        config_fields: BTreeMap::new(),
        image_ref: String::new(),
        image_digest: l.get(IMAGE_LABEL).cloned(),
        state: ContainerState::Created,
        health: None,
        pid: None,
        exit_code: None,
        restart_count: 0,
        manual_stop: false,
        created_at_ms: store::now_ms(),
        started_at_ms: None,
        finished_at_ms: None,
        depends_on: l
            .get(DEPENDS_ON_LABEL)
            .map(|v| depends_on_from_label(v))
            .unwrap_or_default(),
    };
    apply_state(&mut row, record);
    Some(row)
}

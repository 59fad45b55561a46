//! Observed state = the store reconciled with the container records.
//!
//! A container's record (`containers/<id>/`, its labels and `state.json`)
//! is the truth about it; the store is what stack last wrote down. A
//! `stack up` killed half-way can leave either side ahead, so before
//! planning: a record found by its labels but missing from the store is
//! adopted, a store row whose record is gone is dropped, a container that
//! was created but never started nor recorded is removed (the `up` making
//! it died half-way), and every row takes its state from `state.json`.

use std::collections::{BTreeMap, BTreeSet};

use stack_runtime::state::Status;

use super::service_options::{depends_on_from_label, DEPENDS_ON_LABEL, IMAGE_LABEL};
use super::ApplyError;
use crate::containers::{ContainerRecord, Containers, DamagedRecord};
use crate::labels;
use crate::plan::{observe_from_store, ObservedProject};
use crate::store::{self, ProjectRecord, Store};

/// What a reconciliation found and fixed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Containers found by label that the store did not know.
    pub adopted: Vec<String>,
    /// Store rows whose container was gone, and containers an interrupted
    /// `up` left half-made (removed, to be made again).
    pub dropped: Vec<String>,
    /// Containers of the project whose record cannot be read, each named
    /// with its file and the way out. Their rows are kept (adopted from
    /// their labels when the store lacked them), so `down` removes them
    /// and `up` can refuse to make a second one beside them.
    pub damaged: Vec<String>,
    /// Project networks found on the host that the store did not know.
    pub adopted_networks: Vec<String>,
}

/// The status the store keeps for a container: its record's, with a
/// container whose processes are all gone counted as exited.
pub fn store_state(record: &ContainerRecord) -> Status {
    record.state.effective_status()
}

/// Brings the store's rows of `project` in line with its container records.
pub fn reconcile(
    store: &Store,
    containers: &Containers,
    project: &str,
) -> Result<(Reconciled, Vec<ContainerRecord>), ApplyError> {
    let mut records: Vec<ContainerRecord> = containers
        .of_project(project)
        .into_iter()
        .filter(|r| {
            labels::membership(&r.spec.labels).is_some_and(|m| !m.oneoff && m.number.is_some())
        })
        .collect();
    let mut report = Reconciled::default();
    sweep_unwritten_dirs(containers);
    // Created and never started: `up` starts what it creates at once, so
    // an `up` died while making or starting it, and its record or its
    // network setup may be incomplete. It goes, with its store row; the
    // plan makes it again under the same name.
    records.retain(|r| {
        let half_made = r.state.status == Status::Created && r.state.started_at.is_none();
        if half_made {
            if containers.remove(r, true).is_err() {
                let _ = stack_runtime::fsutil::remove_tree(r.dir.path());
            }
            report.dropped.push(r.spec.name.clone());
        }
        !half_made
    });
    let by_id: BTreeMap<&str, &ContainerRecord> =
        records.iter().map(|r| (r.spec.id.as_str(), r)).collect();
    let damaged = containers.damaged();
    let networks = project_networks(containers, project);
    store.write(|w| {
        let rows = w.read().containers_of(project)?;
        let known: BTreeSet<String> = rows.iter().map(|r| r.id.clone()).collect();
        // Damaged records of this project: by their labels, or by a row.
        let ours: Vec<&DamagedRecord> = damaged
            .iter()
            .filter(|d| d.project() == Some(project) || known.contains(&d.id))
            .collect();
        let stand_ins: Vec<ContainerRecord> = ours
            .iter()
            .filter(|d| !known.contains(&d.id))
            .filter_map(|d| stand_in(d))
            .collect();
        let first = records.first().or(stand_ins.first());
        if w.read().project(project)?.is_none() {
            if let Some(first) = first {
                w.upsert_project(&project_row(project, first))?;
            } else if !networks.is_empty() {
                w.upsert_project(&empty_project_row(project))?;
            }
        }
        for row in rows {
            if ours.iter().any(|d| d.id == row.id) {
                continue;
            }
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
        for record in &stand_ins {
            if let Some(row) = adopted_row(record) {
                w.insert_container(&row)?;
            }
        }
        report.damaged = ours.iter().map(|d| d.describe()).collect();
        for network in &networks {
            if w.read().network(&network.name)?.is_none() {
                w.insert_network(network)?;
                report.adopted_networks.push(network.name.clone());
            }
        }
        Ok(())
    })?;
    Ok((report, records))
}

/// A container record standing in for a damaged one whose spec is
/// readable: its state rebuilt from its cgroup, kept in memory only (the
/// file is left as found), so a store row can be made from its labels.
fn stand_in(damaged: &DamagedRecord) -> Option<ContainerRecord> {
    let spec = damaged.spec.clone()?;
    let state = stack_runtime::recover::rebuild_state(&spec, "record damaged");
    Some(ContainerRecord {
        dir: damaged.dir.clone(),
        spec,
        state,
    })
}

/// The networks of `project` on the host (by their Compose project label),
/// as store rows. What the network layer cannot list is left to the
/// removal that needs it, which names the fault.
fn project_networks(containers: &Containers, project: &str) -> Vec<store::NetworkRecord> {
    let Ok(all) = crate::containers::network::admin::list(containers) else {
        return Vec::new();
    };
    all.into_iter()
        .filter(|n| n.labels.get(labels::PROJECT).map(String::as_str) == Some(project))
        .map(|n| store::NetworkRecord {
            key: n
                .labels
                .get("com.docker.compose.network")
                .cloned()
                .unwrap_or_else(|| n.name.clone()),
            name: n.name,
            project: Some(project.to_string()),
            driver: "bridge".into(),
            config_hash: String::new(),
            config_fields: BTreeMap::new(),
            subnet: Some(n.subnet.to_string()),
            gateway: Some(n.gateway.to_string()),
            bridge: Some(n.bridge),
            external: false,
            created_at_ms: store::now_ms(),
        })
        .collect()
}

fn empty_project_row(project: &str) -> ProjectRecord {
    let now = store::now_ms();
    ProjectRecord {
        name: project.to_string(),
        working_dir: None,
        config_files: Vec::new(),
        created_at_ms: now,
        updated_at_ms: now,
    }
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
    row.pid = record.state.pid.filter(|_| row.state == Status::Running);
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
        state: Status::Created,
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

/// How old a container directory without a readable `config.json` must be
/// before it counts as left by a process that died creating it (a live
/// creator writes the file right after making the directory).
const UNWRITTEN_DIR_AGE: std::time::Duration = std::time::Duration::from_millis(50);

/// Removes container directories that never got a whole `config.json`: the
/// process creating them was killed while making them. A directory with a
/// `state.json` or with processes in its cgroup was a container that ran:
/// its `config.json` was damaged later, and it is left for `down` or
/// `stack system check` to deal with, never deleted here.
fn sweep_unwritten_dirs(containers: &Containers) {
    let Ok(entries) = std::fs::read_dir(containers.state_root.join("containers")) else {
        return;
    };
    for entry in entries.flatten() {
        let dir = entry.path();
        let old_enough = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= UNWRITTEN_DIR_AGE);
        let unreadable = || {
            stack_runtime::spec::ContainerSpec::load(&stack_runtime::spec::ContainerDir::new(
                dir.clone(),
            ))
            .is_err()
        };
        let ran = || {
            stack_runtime::spec::ContainerDir::new(dir.clone())
                .state()
                .exists()
                || !stack_runtime::recover::live_pids(&format!(
                    "{}/{}",
                    containers.cgroup_parent,
                    entry.file_name().to_string_lossy()
                ))
                .is_empty()
        };
        if old_enough && dir.is_dir() && unreadable() && !ran() {
            let _ = stack_runtime::fsutil::remove_tree(&dir);
        }
    }
}

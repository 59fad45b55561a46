//! `stack system check`: what disagrees between the state database, the
//! per-container records (`<state root>/containers/<id>/`) and the host
//! (cgroups, network namespace files, mounts), and `--repair`
//! ([`repair`]), which rebuilds what can be rebuilt and says what it did.
//!
//! The check only reads. Each finding names the object and file at fault.

mod repair;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use repair::{repair, Repaired};

use crate::containers::{Containers, DamagedRecord};
use crate::labels;
use crate::paths::HostPaths;
use crate::store::{Store, StoreError};

/// One inconsistency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub what: String,
}

/// Everything found on one host.
#[derive(Debug, Default)]
pub struct Inventory {
    pub findings: Vec<Finding>,
    /// The database's error when it cannot be opened or fails SQLite's
    /// integrity check.
    pub database_damaged: bool,
    pub damaged_records: Vec<DamagedRecord>,
    /// Cgroups below the cgroup parent with no container directory:
    /// (cgroup path, pids in it).
    pub stray_cgroups: Vec<(String, Vec<i32>)>,
    /// Network namespace files with no container directory.
    pub stray_netns: Vec<PathBuf>,
}

/// Looks at the database, the container records and the host; changes
/// nothing.
pub fn check(paths: &HostPaths) -> Inventory {
    let containers = Containers::new(paths);
    let mut inv = Inventory::default();
    let mut note = |what: String| inv.findings.push(Finding { what });
    match Store::open(&paths.state_root) {
        Err(err @ StoreError::Damaged { .. }) => {
            note(err.to_string());
            inv.database_damaged = true;
        }
        Err(err) => note(format!("state database: {err}")),
        Ok(store) => match store.check_integrity() {
            Ok(Ok(())) => rows_against_records(&store, &containers, &mut note),
            Ok(Err(problems)) => {
                note(format!(
                    "state database {} fails its integrity check: {problems}",
                    store.db_path().display()
                ));
                inv.database_damaged = true;
            }
            Err(err) => note(format!("state database: {err}")),
        },
    }
    let damaged = containers.damaged();
    for d in &damaged {
        let pids = d.live_pids(&containers);
        let running = if pids.is_empty() {
            String::new()
        } else {
            format!(" (its processes run: {pids:?})")
        };
        note(format!(
            "container {}: {} is damaged ({}){running}",
            d.name(),
            d.file.display(),
            d.problem
        ));
    }
    let known: BTreeSet<String> = container_ids(&containers);
    for id in stack_runtime::recover::cgroup_children(&containers.cgroup_parent) {
        if known.contains(&id) {
            continue;
        }
        let path = format!("{}/{id}", containers.cgroup_parent);
        let pids = stack_runtime::recover::live_pids(&path);
        if pids.is_empty() {
            note(format!("cgroup {path} is left over: no container has it"));
        } else {
            note(format!(
                "processes {pids:?} run in cgroup {path}, which no container records"
            ));
        }
        inv.stray_cgroups.push((path, pids));
    }
    for file in netns_files(&paths.run_dir) {
        let id = file.file_name().map(|n| n.to_string_lossy().into_owned());
        if id.is_some_and(|id| !known.contains(&id)) {
            note(format!(
                "network namespace file {} is left over: no container has it",
                file.display()
            ));
            inv.stray_netns.push(file);
        }
    }
    for point in stray_mounts(&paths.state_root, &known) {
        note(format!(
            "{} is mounted, but belongs to no container",
            point.display()
        ));
    }
    inv.damaged_records = damaged;
    inv
}

/// Rows without a container directory, and project containers without a
/// row.
fn rows_against_records(store: &Store, containers: &Containers, note: &mut impl FnMut(String)) {
    let rows = store.read(|r| {
        let mut all = Vec::new();
        for p in r.projects()? {
            all.extend(r.containers_of(&p.name)?);
        }
        Ok(all)
    });
    let rows = match rows {
        Ok(rows) => rows,
        Err(err) => return note(format!("state database: {err}")),
    };
    let base = containers.state_root.join("containers");
    for row in &rows {
        if !base.join(&row.id).exists() {
            note(format!(
                "container {} (project {}): the database has it, but {} is gone",
                row.name,
                row.project,
                base.join(&row.id).display()
            ));
        }
    }
    let stored: BTreeSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    for record in containers.list() {
        let member =
            labels::membership(&record.spec.labels).filter(|m| !m.oneoff && m.number.is_some());
        if let Some(m) = member.filter(|_| !stored.contains(record.spec.id.as_str())) {
            note(format!(
                "container {} (project {}): {} is not in the database",
                record.spec.name,
                m.project,
                record.dir.path().display()
            ));
        }
    }
}

/// Ids of every container directory, whole or damaged.
fn container_ids(containers: &Containers) -> BTreeSet<String> {
    std::fs::read_dir(containers.state_root.join("containers"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Namespace files of containers (`<run>/netns/<id>`).
fn netns_files(run_dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(run_dir.join("netns"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect()
}

/// Mounts below the state root that are not below a container directory.
fn stray_mounts(state_root: &Path, known: &BTreeSet<String>) -> Vec<PathBuf> {
    let base = state_root.join("containers");
    stack_runtime::recover::mounts_below(state_root)
        .into_iter()
        .filter(|p| {
            let owner = p
                .strip_prefix(&base)
                .ok()
                .and_then(|rest| rest.components().next())
                .map(|c| c.as_os_str().to_string_lossy().into_owned());
            !owner.is_some_and(|id| known.contains(&id))
        })
        .collect()
}

//! `stack system check --repair`: a damaged database is moved aside (never
//! deleted) and rebuilt from the container records and the host; a damaged
//! `state.json` is moved aside and rebuilt from the container's cgroup;
//! leftovers nobody uses (empty cgroups, namespace files) are removed.
//! What cannot be rebuilt safely is left as found and named with the way
//! out. Nothing a user made (volumes, a container's files) is deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{check, Inventory};
use crate::apply::reconcile;
use crate::containers::Containers;
use crate::labels;
use crate::paths::HostPaths;
use crate::store::{self, Store, StoreError, VolumeRecord};

/// What a repair found, did, and left.
#[derive(Debug, Default)]
pub struct Repaired {
    pub found: Vec<String>,
    pub done: Vec<String>,
    /// Problems left as found, each with the way out.
    pub left: Vec<String>,
}

/// Repairs what [`check`] finds.
pub fn repair(paths: &HostPaths) -> Result<Repaired, StoreError> {
    let inv = check(paths);
    let containers = Containers::new(paths);
    let mut out = Repaired {
        found: inv.findings.iter().map(|f| f.what.clone()).collect(),
        ..Repaired::default()
    };
    let mut old_projects = BTreeSet::new();
    if inv.database_damaged {
        let db = paths.state_root.join(store::DB_FILE);
        let aside = move_database_aside(&db)?;
        out.done.push(format!(
            "moved the damaged database {} to {} (kept, not deleted)",
            db.display(),
            aside.display()
        ));
    } else if let Ok(store) = Store::open(&paths.state_root) {
        if let Ok(projects) = store.read(|r| r.projects()) {
            old_projects.extend(projects.into_iter().map(|p| p.name));
        }
    }
    rebuild_states(&inv, &containers, &mut out);
    let store = Store::open(&paths.state_root)?;
    rebuild_projects(&store, &containers, old_projects, &mut out)?;
    remove_strays(&inv, &mut out);
    Ok(out)
}

/// `stack.db` (and its `-wal`, `-shm` files) renamed to
/// `stack.db.damaged-<ms>`.
fn move_database_aside(db: &Path) -> Result<PathBuf, StoreError> {
    let aside = PathBuf::from(format!("{}.damaged-{}", db.display(), store::now_ms()));
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", db.display()));
        let to = PathBuf::from(format!("{}{suffix}", aside.display()));
        match std::fs::rename(&from, &to) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(StoreError::MoveAside { path: from, source }),
        }
    }
    Ok(aside)
}

/// A damaged `state.json` of a container whose `config.json` is whole is
/// rebuilt from its cgroup; a damaged `config.json` cannot be.
fn rebuild_states(inv: &Inventory, containers: &Containers, out: &mut Repaired) {
    for d in &inv.damaged_records {
        let Some(spec) = &d.spec else {
            let pids = d.live_pids(containers);
            out.left.push(format!(
                "container {}: {} cannot be rebuilt (it is the container's whole configuration); \
                 left as found{}. Its files are in {}; remove it with `stack down -p PROJECT` \
                 once the database names its project, or by hand",
                d.name(),
                d.file.display(),
                if pids.is_empty() {
                    String::new()
                } else {
                    format!(", and its processes {pids:?} still run")
                },
                d.dir.path().display()
            ));
            continue;
        };
        let state = stack_runtime::recover::rebuild_state(
            spec,
            "state.json was damaged and rebuilt by `stack system check --repair`",
        );
        match stack_runtime::recover::replace_state(&d.dir, &state) {
            Ok(aside) => out.done.push(format!(
                "rebuilt {} of container {} from its cgroup ({}); the damaged file is kept as {}",
                d.file.display(),
                d.name(),
                match state.pid {
                    Some(pid) => format!("running, pid {pid}"),
                    None => "not running".into(),
                },
                aside.display()
            )),
            Err(err) => out.left.push(format!(
                "container {}: cannot rebuild {}: {err}",
                d.name(),
                d.file.display()
            )),
        }
    }
}

/// Every project named by a container's labels, a network's labels or the
/// old database, brought in line with the host by the same
/// reconciliation `up` and `down` run; then the volumes its containers
/// mount.
fn rebuild_projects(
    store: &Store,
    containers: &Containers,
    mut projects: BTreeSet<String>,
    out: &mut Repaired,
) -> Result<(), StoreError> {
    for record in containers.list() {
        if let Some(m) = labels::membership(&record.spec.labels) {
            projects.insert(m.project.to_string());
        }
    }
    if let Ok(networks) = crate::containers::network::admin::list(containers) {
        projects.extend(
            networks
                .into_iter()
                .filter_map(|n| n.labels.get(labels::PROJECT).cloned()),
        );
    }
    for project in projects {
        let reconciled = match reconcile(store, containers, &project) {
            Ok((reconciled, _)) => reconciled,
            Err(err) => {
                out.left.push(format!("project {project}: {err}"));
                continue;
            }
        };
        for name in &reconciled.adopted {
            out.done
                .push(format!("recorded container {name} of project {project}"));
        }
        for name in &reconciled.adopted_networks {
            out.done
                .push(format!("recorded network {name} of project {project}"));
        }
        for name in &reconciled.dropped {
            out.done.push(format!(
                "forgot container {name} of project {project}: nothing of it is on the host"
            ));
        }
        out.left.extend(reconciled.damaged);
        for volume in project_volumes(store, containers, &project)? {
            out.done
                .push(format!("recorded volume {volume} of project {project}"));
        }
    }
    Ok(())
}

/// Records the volumes the project's containers mount. One named
/// `<project>_<key>` is the project's; any other is recorded as external,
/// so `down -v` never removes a volume it cannot tell is the project's.
fn project_volumes(
    store: &Store,
    containers: &Containers,
    project: &str,
) -> Result<Vec<String>, StoreError> {
    let names: BTreeSet<String> = containers
        .of_project(project)
        .into_iter()
        .map(|r| r.spec.name)
        .collect();
    let volumes = crate::volumes::used_by(containers, &containers.state_root, &names);
    let prefix = format!("{project}_");
    store.write(|w| {
        let mut added = Vec::new();
        for name in volumes {
            if w.read().volume(&name)?.is_some() {
                continue;
            }
            let key = name.strip_prefix(&prefix).map(String::from);
            w.insert_volume(&VolumeRecord {
                project: Some(project.to_string()),
                key: key.clone().unwrap_or_else(|| name.clone()),
                driver: "local".into(),
                config_hash: String::new(),
                config_fields: BTreeMap::new(),
                external: key.is_none(),
                created_at_ms: store::now_ms(),
                name: name.clone(),
            })?;
            added.push(name);
        }
        Ok(added)
    })
}

/// Empty cgroups and namespace files nobody has are removed; cgroups with
/// processes are left, since stopping processes nobody records is not a
/// repair's to decide.
fn remove_strays(inv: &Inventory, out: &mut Repaired) {
    for (path, pids) in &inv.stray_cgroups {
        if !pids.is_empty() {
            out.left.push(format!(
                "processes {pids:?} in cgroup {path} are no container's; left running \
                 (stop them with `kill` if they are not wanted)"
            ));
            continue;
        }
        match stack_runtime::recover::cgroup(path).map(|c| c.remove()) {
            Some(Ok(())) | None => out.done.push(format!("removed the empty cgroup {path}")),
            Some(Err(err)) => out.left.push(format!("cgroup {path}: {err}")),
        }
    }
    for file in &inv.stray_netns {
        match stack_net::netns::remove(file) {
            Ok(()) => out.done.push(format!(
                "removed the network namespace file {}",
                file.display()
            )),
            Err(err) => out.left.push(format!("{}: {err}", file.display())),
        }
    }
}

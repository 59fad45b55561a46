//! Applying a batch to one container: sync the changed paths, then
//! restart or exec as the rules say.

use std::path::{Path, PathBuf};
use std::time::Duration;

use stack_runtime::exec::ExecRequest;
use stack_runtime::launch::Attach;
use stack_runtime::state::Status;
use stack_spec::model::WatchExec;

use super::rules::Rule;
use super::sync::{ContainerRoot, Outcome};
use crate::containers::{ContainerError, ContainerRecord, Containers};

/// The running containers of one service of one project, by their labels.
pub fn running(containers: &Containers, project: &str, service: &str) -> Vec<ContainerRecord> {
    containers
        .of_project(project)
        .into_iter()
        .filter(|r| {
            crate::labels::membership(&r.spec.labels)
                .is_some_and(|m| m.service == service && !m.oneoff)
        })
        .filter(|r| r.state.effective_status() == Status::Running && r.state.container_alive())
        .collect()
}

/// Tally of one sync into one container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncTally {
    pub written: usize,
    pub removed: usize,
    pub errors: Vec<String>,
}

impl SyncTally {
    fn count(&mut self, result: Result<Outcome, super::sync::SyncError>) {
        match result {
            Ok(Outcome::Written) => self.written += 1,
            Ok(Outcome::Removed) => self.removed += 1,
            Ok(Outcome::Unchanged) => {}
            Err(e) => self.errors.push(e.to_string()),
        }
    }
}

/// Brings each changed host path of `rule` into the container: present
/// ones copied (a directory with everything the rule wants below it, as
/// notify may not have reported files made in a brand-new directory),
/// missing ones removed. A rename is thus a removal plus a copy.
pub fn sync_paths(root: &ContainerRoot, rule: &Rule, paths: &[&Path], tally: &mut SyncTally) {
    for host in paths {
        let Some(target) = rule.target_of(host) else {
            continue;
        };
        match std::fs::symlink_metadata(host) {
            Ok(meta) if meta.is_dir() => {
                tally.count(root.copy_in(host, &target));
                copy_tree(root, rule, host, tally);
            }
            Ok(_) => tally.count(root.copy_in(host, &target)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tally.count(root.remove(&target));
            }
            Err(e) => tally.errors.push(format!("{}: {e}", host.display())),
        }
    }
}

/// Copies everything the rule wants below `dir` that differs in the
/// container (initial sync, rescans after lost events, new directories).
pub fn copy_tree(root: &ContainerRoot, rule: &Rule, dir: &Path, tally: &mut SyncTally) {
    for host in wanted_below(rule, dir) {
        if let Some(target) = rule.target_of(&host) {
            tally.count(root.copy_in(&host, &target));
        }
    }
}

/// The rule's whole path compared with the container.
pub fn sync_all(root: &ContainerRoot, rule: &Rule, tally: &mut SyncTally) {
    if rule.path.is_dir() {
        copy_tree(root, rule, &rule.path, tally);
    } else {
        sync_paths(root, rule, &[rule.path.as_path()], tally);
    }
}

/// Files and directories below `dir` (not `dir` itself), pruning ignored
/// directories instead of walking into them.
fn wanted_below(rule: &Rule, dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let walk = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| match rule.relative(e.path()) {
            Some(rel) if e.file_type().is_dir() => !rule.filter.skips_dir(rel),
            Some(_) => true,
            None => false,
        });
    for entry in walk.flatten() {
        let Some(rel) = rule.relative(entry.path()) else {
            continue;
        };
        if entry.file_type().is_dir() || rule.filter.wants_file(rel) {
            out.push(entry.into_path());
        }
    }
    out
}

/// A restart or `exec` of a watch rule that failed, naming the container.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("stop {name}: {source}")]
    Stop {
        name: String,
        #[source]
        source: stack_runtime::Error,
    },
    /// The container's record could not be read again after the stop.
    #[error("restart {name}: {source}")]
    Find {
        name: String,
        #[source]
        source: ContainerError,
    },
    #[error("start {name}: {source}")]
    Start {
        name: String,
        #[source]
        source: ContainerError,
    },
    #[error("exec in {name}: {source}")]
    Exec {
        name: String,
        #[source]
        source: stack_runtime::Error,
    },
}

/// Stops a container (its stop signal, then SIGKILL after its grace time)
/// and starts it again through [`Containers::start`], so everything it
/// needs besides its process is set up as on any start.
pub fn restart(containers: &Containers, record: &ContainerRecord) -> Result<(), ActionError> {
    let name = || record.spec.name.clone();
    let grace = Duration::from_secs(record.spec.stop_timeout);
    stack_runtime::control::stop(&record.dir, grace).map_err(|source| ActionError::Stop {
        name: name(),
        source,
    })?;
    let fresh = containers
        .find(&record.spec.id)
        .map_err(|source| ActionError::Find {
            name: name(),
            source,
        })?;
    containers
        .start(&fresh, Attach::Detached)
        .map(drop)
        .map_err(|source| ActionError::Start {
            name: name(),
            source,
        })
}

/// Runs a rule's `exec` in the container; its output goes to ours.
pub fn exec(record: &ContainerRecord, exec: &WatchExec) -> Result<i32, ActionError> {
    let request = ExecRequest {
        args: exec.command.clone(),
        env: exec
            .environment
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k}={v}"),
                None => format!("{k}={}", std::env::var(k).unwrap_or_default()),
            })
            .collect(),
        user: exec.user.clone().unwrap_or_default(),
        cwd: exec.working_dir.clone().unwrap_or_default(),
    };
    stack_runtime::handle::exec_here(&record.dir, &request).map_err(|source| ActionError::Exec {
        name: record.spec.name.clone(),
        source,
    })
}

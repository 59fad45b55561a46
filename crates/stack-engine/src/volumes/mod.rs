//! Named volumes as objects of their own (`stack volume create|ls|inspect|
//! rm|prune`), and `up`'s check that external volumes exist.
//!
//! A volume is a directory `<state root>/volumes/<name>/_data` plus, for
//! volumes made by `stack volume create` or `stack up`, a row in the store
//! (labels, project, creation time). The directory says whether a volume
//! exists: `stack run -v NAME:/path` makes volumes without a row, as
//! `docker run -v` does, and they are listed too.
//!
//! Create and remove change the directory and the row in one step: the
//! directory is renamed into (or out of) place inside the store's write
//! transaction, and a failure of either undoes the other.

mod error;
mod external;
mod filter;
pub mod name;
mod usage;

#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use stack_runtime::event_log::{self, EventRecord};

pub use error::VolumeError;
pub use external::require_external;
pub use filter::VolumeFilter;

use crate::containers::Containers;
use crate::paths::HostPaths;
use crate::plan::ConfigFields;
use crate::store::{self, Store, StoreError, VolumeRecord};
use error::{io, store as store_err};

/// Docker's label on volumes made without a name; `prune` without `--all`
/// removes only those.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";
/// Compose's label naming the stack-file key of a project's volume.
pub const VOLUME_LABEL: &str = "com.docker.compose.volume";
/// Age after which a create's staging directory is known to be left over.
const STAGING_TTL: std::time::Duration = std::time::Duration::from_secs(60);
/// The only driver: a directory on this host.
pub const LOCAL_DRIVER: &str = "local";

/// What `volume create` takes.
#[derive(Debug, Clone, Default)]
pub struct CreateVolume {
    /// A random name (and the anonymous label) when `None`.
    pub name: Option<String>,
    /// `local` when `None`; any other driver is refused.
    pub driver: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// A volume as `ls` and `inspect` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VolumeInfo {
    pub name: String,
    pub driver: String,
    /// The directory containers see (`…/volumes/<name>/_data`).
    pub mountpoint: PathBuf,
    pub labels: BTreeMap<String, String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The project whose `up` made it.
    pub project: Option<String>,
    /// Names of the containers (running or not) that mount it.
    pub used_by: Vec<String>,
}

/// What `prune` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    pub volumes: Vec<String>,
    /// Bytes of the files removed.
    pub bytes: u64,
}

/// The volumes of one state root.
pub struct Volumes {
    state_root: PathBuf,
    dir: PathBuf,
    store: Store,
    containers: Containers,
}

impl Volumes {
    pub fn open(paths: &HostPaths) -> Result<Volumes, VolumeError> {
        let store = Store::open(&paths.state_root).map_err(store_err("open the state store"))?;
        Ok(Volumes {
            state_root: paths.state_root.clone(),
            dir: volumes_dir(&paths.state_root),
            store,
            containers: Containers::new(paths),
        })
    }

    fn path(&self, name: &str) -> Result<PathBuf, VolumeError> {
        volume_dir(&self.state_root, name)
    }

    /// False for a name that breaks the rule, too.
    fn exists(&self, name: &str) -> bool {
        self.path(name).is_ok_and(|p| p.join("_data").is_dir())
    }

    /// `volume create`: returns the volume and whether it was made now
    /// (creating an existing name changes nothing, as Docker does).
    pub fn create(&self, req: &CreateVolume) -> Result<(VolumeInfo, bool), VolumeError> {
        let driver = req.driver.as_deref().unwrap_or(LOCAL_DRIVER);
        if driver != LOCAL_DRIVER {
            return Err(VolumeError::Invalid(format!(
                "volume driver {driver:?} is not supported: only \"local\" is"
            )));
        }
        let mut labels = req.labels.clone();
        if let Some((bad, _)) = labels.iter().find(|(k, _)| k.is_empty()) {
            return Err(VolumeError::Invalid(format!(
                "label {bad:?}: expected KEY=VALUE"
            )));
        }
        let name = match &req.name {
            Some(name) => {
                name::validate(name)?;
                name.clone()
            }
            None => {
                labels.insert(ANONYMOUS_LABEL.into(), String::new());
                name::random()?
            }
        };
        if self.exists(&name) {
            return Ok((self.inspect(&name)?, false));
        }
        match self.make(&name, &labels) {
            Ok(()) => Ok((self.inspect(&name)?, true)),
            // Another process made it between the check and the rename.
            Err(VolumeError::Io { .. }) if self.exists(&name) => Ok((self.inspect(&name)?, false)),
            Err(e) => Err(e),
        }
    }

    /// Makes the directory under a work name, then renames it into place
    /// inside the transaction that adds its row.
    fn make(&self, name: &str, labels: &BTreeMap<String, String>) -> Result<(), VolumeError> {
        let staged = self.dir.join(format!(".new-{}", name::suffix()));
        std::fs::create_dir_all(staged.join("_data")).map_err(io(name, "create its directory"))?;
        let mut fields = ConfigFields::default();
        fields.insert("driver", &serde_json::Value::from(LOCAL_DRIVER));
        for (k, v) in labels {
            fields.insert(format!("labels.{k}"), &serde_json::Value::from(v.as_str()));
        }
        let row = VolumeRecord {
            name: name.to_string(),
            project: None,
            key: name.to_string(),
            driver: LOCAL_DRIVER.into(),
            config_hash: fields.hash(),
            config_fields: fields.into_map(),
            external: false,
            created_at_ms: store::now_ms(),
        };
        let target = self.path(name)?;
        let failed_rename = RefCell::new(None);
        let renamed = std::cell::Cell::new(false);
        let result = self.store.write(|w| {
            // A row left by a volume whose directory went away is replaced.
            w.remove_volume(name)?;
            w.insert_volume(&row)?;
            match std::fs::rename(&staged, &target) {
                Ok(()) => {
                    renamed.set(true);
                    Ok(())
                }
                Err(e) => {
                    *failed_rename.borrow_mut() = Some(e);
                    Err(rename_failed())
                }
            }
        });
        if let Err(e) = result {
            if renamed.get() {
                // The rename happened but the commit failed: undo it.
                let _ = std::fs::remove_dir_all(&target);
            }
            let _ = std::fs::remove_dir_all(&staged);
            return Err(match failed_rename.into_inner() {
                Some(io_err) => io(name, "move its directory into place")(io_err),
                None => store_err(name)(e),
            });
        }
        self.event("create", name);
        Ok(())
    }

    /// Every volume, by name, that `filter` keeps.
    pub fn list(&self, filter: &VolumeFilter) -> Result<Vec<VolumeInfo>, VolumeError> {
        self.sweep();
        let users = usage::users(&self.containers, &self.dir);
        let mut names: Vec<String> = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| self.exists(n))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io("*", format!("read {}", self.dir.display()))(e)),
        };
        names.sort();
        let rows = self
            .store
            .read(|r| {
                names
                    .iter()
                    .map(|n| r.volume(n))
                    .collect::<Result<Vec<_>, StoreError>>()
            })
            .map_err(store_err("*"))?;
        Ok(names
            .iter()
            .zip(rows)
            .filter_map(|(n, row)| {
                let dir = self.path(n).ok()?;
                Some(self.info(n, &dir, row.as_ref(), &users))
            })
            .filter(|v| filter.matches(v))
            .collect())
    }

    pub fn inspect(&self, name: &str) -> Result<VolumeInfo, VolumeError> {
        let dir = match self.path(name) {
            Ok(dir) if dir.join("_data").is_dir() => dir,
            _ => return Err(VolumeError::NotFound(name.to_string())),
        };
        let row = self
            .store
            .read(|r| r.volume(name))
            .map_err(store_err(name))?;
        let users = usage::users(&self.containers, &self.dir);
        Ok(self.info(name, &dir, row.as_ref(), &users))
    }

    fn info(
        &self,
        name: &str,
        dir: &Path,
        row: Option<&VolumeRecord>,
        users: &BTreeMap<String, Vec<String>>,
    ) -> VolumeInfo {
        let mut labels = BTreeMap::new();
        let mut created_at = None;
        let mut project = None;
        if let Some(row) = row {
            labels = labels_of(&row.config_fields);
            if let Some(p) = &row.project {
                labels.insert(crate::labels::PROJECT.to_string(), p.clone());
                labels.insert(VOLUME_LABEL.to_string(), row.key.clone());
                project = Some(p.clone());
            }
            created_at = Some(whole_seconds(row.created_at_ms.max(0) as u64 / 1000));
        }
        let created_at = created_at.unwrap_or_else(|| {
            std::fs::metadata(dir)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| whole_seconds(d.as_secs()))
                .unwrap_or_default()
        });
        VolumeInfo {
            name: name.to_string(),
            driver: row.map_or(LOCAL_DRIVER.to_string(), |r| r.driver.clone()),
            mountpoint: dir.join("_data"),
            labels,
            created_at,
            project,
            used_by: users.get(name).cloned().unwrap_or_default(),
        }
    }

    /// `volume rm`: refused while any container record mounts it; a missing
    /// volume is an error unless `force`. Returns whether it removed one.
    pub fn remove(&self, name: &str, force: bool) -> Result<bool, VolumeError> {
        let found = match self.inspect(name) {
            Ok(v) => v,
            Err(VolumeError::NotFound(_)) if force => return Ok(false),
            Err(e) => return Err(e),
        };
        if !found.used_by.is_empty() {
            return Err(VolumeError::InUse {
                name: name.to_string(),
                containers: found.used_by,
            });
        }
        self.destroy(name)?;
        Ok(true)
    }

    fn destroy(&self, name: &str) -> Result<(), VolumeError> {
        remove_files_and_row(&self.store, &self.state_root, name)?;
        self.event("destroy", name);
        Ok(())
    }

    /// `volume prune`: removes volumes no container uses; without `all`
    /// only anonymous ones (Docker 23 and later).
    pub fn prune(&self, all: bool) -> Result<PruneReport, VolumeError> {
        let mut report = PruneReport::default();
        for v in self.list(&VolumeFilter::default())? {
            if !v.used_by.is_empty() || !(all || v.labels.contains_key(ANONYMOUS_LABEL)) {
                continue;
            }
            let bytes = v
                .mountpoint
                .parent()
                .map_or(0, crate::disk_usage::bytes_below);
            self.destroy(&v.name)?;
            report.bytes += bytes;
            report.volumes.push(v.name);
        }
        Ok(report)
    }

    /// Appends a `volume` event; a lost event line never fails the action.
    fn event(&self, action: &str, name: &str) {
        let record = EventRecord::now("volume", action, name, name).with("driver", LOCAL_DRIVER);
        let _ = event_log::append(&self.state_root, &record);
    }

    /// Removes work directories a crash left behind.
    fn sweep(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let n = entry.file_name();
            let n = n.to_string_lossy();
            // A `.new-` directory is another create's until it is renamed
            // into place, which takes milliseconds: only old ones are left.
            let stale = n.starts_with(".trash-")
                || (n.starts_with(".new-")
                    && entry
                        .metadata()
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > STAGING_TTL));
            if stale {
                let _ = stack_runtime::fsutil::remove_tree(&entry.path());
            }
        }
    }
}

/// `down -v`: removes a volume unless a container (of another project, or
/// none) still mounts it, as Compose refuses to.
pub fn remove_unused(
    store: &Store,
    containers: &Containers,
    name: &str,
) -> Result<(), VolumeError> {
    let users = usage::users(containers, &volumes_dir(&containers.state_root));
    if let Some(names) = users.get(name).filter(|n| !n.is_empty()) {
        return Err(VolumeError::InUse {
            name: name.to_string(),
            containers: names.clone(),
        });
    }
    remove_files_and_row(store, &containers.state_root, name)
}

/// Removes a volume's row and directory as one step (`volume rm`, `prune`
/// and `down -v` all come here): the row is dropped and the directory
/// renamed out of sight in one transaction, then the files are deleted. A
/// failure of either half undoes the other; if deleting the files fails
/// half way, the volume is already gone from every listing and the leftover
/// work directory is removed by the next listing. A volume whose directory
/// is already gone just loses its row.
pub fn remove_files_and_row(
    store: &Store,
    state_root: &Path,
    name: &str,
) -> Result<(), VolumeError> {
    remove_with(store, state_root, name, |from, to| {
        std::fs::rename(from, to)
    })
}

/// [`remove_files_and_row`] with the rename given, so a test can make it
/// fail.
fn remove_with(
    store: &Store,
    state_root: &Path,
    name: &str,
    rename: impl Fn(&Path, &Path) -> std::io::Result<()>,
) -> Result<(), VolumeError> {
    let base = volumes_dir(state_root);
    let dir = volume_dir(state_root, name)?;
    let trash = base.join(format!(".trash-{}", name::suffix()));
    let present = dir.exists();
    let moved = RefCell::new(None);
    let result = store.write(|w| {
        w.remove_volume(name)?;
        if !present {
            return Ok(());
        }
        rename(&dir, &trash).map_err(|e| {
            *moved.borrow_mut() = Some(e);
            rename_failed()
        })
    });
    match (result, moved.into_inner()) {
        (Ok(()), _) => {}
        (Err(_), Some(e)) => return Err(io(name, "move its directory away")(e)),
        (Err(e), None) => {
            if present {
                let _ = std::fs::rename(&trash, &dir);
            }
            return Err(store_err(name)(e));
        }
    }
    if present {
        let _ = stack_runtime::fsutil::remove_tree(&trash);
    }
    Ok(())
}

/// `<state root>/volumes`.
pub fn volumes_dir(state_root: &Path) -> PathBuf {
    state_root.join("volumes")
}

/// The volumes mounted by the containers named in `names` (any state):
/// how `stack system check --repair` finds a project's volumes again.
pub fn used_by(
    containers: &Containers,
    state_root: &Path,
    names: &std::collections::BTreeSet<String>,
) -> Vec<String> {
    usage::users(containers, &volumes_dir(state_root))
        .into_iter()
        .filter(|(_, users)| users.iter().any(|u| names.contains(u)))
        .map(|(volume, _)| volume)
        .collect()
}

/// `<state root>/volumes/<name>` (its files are in `_data`), for a name
/// that passes the volume name rule; the one way a volume's directory is
/// found from its name, whichever way the name came in (stack file, CLI,
/// API, store row).
pub fn volume_dir(state_root: &Path, name: &str) -> Result<PathBuf, VolumeError> {
    name::validate(name)?;
    crate::paths::child(&volumes_dir(state_root), name)
        .map_err(|e| VolumeError::Invalid(e.to_string()))
}

/// RFC 3339 in whole seconds, as Docker shows a volume's `CreatedAt`.
fn whole_seconds(secs: u64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    let text = stack_runtime::timefmt::format(at);
    match text.split_once('.') {
        Some((head, _)) => format!("{head}Z"),
        None => text,
    }
}

/// Labels kept in a row's fields (`labels.KEY` = JSON string).
fn labels_of(fields: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    fields
        .iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("labels.")?;
            let value = serde_json::from_str::<String>(v).unwrap_or_else(|_| v.clone());
            Some((key.to_string(), value))
        })
        .collect()
}

/// Stands for an I/O error inside a store transaction (the real error is
/// kept beside it); returning it rolls the transaction back.
fn rename_failed() -> StoreError {
    StoreError::Conflict {
        context: "move a volume directory".into(),
        detail: "rename failed".into(),
    }
}

//! Container directories whose `config.json` or `state.json` cannot be
//! read (truncated by a full disk, garbage written over them). They are
//! never hidden: listings show them, `up` refuses to make a second
//! container beside one, `down` removes one from what the host still
//! shows (its cgroup, its network endpoints, its mounts), and
//! `stack system check --repair` rebuilds a damaged `state.json`.

use std::path::PathBuf;
use std::time::Duration;

use stack_runtime::spec::{ContainerDir, ContainerSpec};
use stack_runtime::state::State;

use super::{ContainerError, Containers};

/// One container directory with a record that cannot be read.
#[derive(Debug, Clone)]
pub struct DamagedRecord {
    pub id: String,
    pub dir: ContainerDir,
    /// The file at fault.
    pub file: PathBuf,
    /// What is wrong with it.
    pub problem: String,
    /// The container's spec when only `state.json` is damaged.
    pub spec: Option<ContainerSpec>,
}

/// How long `down` waits for a live monitor to record the exit of a
/// container it killed, which makes its `state.json` whole again.
const MONITOR_WAIT: Duration = Duration::from_secs(10);

impl DamagedRecord {
    /// The project of its Compose labels, when its spec is readable.
    pub fn project(&self) -> Option<&str> {
        let spec = self.spec.as_ref()?;
        crate::labels::membership(&spec.labels).map(|m| m.project)
    }

    /// Its name when the spec says it, else its short id.
    pub fn name(&self) -> String {
        match &self.spec {
            Some(spec) => spec.name.clone(),
            None => self.id.chars().take(12).collect(),
        }
    }

    /// The cgroup its processes run in: from the spec, or the one stack
    /// gives every container (`<cgroup parent>/<id>`).
    pub fn cgroup_path(&self, containers: &Containers) -> String {
        match &self.spec {
            Some(spec) => spec.cgroup_path.clone(),
            None => format!("{}/{}", containers.cgroup_parent, self.id),
        }
    }

    /// Processes still running in its cgroup.
    pub fn live_pids(&self, containers: &Containers) -> Vec<i32> {
        stack_runtime::recover::live_pids(&self.cgroup_path(containers))
    }

    /// The problem, the file and the ways out, in one line.
    pub fn describe(&self) -> String {
        format!(
            "container {}: {} is damaged ({}); run `stack system check --repair` \
             to rebuild what can be rebuilt, or `stack down` to remove the container",
            self.name(),
            self.file.display(),
            self.problem
        )
    }
}

impl Containers {
    /// Every container directory whose record cannot be read. A directory
    /// still being made (no `config.json` and no `state.json` yet) is not
    /// one: `up`'s sweep takes such directories once they are stale.
    pub fn damaged(&self) -> Vec<DamagedRecord> {
        self.scan().1
    }

    /// Whole records and damaged ones, in one pass over the directories.
    pub(super) fn scan(&self) -> (Vec<super::ContainerRecord>, Vec<DamagedRecord>) {
        let (mut whole, mut damaged) = (Vec::new(), Vec::new());
        let Ok(entries) = std::fs::read_dir(self.base()) else {
            return (whole, damaged);
        };
        for entry in entries.flatten() {
            let id = entry.file_name().to_string_lossy().into_owned();
            let dir = ContainerDir::new(entry.path());
            let spec_exists = dir.spec().exists();
            let state_exists = dir.state().exists();
            if !spec_exists && !state_exists {
                continue;
            }
            let spec = match ContainerSpec::load(&dir) {
                Ok(spec) => spec,
                Err(err) => {
                    damaged.push(DamagedRecord {
                        id,
                        file: dir.spec(),
                        problem: problem(spec_exists, &dir.spec(), &err),
                        dir,
                        spec: None,
                    });
                    continue;
                }
            };
            match State::load(&dir) {
                Ok(state) => whole.push(super::ContainerRecord { dir, spec, state }),
                Err(err) => damaged.push(DamagedRecord {
                    id,
                    file: dir.state(),
                    problem: problem(true, &dir.state(), &err),
                    dir,
                    spec: Some(spec),
                }),
            }
        }
        whole.sort_by(|a, b| a.state.started_at.cmp(&b.state.started_at));
        damaged.sort_by(|a, b| a.id.cmp(&b.id));
        (whole, damaged)
    }

    /// Removes a container whose record is damaged: stops its processes,
    /// releases its network endpoints and namespace file, unmounts what
    /// is mounted below its directory, removes its cgroup and directory.
    /// When only `state.json` was damaged and its monitor is alive, the
    /// monitor writes a whole record on the exit, and the ordinary removal
    /// takes over.
    pub fn remove_damaged(&self, damaged: &DamagedRecord) -> Result<(), ContainerError> {
        let cgroup = damaged.cgroup_path(self);
        let recorded = stack_runtime::recover::kill_unrecorded(&damaged.dir, &cgroup, MONITOR_WAIT);
        if let (true, Some(spec)) = (recorded, &damaged.spec) {
            let state = State::load(&damaged.dir)?;
            let record = super::ContainerRecord {
                dir: damaged.dir.clone(),
                spec: spec.clone(),
                state,
            };
            return self.remove(&record, true);
        }
        let released = super::network::release(&self.state_root, &self.run_dir, &damaged.id);
        stack_runtime::recover::remove_unrecorded(&damaged.dir, &cgroup, damaged.spec.as_ref())?;
        released
    }
}

/// The runtime's error without the path, which the message names once.
fn problem(exists: bool, file: &std::path::Path, err: &stack_runtime::Error) -> String {
    if !exists {
        return "missing".into();
    }
    let text = err.to_string();
    let prefix = format!("{}: ", file.display());
    text.strip_prefix(&prefix)
        .map_or(text.clone(), String::from)
}

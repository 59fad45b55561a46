//! Re-adoption. Containers do not belong to the daemon: each one has a
//! small monitor process that reaps it and writes its exit code to
//! `state.json`, so containers outlive the daemon (and `kill -9` of it)
//! and no per-container shim is needed. When the daemon starts it only
//! reads every record. It remembers, in `<state root>/daemon-seen.json`,
//! the status it last saw of each container, so after a restart it can
//! say which ones ended while it was away and with what exit code. It
//! never restarts anything itself: restart policies are the monitors'.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use stack_api::system::ContainerFilter;
use stack_api::system::ContainerSummary;
use stack_engine::facade::Engine;

/// File below the state root.
pub const SEEN_FILE: &str = "daemon-seen.json";

/// What the daemon last saw of one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub name: String,
    pub status: String,
}

/// A container's change between two looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Running before, not running now.
    Exited {
        name: String,
        exit_code: Option<i32>,
    },
    /// Not seen running before, running now.
    Started { name: String },
    /// Gone from the host.
    Removed { name: String },
}

/// Whether a status word is a container whose process lives (a paused
/// one is frozen, not gone).
fn alive(status: &str) -> bool {
    matches!(status, "running" | "paused")
}

/// Compares the last look with the containers now.
pub fn changes(before: &BTreeMap<String, Seen>, now: &[ContainerSummary]) -> Vec<Change> {
    let mut out = Vec::new();
    for c in now {
        let was_running = before.get(&c.id).is_some_and(|s| alive(&s.status));
        match (was_running, alive(&c.status)) {
            (true, false) => out.push(Change::Exited {
                name: c.name.clone(),
                exit_code: c.exit_code,
            }),
            (false, true) => out.push(Change::Started {
                name: c.name.clone(),
            }),
            _ => {}
        }
    }
    for (id, seen) in before {
        if !now.iter().any(|c| &c.id == id) {
            out.push(Change::Removed {
                name: seen.name.clone(),
            });
        }
    }
    out
}

/// The seen-file of a state root.
pub fn seen_path(state_root: &Path) -> PathBuf {
    state_root.join(SEEN_FILE)
}

pub fn load_seen(state_root: &Path) -> BTreeMap<String, Seen> {
    std::fs::read(seen_path(state_root))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save_seen(state_root: &Path, seen: &BTreeMap<String, Seen>) {
    let Ok(bytes) = serde_json::to_vec(seen) else {
        return;
    };
    let path = seen_path(state_root);
    let _ = std::fs::create_dir_all(state_root);
    let tmp = path.with_extension("json.tmp");
    if let Err(err) = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &path)) {
        tracing::warn!(%err, file = %path.display(), "could not record the containers seen");
    }
}

fn snapshot(now: &[ContainerSummary]) -> BTreeMap<String, Seen> {
    now.iter()
        .map(|c| {
            (
                c.id.clone(),
                Seen {
                    name: c.name.clone(),
                    status: c.status.clone(),
                },
            )
        })
        .collect()
}

/// Keeps the daemon's view of the host's containers: logs what changed
/// since the last look and records the new look.
pub struct Watcher {
    host: std::sync::Arc<Engine>,
    seen: BTreeMap<String, Seen>,
}

impl Watcher {
    /// The first look after a start: logs what happened while no daemon
    /// was watching.
    pub fn adopt(host: std::sync::Arc<Engine>) -> Watcher {
        let root = host.paths.state_root.clone();
        let before = load_seen(&root);
        let now = all(&host);
        for change in changes(&before, &now) {
            match change {
                Change::Exited { name, exit_code } => tracing::warn!(
                    container = %name,
                    exit_code = ?exit_code,
                    "container exited while the daemon was down"
                ),
                Change::Started { .. } | Change::Removed { .. } => {}
            }
        }
        let running = now.iter().filter(|c| alive(&c.status)).count();
        tracing::info!(
            containers = now.len(),
            running,
            "adopted the host's containers (their monitors keep running them)"
        );
        let seen = snapshot(&now);
        save_seen(&root, &seen);
        Watcher { host, seen }
    }

    /// One more look; logs exits and records the view when it changed.
    pub fn tick(&mut self) {
        let now = all(&self.host);
        let changes = changes(&self.seen, &now);
        for change in &changes {
            match change {
                Change::Exited { name, exit_code } => {
                    tracing::info!(container = %name, exit_code = ?exit_code, "container exited")
                }
                Change::Started { name } => tracing::info!(container = %name, "container running"),
                Change::Removed { name } => tracing::info!(container = %name, "container removed"),
            }
        }
        let seen = snapshot(&now);
        if seen != self.seen {
            save_seen(&self.host.paths.state_root, &seen);
            self.seen = seen;
        }
    }
}

fn all(host: &Engine) -> Vec<ContainerSummary> {
    host.list_containers(&ContainerFilter {
        all: true,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, status: &str, code: Option<i32>) -> ContainerSummary {
        ContainerSummary {
            id: id.into(),
            name: format!("n{id}"),
            status: status.into(),
            exit_code: code,
            oom_killed: false,
            command: vec![],
            labels: BTreeMap::new(),
            pid: None,
            started_at: None,
            finished_at: None,
            health: None,
            restart_count: 0,
            ports: String::new(),
        }
    }

    #[test]
    fn reports_exits_starts_and_removals() {
        let before = snapshot(&[
            c("1", "running", None),
            c("2", "running", None),
            c("3", "exited", Some(0)),
        ]);
        let now = [
            c("1", "running", None),
            c("2", "exited", Some(3)),
            c("4", "running", None),
        ];
        let got = changes(&before, &now);
        assert_eq!(
            got,
            vec![
                Change::Exited {
                    name: "n2".into(),
                    exit_code: Some(3)
                },
                Change::Started { name: "n4".into() },
                Change::Removed { name: "n3".into() },
            ]
        );
    }

    #[test]
    fn a_pause_or_unpause_is_no_exit_nor_start() {
        let before = snapshot(&[c("1", "running", None), c("2", "paused", None)]);
        let now = [c("1", "paused", None), c("2", "running", None)];
        assert_eq!(changes(&before, &now), vec![]);
    }

    #[test]
    fn seen_file_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let seen = snapshot(&[c("1", "running", None)]);
        save_seen(dir.path(), &seen);
        assert_eq!(load_seen(dir.path()), seen);
    }
}

//! The host's lifecycle event log, `<state root>/events.jsonl`: what
//! `stack events` (and the daemon's event stream) read. Every process that
//! acts on a container appends here, monitors included, so the log is
//! complete whichever `stack` process did the work, and it survives them all.
//!
//! Each record is one line written with a single `write` on an O_APPEND
//! descriptor; lines stay well under PIPE_BUF-sized writes, so concurrent
//! writers never interleave within a line and the file order is the order
//! in which the kernel took the writes.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Context, Error};

/// File name below the state root.
pub const EVENT_LOG: &str = "events.jsonl";

/// One event, in Docker's vocabulary (`type` container/network/image/volume;
/// `action` create, start, die, restart, stop, kill, destroy, oom,
/// `health_status: healthy`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// RFC 3339, UTC, nanoseconds.
    pub time: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub action: String,
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

impl EventRecord {
    /// An event stamped now.
    pub fn now(kind: &str, action: &str, id: &str, name: &str) -> EventRecord {
        EventRecord {
            time: crate::timefmt::now(),
            kind: kind.to_string(),
            action: action.to_string(),
            id: id.to_string(),
            name: name.to_string(),
            attributes: BTreeMap::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> EventRecord {
        self.attributes.insert(key.to_string(), value.into());
        self
    }
}

/// Path of the log below a state root.
pub fn path(state_root: &Path) -> PathBuf {
    state_root.join(EVENT_LOG)
}

/// Appends one event. Callers usually ignore the error: a lost event line
/// must never fail the action it describes.
pub fn append(state_root: &Path, event: &EventRecord) -> Result<(), Error> {
    let mut line = serde_json::to_vec(event).map_err(|e| Error::invalid("event", e.to_string()))?;
    line.push(b'\n');
    let path = path(state_root);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .context(|| format!("open {}", path.display()))?;
    file.write_all(&line)
        .context(|| format!("append to {}", path.display()))
}

/// Every event in the log, oldest first; unreadable lines are skipped.
pub fn read_all(state_root: &Path) -> Result<Vec<EventRecord>, Error> {
    let path = path(state_root);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(format!("open {}", path.display()), e)),
    };
    Ok(std::io::BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_and_reads_back_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        for action in ["create", "start", "die"] {
            let e = EventRecord::now("container", action, "abc", "web-1").with("exitCode", "0");
            append(dir.path(), &e).expect("append");
        }
        let all = read_all(dir.path()).expect("read");
        let actions: Vec<_> = all.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["create", "start", "die"]);
        assert_eq!(all[2].attributes["exitCode"], "0");
    }
}

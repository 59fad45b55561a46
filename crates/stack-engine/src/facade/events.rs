//! Reading the host's event log as a stream: what is there (from a point
//! in time on), then, when following, each line as it is appended. The
//! log's order is the kernel's order of the appends, and lines are sent in
//! file order, so every reader sees the same order.

use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use stack_api::system::Event;
use stack_runtime::event_log;

use crate::project::events::{time_key, EventFilter};

/// How often a follower looks for new lines.
const POLL: Duration = Duration::from_millis(50);

/// `GET /v1/events`: which events to read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct EventQuery {
    /// Keep streaming new events.
    #[serde(default)]
    pub follow: bool,
    /// Only events at or after this RFC 3339 time (UTC, as the log writes).
    /// Without it, a follower starts at the end of the log; a plain read
    /// returns everything.
    pub since: Option<String>,
    /// Only events of this type (`container`, `image`, ...).
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// A `since` that is not an RFC 3339 UTC time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("since {0:?}: expected an RFC 3339 UTC time such as 2026-01-01T00:00:00Z")]
pub struct BadSince(pub String);

impl EventQuery {
    /// The reading this query asks for, checked before any streaming
    /// starts.
    pub fn reading(&self) -> Result<Reading, BadSince> {
        if let Some(t) = self.since.as_deref().filter(|t| time_key(t).is_none()) {
            return Err(BadSince(t.to_string()));
        }
        Ok(Reading {
            filter: EventFilter {
                kinds: self.kind.iter().cloned().collect(),
                since: self.since.clone(),
                ..EventFilter::default()
            },
            history: !self.follow || self.since.is_some(),
            follow: self.follow,
        })
    }
}

/// What to read of the log: which events, from where, for how long.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    pub filter: EventFilter,
    /// Start at the beginning of the log (else at its end: only events
    /// appended from now on, Docker's default without `--since`).
    pub history: bool,
    /// Keep streaming new events (until the filter's `until` passes).
    pub follow: bool,
}

/// Streams the matching events to `emit` until it returns false, or
/// (when not following) the end of the log, or the filter's `until`
/// passes, or `keep_going` says stop. Lines are sent in file order, a
/// line only once it is whole; a log cut shorter (rotated) is read again
/// from its start.
pub fn read(
    state_root: &Path,
    reading: &Reading,
    mut emit: impl FnMut(&Event) -> bool,
    keep_going: impl Fn() -> bool,
) -> std::io::Result<()> {
    let path = event_log::path(state_root);
    let mut offset = if reading.history {
        0
    } else {
        std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
    };
    let mut pending = String::new();
    loop {
        let mut progressed = false;
        match std::fs::File::open(&path) {
            Ok(mut file) => {
                let len = file.metadata()?.len();
                if len < offset {
                    offset = 0;
                    pending.clear();
                }
                if len > offset {
                    file.seek(SeekFrom::Start(offset))?;
                    let mut reader = BufReader::new(file);
                    loop {
                        let mut buf = String::new();
                        let n = reader.read_line(&mut buf)?;
                        if n == 0 {
                            break;
                        }
                        offset += n as u64;
                        progressed = true;
                        pending.push_str(&buf);
                        if !pending.ends_with('\n') {
                            continue;
                        }
                        let line = std::mem::take(&mut pending);
                        let Ok(event) = serde_json::from_str::<Event>(line.trim_end()) else {
                            continue;
                        };
                        if reading.filter.matches(&event) && !emit(&event) {
                            return Ok(());
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let past_until = reading
            .filter
            .until
            .as_deref()
            .is_some_and(|until| time_key(&stack_runtime::timefmt::now()) > time_key(until));
        if !reading.follow || past_until || !keep_going() {
            return Ok(());
        }
        if !progressed {
            std::thread::sleep(POLL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stack_runtime::event_log::EventRecord;

    fn append(root: &Path, action: &str, time: &str) {
        let mut e = EventRecord::now("container", action, "id", "web-1");
        e.time = time.into();
        event_log::append(root, &e).expect("append");
    }

    #[test]
    fn the_log_record_reads_back_as_the_wire_event_whole() {
        let record = EventRecord::now("container", "die", "abc", "shop-web-1")
            .with("exitCode", "3")
            .with("com.docker.compose.project", "shop");
        let line = serde_json::to_string(&record).expect("record json");
        let event: Event = serde_json::from_str(&line).expect("event json");
        assert_eq!(event.time, record.time);
        assert_eq!(event.kind, record.kind);
        assert_eq!(event.action, record.action);
        assert_eq!(event.id, record.id);
        assert_eq!(event.name, record.name);
        assert_eq!(event.attributes, record.attributes);
        assert_eq!(serde_json::to_string(&event).expect("event json"), line);
    }

    #[test]
    fn a_bad_since_is_refused_before_reading() {
        let q = EventQuery {
            since: Some("nope".into()),
            ..Default::default()
        };
        assert_eq!(q.reading(), Err(BadSince("nope".into())));
    }

    #[test]
    fn reads_in_order_with_since_and_type() {
        let dir = tempfile::tempdir().expect("tempdir");
        append(dir.path(), "create", "2026-01-01T00:00:00.000000000Z");
        append(dir.path(), "start", "2026-01-01T00:00:01.000000000Z");
        append(dir.path(), "die", "2026-01-01T00:00:02.000000000Z");
        let mut seen = Vec::new();
        let q = EventQuery {
            since: Some("2026-01-01T00:00:01Z".into()),
            ..Default::default()
        };
        read(
            dir.path(),
            &q.reading().expect("query"),
            |e| {
                seen.push(e.action.clone());
                true
            },
            || true,
        )
        .expect("read");
        assert_eq!(seen, ["start", "die"]);
        let none = EventQuery {
            kind: Some("image".into()),
            ..Default::default()
        };
        read(
            dir.path(),
            &none.reading().expect("query"),
            |_| panic!("no image events"),
            || true,
        )
        .expect("read");
    }

    #[test]
    fn follower_sees_appends_in_order_then_stops() {
        let dir = tempfile::tempdir().expect("tempdir");
        append(dir.path(), "before", "2026-01-01T00:00:00Z");
        let root = dir.path().to_path_buf();
        let writer = std::thread::spawn(move || {
            // Give the follower time to reach the end of the log first.
            std::thread::sleep(std::time::Duration::from_millis(300));
            for i in 0..20 {
                append(&root, &format!("a{i}"), "2026-01-01T00:00:01Z");
            }
        });
        let mut seen = Vec::new();
        let q = EventQuery {
            follow: true,
            ..Default::default()
        };
        read(
            dir.path(),
            &q.reading().expect("query"),
            |e| {
                seen.push(e.action.clone());
                seen.len() < 20
            },
            || true,
        )
        .expect("follow");
        writer.join().expect("writer");
        let expected: Vec<String> = (0..20).map(|i| format!("a{i}")).collect();
        assert_eq!(seen, expected, "only new events, in order");
    }
}

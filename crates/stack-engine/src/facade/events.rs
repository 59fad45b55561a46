//! Reading the host's event log as a stream: what is there (from a point
//! in time on), then, when following, each line as it is appended. The
//! log's order is the kernel's order of the appends, and lines are sent in
//! file order, so every reader sees the same order.

use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use stack_runtime::event_log::{self, EventRecord};

/// How often a follower looks for new lines.
const POLL: Duration = Duration::from_millis(50);

/// Which events to read.
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
    /// Checks the query before any streaming starts.
    pub fn validate(&self) -> Result<(), BadSince> {
        match self.since.as_deref() {
            Some(t) if time_key(t).is_none() => Err(BadSince(t.to_string())),
            _ => Ok(()),
        }
    }

    fn wants(&self, e: &EventRecord) -> bool {
        let after = match self.since.as_deref().and_then(time_key) {
            Some(since) => time_key(&e.time).is_some_and(|t| t >= since),
            None => true,
        };
        after && self.kind.as_deref().is_none_or(|k| e.kind == k)
    }
}

/// An RFC 3339 UTC time as (seconds part, nanoseconds), so times written
/// with different fraction lengths compare correctly.
fn time_key(text: &str) -> Option<(String, u32)> {
    let body = text.strip_suffix('Z')?;
    let (secs, frac) = body.split_once('.').unwrap_or((body, ""));
    let shape_ok = secs.len() == 19
        && secs.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos = format!("{frac:0<9}").parse().ok()?;
    Some((secs.to_string(), nanos))
}

/// Streams events to `emit` until it returns false, or (when not
/// following) the end of the log, or `keep_going` says stop.
pub fn read(
    state_root: &Path,
    query: &EventQuery,
    mut emit: impl FnMut(&EventRecord) -> bool,
    keep_going: impl Fn() -> bool,
) -> std::io::Result<()> {
    let path = event_log::path(state_root);
    let mut offset = if query.follow && query.since.is_none() {
        std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
    } else {
        0
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
                        let Ok(event) = serde_json::from_str::<EventRecord>(line.trim_end()) else {
                            continue;
                        };
                        if query.wants(&event) && !emit(&event) {
                            return Ok(());
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if !query.follow || !keep_going() {
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

    fn append(root: &Path, action: &str, time: &str) {
        let mut e = EventRecord::now("container", action, "id", "web-1");
        e.time = time.into();
        event_log::append(root, &e).expect("append");
    }

    #[test]
    fn times_compare_across_fraction_lengths() {
        assert!(time_key("2026-01-01T00:00:01.5Z") > time_key("2026-01-01T00:00:01Z"));
        assert_eq!(
            time_key("2026-01-01T00:00:01.000000000Z"),
            time_key("2026-01-01T00:00:01Z")
        );
        assert_eq!(time_key("yesterday"), None);
        assert!(EventQuery {
            since: Some("nope".into()),
            ..Default::default()
        }
        .validate()
        .is_err());
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
            &q,
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
        read(dir.path(), &none, |_| panic!("no image events"), || true).expect("read");
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
            &q,
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

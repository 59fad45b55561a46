//! `events`: the host event log read back, filtered as `docker events
//! --filter` and `docker compose events` filter it, and followed as it
//! grows. Times in the log are fixed-width RFC 3339 UTC strings, so
//! comparing them as text compares the instants.

use std::io::{BufRead, Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use stack_runtime::event_log::{self, EventRecord};

use super::ProjectError;
use crate::labels;

/// Which events to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// `type=` values (any of them).
    pub kinds: Vec<String>,
    /// `event=` values (actions).
    pub actions: Vec<String>,
    /// `container=` values: id, id prefix or name.
    pub containers: Vec<String>,
    /// `label=KEY` or `label=KEY=VALUE`.
    pub labels: Vec<(String, Option<String>)>,
    /// Only events of this project's objects.
    pub project: Option<String>,
    /// Only events of these services (all when empty).
    pub services: Vec<String>,
    /// RFC 3339; events at or after.
    pub since: Option<String>,
    /// RFC 3339; events at or before.
    pub until: Option<String>,
}

impl EventFilter {
    /// Adds one `--filter KEY=VALUE`.
    pub fn add(&mut self, filter: &str) -> Result<(), ProjectError> {
        let (key, value) = filter
            .split_once('=')
            .ok_or_else(|| ProjectError::Invalid(format!("bad filter {filter:?}: KEY=VALUE")))?;
        let value = value.to_string();
        match key {
            "type" => self.kinds.push(value),
            "event" => self.actions.push(value),
            "container" => self.containers.push(value),
            "label" => self.labels.push(match value.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (value, None),
            }),
            other => {
                return Err(ProjectError::Invalid(format!(
                    "unsupported filter {other:?} (type, event, container, label)"
                )))
            }
        }
        Ok(())
    }

    /// Whether `event` passes every part of the filter.
    pub fn matches(&self, event: &EventRecord) -> bool {
        let any =
            |list: &[String], f: &dyn Fn(&String) -> bool| list.is_empty() || list.iter().any(f);
        let attr = |key: &str| event.attributes.get(key);
        any(&self.kinds, &|k| *k == event.kind)
            && any(&self.actions, &|a| *a == event.action)
            && any(&self.containers, &|c| {
                event.kind == "container"
                    && (event.name == *c || (!c.is_empty() && event.id.starts_with(c.as_str())))
            })
            && self
                .labels
                .iter()
                .all(|(k, v)| attr(k).is_some_and(|have| v.as_ref().is_none_or(|v| v == have)))
            && self
                .project
                .as_ref()
                .is_none_or(|p| attr(labels::PROJECT) == Some(p))
            && any(&self.services, &|s| attr(labels::SERVICE) == Some(s))
            && self.since.as_ref().is_none_or(|s| event.time >= *s)
            && self.until.as_ref().is_none_or(|u| event.time <= *u)
    }
}

/// Reads the log and calls `emit` for every matching event: first those
/// already there, then new ones as they are appended, until `until`
/// passes (never, without it), `emit` returns false, or `keep_going`
/// does (a reader that left while no event came). With `history` false,
/// only events appended from now on are shown (Docker's default without
/// `--since`).
pub fn follow(
    state_root: &Path,
    filter: &EventFilter,
    history: bool,
    mut emit: impl FnMut(&EventRecord) -> bool,
    keep_going: impl Fn() -> bool,
) -> Result<(), ProjectError> {
    let path = event_log::path(state_root);
    let mut offset = if history {
        0
    } else {
        std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
    };
    loop {
        let (events, next) = read_from(&path, offset)?;
        offset = next;
        for event in &events {
            if filter.matches(event) && !emit(event) {
                return Ok(());
            }
        }
        if let Some(until) = &filter.until {
            if stack_runtime::timefmt::now() > *until {
                return Ok(());
            }
        }
        if !keep_going() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Complete lines from `offset` on, and the offset after the last one.
fn read_from(path: &Path, offset: u64) -> Result<(Vec<EventRecord>, u64), ProjectError> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), offset)),
        Err(e) => {
            return Err(ProjectError::Invalid(format!(
                "open {}: {e}",
                path.display()
            )))
        }
    };
    let io_err = |e: std::io::Error| ProjectError::Invalid(format!("read {}: {e}", path.display()));
    file.seek(SeekFrom::Start(offset)).map_err(io_err)?;
    let mut reader = std::io::BufReader::new(file);
    let mut events = Vec::new();
    let mut next = offset;
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line).map_err(io_err)?;
        if n == 0 || !line.ends_with('\n') {
            break;
        }
        next += n as u64;
        if let Ok(event) = serde_json::from_str(&line) {
            events.push(event);
        }
    }
    Ok((events, next))
}

/// A `--since`/`--until` value as an RFC 3339 string: a Unix time in
/// seconds (`1700000000`, `1700000000.5`), an RFC 3339 time
/// (`2026-01-02T03:04:05Z`, offsets allowed), a date (`2026-01-02`), or a
/// duration before `now` (`10m`, `1h30m`, `45s`, `500ms`).
pub fn parse_time(text: &str, now: SystemTime) -> Result<String, ProjectError> {
    let bad = || {
        ProjectError::Invalid(format!(
            "bad time {text:?}: use a Unix time, RFC 3339, a date, or a duration like 10m"
        ))
    };
    let t = text.trim();
    if let Ok(secs) = t.parse::<f64>() {
        if secs < 0.0 || !secs.is_finite() {
            return Err(bad());
        }
        return Ok(stack_runtime::timefmt::format(
            UNIX_EPOCH + Duration::from_secs_f64(secs),
        ));
    }
    if let Some(d) = parse_duration(t) {
        return Ok(stack_runtime::timefmt::format(
            now.checked_sub(d).unwrap_or(UNIX_EPOCH),
        ));
    }
    stack_runtime::timefmt::parse(t)
        .map(stack_runtime::timefmt::format)
        .ok_or_else(bad)
}

/// `1h30m`, `10m`, `45s`, `500ms`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.')?;
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ms" => value / 1000.0,
            "s" => value,
            "m" => value * 60.0,
            "h" => value * 3600.0,
            _ => return None,
        };
        total += Duration::from_secs_f64(seconds);
        rest = &rest[unit_len..];
    }
    Some(total)
}

/// Nanoseconds since the Unix epoch of an RFC 3339 time (an event's
/// `time`), for Docker's `time`/`timeNano` JSON fields.
pub fn unix_nanos(rfc3339: &str) -> Option<u128> {
    stack_runtime::timefmt::parse(rfc3339)?
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(action: &str, project: &str, service: &str, time: &str) -> EventRecord {
        let mut e = EventRecord::now(
            "container",
            action,
            "abcdef0123",
            &format!("{project}-{service}-1"),
        );
        e.time = time.to_string();
        e.with(labels::PROJECT, project)
            .with(labels::SERVICE, service)
    }

    #[test]
    fn filters_by_project_service_type_and_time() {
        let early = event("stop", "shop", "web", "2026-01-01T00:00:00.000000000Z");
        let late = event("kill", "shop", "db", "2026-01-02T00:00:00.000000000Z");
        let other = event("stop", "blog", "web", "2026-01-01T12:00:00.000000000Z");
        let mut f = EventFilter {
            project: Some("shop".into()),
            ..Default::default()
        };
        assert!(f.matches(&early) && f.matches(&late) && !f.matches(&other));
        f.services = vec!["db".into()];
        assert!(!f.matches(&early) && f.matches(&late));
        let mut f = EventFilter::default();
        f.add("type=network").expect("filter");
        assert!(!f.matches(&early));
        let mut f = EventFilter {
            since: Some("2026-01-01T06:00:00.000000000Z".into()),
            until: Some("2026-01-01T18:00:00.000000000Z".into()),
            ..Default::default()
        };
        assert!(!f.matches(&early) && f.matches(&other) && !f.matches(&late));
        f.add("container=blog-web-1").expect("filter");
        f.add("label=com.docker.compose.service=web")
            .expect("filter");
        assert!(f.matches(&other));
        assert!(f.add("nonsense").is_err() && f.add("color=red").is_err());
    }

    #[test]
    fn parses_times_as_docker_accepts_them() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let t = |s| parse_time(s, now).expect(s);
        assert_eq!(t("1700000000"), "2023-11-14T22:13:20.000000000Z");
        assert_eq!(t("1700000000.5"), "2023-11-14T22:13:20.500000000Z");
        assert_eq!(t("2023-11-14T22:13:20Z"), "2023-11-14T22:13:20.000000000Z");
        assert_eq!(
            t("2023-11-14T23:13:20.25+01:00"),
            "2023-11-14T22:13:20.250000000Z"
        );
        assert_eq!(t("2023-11-14"), "2023-11-14T00:00:00.000000000Z");
        assert_eq!(t("10m"), "2023-11-14T22:03:20.000000000Z");
        assert_eq!(t("1h30m"), "2023-11-14T20:43:20.000000000Z");
        assert!(parse_time("yesterday", now).is_err());
        assert_eq!(
            unix_nanos("2023-11-14T22:13:20.000000007Z"),
            Some(1_700_000_000_000_000_007)
        );
        assert!(parse_time("2023-13-01", now).is_err());
    }
}

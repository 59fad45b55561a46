//! `GET /events` of the Docker API: the host's event log (the one `stack
//! events` reads) with Docker's `since`, `until` and `filters`, each
//! event in Docker's shape.

use stack_api::docker::events::{EventActor, EventMessage};
use stack_api::docker::filters::Filters;
use stack_api::system::Event;

use super::super::events::{read, Reading};
use super::super::{Engine, EngineError};
use crate::project::events::{parse_time, unix_nanos, EventFilter};

/// A checked `GET /events` request.
#[derive(Debug, Clone)]
pub struct EventsRequest {
    filter: EventFilter,
    /// Whether events already in the log are sent: with `since` or
    /// `until`, as Docker does; otherwise only new ones.
    history: bool,
}

impl EventsRequest {
    /// `since` and `until` as Docker's clients send them (Unix seconds,
    /// with a fraction or not, or RFC 3339), and the filters `type`,
    /// `event`, `container` and `label`; another filter is refused by name.
    pub fn new(
        since: Option<&str>,
        until: Option<&str>,
        filters: &Filters,
    ) -> Result<EventsRequest, EngineError> {
        let now = std::time::SystemTime::now();
        let time = |t: Option<&str>| {
            t.filter(|t| !t.is_empty())
                .map(|t| parse_time(t, now))
                .transpose()
        };
        let mut filter = EventFilter {
            since: time(since)?,
            until: time(until)?,
            ..EventFilter::default()
        };
        for (key, values) in filters {
            for value in values {
                filter.add(&format!("{key}={value}"))?;
            }
        }
        let history = filter.since.is_some() || filter.until.is_some();
        Ok(EventsRequest { filter, history })
    }
}

impl Engine {
    /// Sends each event `request` wants to `emit`, until `until` passes,
    /// `emit` returns false or `keep_going` does.
    pub fn docker_events(
        &self,
        request: &EventsRequest,
        mut emit: impl FnMut(&EventMessage) -> bool,
        keep_going: impl Fn() -> bool,
    ) -> Result<(), EngineError> {
        let reading = Reading {
            filter: request.filter.clone(),
            history: request.history,
            follow: true,
        };
        read(
            &self.paths.state_root,
            &reading,
            |e| emit(&message(e)),
            keep_going,
        )
        .map_err(EngineError::io("read the event log"))
    }
}

/// An event of the log in Docker's shape.
pub fn message(e: &Event) -> EventMessage {
    let nanos = unix_nanos(&e.time).unwrap_or(0);
    let container = e.kind == "container";
    EventMessage {
        kind: e.kind.clone(),
        action: e.action.clone(),
        actor: EventActor {
            id: e.id.clone(),
            attributes: e.attributes.clone(),
        },
        scope: "local".into(),
        time: (nanos / 1_000_000_000) as u64,
        time_nano: nanos as u64,
        status: container.then(|| e.action.clone()),
        id: container.then(|| e.id.clone()),
        from: e.attributes.get("image").filter(|_| container).cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_times_and_filters_become_the_log_filter() {
        let filters: Filters = [
            ("type".to_string(), vec!["container".to_string()]),
            (
                "label".to_string(),
                vec!["com.docker.compose.project=shop".to_string()],
            ),
        ]
        .into();
        let req =
            EventsRequest::new(Some("1700000000.000000000"), Some(""), &filters).expect("request");
        assert!(req.history);
        assert_eq!(
            req.filter.since.as_deref(),
            Some("2023-11-14T22:13:20.000000000Z")
        );
        assert_eq!(req.filter.kinds, ["container"]);
        let none = EventsRequest::new(None, None, &Filters::new()).expect("request");
        assert!(!none.history, "without since or until, only new events");
        let other: Filters = [("image".to_string(), vec!["busybox".to_string()])].into();
        let err = EventsRequest::new(None, None, &other).expect_err("refused");
        assert!(err.to_string().contains("\"image\""), "{err}");
    }

    #[test]
    fn a_container_event_reads_as_dockers() {
        let e = Event {
            time: "2023-11-14T22:13:20.000000007Z".into(),
            kind: "container".into(),
            action: "start".into(),
            id: "abc".into(),
            name: "web".into(),
            attributes: [("image".to_string(), "busybox".to_string())].into(),
        };
        let m = message(&e);
        assert_eq!(
            (m.time, m.time_nano),
            (1_700_000_000, 1_700_000_000_000_000_007)
        );
        assert_eq!(m.status.as_deref(), Some("start"));
        assert_eq!(m.from.as_deref(), Some("busybox"));
        let json = serde_json::to_value(&m).expect("json");
        assert_eq!(json["Actor"]["ID"], "abc");
        assert_eq!(json["scope"], "local");
    }
}

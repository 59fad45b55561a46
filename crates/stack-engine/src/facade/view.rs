//! From the engine's records to the API's bodies. The CLI's in-process path
//! uses these same functions, so a verb prints the same thing whether the
//! daemon answered or not.

use crate::containers::network;
use crate::containers::ContainerRecord;
use crate::images::LocalImage;
use serde_json::{json, Value};
use stack_runtime::state::{State, Status};

use stack_api::system::{ContainerFilter, ContainerSummary, ImageSummary};

/// The status word of a record as seen now.
pub fn status_word(record: &ContainerRecord) -> &'static str {
    word_of(&record.state, record.state.effective_status())
}

/// The status word of `state` whose status was already looked at (each
/// look reads /proc, which a list of a hundred containers should do once
/// per container): Docker's words, `paused` for a running container that
/// is paused.
pub fn word_of(state: &State, status: Status) -> &'static str {
    match status {
        Status::Running if state.paused => "paused",
        Status::Created => "created",
        Status::Running => "running",
        Status::Restarting => "restarting",
        Status::Exited => "exited",
    }
}

/// Whether a container with this status word is alive (running or
/// paused), which is what a list without `all` shows.
pub fn is_up(word: &str) -> bool {
    matches!(word, "running" | "paused" | "restarting")
}

/// A container in a list. Published ports come from the container's own
/// saved network request, so a list reads no network state.
pub fn container_summary(record: &ContainerRecord) -> ContainerSummary {
    ContainerSummary {
        id: record.spec.id.clone(),
        name: record.spec.name.clone(),
        status: status_word(record).to_string(),
        exit_code: record.state.exit_code,
        oom_killed: record.state.oom_killed,
        command: record.spec.process.args.clone(),
        labels: record.spec.labels.clone(),
        pid: record.state.pid,
        started_at: record.state.started_at.clone(),
        finished_at: record.state.finished_at.clone(),
        health: record
            .state
            .health
            .as_ref()
            .map(|h| h.status.as_str().to_string()),
        restart_count: record.state.restart_count,
        ports: network::view::ports_text(&network::view::published_ports(record)),
    }
}

/// The inspect document, in Docker's field names: state, restarts, the
/// full spec, live cgroup usage of a running container, its log, networks.
pub fn container_inspect(state_root: &std::path::Path, record: &ContainerRecord) -> Value {
    let running = record.state.effective_status() == Status::Running;
    let usage = if running { cgroup_usage(record) } else { None };
    json!({
        "Id": record.spec.id,
        "Name": record.spec.name,
        "State": state_json(&record.state),
        "RestartCount": record.state.restart_count,
        "Config": record.spec,
        "Usage": usage,
        "LogPath": record.dir.log(),
        "NetworkSettings": network::view::describe(state_root, record),
    })
}

/// `State` of `inspect`, Docker's field names.
pub fn state_json(st: &State) -> Value {
    let status = st.effective_status();
    let health = st.health.as_ref().map(|h| {
        json!({
            "Status": h.status.as_str(),
            "FailingStreak": h.failing_streak,
            "Log": h.log.iter().map(|p| json!({
                "Start": p.start, "End": p.end,
                "ExitCode": p.exit_code.unwrap_or(-1),
                "Outcome": p.outcome.as_str(), "Output": p.output,
            })).collect::<Vec<_>>(),
        })
    });
    json!({
        "Status": word_of(st, status),
        "Running": status == Status::Running,
        "Paused": status == Status::Running && st.paused,
        "Restarting": status == Status::Restarting,
        "OOMKilled": st.oom_killed,
        "Pid": st.pid.filter(|_| status == Status::Running).unwrap_or(0),
        "ExitCode": st.exit_code,
        "Error": st.error,
        "StartedAt": st.started_at,
        "FinishedAt": st.finished_at,
        "ManualStop": st.manual_stop,
        "Health": health,
    })
}

fn cgroup_usage(record: &ContainerRecord) -> Option<stack_runtime::cgroup::Usage> {
    Some(record.handle().cgroup().ok()?.usage())
}

pub fn image_summary(image: &LocalImage) -> ImageSummary {
    ImageSummary {
        reference: image.reference.clone(),
        id: image.id.to_string(),
        manifest: image.manifest.to_string(),
        created: image.config.created.clone(),
        size: image.size,
    }
}

/// Whether a container in a list answers a list query.
pub fn matches(filter: &ContainerFilter, c: &ContainerSummary) -> bool {
    let status_ok = match &filter.status {
        Some(s) => &c.status == s,
        None => filter.all || is_up(&c.status),
    };
    let label_ok = filter
        .label
        .as_deref()
        .is_none_or(|l| match l.split_once('=') {
            Some((k, v)) => c.labels.get(k).is_some_and(|x| x == v),
            None => c.labels.contains_key(l),
        });
    let name_ok = filter.name.as_deref().is_none_or(|n| c.name.contains(n));
    let project_ok = filter
        .project
        .as_deref()
        .is_none_or(|p| c.labels.get(crate::labels::PROJECT).map(String::as_str) == Some(p));
    status_ok && label_ok && name_ok && project_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(status: &str, labels: &[(&str, &str)]) -> ContainerSummary {
        ContainerSummary {
            id: "a".repeat(64),
            name: "web-1".into(),
            status: status.into(),
            exit_code: None,
            oom_killed: false,
            command: vec![],
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            pid: None,
            started_at: None,
            finished_at: None,
            health: None,
            restart_count: 0,
            ports: String::new(),
        }
    }

    #[test]
    fn default_filter_shows_running_only_and_all_shows_every_status() {
        let f = ContainerFilter::default();
        assert!(matches(&f, &summary("running", &[])));
        assert!(matches(&f, &summary("paused", &[])), "paused is up");
        assert!(!matches(&f, &summary("exited", &[])));
        let paused = ContainerFilter {
            status: Some("paused".into()),
            ..Default::default()
        };
        assert!(matches(&paused, &summary("paused", &[])));
        assert!(!matches(&paused, &summary("running", &[])));
        let all = ContainerFilter {
            all: true,
            ..Default::default()
        };
        assert!(matches(&all, &summary("exited", &[])));
    }

    #[test]
    fn label_filter_matches_key_or_key_value() {
        let c = summary("running", &[("tier", "db")]);
        let by = |l: &str| ContainerFilter {
            label: Some(l.into()),
            ..Default::default()
        };
        assert!(matches(&by("tier"), &c));
        assert!(matches(&by("tier=db"), &c));
        assert!(!matches(&by("tier=web"), &c));
        assert!(!matches(&by("other"), &c));
    }

    #[test]
    fn status_and_project_filters() {
        let c = summary("exited", &[(crate::labels::PROJECT, "shop")]);
        let f = ContainerFilter {
            status: Some("exited".into()),
            project: Some("shop".into()),
            ..Default::default()
        };
        assert!(matches(&f, &c));
        let other = ContainerFilter {
            project: Some("blog".into()),
            all: true,
            ..Default::default()
        };
        assert!(!matches(&other, &c));
    }

    #[test]
    fn inspect_state_shows_restarts_and_health() {
        use stack_runtime::state::{Health, Probe};
        use stack_runtime::supervise::{HealthStatus, ProbeOutcome};
        let mut st = State::created();
        st.status = Status::Exited;
        st.exit_code = Some(3);
        st.health = Some(Health {
            status: HealthStatus::Unhealthy,
            failing_streak: 2,
            log: vec![Probe {
                start: "a".into(),
                end: "b".into(),
                exit_code: Some(1),
                outcome: ProbeOutcome::Failed,
                output: "no".into(),
            }],
        });
        let v = state_json(&st);
        assert_eq!(v["Status"], "exited");
        assert_eq!(v["ExitCode"], 3);
        assert_eq!(v["Health"]["Status"], "unhealthy");
        assert_eq!(v["Health"]["Log"][0]["ExitCode"], 1);
        assert_eq!(v["Pid"], 0);
    }
}

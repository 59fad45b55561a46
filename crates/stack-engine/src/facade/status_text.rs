//! A container's state in Docker's words, as `docker ps` and
//! `docker compose ps` print their STATUS column: `Up 2 minutes`,
//! `Up 3 seconds (healthy)`, `Up 1 second (Paused)`, `Exited (1) 5 minutes ago`,
//! `Restarting (1) 2 seconds ago`, `Created`. One implementation for
//! `stack ps` (whose rows the daemon also serves) and `container ls`.

use std::time::{Duration, SystemTime};

/// What the STATUS text is made of.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatusFacts<'a> {
    /// `created`, `running`, `paused`, `restarting` or `exited`.
    pub status: &'a str,
    pub exit_code: Option<i32>,
    pub oom_killed: bool,
    /// `starting`, `healthy`, `unhealthy`, when there is a healthcheck.
    pub health: Option<&'a str>,
    /// RFC 3339 UTC, as the monitor writes them.
    pub started_at: Option<&'a str>,
    pub finished_at: Option<&'a str>,
}

/// The STATUS column, ages counted to now.
pub fn docker_status(facts: &StatusFacts<'_>) -> String {
    let since = |at: Option<&str>| at.and_then(age).map(human_duration);
    match facts.status {
        "running" | "paused" => {
            let up = since(facts.started_at).unwrap_or_else(|| "Less than a second".into());
            match facts.health {
                // Docker says a paused container is paused, whatever its health.
                _ if facts.status == "paused" => format!("Up {up} (Paused)"),
                Some(health) => format!("Up {up} ({health})"),
                None => format!("Up {up}"),
            }
        }
        "restarting" => {
            let code = facts.exit_code.unwrap_or(0);
            match since(facts.finished_at) {
                Some(ago) => format!("Restarting ({code}) {ago} ago"),
                None => format!("Restarting ({code})"),
            }
        }
        "exited" => {
            let code = match (facts.exit_code, facts.oom_killed) {
                (Some(code), true) => format!(" ({code}, oom-killed)"),
                (Some(code), false) => format!(" ({code})"),
                (None, _) => String::new(),
            };
            match since(facts.finished_at) {
                Some(ago) => format!("Exited{code} {ago} ago"),
                None => format!("Exited{code}"),
            }
        }
        _ => "Created".into(),
    }
}

/// Time since an RFC 3339 UTC timestamp as the monitor writes them
/// (`2026-11-28T02:04:51.123456789Z`); `None` if it does not parse.
pub fn age(timestamp: &str) -> Option<Duration> {
    let then = stack_runtime::timefmt::parse(timestamp)?;
    Some(SystemTime::now().duration_since(then).unwrap_or_default())
}

/// Docker's `units.HumanDuration`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let minutes = secs / 60;
    let hours = (d.as_secs_f64() / 3600.0).round() as u64;
    match () {
        _ if secs < 1 => "Less than a second".into(),
        _ if secs == 1 => "1 second".into(),
        _ if secs < 60 => format!("{secs} seconds"),
        _ if minutes == 1 => "About a minute".into(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", hours / 24 / 365),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn ages_read_the_monitors_timestamps() {
        let t = stack_runtime::timefmt::parse("1970-01-02T00:00:01.5Z").expect("parses");
        assert_eq!(
            t.duration_since(UNIX_EPOCH).expect("after epoch"),
            Duration::from_millis(86_401_500)
        );
        let now = stack_runtime::timefmt::now();
        assert!(age(&now).expect("parses") < Duration::from_secs(5));
        assert_eq!(age("yesterday"), None);
    }

    #[test]
    fn durations_read_like_docker() {
        let s = Duration::from_secs;
        assert_eq!(
            human_duration(Duration::from_millis(300)),
            "Less than a second"
        );
        assert_eq!(human_duration(s(1)), "1 second");
        assert_eq!(human_duration(s(3)), "3 seconds");
        assert_eq!(human_duration(s(65)), "About a minute");
        assert_eq!(human_duration(s(5 * 60)), "5 minutes");
        assert_eq!(human_duration(s(3600)), "About an hour");
        assert_eq!(human_duration(s(5 * 3600)), "5 hours");
        assert_eq!(human_duration(s(3 * 86_400)), "3 days");
    }

    /// An RFC 3339 time `ago` before now.
    fn before(ago: Duration) -> String {
        stack_runtime::timefmt::format(SystemTime::now() - ago)
    }

    #[test]
    fn status_texts_read_like_docker_ps() {
        let two_min = before(Duration::from_secs(125));
        let five_min = before(Duration::from_secs(5 * 60 + 2));
        let three_s = before(Duration::from_secs(3));
        let running = StatusFacts {
            status: "running",
            started_at: Some(&two_min),
            ..Default::default()
        };
        assert_eq!(docker_status(&running), "Up 2 minutes");
        let healthy = StatusFacts {
            status: "running",
            health: Some("healthy"),
            started_at: Some(&three_s),
            ..Default::default()
        };
        assert_eq!(docker_status(&healthy), "Up 3 seconds (healthy)");
        let paused = StatusFacts {
            status: "paused",
            ..healthy
        };
        assert_eq!(docker_status(&paused), "Up 3 seconds (Paused)");
        let exited = StatusFacts {
            status: "exited",
            exit_code: Some(1),
            finished_at: Some(&five_min),
            ..Default::default()
        };
        assert_eq!(docker_status(&exited), "Exited (1) 5 minutes ago");
        let restarting = StatusFacts {
            status: "restarting",
            exit_code: Some(1),
            finished_at: Some(&three_s),
            ..Default::default()
        };
        assert_eq!(docker_status(&restarting), "Restarting (1) 3 seconds ago");
        let created = StatusFacts {
            status: "created",
            ..Default::default()
        };
        assert_eq!(docker_status(&created), "Created");
    }
}

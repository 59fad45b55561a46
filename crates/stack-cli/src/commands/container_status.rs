//! How `container ls` and `container inspect` show a container's state,
//! in Docker's words: ages like `3 seconds` / `About a minute`, and the
//! `State` object with `Restarting`, `Health` and its probe log.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time since an RFC 3339 UTC timestamp as the monitor writes them
/// (`2026-11-28T02:04:51.123456789Z`); `None` if it does not parse.
pub fn age(timestamp: &str) -> Option<Duration> {
    let then = parse_utc(timestamp)?;
    Some(SystemTime::now().duration_since(then).unwrap_or_default())
}

fn parse_utc(text: &str) -> Option<SystemTime> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.splitn(3, ':').map(|p| p.parse::<u64>().ok());
    let (h, min, s) = (t.next()??, t.next()??, t.next()??);
    let nanos: u32 = format!("{frac:0<9}").get(..9)?.parse().ok()?;
    let days = days_from_civil(y, m, day)?;
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + min * 60 + s;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
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
    use stack_daemon::view::state_json;
    use stack_runtime::state::{State, Status};

    #[test]
    fn ages_read_the_monitors_timestamps() {
        let t = parse_utc("1970-01-02T00:00:01.5Z").expect("parses");
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

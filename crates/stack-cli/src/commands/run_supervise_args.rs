//! `stack run`'s restart and healthcheck flags, Docker's names and meaning,
//! turned into the container spec's `RestartSpec` and `HealthcheckSpec`.

use std::time::Duration;

use clap::Args;
use stack_engine::containers::{HealthcheckSpec, RestartSpec};

/// Supervision flags of `stack run`.
#[derive(Debug, Args, Default)]
pub struct SuperviseArgs {
    /// Restart policy: no, always, on-failure[:N], unless-stopped.
    #[arg(long, value_name = "POLICY", default_value = "no")]
    restart: String,
    /// Also restart the container when its healthcheck finds it unhealthy
    /// (Docker never does).
    #[arg(long)]
    restart_on_unhealthy: bool,
    /// Command run inside the container to check its health (with /bin/sh -c).
    #[arg(long, value_name = "CMD")]
    health_cmd: Option<String>,
    /// Time between probes (e.g. 30s, 1m30s, 500ms).
    #[arg(long, value_name = "DURATION")]
    health_interval: Option<String>,
    /// How long a probe may run before it is killed and counts as failed.
    #[arg(long, value_name = "DURATION")]
    health_timeout: Option<String>,
    /// Failures in a row that make the container unhealthy.
    #[arg(long, value_name = "N")]
    health_retries: Option<u32>,
    /// Time after the start during which failures do not count.
    #[arg(long, value_name = "DURATION")]
    health_start_period: Option<String>,
    /// Time between probes during the start period.
    #[arg(long, value_name = "DURATION")]
    health_start_interval: Option<String>,
    /// Disable any healthcheck.
    #[arg(long)]
    no_healthcheck: bool,
}

impl SuperviseArgs {
    /// The restart spec and healthcheck of the container; `auto_remove`
    /// (`--rm`) with a restart policy is refused, as Docker does.
    pub fn to_spec(
        &self,
        auto_remove: bool,
    ) -> Result<(RestartSpec, Option<HealthcheckSpec>), String> {
        let restart = stack_engine::containers::run_args::restart(
            &self.restart,
            auto_remove,
            self.restart_on_unhealthy,
        )
        .map_err(|e| e.to_string())?;
        Ok((restart, self.healthcheck()?))
    }

    fn healthcheck(&self) -> Result<Option<HealthcheckSpec>, String> {
        let timings = [
            ("--health-interval", self.health_interval.is_some()),
            ("--health-timeout", self.health_timeout.is_some()),
            ("--health-retries", self.health_retries.is_some()),
            ("--health-start-period", self.health_start_period.is_some()),
            (
                "--health-start-interval",
                self.health_start_interval.is_some(),
            ),
        ];
        let given = timings.iter().find(|(_, set)| *set).map(|(name, _)| *name);
        if self.no_healthcheck {
            if let Some(flag) = given.or(self.health_cmd.as_ref().map(|_| "--health-cmd")) {
                return Err(format!("--no-healthcheck conflicts with {flag}"));
            }
            return Ok(Some(HealthcheckSpec {
                test: vec!["NONE".into()],
                interval_ms: 0,
                timeout_ms: 0,
                retries: 0,
                start_period_ms: 0,
                start_interval_ms: 0,
            }));
        }
        let Some(cmd) = &self.health_cmd else {
            return match given {
                Some(flag) => Err(format!("{flag} needs --health-cmd")),
                None => Ok(None),
            };
        };
        let ms = |flag: &str, v: &Option<String>| -> Result<u64, String> {
            v.as_deref()
                .map(|text| parse_duration(text).map_err(|e| format!("{flag}: {e}")))
                .transpose()
                .map(|d| d.map_or(0, |d| d.as_millis() as u64))
        };
        Ok(Some(HealthcheckSpec {
            test: vec!["CMD-SHELL".into(), cmd.clone()],
            interval_ms: ms("--health-interval", &self.health_interval)?,
            timeout_ms: ms("--health-timeout", &self.health_timeout)?,
            retries: self.health_retries.unwrap_or(0),
            start_period_ms: ms("--health-start-period", &self.health_start_period)?,
            start_interval_ms: ms("--health-start-interval", &self.health_start_interval)?,
        }))
    }
}

/// Go's duration syntax, as Docker takes it: `1s`, `500ms`, `1m30s`,
/// `1.5h`, `0`. Units: ns, us (µs), ms, s, m, h.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = |why: &str| format!("invalid duration {text:?}: {why}");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err(bad("empty"));
    }
    let mut rest = text;
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| bad("a unit is missing (ns, us, ms, s, m, h)"))?;
        let (number, tail) = rest.split_at(number_len);
        let value: f64 = number.parse().map_err(|_| bad("expected a number"))?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let seconds = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad(&format!("unknown unit {unit:?}"))),
        };
        total += value * seconds;
        rest = tail;
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad("out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use stack_engine::supervise::RestartPolicy;

    #[test]
    fn durations_in_go_syntax() {
        let ms = Duration::from_millis;
        assert_eq!(parse_duration("1s"), Ok(ms(1000)));
        assert_eq!(parse_duration("500ms"), Ok(ms(500)));
        assert_eq!(parse_duration("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse_duration("1.5h"), Ok(ms(5_400_000)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        for bad in ["", "10", "1x", "s", "1..2s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} must be refused");
        }
    }

    fn args() -> SuperviseArgs {
        SuperviseArgs {
            restart: "no".into(),
            ..SuperviseArgs::default()
        }
    }

    #[test]
    fn restart_policies_and_rm() {
        let mut a = args();
        a.restart = "on-failure:2".into();
        let (restart, health) = a.to_spec(false).expect("valid");
        assert_eq!(
            restart.policy,
            RestartPolicy::OnFailure {
                max_retries: Some(2)
            }
        );
        assert_eq!(health, None);
        let err = a.to_spec(true).expect_err("--rm with a policy");
        assert!(err.contains("--rm"), "{err}");
        a.restart = "sometimes".into();
        assert!(a
            .to_spec(false)
            .expect_err("bad policy")
            .contains("--restart"));
        assert!(args().to_spec(true).is_ok(), "--rm with no policy is fine");
    }

    #[test]
    fn health_flags_become_a_cmd_shell_check_in_milliseconds() {
        let mut a = args();
        a.health_cmd = Some("wget -q localhost".into());
        a.health_interval = Some("1s".into());
        a.health_timeout = Some("500ms".into());
        a.health_retries = Some(2);
        a.health_start_period = Some("1m".into());
        a.health_start_interval = Some("100ms".into());
        a.restart_on_unhealthy = true;
        let (restart, health) = a.to_spec(false).expect("valid");
        assert!(restart.when_unhealthy);
        let h = health.expect("a check");
        assert_eq!(h.test, ["CMD-SHELL", "wget -q localhost"]);
        assert_eq!(
            (
                h.interval_ms,
                h.timeout_ms,
                h.retries,
                h.start_period_ms,
                h.start_interval_ms
            ),
            (1000, 500, 2, 60_000, 100)
        );
    }

    #[test]
    fn health_flag_mistakes_are_named() {
        let mut a = args();
        a.health_interval = Some("1s".into());
        assert_eq!(
            a.to_spec(false).expect_err("no cmd"),
            "--health-interval needs --health-cmd"
        );
        a.health_cmd = Some("true".into());
        a.health_interval = Some("soon".into());
        assert!(a
            .to_spec(false)
            .expect_err("bad")
            .starts_with("--health-interval"));
        let mut b = args();
        b.no_healthcheck = true;
        let (_, h) = b.to_spec(false).expect("valid");
        assert_eq!(h.expect("explicit none").test, ["NONE"]);
        b.health_cmd = Some("true".into());
        assert!(b
            .to_spec(false)
            .expect_err("conflict")
            .contains("--no-healthcheck"));
    }
}

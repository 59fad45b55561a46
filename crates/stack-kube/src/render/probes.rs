//! `healthcheck` → readiness and liveness probes.
//!
//! Readiness is what Compose's `service_healthy` means (traffic and
//! dependants wait for it). Liveness adds a restart when the check keeps
//! failing, which Compose does not do but every Kubernetes user expects;
//! both use the same command and timings.

use std::time::Duration;

use k8s_openapi::api::core::v1::{ExecAction, Probe};
use stack_spec::Service;

use super::{units, Context};

/// Compose's defaults when the healthcheck leaves a timing out.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_RETRIES: u64 = 3;

/// The (readiness, liveness) probes of `service`, if it has a healthcheck.
pub(super) fn render(
    ctx: &mut Context<'_>,
    path: &str,
    service: &Service,
) -> (Option<Probe>, Option<Probe>) {
    let Some(check) = &service.healthcheck else {
        return (None, None);
    };
    let path = format!("{path}.healthcheck");
    if check.disable {
        return (None, None);
    }
    let command = match check.test.split_first() {
        Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => rest.to_vec(),
        Some((kind, rest)) if kind == "CMD-SHELL" && !rest.is_empty() => {
            vec!["/bin/sh".into(), "-c".into(), rest.join(" ")]
        }
        Some((kind, _)) if kind == "NONE" => return (None, None),
        None => {
            ctx.warnings.push(
                format!("{path}.test"),
                "without `test` Compose uses the image's HEALTHCHECK, which Kubernetes ignores",
            );
            return (None, None);
        }
        Some(_) => {
            ctx.warnings.push(
                format!("{path}.test"),
                "not a CMD or CMD-SHELL test; no probe is made",
            );
            return (None, None);
        }
    };
    if check.start_interval.is_some() {
        ctx.warnings.push(
            format!("{path}.start_interval"),
            "probes run at one period from the start; the interval applies",
        );
    }
    let retries = check.retries.unwrap_or(DEFAULT_RETRIES).max(1);
    let probe = Probe {
        exec: Some(ExecAction {
            // Probe commands are not subject to the kubelet's $(VAR) expansion.
            command: Some(command),
        }),
        period_seconds: Some(seconds(check.interval.map(|d| d.0), DEFAULT_INTERVAL, 1)),
        timeout_seconds: Some(seconds(check.timeout.map(|d| d.0), DEFAULT_TIMEOUT, 1)),
        failure_threshold: Some(i32::try_from(retries).unwrap_or(i32::MAX)),
        initial_delay_seconds: check
            .start_period
            .map(|d| seconds(Some(d.0), Duration::ZERO, 0))
            .filter(|s| *s > 0),
        ..Probe::default()
    };
    (Some(probe.clone()), Some(probe))
}

fn seconds(value: Option<Duration>, default: Duration, min: i64) -> i32 {
    let secs = units::seconds_ceil(value.unwrap_or(default), min);
    i32::try_from(secs).unwrap_or(i32::MAX)
}

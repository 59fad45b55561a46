//! Supervision settings of a service, read from the stack file model.

use stack_spec::Service;

use super::{HealthTest, HealthTestError, Healthcheck, RestartPolicy};

/// The service extension that opts in to restarting a container its
/// healthcheck finds unhealthy (Docker never does: moby#28400).
pub const RESTART_ON_UNHEALTHY_KEY: &str = "x-stack-restart-on-unhealthy";

/// `restart:` of a service (`no` when absent).
pub fn restart_policy(service: &Service) -> RestartPolicy {
    match service.restart {
        None | Some(stack_spec::RestartPolicy::No) => RestartPolicy::No,
        Some(stack_spec::RestartPolicy::Always) => RestartPolicy::Always,
        Some(stack_spec::RestartPolicy::UnlessStopped) => RestartPolicy::UnlessStopped,
        Some(stack_spec::RestartPolicy::OnFailure(max_retries)) => {
            RestartPolicy::OnFailure { max_retries }
        }
    }
}

/// Whether the service opted in with `x-stack-restart-on-unhealthy: true`.
pub fn restart_on_unhealthy(service: &Service) -> bool {
    service
        .other
        .get(RESTART_ON_UNHEALTHY_KEY)
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// The healthcheck a container of `service` runs: the service's, over the
/// image's (`image_test`, the image config's `Healthcheck.Test`) when the
/// service sets only timings. `None`: no healthcheck at all.
pub fn healthcheck(
    service: &Service,
    image_test: Option<&[String]>,
) -> Result<Option<Healthcheck>, HealthTestError> {
    let Some(spec) = service.healthcheck.as_ref() else {
        return match image_test {
            Some(t) => build(t, None),
            None => Ok(None),
        };
    };
    if spec.disable {
        return Ok(None);
    }
    let test: &[String] = if spec.test.is_empty() {
        match image_test {
            Some(t) => t,
            None => return Ok(None),
        }
    } else {
        &spec.test
    };
    build(test, Some(spec))
}

fn build(
    test: &[String],
    spec: Option<&stack_spec::Healthcheck>,
) -> Result<Option<Healthcheck>, HealthTestError> {
    let test = HealthTest::from_list(test)?;
    if test == HealthTest::None {
        return Ok(None);
    }
    let mut check = Healthcheck::new(test);
    if let Some(s) = spec {
        if let Some(d) = s.interval {
            check.interval = d.0;
        }
        if let Some(d) = s.timeout {
            check.timeout = d.0;
        }
        if let Some(n) = s.retries {
            check.retries = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(d) = s.start_period {
            check.start_period = d.0;
        }
        if let Some(d) = s.start_interval {
            check.start_interval = d.0;
        }
    }
    Ok(Some(check))
}

#[cfg(test)]
#[path = "from_spec_tests.rs"]
mod tests;

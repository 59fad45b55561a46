use std::time::Duration;

use stack_spec::Service;

use super::*;

fn list(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn restart_policies_map_one_to_one() {
    let mut s = Service::default();
    assert_eq!(restart_policy(&s), RestartPolicy::No);
    s.restart = Some(stack_spec::RestartPolicy::OnFailure(Some(3)));
    assert_eq!(
        restart_policy(&s),
        RestartPolicy::OnFailure {
            max_retries: Some(3)
        }
    );
    s.restart = Some(stack_spec::RestartPolicy::UnlessStopped);
    assert_eq!(restart_policy(&s), RestartPolicy::UnlessStopped);
}

#[test]
fn restart_on_unhealthy_is_opt_in() {
    let mut s = Service::default();
    assert!(!restart_on_unhealthy(&s));
    s.other.insert(
        RESTART_ON_UNHEALTHY_KEY.into(),
        serde_json::Value::Bool(true),
    );
    assert!(restart_on_unhealthy(&s));
}

#[test]
fn service_healthcheck_overrides_timings_of_the_image_test() {
    let image_test = list(&["CMD-SHELL", "redis-cli ping"]);
    let mut s = Service::default();
    let from_image = healthcheck(&s, Some(&image_test))
        .expect("valid")
        .expect("image check");
    assert_eq!(from_image.interval, Duration::from_secs(30));

    s.healthcheck = Some(stack_spec::Healthcheck {
        interval: Some(stack_spec::Duration(Duration::from_secs(1))),
        retries: Some(10),
        start_period: Some(stack_spec::Duration(Duration::from_secs(5))),
        start_interval: Some(stack_spec::Duration(Duration::from_millis(200))),
        ..Default::default()
    });
    let merged = healthcheck(&s, Some(&image_test))
        .expect("valid")
        .expect("check");
    assert_eq!(merged.test, HealthTest::CmdShell("redis-cli ping".into()));
    assert_eq!(merged.interval, Duration::from_secs(1));
    assert_eq!(merged.retries, 10);
    assert_eq!(merged.start_interval, Duration::from_millis(200));
    assert_eq!(healthcheck(&s, None).expect("valid"), None);
}

#[test]
fn disable_and_none_turn_the_image_check_off() {
    let image_test = list(&["CMD", "true"]);
    let mut s = Service {
        healthcheck: Some(stack_spec::Healthcheck {
            disable: true,
            ..Default::default()
        }),
        ..Service::default()
    };
    assert_eq!(healthcheck(&s, Some(&image_test)).expect("valid"), None);
    s.healthcheck = Some(stack_spec::Healthcheck {
        test: list(&["NONE"]),
        ..Default::default()
    });
    assert_eq!(healthcheck(&s, Some(&image_test)).expect("valid"), None);
    s.healthcheck = Some(stack_spec::Healthcheck {
        test: list(&["BOGUS"]),
        ..Default::default()
    });
    assert!(healthcheck(&s, None).is_err());
}

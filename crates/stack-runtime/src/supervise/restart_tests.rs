use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn delay_of(d: RestartDecision) -> Duration {
    match d {
        RestartDecision::RestartAfter { delay, .. } => delay,
        other => panic!("expected a restart, got {other:?}"),
    }
}

#[test]
fn policies_parse_and_print_back() {
    for text in [
        "no",
        "always",
        "unless-stopped",
        "on-failure",
        "on-failure:3",
    ] {
        let p: RestartPolicy = text.parse().expect("valid policy");
        assert_eq!(p.to_string(), text);
    }
    assert_eq!(
        "on-failure:5".parse::<RestartPolicy>(),
        Ok(RestartPolicy::OnFailure {
            max_retries: Some(5)
        })
    );
    for bad in [
        "sometimes",
        "on-failure:",
        "on-failure:x",
        "on-failure:-1",
        "always:3",
    ] {
        let err = bad.parse::<RestartPolicy>().expect_err("invalid");
        assert!(err.to_string().contains(bad), "{err}");
    }
}

#[test]
fn no_policy_never_restarts() {
    let mut t = RestartTracker::new(RestartPolicy::No, false);
    t.started(ms(0));
    assert!(matches!(t.exited(1, ms(5)), RestartDecision::Stay { .. }));
    assert_eq!(t.last_exit_code(), Some(1));
    assert_eq!(t.restart_count(), 0);
    assert!(!t.start_on_engine_boot());
}

#[test]
fn quick_failures_double_the_delay_up_to_a_minute() {
    let mut t = RestartTracker::new(RestartPolicy::Always, false);
    let mut now = ms(0);
    let mut delays = Vec::new();
    for _ in 0..12 {
        t.started(now);
        now += ms(50);
        let delay = delay_of(t.exited(1, now));
        assert!(!t.due(now + delay - ms(1)));
        assert!(t.due(now + delay));
        delays.push(delay.as_millis());
        now += delay;
    }
    assert_eq!(
        delays,
        vec![100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]
    );
    assert_eq!(t.restart_count(), 12);
}

#[test]
fn ten_seconds_of_uptime_resets_the_delay() {
    let mut t = RestartTracker::new(RestartPolicy::Always, false);
    t.started(ms(0));
    assert_eq!(delay_of(t.exited(1, ms(10))), ms(100));
    t.started(ms(200));
    assert_eq!(delay_of(t.exited(1, ms(300))), ms(200));
    t.started(ms(1000));
    // 9.999 s is not enough.
    assert_eq!(delay_of(t.exited(1, ms(10_999))), ms(400));
    t.started(ms(20_000));
    assert_eq!(delay_of(t.exited(1, ms(30_000))), ms(100));
}

#[test]
fn on_failure_restarts_only_failures_and_gives_up_after_n() {
    let mut t = RestartTracker::new(
        RestartPolicy::OnFailure {
            max_retries: Some(2),
        },
        false,
    );
    t.started(ms(0));
    assert!(matches!(t.exited(0, ms(1)), RestartDecision::Stay { .. }));
    t.started(ms(2));
    assert!(matches!(
        t.exited(3, ms(3)),
        RestartDecision::RestartAfter { attempt: 1, .. }
    ));
    t.started(ms(200));
    assert!(matches!(
        t.exited(3, ms(201)),
        RestartDecision::RestartAfter { attempt: 2, .. }
    ));
    t.started(ms(600));
    match t.exited(7, ms(601)) {
        RestartDecision::GiveUp { reason } => assert!(reason.contains("exit 7"), "{reason}"),
        other => panic!("expected give up, got {other:?}"),
    }
    assert_eq!(t.restart_count(), 2);
    assert_eq!(t.last_exit_code(), Some(7));
    assert!(!t.start_on_engine_boot());
}

#[test]
fn on_failure_without_limit_keeps_trying() {
    let mut t = RestartTracker::new(RestartPolicy::OnFailure { max_retries: None }, false);
    for i in 0..20u64 {
        t.started(ms(i * 100_000));
        assert!(matches!(
            t.exited(1, ms(i * 100_000 + 1)),
            RestartDecision::RestartAfter { .. }
        ));
    }
}

#[test]
fn manual_stop_is_remembered_and_cancels_a_pending_restart() {
    let mut t = RestartTracker::new(RestartPolicy::Always, false);
    t.started(ms(0));
    let delay = delay_of(t.exited(1, ms(1)));
    t.stopped_by_user();
    assert!(!t.due(ms(1) + delay), "pending restart cancelled");
    assert!(t.manually_stopped());

    t.started_by_user(ms(1000));
    assert!(!t.manually_stopped());
    t.stopped_by_user();
    assert!(matches!(
        t.exited(143, ms(1500)),
        RestartDecision::Stay { .. }
    ));
}

#[test]
fn engine_start_brings_back_always_but_not_a_stopped_unless_stopped() {
    let mut always = RestartTracker::new(RestartPolicy::Always, false);
    always.stopped_by_user();
    assert!(always.start_on_engine_boot());
    assert!(!always.manually_stopped());

    let mut unless = RestartTracker::new(RestartPolicy::UnlessStopped, false);
    assert!(unless.start_on_engine_boot());
    unless.stopped_by_user();
    assert!(!unless.start_on_engine_boot());
}

#[test]
fn restore_keeps_counts_and_manual_stop() {
    let mut t = RestartTracker::restore(
        RestartPolicy::OnFailure {
            max_retries: Some(3),
        },
        false,
        3,
        Some(2),
        false,
    );
    t.started(ms(0));
    assert!(matches!(t.exited(1, ms(1)), RestartDecision::GiveUp { .. }));
    let stopped = RestartTracker::restore(RestartPolicy::UnlessStopped, false, 0, None, true);
    assert!(stopped.manually_stopped());
}

#[test]
fn unhealthy_is_ignored_unless_opted_in() {
    let mut t = RestartTracker::new(RestartPolicy::Always, false);
    t.started(ms(0));
    assert!(matches!(t.became_unhealthy(), RestartDecision::Stay { .. }));
}

#[test]
fn opted_in_unhealthy_container_is_killed_then_restarted_with_backoff() {
    // Even with restart: no, the opt-in restarts an unhealthy container.
    let mut t = RestartTracker::new(RestartPolicy::No, true);
    t.started(ms(0));
    assert_eq!(t.became_unhealthy(), RestartDecision::KillForRestart);
    assert_eq!(delay_of(t.exited(137, ms(30_010))), ms(100));
    assert_eq!(t.last_exit_code(), Some(137));
    t.started(ms(30_200));
    assert_eq!(t.became_unhealthy(), RestartDecision::KillForRestart);
    assert_eq!(delay_of(t.exited(137, ms(31_001))), ms(200));

    t.started(ms(40_000));
    t.stopped_by_user();
    assert!(matches!(t.became_unhealthy(), RestartDecision::Stay { .. }));
}

#[test]
fn unhealthy_when_not_running_changes_nothing() {
    let mut t = RestartTracker::new(RestartPolicy::Always, true);
    assert!(matches!(t.became_unhealthy(), RestartDecision::Stay { .. }));
}

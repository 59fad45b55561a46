use std::collections::{BTreeMap, VecDeque};

use stack_runtime::state::Status;

use super::*;
use crate::supervise::ManualClock;

fn dep(service: &str, condition: Condition) -> Dependency {
    Dependency {
        service: service.into(),
        condition,
        required: true,
    }
}

/// A replica in `status`; `Exited` ones here exited with `code`.
fn replica(state: Replica, health: Option<HealthStatus>) -> ReplicaObservation {
    let (status, exit_code) = match state {
        Replica::Created => (Status::Created, None),
        Replica::Running => (Status::Running, None),
        Replica::Exited { code } => (Status::Exited, Some(code)),
    };
    ReplicaObservation {
        status,
        exit_code,
        health,
    }
}

/// The cases the gate tells apart, for writing observations briefly.
enum Replica {
    Created,
    Running,
    Exited { code: i32 },
}

fn obs(has_healthcheck: bool, replicas: Vec<ReplicaObservation>) -> ServiceObservation {
    ServiceObservation {
        has_healthcheck,
        replicas,
    }
}

use HealthStatus::*;
use Replica::*;

#[test]
fn service_started_waits_for_every_replica_to_start() {
    let d = dep("db", Condition::Started);
    let one_created = obs(false, vec![replica(Running, None), replica(Created, None)]);
    assert!(matches!(
        evaluate_dependency(&d, Some(&one_created)),
        GateState::Waiting(_)
    ));
    let started = obs(
        false,
        vec![replica(Running, None), replica(Exited { code: 1 }, None)],
    );
    assert_eq!(
        evaluate_dependency(&d, Some(&started)),
        GateState::Satisfied
    );
}

#[test]
fn service_healthy_needs_all_replicas_healthy() {
    let d = dep("redis", Condition::Healthy);
    let starting = obs(
        true,
        vec![
            replica(Running, Some(Healthy)),
            replica(Running, Some(Starting)),
        ],
    );
    assert_eq!(
        evaluate_dependency(&d, Some(&starting)),
        GateState::Waiting("redis to be healthy".into())
    );
    let healthy = obs(true, vec![replica(Running, Some(Healthy)); 2]);
    assert_eq!(
        evaluate_dependency(&d, Some(&healthy)),
        GateState::Satisfied
    );
}

#[test]
fn service_healthy_fails_fast() {
    let d = dep("redis", Condition::Healthy);
    let cases = [
        (
            obs(false, vec![replica(Running, None)]),
            "has no healthcheck configured",
        ),
        (
            obs(true, vec![replica(Exited { code: 2 }, Some(Starting))]),
            "exited (code 2)",
        ),
        (
            obs(true, vec![replica(Running, Some(Unhealthy))]),
            "is unhealthy",
        ),
    ];
    for (o, text) in cases {
        match evaluate_dependency(&d, Some(&o)) {
            GateState::Failed(reason) => assert!(reason.contains(text), "{reason}"),
            other => panic!("expected failure {text:?}, got {other:?}"),
        }
    }
}

#[test]
fn completed_successfully_needs_exit_zero() {
    let d = dep("migrate", Condition::CompletedSuccessfully);
    let running = obs(false, vec![replica(Running, None)]);
    assert!(matches!(
        evaluate_dependency(&d, Some(&running)),
        GateState::Waiting(_)
    ));
    let ok = obs(false, vec![replica(Exited { code: 0 }, None)]);
    assert_eq!(evaluate_dependency(&d, Some(&ok)), GateState::Satisfied);
    let bad = obs(
        false,
        vec![
            replica(Exited { code: 0 }, None),
            replica(Exited { code: 3 }, None),
        ],
    );
    assert_eq!(
        evaluate_dependency(&d, Some(&bad)),
        GateState::Failed("service migrate didn't complete successfully: exit 3".into())
    );
}

#[test]
fn missing_dependency_fails_unless_optional() {
    let required = dep("cache", Condition::Started);
    assert!(matches!(
        evaluate_dependency(&required, None),
        GateState::Failed(_)
    ));
    let optional = Dependency {
        required: false,
        ..required
    };
    match evaluate_dependency(&optional, Some(&obs(false, vec![]))) {
        GateState::Skipped(w) => assert!(w.contains("cache") && w.contains("optional"), "{w}"),
        other => panic!("expected skip, got {other:?}"),
    }
    let failing = obs(true, vec![replica(Running, Some(Unhealthy))]);
    let optional_healthy = Dependency {
        condition: Condition::Healthy,
        ..optional
    };
    assert!(matches!(
        evaluate_dependency(&optional_healthy, Some(&failing)),
        GateState::Skipped(_)
    ));
}

/// Plays a timeline: each poll pops the next observation of each service
/// (the last one stays).
struct Timeline {
    frames: BTreeMap<String, VecDeque<ServiceObservation>>,
    polls: usize,
}

impl ServiceObserver for Timeline {
    fn observe(&mut self, service: &str) -> Option<ServiceObservation> {
        self.polls += 1;
        let q = self.frames.get_mut(service)?;
        if q.len() > 1 {
            q.pop_front()
        } else {
            q.front().cloned()
        }
    }
}

fn timeline(service: &str, frames: Vec<ServiceObservation>) -> Timeline {
    Timeline {
        frames: BTreeMap::from([(service.to_string(), frames.into())]),
        polls: 0,
    }
}

#[test]
fn waiting_polls_every_half_second_until_healthy() {
    let clock = ManualClock::new();
    let starting = obs(true, vec![replica(Running, Some(Starting))]);
    let healthy = obs(true, vec![replica(Running, Some(Healthy))]);
    let mut t = timeline(
        "redis",
        vec![starting.clone(), starting.clone(), starting, healthy],
    );
    let warnings = wait_for_dependencies(
        &[dep("redis", Condition::Healthy)],
        &mut t,
        &clock,
        DEPENDENCY_POLL,
        None,
    )
    .expect("becomes healthy");
    assert!(warnings.is_empty());
    assert_eq!(clock.now(), Duration::from_millis(1500));
}

#[test]
fn waiting_fails_as_soon_as_the_dependency_turns_unhealthy() {
    let clock = ManualClock::new();
    let starting = obs(true, vec![replica(Running, Some(Starting))]);
    let unhealthy = obs(true, vec![replica(Running, Some(Unhealthy))]);
    let mut t = timeline("redis", vec![starting, unhealthy]);
    let err = wait_for_dependencies(
        &[dep("redis", Condition::Healthy)],
        &mut t,
        &clock,
        DEPENDENCY_POLL,
        None,
    )
    .expect_err("fails");
    assert_eq!(
        err,
        GateError::Failed {
            dependency: "redis".into(),
            condition: Condition::Healthy,
            reason: "service redis is unhealthy".into(),
        }
    );
    assert_eq!(clock.now(), Duration::from_millis(500));
}

#[test]
fn waiting_times_out_naming_what_it_waited_for() {
    let clock = ManualClock::new();
    let mut t = timeline("job", vec![obs(false, vec![replica(Running, None)])]);
    let err = wait_for_dependencies(
        &[dep("job", Condition::CompletedSuccessfully)],
        &mut t,
        &clock,
        DEPENDENCY_POLL,
        Some(Duration::from_secs(3)),
    )
    .expect_err("times out");
    assert!(err.to_string().contains("job to complete"), "{err}");
    assert_eq!(clock.now(), Duration::from_secs(3));
    assert_eq!(t.polls, 7);
}

#[test]
fn optional_missing_dependency_is_a_warning() {
    let clock = ManualClock::new();
    let mut t = timeline("other", vec![]);
    let optional = Dependency {
        required: false,
        ..dep("cache", Condition::Healthy)
    };
    let warnings =
        wait_for_dependencies(&[optional], &mut t, &clock, DEPENDENCY_POLL, None).expect("skips");
    assert_eq!(warnings.len(), 1);
    assert_eq!(clock.now(), Duration::ZERO);
}

//! What a `depends_on` gate sees of a container, read from the `state.json`
//! its monitor keeps (the monitor is the one that knows: it sees the exit,
//! runs the probes and restarts). `up` polls these while it gates.

use stack_runtime::state::State;

use super::{ReplicaObservation, ServiceObservation};
use crate::containers::ContainerRecord;

/// The gate's view of one container's state (see
/// [`ReplicaObservation::exit`] for how exits are judged).
pub fn observe_state(state: &State) -> ReplicaObservation {
    ReplicaObservation {
        status: state.effective_status(),
        exit_code: state.exit_code,
        health: state.health.as_ref().map(|h| h.status),
    }
}

/// The gate's view of one container.
pub fn observe(record: &ContainerRecord) -> ReplicaObservation {
    observe_state(&record.state)
}

/// Whether a container runs a healthcheck (one whose test is not `NONE`).
pub fn has_healthcheck(record: &ContainerRecord) -> bool {
    record
        .spec
        .healthcheck
        .as_ref()
        .is_some_and(|h| stack_runtime::monitor::supervisor::healthcheck_of(h).is_some())
}

/// The gate's view of a service from its containers; one-off `run`
/// containers do not count.
pub fn observe_service<'a>(
    records: impl IntoIterator<Item = &'a ContainerRecord>,
) -> ServiceObservation {
    let replicas: Vec<&ContainerRecord> = records
        .into_iter()
        .filter(|r| !crate::labels::membership(&r.spec.labels).is_some_and(|m| m.oneoff))
        .collect();
    ServiceObservation {
        has_healthcheck: !replicas.is_empty() && replicas.iter().all(|r| has_healthcheck(r)),
        replicas: replicas.into_iter().map(observe).collect(),
    }
}

#[cfg(test)]
mod tests {
    use stack_runtime::state::{Health, Status};

    use super::*;
    use crate::store::HealthStatus;

    fn with_status(status: Status) -> State {
        let mut s = State::created();
        s.status = status;
        // The test process stands in for a live monitor and container.
        let me = std::process::id() as i32;
        s.pid = Some(me);
        s.pid_start = stack_runtime::state::start_time(me);
        s.monitor_pid = Some(me);
        s.monitor_start = s.pid_start;
        s
    }

    fn health(status: HealthStatus) -> Option<Health> {
        Some(Health {
            status,
            failing_streak: 0,
            log: Vec::new(),
        })
    }

    #[test]
    fn created_running_and_exited_map_directly() {
        let obs = observe_state(&State::created());
        assert_eq!(obs.status, Status::Created);
        assert_eq!(obs.health, None);

        let mut running = with_status(Status::Running);
        running.health = health(HealthStatus::Healthy);
        let obs = observe_state(&running);
        assert_eq!(obs.status, Status::Running);
        assert_eq!(obs.health, Some(HealthStatus::Healthy));

        let mut done = with_status(Status::Exited);
        done.exit_code = Some(0);
        assert_eq!(observe_state(&done).exit(), Some(0));
    }

    #[test]
    fn restarting_is_the_exit_it_restarts_from() {
        let mut s = with_status(Status::Restarting);
        s.exit_code = Some(1);
        assert_eq!(observe_state(&s).exit(), Some(1));
    }

    #[test]
    fn a_lost_exit_code_counts_as_failure() {
        // Running on record, but neither monitor nor process is alive.
        let mut s = State::created();
        s.status = Status::Running;
        s.pid = Some(i32::MAX);
        s.pid_start = Some(1);
        assert_eq!(observe_state(&s).exit(), Some(-1));
        // A restart that will never come (monitor gone) is an exit too.
        let mut r = State::created();
        r.status = Status::Restarting;
        r.exit_code = Some(2);
        assert_eq!(observe_state(&r).exit(), Some(2));
    }

    #[test]
    fn gate_on_observed_states() {
        use crate::supervise::{evaluate_dependency, Condition, Dependency, GateState};
        let dep = Dependency {
            service: "db".into(),
            condition: Condition::Healthy,
            required: true,
        };
        let mut s = with_status(Status::Running);
        s.health = health(HealthStatus::Starting);
        let obs = |s: &State| ServiceObservation {
            has_healthcheck: true,
            replicas: vec![observe_state(s)],
        };
        assert!(matches!(
            evaluate_dependency(&dep, Some(&obs(&s))),
            GateState::Waiting(_)
        ));
        s.health = health(HealthStatus::Healthy);
        assert_eq!(
            evaluate_dependency(&dep, Some(&obs(&s))),
            GateState::Satisfied
        );
        s.health = health(HealthStatus::Unhealthy);
        assert!(matches!(
            evaluate_dependency(&dep, Some(&obs(&s))),
            GateState::Failed(_)
        ));
    }
}

//! Carrying supervision state to and from the store, so an engine restart
//! resumes with the same restart counts, exit codes, manual stops and health
//! history.

use std::time::Duration;

use super::{
    ProbeReport, ReplicaObservation, ReplicaState, RestartPolicy, RestartTracker,
    ServiceObservation,
};
use crate::store::{ContainerRecord, ContainerState, HealthProbeRecord};

impl ServiceObservation {
    /// What a `depends_on` gate sees of a service, from its stored replica
    /// containers (one-off `run` containers do not count).
    pub fn from_records<'a>(
        records: impl IntoIterator<Item = &'a ContainerRecord>,
        has_healthcheck: bool,
    ) -> Self {
        let replicas = records
            .into_iter()
            .filter(|r| !r.oneoff)
            .map(|r| ReplicaObservation {
                state: match r.state {
                    ContainerState::Created => ReplicaState::Created,
                    ContainerState::Running
                    | ContainerState::Paused
                    | ContainerState::Restarting => ReplicaState::Running,
                    // A container that died without a recorded code (the
                    // engine was down) counts as failed.
                    ContainerState::Exited | ContainerState::Dead => ReplicaState::Exited {
                        code: r.exit_code.unwrap_or(-1),
                    },
                },
                health: r.health,
            })
            .collect();
        ServiceObservation {
            has_healthcheck,
            replicas,
        }
    }
}

/// Rebuilds the restart tracker of a stored container.
pub fn tracker_from_record(
    record: &ContainerRecord,
    policy: RestartPolicy,
    restart_on_unhealthy: bool,
) -> RestartTracker {
    RestartTracker::restore(
        policy,
        restart_on_unhealthy,
        record.restart_count,
        record.exit_code,
        record.manual_stop,
    )
}

/// Copies the restart count, last exit code and manual stop into a
/// container row (written by the caller in its transaction).
pub fn write_tracker_to(tracker: &RestartTracker, record: &mut ContainerRecord) {
    record.restart_count = tracker.restart_count();
    record.exit_code = tracker.last_exit_code();
    record.manual_stop = tracker.manually_stopped();
}

/// The stored form of a probe. Probe times are readings of the
/// supervisor's monotonic clock; `clock_origin_unix_ms` is the wall time
/// at which that clock read zero.
pub fn probe_record(report: &ProbeReport, clock_origin_unix_ms: i64) -> HealthProbeRecord {
    let at = |d: Duration| clock_origin_unix_ms + d.as_millis() as i64;
    HealthProbeRecord {
        started_ms: at(report.started),
        ended_ms: at(report.ended),
        exit_code: report.exit_code,
        outcome: report.outcome,
        output: report.output.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ContainerState, HealthStatus, ProbeOutcome, ProjectRecord, Store};

    fn record() -> ContainerRecord {
        ContainerRecord {
            id: "c1".into(),
            project: "demo".into(),
            service: "web".into(),
            replica: 1,
            name: "demo-web-1".into(),
            oneoff: false,
            config_hash: "h".into(),
            config_fields: Default::default(),
            image_ref: "busybox".into(),
            image_digest: None,
            state: ContainerState::Running,
            health: None,
            pid: Some(10),
            exit_code: None,
            restart_count: 0,
            manual_stop: false,
            created_at_ms: 0,
            started_at_ms: Some(0),
            finished_at_ms: None,
            depends_on: vec![],
        }
    }

    #[test]
    fn restart_state_survives_a_round_trip_through_the_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let policy = RestartPolicy::OnFailure {
            max_retries: Some(2),
        };
        let mut rec = record();
        let mut tracker = RestartTracker::new(policy, false);
        tracker.started(Duration::ZERO);
        tracker.exited(1, Duration::from_millis(5));
        tracker.started(Duration::from_millis(200));
        tracker.exited(1, Duration::from_millis(205));
        write_tracker_to(&tracker, &mut rec);
        store
            .write(|w| {
                w.upsert_project(&ProjectRecord {
                    name: "demo".into(),
                    working_dir: None,
                    config_files: vec![],
                    created_at_ms: 0,
                    updated_at_ms: 0,
                })?;
                w.insert_container(&rec)
            })
            .expect("store");
        let stored = store
            .read(|r| r.container("c1"))
            .expect("read")
            .expect("row");
        assert_eq!((stored.restart_count, stored.exit_code), (2, Some(1)));
        let mut resumed = tracker_from_record(&stored, policy, false);
        resumed.started(Duration::from_secs(1));
        assert!(matches!(
            resumed.exited(1, Duration::from_secs(2)),
            crate::supervise::RestartDecision::GiveUp { .. }
        ));
    }

    #[test]
    fn gate_observation_from_stored_replicas() {
        use crate::supervise::{evaluate_dependency, Condition, Dependency, GateState};
        let mut healthy = record();
        healthy.health = Some(HealthStatus::Healthy);
        let mut exited = record();
        exited.state = ContainerState::Exited;
        exited.exit_code = Some(0);
        let mut oneoff = record();
        oneoff.oneoff = true;
        oneoff.state = ContainerState::Exited;
        oneoff.exit_code = Some(9);

        let obs = ServiceObservation::from_records([&healthy, &oneoff], true);
        assert_eq!(obs.replicas.len(), 1);
        let dep = |condition| Dependency {
            service: "web".into(),
            condition,
            required: true,
        };
        assert_eq!(
            evaluate_dependency(&dep(Condition::Healthy), Some(&obs)),
            GateState::Satisfied
        );
        let done = ServiceObservation::from_records([&exited], false);
        assert_eq!(
            evaluate_dependency(&dep(Condition::CompletedSuccessfully), Some(&done)),
            GateState::Satisfied
        );
        let mut lost = exited.clone();
        lost.exit_code = None;
        let lost = ServiceObservation::from_records([&lost], false);
        assert!(matches!(
            evaluate_dependency(&dep(Condition::CompletedSuccessfully), Some(&lost)),
            GateState::Failed(_)
        ));
    }

    #[test]
    fn probe_times_become_wall_times() {
        let report = ProbeReport {
            started: Duration::from_millis(1500),
            ended: Duration::from_millis(1520),
            exit_code: Some(0),
            outcome: ProbeOutcome::Passed,
            output: "PONG".into(),
            transition: Some(HealthStatus::Healthy),
        };
        let stored = probe_record(&report, 1_000_000);
        assert_eq!((stored.started_ms, stored.ended_ms), (1_001_500, 1_001_520));
        assert_eq!(stored.output, "PONG");
    }
}

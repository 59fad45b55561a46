//! What the daemon does once when it starts, after re-adoption: it starts
//! again the containers whose end no monitor recorded, when their restart
//! policy says they should run, project by project in dependency order.
//!
//! While a container's monitor lives, the monitor applies the restart
//! policy and the daemon adds nothing. Its end is recorded in `state.json`
//! with the exit code, and a container that ended that way stays as the
//! monitor left it. A record that still says `running` (or `restarting`)
//! while neither the container nor its monitor is alive means the host
//! went down (or the monitor was killed): nobody applied the policy. That
//! is the case Compose users ask about (docker/compose#10859): after a
//! reboot, Docker starts such containers in any order, and a service
//! comes up before the database it depends on. Here each container waits
//! for its `depends_on` conditions (read from its labels, as `up` wrote
//! them) before it starts. A manual stop is recorded by the runtime, so a
//! stopped container is never in this set, whatever its policy.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::apply::{HostObserver, DEPENDS_ON_LABEL};
use crate::containers::{ContainerRecord, Containers};
use crate::labels;
use crate::supervise::{
    wait_for_dependencies, Condition, Dependency, SystemClock, DEPENDENCY_POLL,
};
use stack_runtime::launch::Attach;
use stack_runtime::spec::RestartPolicy;
use stack_runtime::state::{State, Status};

/// How long a container waits for its dependencies before it is started
/// anyway: its policy says it must run, and a dependency that never gets
/// healthy must not keep it down forever.
pub const DEPENDENCY_WAIT: Duration = Duration::from_secs(120);

/// Whether a container ended without its monitor recording it, and its
/// restart policy wants it running.
pub fn needs_revival(state: &State, policy: &RestartPolicy) -> bool {
    let end_unrecorded =
        matches!(state.status, Status::Running | Status::Restarting) && !state.is_active();
    end_unrecorded && !state.manual_stop && !matches!(policy, RestartPolicy::No)
}

/// Who a container is for ordering: its project and service, when it
/// belongs to one.
fn slot(record: &ContainerRecord) -> Option<(String, String)> {
    let m = labels::membership(&record.spec.labels)?;
    Some((m.project.to_string(), m.service.to_string()))
}

/// The `depends_on` entries `up` wrote in the container's labels
/// (`service:condition:restart`, comma separated).
pub fn dependencies(record: &ContainerRecord) -> Vec<Dependency> {
    let Some(value) = record.spec.labels.get(DEPENDS_ON_LABEL) else {
        return Vec::new();
    };
    value
        .split(',')
        .filter_map(|entry| {
            let mut parts = entry.split(':');
            let service = parts.next().filter(|s| !s.is_empty())?;
            let condition = match parts.next() {
                Some("service_healthy") => Condition::Healthy,
                Some("service_completed_successfully") => Condition::CompletedSuccessfully,
                _ => Condition::Started,
            };
            Some(Dependency {
                service: service.to_string(),
                condition,
                required: true,
            })
        })
        .collect()
}

/// Orders the containers to start in waves: a container comes after the
/// containers of the services it depends on within its project. A cycle
/// (which `up` refuses, so only a hand-edited label makes one) ends in one
/// last wave rather than in nothing started.
pub fn waves<'a>(records: &[&'a ContainerRecord]) -> Vec<Vec<&'a ContainerRecord>> {
    // Each container is a node: a container is ordered after every chosen
    // container of the services it depends on in its project.
    let mut by_slot: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        if let Some(s) = slot(r) {
            by_slot.entry(s).or_default().push(i);
        }
    }
    let prereqs: BTreeMap<usize, Vec<usize>> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let before = slot(r)
                .map(|(project, _)| {
                    dependencies(r)
                        .into_iter()
                        .filter_map(|d| by_slot.get(&(project.clone(), d.service)))
                        .flatten()
                        .copied()
                        .collect()
                })
                .unwrap_or_default();
            (i, before)
        })
        .collect();
    crate::plan::levels(&prereqs)
        .with_unordered_last()
        .into_iter()
        .fold(Vec::new(), |mut waves: Vec<Vec<_>>, (i, level)| {
            if waves.len() <= level {
                waves.resize_with(level + 1, Vec::new);
            }
            waves[level].push(records[i]);
            waves
        })
}

/// Starts what needs it, wave by wave; each container first waits (at
/// most [`DEPENDENCY_WAIT`]) for its dependencies. Returns the names of
/// the containers it started.
pub fn revive(containers: &Containers) -> Vec<String> {
    let all = containers.list();
    let chosen: Vec<&ContainerRecord> = all
        .iter()
        .filter(|r| needs_revival(&r.state, &r.spec.restart.policy))
        .collect();
    if chosen.is_empty() {
        return Vec::new();
    }
    tracing::info!(
        containers = chosen.len(),
        "starting the containers whose end no monitor recorded, as their restart policies say"
    );
    let mut started = Vec::new();
    for wave in waves(&chosen) {
        let results: Vec<(String, bool)> = std::thread::scope(|scope| {
            let handles: Vec<_> = wave
                .iter()
                .map(|record| scope.spawn(move || revive_one(containers, record)))
                .collect();
            wave.iter()
                .zip(handles)
                .map(|(r, h)| (r.spec.name.clone(), h.join().unwrap_or(false)))
                .collect()
        });
        started.extend(results.into_iter().filter(|(_, ok)| *ok).map(|(n, _)| n));
    }
    started
}

fn revive_one(containers: &Containers, record: &ContainerRecord) -> bool {
    let name = &record.spec.name;
    if let Some((project, _)) = slot(record) {
        let deps = dependencies(record);
        if !deps.is_empty() {
            let mut observer = HostObserver {
                containers,
                project: &project,
            };
            let clock = SystemClock::new();
            if let Err(err) = wait_for_dependencies(
                &deps,
                &mut observer,
                &clock,
                DEPENDENCY_POLL,
                Some(DEPENDENCY_WAIT),
            ) {
                tracing::warn!(container = %name, %err, "starting it anyway: its restart policy wants it running");
            }
        }
    }
    // The record read before the wait may be stale: someone may have
    // started or removed it meanwhile.
    match State::load(&record.dir) {
        Ok(state) if needs_revival(&state, &record.spec.restart.policy) => {}
        _ => return false,
    }
    match containers.start(record, Attach::Detached) {
        Ok(_) => {
            tracing::info!(container = %name, policy = ?record.spec.restart.policy, "started again: it ended while no monitor was watching");
            true
        }
        Err(err) => {
            tracing::warn!(container = %name, %err, "could not start it again");
            false
        }
    }
}

/// Names by wave, for logs and tests.
pub fn wave_names(waves: &[Vec<&ContainerRecord>]) -> Vec<BTreeSet<String>> {
    waves
        .iter()
        .map(|w| w.iter().map(|r| r.spec.name.clone()).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use stack_runtime::spec::{ContainerDir, ContainerSpec};

    fn record(name: &str, service: &str, depends_on: &str) -> ContainerRecord {
        let spec: ContainerSpec = serde_json::from_value(serde_json::json!({
            "id": format!("{name:0>64}"),
            "name": name,
            "lower_dirs": [],
            "process": {"args": ["sleep", "1"], "env": [], "cwd": "/"},
            "hostname": name,
            "cgroup_path": format!("stack/{name}"),
            "labels": {
                "com.docker.compose.project": "demo",
                "com.docker.compose.service": service,
                "com.docker.compose.container-number": "1",
                DEPENDS_ON_LABEL: depends_on,
            },
        }))
        .expect("spec");
        ContainerRecord {
            dir: ContainerDir::new(format!("/nonexistent/{name}")),
            spec,
            state: State::created(),
        }
    }

    fn names(sets: &[&[&str]]) -> Vec<BTreeSet<String>> {
        sets.iter()
            .map(|s| s.iter().map(|n| n.to_string()).collect())
            .collect()
    }

    #[test]
    fn only_an_unrecorded_end_with_a_policy_is_revived() {
        let mut state = State::created();
        state.status = Status::Running;
        // No container or monitor process alive: the host went down.
        state.pid = Some(i32::MAX);
        assert!(needs_revival(&state, &RestartPolicy::Always));
        assert!(needs_revival(&state, &RestartPolicy::UnlessStopped));
        assert!(needs_revival(
            &state,
            &RestartPolicy::OnFailure { max_retries: None }
        ));
        assert!(!needs_revival(&state, &RestartPolicy::No));
        state.manual_stop = true;
        assert!(!needs_revival(&state, &RestartPolicy::Always));
        // An exit the monitor recorded stays as the monitor left it.
        state.manual_stop = false;
        state.status = Status::Exited;
        state.exit_code = Some(1);
        assert!(!needs_revival(&state, &RestartPolicy::Always));
        state.status = Status::Created;
        assert!(!needs_revival(&state, &RestartPolicy::Always));
    }

    #[test]
    fn dependencies_come_from_the_label_up_wrote() {
        let r = record(
            "web",
            "web",
            "db:service_healthy:false,init:service_completed_successfully:true,cache:service_started:false",
        );
        let deps = dependencies(&r);
        let got: Vec<(&str, Condition)> = deps
            .iter()
            .map(|d| (d.service.as_str(), d.condition))
            .collect();
        assert_eq!(
            got,
            [
                ("db", Condition::Healthy),
                ("init", Condition::CompletedSuccessfully),
                ("cache", Condition::Started)
            ]
        );
        assert!(dependencies(&record("x", "x", "")).is_empty());
    }

    #[test]
    fn waves_follow_depends_on_within_the_project() {
        let db = record("db", "db", "");
        let cache = record("cache", "cache", "");
        let api = record(
            "api",
            "api",
            "db:service_healthy:false,cache:service_started:false",
        );
        let web = record("web", "web", "api:service_started:false");
        // A dependency that is not being started does not hold anyone back.
        let worker = record("worker", "worker", "queue:service_started:false");
        let chosen = [&web, &api, &worker, &db, &cache];
        assert_eq!(
            wave_names(&waves(&chosen)),
            names(&[&["worker", "db", "cache"], &["api"], &["web"]])
        );
    }

    #[test]
    fn a_cycle_still_starts_everything() {
        let a = record("a", "a", "b:service_started:false");
        let b = record("b", "b", "a:service_started:false");
        let c = record("c", "c", "");
        assert_eq!(
            wave_names(&waves(&[&a, &b, &c])),
            names(&[&["c"], &["a", "b"]])
        );
    }
}

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::*;
use crate::error_class::ErrorClass;
use crate::plan::{Action, ActionKind, Plan, Reason};
use crate::supervise::{Condition, GateError};

/// Records calls, fails the ones named, and tracks how many run at once.
#[derive(Default)]
struct FakeSteps {
    calls: Mutex<Vec<String>>,
    fail: Vec<String>,
    gate_fails: Vec<String>,
    running: AtomicUsize,
    max_running: AtomicUsize,
}

impl FakeSteps {
    fn call(&self, what: String) -> Result<(), StepErrorKind> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(5));
        self.running.fetch_sub(1, Ordering::SeqCst);
        self.calls.lock().expect("calls").push(what.clone());
        if self.fail.contains(&what) {
            Err(StepErrorKind::Gone {
                what: format!("{what} broke and"),
            })
        } else {
            Ok(())
        }
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("calls").clone()
    }
}

impl Steps for FakeSteps {
    fn pull(&self, r: &str) -> Result<(), StepErrorKind> {
        self.call(format!("pull {r}"))
    }
    fn build(&self, s: &str) -> Result<(), StepErrorKind> {
        self.call(format!("build {s}"))
    }
    fn create_network(&self, _k: &str, n: &str) -> Result<(), StepErrorKind> {
        self.call(format!("net+ {n}"))
    }
    fn remove_network(&self, n: &str) -> Result<(), StepErrorKind> {
        self.call(format!("net- {n}"))
    }
    fn create_volume(&self, _k: &str, n: &str) -> Result<(), StepErrorKind> {
        self.call(format!("vol+ {n}"))
    }
    fn remove_volume(&self, n: &str) -> Result<(), StepErrorKind> {
        self.call(format!("vol- {n}"))
    }
    fn gate(&self, s: &str) -> Result<Vec<String>, StepErrorKind> {
        if self.gate_fails.iter().any(|g| g == s) {
            return Err(StepErrorKind::Dependency {
                service: s.to_string(),
                source: GateError::Failed {
                    dependency: "db".into(),
                    condition: Condition::Healthy,
                    reason: "service db is unhealthy".into(),
                },
            });
        }
        Ok(vec![format!("gated {s}")])
    }
    fn create_container(&self, _s: &str, _r: u32, n: &str) -> Result<(), StepErrorKind> {
        self.call(format!("ctr+ {n}"))
    }
    fn start_container(&self, id: &str) -> Result<(), StepErrorKind> {
        self.call(format!("start {id}"))
    }
    fn restart_container(&self, id: &str) -> Result<(), StepErrorKind> {
        self.call(format!("restart {id}"))
    }
    fn remove_container(&self, id: &str) -> Result<(), StepErrorKind> {
        self.call(format!("ctr- {id}"))
    }
}

fn create(service: &str, replica: u32, wave: usize) -> Action {
    Action {
        kind: ActionKind::CreateContainer {
            service: service.into(),
            replica,
            name: format!("p-{service}-{replica}"),
        },
        reason: Reason::New,
        wave,
    }
}

fn plan(actions: Vec<Action>) -> Plan {
    Plan {
        project: "p".into(),
        actions,
        unchanged: Vec::new(),
        warnings: Vec::new(),
    }
}

#[test]
fn waves_run_in_order_and_each_wave_finishes_before_the_next() {
    let steps = FakeSteps::default();
    let p = plan(vec![
        Action {
            kind: ActionKind::CreateNetwork {
                key: "default".into(),
                name: "p_default".into(),
            },
            reason: Reason::New,
            wave: 0,
        },
        create("db", 1, 1),
        create("db", 2, 1),
        create("web", 1, 2),
    ]);
    let report = run_plan(&p, &steps, 8, &|_, _| {});
    assert!(report.ok(), "{report:?}");
    let calls = steps.calls();
    assert_eq!(calls[0], "net+ p_default");
    assert_eq!(calls[3], "ctr+ p-web-1", "{calls:?}");
    assert!(calls[1..3].contains(&"ctr+ p-db-1".to_string()));
    assert_eq!(report.warnings, vec!["gated db", "gated web"]);
}

#[test]
fn parallelism_is_bounded() {
    let steps = FakeSteps::default();
    let p = plan((1..=12).map(|r| create("web", r, 0)).collect());
    let report = run_plan(&p, &steps, 3, &|_, _| {});
    assert!(report.ok());
    assert_eq!(steps.calls().len(), 12);
    let max = steps.max_running.load(Ordering::SeqCst);
    assert!(max <= 3, "{max} ran at once");
    assert!(max >= 2, "work should overlap, max {max}");
}

#[test]
fn a_failed_wave_stops_the_plan_and_names_the_action() {
    let steps = FakeSteps {
        fail: vec!["ctr+ p-db-1".into()],
        ..Default::default()
    };
    let p = plan(vec![
        create("db", 1, 0),
        create("cache", 1, 0),
        create("web", 1, 1),
    ]);
    let seen = Mutex::new(Vec::new());
    let report = run_plan(&p, &steps, 1, &|a, o| {
        seen.lock()
            .expect("seen")
            .push((a.object(), matches!(o, Outcome::Failed(_))))
    });
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].action, "create db-1");
    assert_eq!(
        report.failures[0].to_string(),
        "create db-1: ctr+ p-db-1 broke and is gone"
    );
    assert_eq!(report.skipped, 1);
    assert!(!steps.calls().contains(&"ctr+ p-web-1".to_string()));
    // The rest of the failing wave still ran.
    assert!(steps.calls().contains(&"ctr+ p-cache-1".to_string()));
    assert_eq!(seen.lock().expect("seen").len(), 2);
}

#[test]
fn a_failed_gate_creates_nothing() {
    let steps = FakeSteps {
        gate_fails: vec!["web".into()],
        ..Default::default()
    };
    let report = run_plan(&plan(vec![create("web", 1, 0)]), &steps, 4, &|_, _| {});
    assert!(!report.ok());
    assert!(steps.calls().is_empty());
    assert_eq!(
        report.failures[0].to_string(),
        "create web-1: service web: dependency failed to start: service db is unhealthy"
    );
    assert_eq!(report.failures[0].class(), ErrorClass::Conflict);
}

#[test]
fn recreate_removes_the_old_container_before_creating_the_new() {
    let steps = FakeSteps::default();
    let p = plan(vec![Action {
        kind: ActionKind::RecreateContainer {
            service: "web".into(),
            replica: 2,
            name: "p-web-2".into(),
            old_id: Some("old".into()),
        },
        reason: Reason::ForceRecreate,
        wave: 0,
    }]);
    assert!(run_plan(&p, &steps, 4, &|_, _| {}).ok());
    assert_eq!(steps.calls(), vec!["ctr- old", "ctr+ p-web-2"]);
}

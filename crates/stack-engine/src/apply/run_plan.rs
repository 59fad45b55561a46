//! Carrying out a [`Plan`]: wave after wave, the actions of one wave on at
//! most `parallel` plain threads (the steps are blocking calls; no async
//! runtime around them). A wave with a failed action is the last one run:
//! what depends on it never starts, and the errors name each action.
//!
//! The steps themselves sit behind [`Steps`], so the ordering, the bound
//! and the stop-on-failure rules are tested with a fake.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::step_error::{StepError, StepErrorKind};
use crate::plan::{Action, ActionKind, Plan};

/// The host operations a plan needs. Each call is blocking and must be
/// safe to run from several threads at once.
pub trait Steps: Sync {
    fn pull(&self, reference: &str) -> Result<(), StepErrorKind>;
    /// Builds the image of `service` (it has `build:`).
    fn build(&self, service: &str) -> Result<(), StepErrorKind>;
    fn create_network(&self, key: &str, name: &str) -> Result<(), StepErrorKind>;
    fn remove_network(&self, name: &str) -> Result<(), StepErrorKind>;
    fn create_volume(&self, key: &str, name: &str) -> Result<(), StepErrorKind>;
    fn remove_volume(&self, name: &str) -> Result<(), StepErrorKind>;
    /// Waits for `service`'s `depends_on` conditions; returns warnings
    /// (optional dependencies that failed).
    fn gate(&self, service: &str) -> Result<Vec<String>, StepErrorKind>;
    /// Creates and starts replica `replica` of `service` as `name`.
    fn create_container(
        &self,
        service: &str,
        replica: u32,
        name: &str,
    ) -> Result<(), StepErrorKind>;
    fn start_container(&self, id: &str) -> Result<(), StepErrorKind>;
    fn restart_container(&self, id: &str) -> Result<(), StepErrorKind>;
    /// Stops (within its grace period) and removes a container.
    fn remove_container(&self, id: &str) -> Result<(), StepErrorKind>;
}

/// What happened to one action.
#[derive(Debug)]
pub enum Outcome {
    Done,
    Failed(StepError),
}

/// The result of running a plan.
#[derive(Debug, Default)]
pub struct Report {
    /// Each failed action, with why.
    pub failures: Vec<StepError>,
    pub warnings: Vec<String>,
    /// Actions not run because an earlier wave failed.
    pub skipped: usize,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs `plan` on `steps`, `parallel` actions at a time (at least one).
/// `progress` hears about each action as it finishes.
pub fn run_plan(
    plan: &Plan,
    steps: &dyn Steps,
    parallel: usize,
    progress: &(dyn Fn(&Action, &Outcome) + Sync),
) -> Report {
    let mut report = Report::default();
    let waves = plan.waves();
    for (index, wave) in waves.iter().enumerate() {
        let (failures, warnings) = run_wave(wave, steps, parallel.max(1), progress);
        report.warnings.extend(warnings);
        if !failures.is_empty() {
            report.failures = failures;
            report.skipped = waves[index + 1..].iter().map(Vec::len).sum();
            break;
        }
    }
    report
}

type WaveResult = (Vec<StepError>, Vec<String>);

fn run_wave(
    wave: &[&Action],
    steps: &dyn Steps,
    parallel: usize,
    progress: &(dyn Fn(&Action, &Outcome) + Sync),
) -> WaveResult {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let warnings = Mutex::new(Vec::new());
    let worker = || loop {
        let i = next.fetch_add(1, Ordering::SeqCst);
        let Some(action) = wave.get(i) else { return };
        let outcome = match run_action(action, steps) {
            Ok(mut w) => {
                lock(&warnings).append(&mut w);
                Outcome::Done
            }
            Err(kind) => Outcome::Failed(StepError {
                action: action.to_string(),
                kind,
            }),
        };
        progress(action, &outcome);
        // The report keeps the error once the progress has seen it.
        if let Outcome::Failed(err) = outcome {
            lock(&failures).push(err);
        }
    };
    let threads = parallel.min(wave.len());
    if threads <= 1 {
        worker();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(worker);
            }
        });
    }
    let mut warnings = warnings.into_inner().unwrap_or_else(|p| p.into_inner());
    warnings.sort();
    warnings.dedup();
    let failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    (failures, warnings)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn run_action(action: &Action, steps: &dyn Steps) -> Result<Vec<String>, StepErrorKind> {
    match &action.kind {
        ActionKind::PullImage { reference } => steps.pull(reference).map(|()| Vec::new()),
        ActionKind::BuildImage { service, .. } => steps.build(service).map(|()| Vec::new()),
        ActionKind::CreateNetwork { key, name } => {
            steps.create_network(key, name).map(|()| Vec::new())
        }
        ActionKind::RecreateNetwork { key, name } => {
            steps.remove_network(name)?;
            steps.create_network(key, name).map(|()| Vec::new())
        }
        ActionKind::CreateVolume { key, name } => {
            steps.create_volume(key, name).map(|()| Vec::new())
        }
        ActionKind::RemoveNetwork { name } => steps.remove_network(name).map(|()| Vec::new()),
        ActionKind::RemoveVolume { name } => steps.remove_volume(name).map(|()| Vec::new()),
        ActionKind::CreateContainer {
            service,
            replica,
            name,
        } => {
            let warnings = steps.gate(service)?;
            steps.create_container(service, *replica, name)?;
            Ok(warnings)
        }
        ActionKind::RecreateContainer {
            service,
            replica,
            name,
            old_id,
        } => {
            let warnings = steps.gate(service)?;
            if let Some(old) = old_id {
                steps.remove_container(old)?;
            }
            steps.create_container(service, *replica, name)?;
            Ok(warnings)
        }
        ActionKind::StartContainer { service, id, .. } => {
            let warnings = steps.gate(service)?;
            steps.start_container(id)?;
            Ok(warnings)
        }
        ActionKind::RestartContainer { service, id, .. } => {
            let warnings = steps.gate(service)?;
            steps.restart_container(id)?;
            Ok(warnings)
        }
        ActionKind::RemoveContainer { id, .. } => steps.remove_container(id).map(|()| Vec::new()),
    }
}

#[cfg(test)]
#[path = "run_plan_tests.rs"]
mod tests;

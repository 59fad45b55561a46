//! The loop: watch, coalesce, apply, report, until asked to stop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use stack_spec::{LoadOptions, Project};

use super::actions::{self, SyncTally};
use super::coalesce::{Batch, Coalescer, Timing};
use super::error::WatchError;
use super::report::{BatchReport, WatchEvent};
use super::rules::{self, Rule, RuleAction};
use super::stackfile::{self, StackApplier};
use super::sync::ContainerRoot;
use super::watcher::{classify, is_watch_limit, FileWatcher, Signal};
use crate::containers::Containers;

/// How often the stop flag is looked at while nothing happens.
const POLL: Duration = Duration::from_millis(100);

/// How `stack watch` was asked to run.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Services whose rules are watched; all when empty.
    pub services: Vec<String>,
    pub timing: Timing,
    /// Apply the project once before watching (`stack watch` without
    /// `--no-up`, and `stack up --watch`).
    pub up: bool,
}

/// Runs the dev loop until `stop` is set. Errors are the ones that make
/// watching impossible (bad rules at start, no inotify, the watch limit
/// at start); everything after start is reported through `out` and the
/// loop goes on.
pub fn run(
    load: &LoadOptions,
    containers: &Containers,
    applier: &dyn StackApplier,
    opts: &WatchOptions,
    stop: &AtomicBool,
    out: &mut dyn FnMut(WatchEvent),
) -> Result<(), WatchError> {
    let project = stackfile::reload(load).map_err(|d| WatchError::Load(d.render_plain()))?;
    let rules = rules::compile(&project, &opts.services)?;
    if opts.up {
        applier.apply(&project).map_err(WatchError::Apply)?;
    }
    let mut session = Session::new(load, project, rules)?;
    for rule in session.rules.iter().filter(|r| !r.path.exists()) {
        out(WatchEvent::Warning(format!(
            "service {}: develop.watch path {} does not exist; it is picked up when it is created",
            rule.service,
            rule.path.display()
        )));
    }
    out(session.watching_event());
    session.initial_sync(containers, out);
    let mut coalescer = Coalescer::new(opts.timing);
    while !stop.load(Ordering::Relaxed) {
        let wait = coalescer
            .deadline()
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or(POLL)
            .min(POLL);
        if let Some(msg) = session.watcher.next(wait)? {
            session.take(msg, &mut coalescer, out);
            while let Some(msg) = session.watcher.try_next() {
                session.take(msg, &mut coalescer, out);
            }
        }
        if let Some(batch) = coalescer.take_due(Instant::now()) {
            session.apply(batch, load, containers, applier, opts, out);
        }
    }
    Ok(())
}

struct Session {
    project: Project,
    rules: Vec<Rule>,
    /// Files that make the project (stack files, .env, env_files).
    inputs: BTreeSet<PathBuf>,
    watcher: FileWatcher,
}

impl Session {
    fn new(load: &LoadOptions, project: Project, rules: Vec<Rule>) -> Result<Session, WatchError> {
        let inputs = stackfile::inputs(&project, load);
        let watcher = watch(&rules, &inputs)?;
        Ok(Session {
            project,
            rules,
            inputs,
            watcher,
        })
    }

    /// A rule path that did not exist (or was replaced) is a directory
    /// now: watch it as a tree. Files made in it meanwhile are found by
    /// the walk of the new directory.
    fn follow_new_rule_paths(&mut self, out: &mut dyn FnMut(WatchEvent)) {
        let unwatched = self
            .rules
            .iter()
            .any(|r| r.path.is_dir() && !self.watcher.trees.iter().any(|t| r.path.starts_with(t)));
        if unwatched {
            match watch(&self.rules, &self.inputs) {
                Ok(w) => self.watcher = w,
                Err(e) => out(WatchEvent::Warning(e.to_string())),
            }
        }
    }

    fn watching_event(&self) -> WatchEvent {
        WatchEvent::Watching {
            rules: self.rules.len(),
            roots: self.watcher.roots.len(),
        }
    }

    /// Whether a changed path matters to anyone.
    fn relevant(&self, path: &Path) -> bool {
        self.inputs.contains(path) || self.rules.iter().any(|r| r.wants(path))
    }

    fn take(
        &self,
        msg: notify::Result<notify::Event>,
        coalescer: &mut Coalescer,
        out: &mut dyn FnMut(WatchEvent),
    ) {
        let now = Instant::now();
        match msg {
            Ok(event) => match classify(&event) {
                Signal::Changed(paths) => {
                    for p in paths.into_iter().filter(|p| self.relevant(p)) {
                        coalescer.push(p, now);
                    }
                }
                Signal::Rescan(paths) => {
                    let roots = if paths.is_empty() {
                        self.watcher.roots.clone()
                    } else {
                        paths
                    };
                    for r in roots {
                        coalescer.push_rescan(r, now);
                    }
                }
                Signal::Noise => {}
            },
            Err(e) => {
                if is_watch_limit(&e) {
                    let path = e.paths.first().cloned().unwrap_or_default();
                    out(WatchEvent::Warning(
                        WatchError::WatchLimit { path }.to_string(),
                    ));
                } else {
                    out(WatchEvent::Warning(format!("file watcher: {e}")));
                }
                for r in &self.watcher.roots {
                    coalescer.push_rescan(r.clone(), now);
                }
            }
        }
    }

    /// `initial_sync` rules: bring running containers up to date at start.
    fn initial_sync(&self, containers: &Containers, out: &mut dyn FnMut(WatchEvent)) {
        let started = Instant::now();
        let mut work: BTreeMap<String, ServiceWork> = BTreeMap::new();
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.initial_sync && rule.action.syncs() {
                work.entry(rule.service.clone()).or_default().full.insert(i);
            }
        }
        for (service, w) in work {
            let report = self.apply_service(&service, &w, containers, started, false);
            out(WatchEvent::Batch(report));
        }
    }

    fn apply(
        &mut self,
        batch: Batch,
        load: &LoadOptions,
        containers: &Containers,
        applier: &dyn StackApplier,
        opts: &WatchOptions,
        out: &mut dyn FnMut(WatchEvent),
    ) {
        let started = batch.first_seen.unwrap_or_else(Instant::now);
        if batch.paths.iter().any(|p| self.inputs.contains(p)) || self.lost_inputs(&batch) {
            self.reload_stack(load, applier, opts, out);
        }
        self.follow_new_rule_paths(out);
        for (service, w) in self.route(&batch) {
            if self.rebuilds(&w) {
                // The service's containers are recreated from the new
                // image (if it changed): nothing to sync or restart.
                match applier.rebuild(&self.project, &service) {
                    Ok(()) => out(WatchEvent::Rebuilt { service }),
                    Err(e) => out(WatchEvent::RebuildFailed {
                        error: e.to_string(),
                        service,
                    }),
                }
                continue;
            }
            let report = self.apply_service(&service, &w, containers, started, true);
            out(WatchEvent::Batch(report));
        }
    }

    /// Whether a rule the batch touched rebuilds the service.
    fn rebuilds(&self, work: &ServiceWork) -> bool {
        work.paths
            .keys()
            .chain(work.full.iter())
            .any(|i| self.rules[*i].action == RuleAction::Rebuild)
    }

    /// A stack file changed: load it, hand it over, follow its new rules.
    fn reload_stack(
        &mut self,
        load: &LoadOptions,
        applier: &dyn StackApplier,
        opts: &WatchOptions,
        out: &mut dyn FnMut(WatchEvent),
    ) {
        let project = match stackfile::reload(load) {
            Ok(p) => p,
            Err(diagnostics) => return out(WatchEvent::StackInvalid(diagnostics.render_plain())),
        };
        let rules = match rules::compile(&project, &opts.services) {
            Ok(r) => r,
            Err(e) => return out(WatchEvent::StackInvalid(e.to_string())),
        };
        if let Err(e) = applier.apply(&project) {
            return out(WatchEvent::ApplyFailed(e.to_string()));
        }
        out(WatchEvent::StackApplied {
            services: project.services.keys().cloned().collect(),
        });
        match Session::new(load, project, rules) {
            Ok(next) => {
                *self = next;
                out(self.watching_event());
            }
            Err(e) => out(WatchEvent::Warning(format!(
                "still watching the previous rules: {e}"
            ))),
        }
    }

    /// Whether events for the stack file's directory were lost, so it may
    /// have changed unseen.
    fn lost_inputs(&self, batch: &Batch) -> bool {
        batch.rescans.iter().any(|root| {
            self.inputs
                .iter()
                .any(|f| f.parent().is_some_and(|d| d.starts_with(root)))
        })
    }

    /// Which rules of which service the batch touches.
    fn route(&self, batch: &Batch) -> BTreeMap<String, ServiceWork> {
        let mut work: BTreeMap<String, ServiceWork> = BTreeMap::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let paths: Vec<PathBuf> = batch
                .paths
                .iter()
                .filter(|p| rule.wants(p))
                .cloned()
                .collect();
            let rescan = batch
                .rescans
                .iter()
                .any(|root| rule.path.starts_with(root) || root.starts_with(&rule.path));
            if paths.is_empty() && !rescan {
                continue;
            }
            let w = work.entry(rule.service.clone()).or_default();
            if rescan {
                w.full.insert(i);
            }
            if !paths.is_empty() {
                w.paths.insert(i, paths);
            }
        }
        work
    }

    /// Syncs, restarts and execs for one service, in every running
    /// container of it.
    fn apply_service(
        &self,
        service: &str,
        work: &ServiceWork,
        containers: &Containers,
        started: Instant,
        act: bool,
    ) -> BatchReport {
        let mut report = BatchReport {
            service: service.to_string(),
            full_compare: !work.full.is_empty(),
            ..Default::default()
        };
        let touched: BTreeSet<usize> = work.paths.keys().chain(work.full.iter()).copied().collect();
        for record in actions::running(containers, &self.project.name, service) {
            report.containers += 1;
            let mut tally = SyncTally::default();
            match record.state.pid.map(ContainerRoot::of_pid) {
                Some(Ok(root)) => {
                    for (i, paths) in &work.paths {
                        let rule = &self.rules[*i];
                        if rule.action.syncs() {
                            let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
                            actions::sync_paths(&root, rule, &paths, &mut tally);
                        }
                    }
                    for i in &work.full {
                        actions::sync_all(&root, &self.rules[*i], &mut tally);
                    }
                }
                Some(Err(e)) => tally.errors.push(format!("{}: {e}", record.spec.name)),
                None => tally.errors.push(format!("{}: no pid", record.spec.name)),
            }
            report.synced = report.synced.max(tally.written);
            report.removed = report.removed.max(tally.removed);
            report.errors.extend(tally.errors);
            if !act {
                continue;
            }
            let rules = touched.iter().map(|i| &self.rules[*i]);
            if rules
                .clone()
                .any(|r| matches!(r.action, RuleAction::Restart | RuleAction::SyncRestart))
            {
                match actions::restart(containers, &record) {
                    Ok(()) => report.restarted += 1,
                    Err(e) => report.errors.push(e.to_string()),
                }
            }
            for rule in rules {
                if let RuleAction::SyncExec(exec) = &rule.action {
                    match actions::exec(&record, exec) {
                        Ok(code) => report.exec_codes.push(code),
                        Err(e) => report.errors.push(e.to_string()),
                    }
                }
            }
        }
        report.took = started.elapsed();
        report
    }
}

/// One watcher for the rules' trees and the directories of the project's
/// input files.
fn watch(rules: &[Rule], inputs: &BTreeSet<PathBuf>) -> Result<FileWatcher, WatchError> {
    let trees: Vec<PathBuf> = rules.iter().map(|r| r.path.clone()).collect();
    let dirs: Vec<PathBuf> = inputs
        .iter()
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    FileWatcher::new(&trees, &dirs)
}

/// One service's share of a batch: changed paths per rule, and rules to
/// compare in full.
#[derive(Debug, Default)]
struct ServiceWork {
    paths: BTreeMap<usize, Vec<PathBuf>>,
    full: BTreeSet<usize>,
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;

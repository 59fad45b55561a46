//! Project operations (`up`, `down`, `ps`, the plan, the list of
//! projects) as blocking functions both paths call: the daemon's routes and
//! the CLI when no daemon answers. Progress goes to an `emit` callback as
//! [`ProjectEvent`]s, and the CLI prints those events the same way on both
//! paths.
//!
//! Work is split in two: `prepare_*` plans (and fails with a status code
//! before anything changes), `run_*` carries the plan out. The daemon
//! answers errors of the first part as HTTP errors and streams the second.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use stack_runtime::state::Status;
use stack_spec::Project;

use super::{status_text, view, Engine, EngineError};
use crate::apply::{self, ApplyError, Outcome, Prepared, UpOptions};
use crate::containers::{network, ContainerRecord, Containers};
use crate::error_class::Classify;
use crate::labels;
use crate::plan::{Action, ActionKind, DownOptions, Plan, PlanOptions, PullPolicy, Reason};
use crate::store::Store;
use stack_api::projects::{
    DownRequest, PlanAnswer, PlanFlags, PlannedAction, ProjectEvent, ProjectSummary, PsRow,
};

/// Where progress goes.
pub type Emit<'a> = &'a (dyn Fn(ProjectEvent) + Sync);

/// A planned `up`, ready to run.
pub struct PreparedUp {
    engine: apply::Host,
    prepared: Prepared,
    options: PlanOptions,
    /// What `plan` answers (and `--dry-run` prints).
    pub answer: PlanAnswer,
}

/// A planned `down`, ready to run.
pub struct PreparedDown {
    engine: apply::Host,
    prepared: apply::PreparedDown,
    timeout: Option<Duration>,
}

impl PreparedDown {
    /// What `down` will do (`--dry-run` prints it).
    pub fn plan(&self) -> &Plan {
        &self.prepared.plan
    }
}

/// The engine's planning options from their wire form.
pub fn plan_options(flags: &PlanFlags) -> Result<PlanOptions, EngineError> {
    let pull = flags
        .pull
        .as_deref()
        .map(str::parse::<PullPolicy>)
        .transpose()
        .map_err(EngineError::Invalid)?;
    Ok(PlanOptions {
        force_recreate: flags.force_recreate,
        no_recreate: flags.no_recreate,
        no_deps: flags.no_deps,
        remove_orphans: flags.remove_orphans,
        pull,
        build: flags.build,
        services: flags.services.clone(),
        scale: flags.scale.clone(),
    })
}

/// A project name of the path must be the stack's own.
pub fn check_name(path_name: &str, project: &Project) -> Result<(), EngineError> {
    if path_name != project.name {
        return Err(EngineError::Invalid(format!(
            "the path names project {path_name:?} but the stack is project {:?}",
            project.name
        )));
    }
    Ok(())
}

fn plan_answer(plan: &Plan, adopted: &[String]) -> PlanAnswer {
    PlanAnswer {
        project: plan.project.clone(),
        actions: plan
            .actions
            .iter()
            .map(|a| PlannedAction {
                wave: a.wave,
                text: a.to_string(),
            })
            .collect(),
        unchanged: plan.unchanged.clone(),
        warnings: plan.warnings.clone(),
        adopted: adopted.to_vec(),
        text: plan.render_text(),
    }
}

fn progress(emit: Emit<'_>) -> impl Fn(&Action, &Outcome) + Sync + '_ {
    move |action, outcome| {
        let (kind, name, state) = subject(action);
        match outcome {
            Outcome::Done => emit(ProjectEvent::Done {
                action: action.to_string(),
                kind: kind.to_string(),
                name,
                state: state.to_string(),
                reason: (!matches!(action.reason, Reason::New | Reason::Down))
                    .then(|| action.reason.to_string()),
            }),
            Outcome::Failed(e) => emit(ProjectEvent::ActionFailed {
                action: action.to_string(),
                error: e.kind.to_string(),
                kind: kind.to_string(),
                name,
            }),
        }
    }
}

/// An action as Compose reports it: the kind of object, its full name, and
/// the state it is left in (` ✔ Container demo-web-1  Started`).
fn subject(action: &Action) -> (&'static str, String, &'static str) {
    match &action.kind {
        ActionKind::PullImage { reference } => ("Image", reference.clone(), "Pulled"),
        ActionKind::BuildImage { reference, .. } => ("Image", reference.clone(), "Built"),
        ActionKind::CreateNetwork { name, .. } => ("Network", name.clone(), "Created"),
        ActionKind::RecreateNetwork { name, .. } => ("Network", name.clone(), "Recreated"),
        ActionKind::RemoveNetwork { name } => ("Network", name.clone(), "Removed"),
        ActionKind::CreateVolume { name, .. } => ("Volume", name.clone(), "Created"),
        ActionKind::RemoveVolume { name } => ("Volume", name.clone(), "Removed"),
        ActionKind::CreateContainer { name, .. } => ("Container", name.clone(), "Started"),
        ActionKind::RecreateContainer { name, .. } => ("Container", name.clone(), "Recreated"),
        ActionKind::StartContainer { name, .. } => ("Container", name.clone(), "Started"),
        ActionKind::RestartContainer { name, .. } => ("Container", name.clone(), "Restarted"),
        ActionKind::RemoveContainer { name, .. } => ("Container", name.clone(), "Removed"),
    }
}

/// Emits the report's warnings and the last line; the error when it failed,
/// with the status code it answers with.
fn finish(result: Result<apply::Report, ApplyError>, emit: Emit<'_>) -> Result<(), EngineError> {
    let report = match &result {
        Ok(report) => Some(report),
        Err(ApplyError::Failed(report)) => Some(report),
        Err(_) => None,
    };
    for warning in report.map(|r| r.warnings.as_slice()).unwrap_or_default() {
        emit(ProjectEvent::Warning {
            message: warning.clone(),
        });
    }
    match result {
        Ok(_) => {
            emit(ProjectEvent::Finished);
            Ok(())
        }
        Err(err) => {
            emit(ProjectEvent::Failed {
                message: err.to_string(),
                kind: Some(err.class().word().to_string()),
            });
            Err(err.into())
        }
    }
}

impl Engine {
    fn engine(&self) -> Result<apply::Host, EngineError> {
        Ok(apply::Host::open(&self.paths)?)
    }

    /// Reconciles and plans `up` of `project` (the answer of `plan`).
    pub fn prepare_up(
        &self,
        project: &Project,
        flags: &PlanFlags,
    ) -> Result<PreparedUp, EngineError> {
        let options = plan_options(flags)?;
        let engine = self.engine()?;
        let prepared = apply::prepare_up(&engine, project, &options)?;
        let answer = plan_answer(&prepared.plan, &prepared.reconciled.adopted);
        Ok(PreparedUp {
            engine,
            prepared,
            options,
            answer,
        })
    }

    /// Carries out a planned `up`, emitting each step. It runs to the end
    /// even when nobody listens any more, so an `up` whose client left is
    /// whole, and the next `up` finds a converged project.
    pub fn run_up(
        &self,
        project: &Project,
        prep: PreparedUp,
        parallel: Option<usize>,
        emit: Emit<'_>,
    ) -> Result<(), EngineError> {
        for name in &prep.answer.adopted {
            emit(ProjectEvent::Adopted { name: name.clone() });
        }
        for warning in &prep.answer.warnings {
            emit(ProjectEvent::Warning {
                message: warning.clone(),
            });
        }
        // Compose says so of every container it leaves alone.
        for record in project_containers(self.containers(), &project.name, &[]) {
            let label = labels::membership(&record.spec.labels)
                .and_then(|m| m.number.map(|n| format!("{}-{n}", m.service)));
            if label.is_some_and(|l| prep.answer.unchanged.contains(&l)) {
                emit(ProjectEvent::Observed {
                    kind: "Container".into(),
                    name: record.spec.name.clone(),
                    state: "Running".into(),
                    waiting: false,
                });
            }
        }
        let opts = UpOptions {
            plan: prep.options,
            parallel: parallel
                .filter(|n| *n > 0)
                .unwrap_or_else(apply::default_parallelism),
        };
        let gates = |name: &str, state: &str, waiting: bool| {
            emit(ProjectEvent::Observed {
                kind: "Container".into(),
                name: name.to_string(),
                state: state.to_string(),
                waiting,
            })
        };
        let result = apply::up_reporting_gates(
            &prep.engine,
            project,
            prep.prepared,
            &opts,
            &progress(emit),
            &gates,
        )
        .map(|(_, report)| report);
        finish(result, emit)
    }

    /// Plans `down` of the project `name` (no stack file needed).
    /// A damaged state database does not stop it: `down` then works from
    /// the container records and the host, and says so in a warning.
    pub fn prepare_down(&self, name: &str, req: &DownRequest) -> Result<PreparedDown, EngineError> {
        let (engine, damaged) = apply::Host::open_despite_damage(&self.paths)?;
        let opts = DownOptions {
            remove_volumes: req.remove_volumes,
            remove_orphans: req.remove_orphans,
            file_services: req
                .file_services
                .as_ref()
                .map(|s| s.iter().cloned().collect::<BTreeSet<_>>()),
        };
        let mut prepared = apply::prepare_down(&engine, name, &opts)?;
        if let Some(err) = damaged {
            prepared.plan.warnings.insert(
                0,
                format!("{err}. Meanwhile `down` works from the container records and the host"),
            );
        }
        Ok(PreparedDown {
            engine,
            prepared,
            timeout: req.timeout.map(Duration::from_secs),
        })
    }

    /// Carries out a planned `down`, emitting each step.
    pub fn run_down(&self, prep: PreparedDown, emit: Emit<'_>) -> Result<(), EngineError> {
        for warning in &prep.prepared.plan.warnings {
            emit(ProjectEvent::Warning {
                message: warning.clone(),
            });
        }
        let result = apply::down(
            &prep.engine,
            &prep.prepared,
            prep.timeout,
            apply::default_parallelism(),
            &progress(emit),
        );
        finish(result, emit)
    }

    /// Every project that has containers or a stored record, with its
    /// containers counted by status and its stack files.
    pub fn list_projects(&self) -> Result<Vec<ProjectSummary>, EngineError> {
        let store = Store::open(&self.paths.state_root)?;
        let stored = store.read(|r| r.projects())?;
        let mut projects: BTreeMap<String, ProjectSummary> = stored
            .into_iter()
            .map(|p| {
                let summary = ProjectSummary {
                    name: p.name.clone(),
                    containers: BTreeMap::new(),
                    config_files: p.config_files,
                };
                (p.name, summary)
            })
            .collect();
        for record in self.containers().list() {
            let Some(m) = labels::membership(&record.spec.labels).filter(|m| !m.oneoff) else {
                continue;
            };
            let summary = projects
                .entry(m.project.to_string())
                .or_insert_with(|| ProjectSummary {
                    name: m.project.to_string(),
                    containers: BTreeMap::new(),
                    config_files: Vec::new(),
                });
            if summary.config_files.is_empty() {
                // A project missing from the store: its containers' label.
                if let Some(files) = record.spec.labels.get(labels::CONFIG_FILES) {
                    summary.config_files = files.split(',').map(str::to_string).collect();
                }
            }
            *summary
                .containers
                .entry(view::status_word(&record).to_string())
                .or_default() += 1;
        }
        Ok(projects.into_values().collect())
    }

    /// The rows of `stack ps` for a project.
    pub fn ps_rows(
        &self,
        project: &str,
        all: bool,
        services: &[String],
    ) -> Result<Vec<PsRow>, EngineError> {
        let store = Store::open(&self.paths.state_root)?;
        // One read for the whole project: the image each container was
        // made from, as the stack file named it.
        let images: BTreeMap<String, String> = store
            .read(|reader| reader.containers_of(project))?
            .into_iter()
            .map(|c| (c.id, c.image_ref))
            .collect();
        Ok(project_containers(self.containers(), project, services)
            .iter()
            .map(|r| (r, r.state.effective_status()))
            .filter(|(_, status)| all || *status == Status::Running)
            .map(|(r, status)| ps_row(r, status, images.get(&r.spec.id).cloned()))
            .collect())
    }
}

/// A project's containers, by service and number; only `services` when
/// some are named.
pub fn project_containers(
    containers: &Containers,
    project: &str,
    services: &[String],
) -> Vec<ContainerRecord> {
    let mut out: Vec<ContainerRecord> = containers
        .of_project(project)
        .into_iter()
        .filter(|r| {
            labels::membership(&r.spec.labels)
                .is_some_and(|m| services.is_empty() || services.iter().any(|s| s == m.service))
        })
        .collect();
    out.sort_by_key(|r| {
        let m = labels::membership(&r.spec.labels);
        (
            m.as_ref().map(|m| m.service.to_string()),
            m.and_then(|m| m.number),
        )
    });
    out
}

fn ps_row(r: &ContainerRecord, status: Status, image: Option<String>) -> PsRow {
    let service = labels::membership(&r.spec.labels)
        .map(|m| m.service.to_string())
        .unwrap_or_default();
    let health = r
        .state
        .health
        .as_ref()
        .map(|h| h.status.as_str().to_string())
        .unwrap_or_default();
    let state = view::word_of(&r.state, status);
    let exit_code = matches!(status, Status::Exited | Status::Restarting)
        .then_some(r.state.exit_code)
        .flatten();
    // Docker's STATUS column (`Up 2 minutes (healthy)`), as `docker
    // compose ps` prints it and its JSON holds it.
    let text = status_text::docker_status(&status_text::StatusFacts {
        status: state,
        exit_code,
        oom_killed: r.state.oom_killed,
        health: (!health.is_empty()).then_some(health.as_str()),
        started_at: r.state.started_at.as_deref(),
        finished_at: r.state.finished_at.as_deref(),
    });
    PsRow {
        id: r.spec.id[..12.min(r.spec.id.len())].to_string(),
        name: r.spec.name.clone(),
        service,
        image: image.unwrap_or_default(),
        command: r.spec.process.args.join(" "),
        state: state.into(),
        health,
        exit_code,
        status: text,
        // What was published for this container, as `docker ps` prints it.
        publishers: network::view::published_ports(r)
            .iter()
            .map(|p| network::view::ports_text(std::slice::from_ref(p)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use crate::apply::{StepError, StepErrorKind};
    use crate::error_class::ErrorClass;

    use super::*;

    use crate::facade::test_engine as host;

    #[test]
    fn the_path_must_name_the_stack() {
        let project = Project {
            name: "shop".into(),
            ..Default::default()
        };
        assert!(check_name("shop", &project).is_ok());
        let err = check_name("blog", &project).expect_err("mismatch");
        assert_eq!(err.class(), ErrorClass::InvalidInput);
        assert!(err.to_string().contains("blog") && err.to_string().contains("shop"));
    }

    #[test]
    fn flags_become_plan_options_and_a_bad_pull_policy_is_refused() {
        let flags = PlanFlags {
            pull: Some("never".into()),
            scale: [("web".to_string(), 3)].into(),
            no_deps: true,
            ..Default::default()
        };
        let opts = plan_options(&flags).expect("valid");
        assert_eq!(opts.pull, Some(PullPolicy::Never));
        assert_eq!(opts.scale["web"], 3);
        assert!(opts.no_deps);
        let bad = PlanFlags {
            pull: Some("sometimes".into()),
            ..Default::default()
        };
        assert_eq!(
            plan_options(&bad).expect_err("bad").class(),
            ErrorClass::InvalidInput
        );
    }

    #[test]
    fn an_empty_host_has_no_projects_and_no_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let host = host(dir.path());
        assert!(host.list_projects().expect("list").is_empty());
        assert!(host.ps_rows("shop", true, &[]).expect("rows").is_empty());
    }

    #[test]
    fn finishing_reports_warnings_then_the_last_line() {
        let events = Mutex::new(Vec::new());
        let emit = |e: ProjectEvent| events.lock().expect("lock").push(e);
        let report = || apply::Report {
            warnings: vec!["orphan kept".into()],
            ..Default::default()
        };
        assert!(finish(Ok(report()), &emit).is_ok());
        let failed = apply::Report {
            failures: vec![StepError {
                action: "create web-1".into(),
                kind: StepErrorKind::Gone {
                    what: "container abc".into(),
                },
            }],
            ..report()
        };
        let err = finish(Err(ApplyError::Failed(failed)), &emit).expect_err("failed");
        assert_eq!(err.to_string(), "create web-1: container abc is gone");
        assert_eq!(err.class(), ErrorClass::NotFound);
        let warning = ProjectEvent::Warning {
            message: "orphan kept".into(),
        };
        assert_eq!(
            events.into_inner().expect("events"),
            vec![
                warning.clone(),
                ProjectEvent::Finished,
                warning,
                ProjectEvent::Failed {
                    message: "create web-1: container abc is gone".into(),
                    kind: Some("not_found".into()),
                },
            ]
        );
    }
}

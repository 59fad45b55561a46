//! `start`, `stop`, `restart`, `kill`, `pause`, `unpause` and `rm` of a
//! project's services as one blocking operation both paths call: pick the
//! containers, run the waves (stops in reverse dependency order, starts in
//! dependency order, the containers of one wave in parallel), and answer
//! each container's
//! outcome. Errors about the project itself (no container, an unknown
//! service, a bad signal) come back as an [`EngineError`] before anything
//! changes.

use std::collections::BTreeSet;

use super::{parse_signal, Engine, EngineError};
use crate::project::actions::{self, Done, Outcome, RemoveRunning};
use crate::project::select::{self, Selection};
use crate::project_lock::ProjectLock;
use stack_api::project_actions::{
    ActionAnswer, ActionOutcome, ActionRequest, ActionResult, ProjectAction,
};

/// The wire form of the engine's outcomes of one step.
fn outcomes(step: &str, done: Vec<Outcome>) -> Vec<ActionOutcome> {
    done.into_iter()
        .map(|o| {
            let (result, error) = match o.result {
                Ok(Done::Acted) => (ActionResult::Acted, None),
                Ok(Done::Skipped) => (ActionResult::Skipped, None),
                Err(err) => (ActionResult::Failed, Some(err.to_string())),
            };
            ActionOutcome {
                name: o.name,
                step: step.to_string(),
                result,
                error,
            }
        })
        .collect()
}

/// How `rm` treats running containers: `force` wins over `stop`.
fn remove_running(req: &ActionRequest) -> RemoveRunning {
    if req.force {
        RemoveRunning::Kill
    } else if req.stop {
        RemoveRunning::Stop
    } else {
        RemoveRunning::Refuse
    }
}

impl Engine {
    /// Runs `action` on the containers of `project` that `req` selects.
    pub fn project_action(
        &self,
        project: &str,
        action: ProjectAction,
        req: &ActionRequest,
    ) -> Result<ActionAnswer, EngineError> {
        let signal = match (action, &req.signal) {
            (ProjectAction::Kill, Some(text)) => parse_signal(text)?,
            _ => nix::sys::signal::Signal::SIGKILL,
        };
        // The same lock as `up` and `down`, in whichever process they run.
        let _lock = ProjectLock::claim(&self.paths.state_root, project)?;
        let declared: BTreeSet<String> = req.declared.iter().cloned().collect();
        let selection =
            select::select(self.containers().list(), project, &req.services, &declared)?;
        let store = self.containers();
        let waves = &req.waves;
        let stop = |sel: &Selection| {
            let done = actions::run_waves(&sel.stop_waves(waves), true, |r| {
                actions::stop(store, r, req.timeout)
            });
            outcomes("Stopped", done)
        };
        let start = |sel: &Selection| {
            let done =
                actions::run_waves(&sel.start_waves(waves), false, |r| actions::start(store, r));
            outcomes("Started", done)
        };
        let outcomes = match action {
            ProjectAction::Start => start(&selection),
            ProjectAction::Stop => stop(&selection),
            ProjectAction::Restart => {
                let mut all = stop(&selection);
                if all.iter().all(|o| o.result != ActionResult::Failed) {
                    all.extend(start(&selection));
                }
                all
            }
            ProjectAction::Kill => {
                let every: Vec<_> = selection.all().collect();
                let done = actions::run_waves(&[every], true, |r| actions::kill(store, r, signal));
                outcomes("Killed", done)
            }
            ProjectAction::Pause => {
                let every: Vec<_> = selection.all().collect();
                let done = actions::run_waves(&[every], true, |r| actions::pause(store, r));
                outcomes("Paused", done)
            }
            ProjectAction::Unpause => {
                let every: Vec<_> = selection.all().collect();
                let done = actions::run_waves(&[every], true, |r| actions::unpause(store, r));
                outcomes("Unpaused", done)
            }
            ProjectAction::Remove => {
                let running = remove_running(req);
                let done = actions::run_waves(&selection.stop_waves(waves), true, |r| {
                    actions::remove(store, r, running)
                });
                outcomes("Removed", done)
            }
        };
        Ok(ActionAnswer { outcomes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_class::{Classify, ErrorClass};

    use crate::facade::test_engine as host;

    #[test]
    fn a_project_without_containers_is_not_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = host(dir.path())
            .project_action("shop", ProjectAction::Stop, &ActionRequest::default())
            .expect_err("no containers");
        assert_eq!(err.class(), ErrorClass::NotFound);
        assert!(err.to_string().contains("shop"), "{err}");
    }

    #[test]
    fn an_unknown_service_and_a_bad_signal_are_bad_requests() {
        let dir = tempfile::tempdir().expect("tempdir");
        let host = host(dir.path());
        let unknown = ActionRequest {
            services: vec!["nope".into()],
            declared: vec!["web".into()],
            ..Default::default()
        };
        let err = host
            .project_action("shop", ProjectAction::Start, &unknown)
            .expect_err("unknown service");
        assert_eq!(err.class(), ErrorClass::InvalidInput);
        assert!(err.to_string().contains("nope"), "{err}");
        let bad_signal = ActionRequest {
            signal: Some("NOPE".into()),
            ..Default::default()
        };
        let err = host
            .project_action("shop", ProjectAction::Kill, &bad_signal)
            .expect_err("bad signal");
        assert_eq!(err.class(), ErrorClass::InvalidInput);
    }

    #[test]
    fn force_wins_over_stop() {
        let both = ActionRequest {
            force: true,
            stop: true,
            ..Default::default()
        };
        assert_eq!(remove_running(&both), RemoveRunning::Kill);
        assert_eq!(
            remove_running(&ActionRequest::default()),
            RemoveRunning::Refuse
        );
    }
}

//! The JSON bodies of `POST /v1/projects/{name}/start|stop|restart|kill|pause|unpause|rm`:
//! which services, the verb's options, and what the stack file says about
//! the project (the daemon does not read the client's file), answered by
//! one outcome per container. The CLI prints from these outcomes on both
//! paths, so the output does not depend on the path.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::paths;

/// A project verb acting on containers: which route, and which steps the
/// daemon runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectAction {
    Start,
    Stop,
    Restart,
    Kill,
    Pause,
    Unpause,
    Remove,
}

impl ProjectAction {
    /// Every verb, in the order the routes are listed.
    pub const ALL: [ProjectAction; 7] = [
        ProjectAction::Start,
        ProjectAction::Stop,
        ProjectAction::Restart,
        ProjectAction::Kill,
        ProjectAction::Pause,
        ProjectAction::Unpause,
        ProjectAction::Remove,
    ];

    /// The last segment of its route.
    pub fn path_word(self) -> &'static str {
        match self {
            ProjectAction::Start => "start",
            ProjectAction::Stop => "stop",
            ProjectAction::Restart => "restart",
            ProjectAction::Kill => "kill",
            ProjectAction::Pause => "pause",
            ProjectAction::Unpause => "unpause",
            ProjectAction::Remove => "rm",
        }
    }

    /// Its route's template, as the router declares it.
    pub fn path_template(self) -> &'static str {
        match self {
            ProjectAction::Start => paths::PROJECT_START,
            ProjectAction::Stop => paths::PROJECT_STOP,
            ProjectAction::Restart => paths::PROJECT_RESTART,
            ProjectAction::Kill => paths::PROJECT_KILL,
            ProjectAction::Pause => paths::PROJECT_PAUSE,
            ProjectAction::Unpause => paths::PROJECT_UNPAUSE,
            ProjectAction::Remove => paths::PROJECT_RM,
        }
    }

    /// The concrete path of this verb on project `name`.
    pub fn path(self, name: &str) -> String {
        paths::fill(self.path_template(), name)
    }
}

/// A word that names no project verb.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no project action {0:?}")]
pub struct UnknownAction(pub String);

impl FromStr for ProjectAction {
    type Err = UnknownAction;

    fn from_str(word: &str) -> Result<Self, UnknownAction> {
        ProjectAction::ALL
            .into_iter()
            .find(|a| a.path_word() == word)
            .ok_or_else(|| UnknownAction(word.to_string()))
    }
}

/// The body of every project action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// Only these services; empty: all of the project's.
    #[serde(default)]
    pub services: Vec<String>,
    /// Services the client's stack file declares (empty without a file):
    /// naming one of them is no error even when it has no container.
    #[serde(default)]
    pub declared: Vec<String>,
    /// Start waves of the stack file (dependencies first; empty without a
    /// file): starts follow them, stops go in reverse.
    #[serde(default)]
    pub waves: Vec<Vec<String>>,
    /// `stop`, `restart`: seconds before killing; none: each container's
    /// own stop timeout.
    #[serde(default)]
    pub timeout: Option<u64>,
    /// `kill`: the signal, by name or number; none: SIGKILL.
    #[serde(default)]
    pub signal: Option<String>,
    /// `rm`: kill running containers and remove them.
    #[serde(default)]
    pub force: bool,
    /// `rm`: stop running containers gracefully, then remove them.
    #[serde(default)]
    pub stop: bool,
}

/// What happened to one container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionResult {
    /// The step was done.
    Acted,
    /// Nothing to do (already stopped, already running…).
    Skipped,
    /// The step failed; `error` says why.
    Failed,
}

/// One container's outcome, in the order the steps ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionOutcome {
    /// The container's name.
    pub name: String,
    /// The step as the CLI prints it: `Started`, `Stopped`, `Killed`,
    /// `Paused`, `Unpaused`, `Removed` (`restart` has a `Stopped` and a
    /// `Started` step).
    pub step: String,
    pub result: ActionResult,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The answer of a project action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionAnswer {
    pub outcomes: Vec<ActionOutcome>,
}

impl ActionAnswer {
    /// True when every step succeeded (the verb's exit status).
    pub fn ok(&self) -> bool {
        self.outcomes
            .iter()
            .all(|o| o.result != ActionResult::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_match_the_routes() {
        for action in ProjectAction::ALL {
            assert_eq!(action.path_word().parse::<ProjectAction>(), Ok(action));
            assert!(
                action
                    .path_template()
                    .ends_with(&format!("/{}", action.path_word())),
                "{action:?}"
            );
            assert_eq!(
                action.path("my shop"),
                format!("/v1/projects/my%20shop/{}", action.path_word())
            );
        }
        assert_eq!(
            "freeze".parse::<ProjectAction>(),
            Err(UnknownAction("freeze".into()))
        );
    }
}

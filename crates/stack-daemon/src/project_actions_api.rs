//! The JSON bodies of `POST /v1/projects/{name}/start|stop|restart|kill|rm`:
//! which services, the verb's options, and what the stack file says about
//! the project (the daemon does not read the client's file), answered by
//! one outcome per container. The CLI prints from these outcomes on both
//! paths, so the output does not depend on the path.

use serde::{Deserialize, Serialize};

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
    /// `Removed` (`restart` has a `Stopped` and a `Started` step).
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

//! Project verbs that act on containers (`start`, `stop`, `restart`,
//! `kill`, `rm`) on either path; both answer the same outcomes, which the
//! verbs print.

use stack_api::client::Method;
use stack_api::project_actions::{ActionAnswer, ActionRequest, ProjectAction};

use super::projects::Waiting;
use super::{remote, Via};

impl Via {
    /// Runs `action` on the containers of project `name` that `req` picks.
    pub fn project_action(
        &self,
        name: &str,
        action: ProjectAction,
        req: &ActionRequest,
    ) -> miette::Result<ActionAnswer> {
        match self {
            Via::InProcess(h) => {
                Waiting::new(name).retry_local(|| h.project_action(name, action, req))
            }
            Via::Daemon(c) => {
                let path = action.path(name);
                let mut waiting = Waiting::new(name);
                loop {
                    match c.send_json(Method::POST, &path, req) {
                        Err(err) if waiting.busy(&err) => continue,
                        answer => return answer.map_err(remote),
                    }
                }
            }
        }
    }
}

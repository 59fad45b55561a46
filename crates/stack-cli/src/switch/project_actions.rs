//! Project verbs that act on containers (`start`, `stop`, `restart`,
//! `kill`, `rm`) on either path; both answer the same outcomes, which the
//! verbs print.

use stack_daemon::client::{encode, Method};
use stack_daemon::project_actions::ProjectAction;
use stack_daemon::project_actions_api::{ActionAnswer, ActionRequest};

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
                let path = format!("/v1/projects/{}/{}", encode(name), action.path_word());
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

//! A project's merged logs and controls (`logs`, attached `up`) on
//! either path.

use super::project_logs::RemoteSession;
use super::Via;
use crate::follow::attach::{LocalSession, Session};
use crate::follow::logs::{is_replica, project_containers, Member};

impl Via {
    /// The logs, states and controls of a project's containers (all of
    /// them, or those of `services`; only replica `index` when given), and
    /// how each shows in merged logs.
    pub fn project_session(
        &self,
        name: &str,
        services: &[String],
        index: Option<u32>,
    ) -> miette::Result<(Vec<Member>, Box<dyn Session>)> {
        match self {
            Via::InProcess(h) => {
                let mut records = project_containers(h.containers(), name, services);
                records.retain(|r| is_replica(&r.spec.labels, index));
                let members = records
                    .iter()
                    .map(|r| Member::of(&r.spec.labels, &r.spec.name))
                    .collect();
                Ok((members, Box::new(LocalSession::new(records))))
            }
            Via::Daemon(c) => {
                let session = RemoteSession::open(c, name, services, index)?;
                Ok((session.members(), Box::new(session)))
            }
        }
    }
}

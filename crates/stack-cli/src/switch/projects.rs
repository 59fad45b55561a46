//! Project verbs (`up`, `down`, `ps`, `logs`, attached `up`) on either
//! path. Both paths report progress as the same [`ProjectEvent`]s, which
//! the verbs print, so their output does not depend on the path.

use miette::IntoDiagnostic;
use std::time::Duration;

use stack_api::client::{encode, Client, ClientError, Method};
use stack_api::paths;
use stack_api::projects::{
    DownRequest, PlanAnswer, PlanFlags, ProjectEvent, ProjectSummary, PsRow, UpRequest,
};
use stack_engine::facade::EngineError;
use stack_spec::Project;

use super::project_logs::RemoteSession;
use super::{api, remote, Via};
use crate::follow::attach::{LocalSession, Session};
use crate::follow::logs::{is_replica, project_containers, Member};

/// Receives each progress event.
pub type Each<'a> = &'a (dyn Fn(&ProjectEvent) + Sync);

impl Via {
    /// The plan of `up` (what `--dry-run` prints), changing nothing but the
    /// store's view of what exists.
    pub fn project_plan(&self, project: &Project, flags: &PlanFlags) -> miette::Result<PlanAnswer> {
        match self {
            Via::InProcess(h) => {
                let mut waiting = Waiting::new(&project.name);
                let prepared = waiting.retry_local(|| h.prepare_up(project, flags))?;
                Ok(prepared.answer)
            }
            Via::Daemon(c) => {
                let path = paths::project_plan(&project.name);
                let body = UpRequest::new(project, flags.clone(), None);
                let mut waiting = Waiting::new(&project.name);
                loop {
                    match c.send_json(Method::POST, &path, &body) {
                        Err(err) if waiting.busy(&err) => continue,
                        answer => return answer.map_err(remote),
                    }
                }
            }
        }
    }

    /// Plans and applies `up`, handing each step to `each`.
    pub fn project_up(
        &self,
        project: &Project,
        flags: &PlanFlags,
        parallel: Option<usize>,
        each: Each<'_>,
    ) -> miette::Result<()> {
        match self {
            Via::InProcess(h) => {
                let mut waiting = Waiting::new(&project.name);
                let prepared = waiting.retry_local(|| h.prepare_up(project, flags))?;
                let emit = |e: ProjectEvent| each(&e);
                h.run_up(project, prepared, parallel, &emit).map_err(api)
            }
            Via::Daemon(c) => {
                let body = UpRequest::new(project, flags.clone(), parallel);
                let path = paths::project_up(&project.name);
                follow_progress(c, &project.name, &path, &body, "up", each)
            }
        }
    }

    /// Takes the project `name` down, handing each step to `each`.
    pub fn project_down(
        &self,
        name: &str,
        req: &DownRequest,
        each: Each<'_>,
    ) -> miette::Result<()> {
        match self {
            Via::InProcess(h) => {
                let mut waiting = Waiting::new(name);
                let prepared = waiting.retry_local(|| h.prepare_down(name, req))?;
                let emit = |e: ProjectEvent| each(&e);
                h.run_down(prepared, &emit).map_err(api)
            }
            Via::Daemon(c) => {
                let path = paths::project_down(name);
                follow_progress(c, name, &path, req, "down", each)
            }
        }
    }

    /// The projects of this host, their containers counted by status.
    pub fn list_projects(&self) -> miette::Result<Vec<ProjectSummary>> {
        match self {
            Via::InProcess(h) => h.list_projects().map_err(api),
            Via::Daemon(c) => c.get(paths::PROJECTS).map_err(remote),
        }
    }

    /// The rows of `stack ps` (publishers empty).
    pub fn ps_rows(
        &self,
        name: &str,
        all: bool,
        services: &[String],
    ) -> miette::Result<Vec<PsRow>> {
        match self {
            Via::InProcess(h) => h.ps_rows(name, all, services).map_err(api),
            Via::Daemon(c) => {
                let mut path = format!("{}?all={all}", paths::project_containers(name));
                if !services.is_empty() {
                    path.push_str(&format!("&service={}", encode(&services.join(","))));
                }
                c.get(&path).map_err(remote)
            }
        }
    }

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

/// Sends a request answered by a progress stream; the stream's `failed`
/// line, or its end without a last line, is the error.
fn follow_progress(
    c: &Client,
    project: &str,
    path: &str,
    body: &impl serde::Serialize,
    verb: &str,
    each: Each<'_>,
) -> miette::Result<()> {
    let bytes = serde_json::to_vec(body).into_diagnostic()?;
    let mut end: Option<Result<(), String>> = None;
    let mut waiting = Waiting::new(project);
    loop {
        let answer = c.stream(
            Method::POST,
            path,
            Some(bytes.clone()),
            |e: ProjectEvent| {
                match &e {
                    ProjectEvent::Finished => end = Some(Ok(())),
                    ProjectEvent::Failed { message, .. } => end = Some(Err(message.clone())),
                    _ => {}
                }
                each(&e);
                true
            },
        );
        match answer {
            Err(err) if waiting.busy(&err) => continue,
            answer => break answer.map_err(remote)?,
        }
    }
    match end {
        Some(Ok(())) => Ok(()),
        Some(Err(message)) => Err(miette::miette!("{message}")),
        None => Err(miette::miette!(
            "the stack daemon at {} stopped answering before `{verb}` finished; run `{verb}` again to converge",
            c.socket().display()
        )),
    }
}

/// How often a change refused because the project is busy is tried again.
const BUSY_RETRY: Duration = Duration::from_millis(100);

/// Waits out another change of the same project (an `up`, `down` or verb
/// of another `stack` process, or one the daemon is still applying for a
/// client that left), saying so once. Both paths take the engine's
/// project lock; a refusal of it is a 409 either way.
pub struct Waiting<'a> {
    project: &'a str,
    said: bool,
}

impl<'a> Waiting<'a> {
    pub fn new(project: &'a str) -> Self {
        Waiting {
            project,
            said: false,
        }
    }

    /// True (after a pause) when `err` is the daemon's "project busy".
    pub fn busy(&mut self, err: &ClientError) -> bool {
        matches!(err, ClientError::Api { status: 409, .. }) && self.pause()
    }

    /// Runs `attempt` (in process) until the project is free.
    pub fn retry_local<T>(
        &mut self,
        mut attempt: impl FnMut() -> Result<T, EngineError>,
    ) -> miette::Result<T> {
        loop {
            match attempt() {
                Err(err) if err.is_busy() && self.pause() => continue,
                other => return other.map_err(api),
            }
        }
    }

    fn pause(&mut self) -> bool {
        if !self.said {
            eprintln!(
                "waiting for another change of project {} to finish",
                self.project
            );
            self.said = true;
        }
        std::thread::sleep(BUSY_RETRY);
        true
    }
}

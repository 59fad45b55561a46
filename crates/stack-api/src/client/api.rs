//! The [`Api`] over the socket: each operation is one route of
//! [`paths`](crate::paths), its answer decoded from JSON or followed as a
//! stream.

use std::collections::BTreeMap;

use super::{encode, Client, ClientError, Method};
use crate::api::{Api, Progress};
use crate::error::{ErrorClass, Failure};
use crate::objects::{
    NetworkCreateRequest, NetworkPruneResult, NetworkSummary, VolumeCreateRequest,
    VolumePruneResult, VolumeSummary,
};
use crate::paths;
use crate::project_actions::{ActionAnswer, ActionRequest, ProjectAction};
use crate::projects::{
    DownRequest, PlanAnswer, PlanFlags, ProjectEvent, ProjectSummary, PsRow, UpRequest,
};
use crate::system::{
    ContainerFilter, ContainerSummary, ContainerUpdate, ExecRequest, ExecResult, ImageSummary,
    LogRecord, PruneResult, PullEvent, PullRequest, RemovedImage,
};

impl From<ClientError> for Failure {
    fn from(err: ClientError) -> Failure {
        let class = match &err {
            ClientError::Api { status, kind, .. } => {
                ErrorClass::from_word(kind).unwrap_or(match status {
                    404 => ErrorClass::NotFound,
                    409 => ErrorClass::Conflict,
                    400..=499 => ErrorClass::InvalidInput,
                    503 => ErrorClass::Unavailable,
                    _ => ErrorClass::Internal,
                })
            }
            ClientError::Connect { .. } => ErrorClass::Unavailable,
            ClientError::Protocol { .. } => ErrorClass::Internal,
        };
        Failure::new(class, err.to_string())
    }
}

impl Client {
    fn post(&self, path: &str) -> Result<(), Failure> {
        self.call(Method::POST, path)?;
        Ok(())
    }

    /// A request answered by a progress stream; the stream's `failed`
    /// line, or its end without a last line, is the failure.
    fn follow_progress(
        &self,
        path: &str,
        body: &impl serde::Serialize,
        verb: &str,
        progress: Progress<'_>,
    ) -> Result<(), Failure> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Failure::new(ErrorClass::Internal, format!("{verb} request: {e}")))?;
        let mut end: Option<Result<(), Failure>> = None;
        self.stream(Method::POST, path, Some(bytes), |e: ProjectEvent| {
            match &e {
                ProjectEvent::Finished => end = Some(Ok(())),
                ProjectEvent::Failed { message, kind } => {
                    let class = kind
                        .as_deref()
                        .and_then(ErrorClass::from_word)
                        .unwrap_or(ErrorClass::Internal);
                    end = Some(Err(Failure::new(class, message.clone())));
                }
                _ => {}
            }
            progress(&e);
            true
        })?;
        end.unwrap_or_else(|| {
            Err(Failure::new(
                ErrorClass::Unavailable,
                format!(
                    "the stack daemon at {} stopped answering before `{verb}` finished; run `{verb}` again to converge",
                    self.socket().display()
                ),
            ))
        })
    }
}

impl Api for Client {
    fn list_containers(&self, filter: &ContainerFilter) -> Result<Vec<ContainerSummary>, Failure> {
        let mut query = format!("{}?all={}", paths::CONTAINERS, filter.all);
        for (key, value) in [
            ("label", &filter.label),
            ("name", &filter.name),
            ("status", &filter.status),
            ("project", &filter.project),
        ] {
            if let Some(v) = value {
                query.push_str(&format!("&{key}={}", encode(v)));
            }
        }
        Ok(self.get(&query)?)
    }

    fn inspect_container(&self, key: &str) -> Result<serde_json::Value, Failure> {
        Ok(self.get(&paths::container(key))?)
    }

    fn container_logs(
        &self,
        key: &str,
        follow: bool,
        emit: &mut dyn FnMut(&LogRecord) -> bool,
    ) -> Result<(), Failure> {
        let path = format!("{}?follow={follow}", paths::container_logs(key));
        Ok(self.stream(Method::GET, &path, None, |r: LogRecord| emit(&r))?)
    }

    fn start_container(&self, key: &str) -> Result<(), Failure> {
        self.post(&paths::container_start(key))
    }

    fn stop_container(&self, key: &str, grace: Option<u64>) -> Result<(), Failure> {
        let t = grace.map(|t| format!("?t={t}")).unwrap_or_default();
        self.post(&format!("{}{t}", paths::container_stop(key)))
    }

    fn restart_container(&self, key: &str, grace: Option<u64>) -> Result<(), Failure> {
        let t = grace.map(|t| format!("?t={t}")).unwrap_or_default();
        self.post(&format!("{}{t}", paths::container_restart(key)))
    }

    fn kill_container(&self, key: &str, signal: &str) -> Result<(), Failure> {
        self.post(&format!(
            "{}?signal={}",
            paths::container_kill(key),
            encode(signal)
        ))
    }

    fn pause_container(&self, key: &str) -> Result<(), Failure> {
        self.post(&paths::container_pause(key))
    }

    fn unpause_container(&self, key: &str) -> Result<(), Failure> {
        self.post(&paths::container_unpause(key))
    }

    fn update_container(
        &self,
        key: &str,
        update: &ContainerUpdate,
    ) -> Result<ContainerUpdate, Failure> {
        Ok(self.send_json(Method::POST, &paths::container_update(key), update)?)
    }

    fn remove_container(&self, key: &str, force: bool) -> Result<(), Failure> {
        let path = format!("{}?force={force}", paths::container(key));
        self.call(Method::DELETE, &path)?;
        Ok(())
    }

    fn exec_captured(&self, key: &str, req: &ExecRequest) -> Result<ExecResult, Failure> {
        Ok(self.send_json(Method::POST, &paths::container_exec(key), req)?)
    }

    fn list_images(&self) -> Result<Vec<ImageSummary>, Failure> {
        Ok(self.get(paths::IMAGES)?)
    }

    fn remove_image(&self, name: &str) -> Result<RemovedImage, Failure> {
        Ok(self.send_json(Method::DELETE, &paths::image(name), &())?)
    }

    fn prune_images(&self, all: bool) -> Result<PruneResult, Failure> {
        let path = format!("{}?all={all}", paths::IMAGES_PRUNE);
        Ok(self.send_json(Method::POST, &path, &())?)
    }

    fn pull_image(
        &self,
        reference: &str,
        platform: Option<&str>,
        emit: &(dyn Fn(PullEvent) + Send + Sync),
    ) -> Result<(), Failure> {
        let request = PullRequest {
            reference: reference.to_string(),
            platform: platform.map(str::to_string),
        };
        let body = serde_json::to_vec(&request)
            .map_err(|e| Failure::new(ErrorClass::Internal, format!("pull request: {e}")))?;
        let mut failure = None;
        self.stream(
            Method::POST,
            paths::IMAGES_PULL,
            Some(body),
            |e: PullEvent| {
                match e {
                    // The stream's last line on failure: the call's error, as
                    // in process.
                    PullEvent::Error { message } => failure = Some(message),
                    event => emit(event),
                }
                true
            },
        )?;
        match failure {
            Some(message) => Err(Failure::new(ErrorClass::Internal, message)),
            None => Ok(()),
        }
    }

    fn list_networks(&self) -> Result<Vec<NetworkSummary>, Failure> {
        Ok(self.get(paths::NETWORKS)?)
    }

    fn inspect_network(&self, name: &str) -> Result<NetworkSummary, Failure> {
        Ok(self.get(&paths::network(name))?)
    }

    fn create_network(&self, req: &NetworkCreateRequest) -> Result<NetworkSummary, Failure> {
        Ok(self.send_json(Method::POST, paths::NETWORKS, req)?)
    }

    fn remove_network(&self, name: &str) -> Result<(), Failure> {
        self.call(Method::DELETE, &paths::network(name))?;
        Ok(())
    }

    fn prune_networks(&self) -> Result<NetworkPruneResult, Failure> {
        Ok(self.send_json(Method::POST, paths::NETWORKS_PRUNE, &())?)
    }

    fn list_volumes(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<VolumeSummary>, Failure> {
        let mut path = paths::VOLUMES.to_string();
        if !filters.is_empty() {
            let json = serde_json::to_string(filters)
                .map_err(|e| Failure::new(ErrorClass::InvalidInput, format!("filters: {e}")))?;
            path.push_str(&format!("?filters={}", encode(&json)));
        }
        Ok(self.get(&path)?)
    }

    fn inspect_volume(&self, name: &str) -> Result<VolumeSummary, Failure> {
        Ok(self.get(&paths::volume(name))?)
    }

    fn create_volume(&self, req: &VolumeCreateRequest) -> Result<VolumeSummary, Failure> {
        Ok(self.send_json(Method::POST, paths::VOLUMES, req)?)
    }

    fn remove_volume(&self, name: &str, force: bool) -> Result<(), Failure> {
        let path = format!("{}?force={force}", paths::volume(name));
        self.call(Method::DELETE, &path)?;
        Ok(())
    }

    fn prune_volumes(&self, all: bool) -> Result<VolumePruneResult, Failure> {
        let path = format!("{}?all={all}", paths::VOLUMES_PRUNE);
        Ok(self.send_json(Method::POST, &path, &())?)
    }

    fn project_plan(
        &self,
        project: &stack_spec::Project,
        flags: &PlanFlags,
    ) -> Result<PlanAnswer, Failure> {
        let body = UpRequest::new(project, flags.clone(), None);
        Ok(self.send_json(Method::POST, &paths::project_plan(&project.name), &body)?)
    }

    fn project_up(
        &self,
        project: &stack_spec::Project,
        flags: &PlanFlags,
        parallel: Option<usize>,
        progress: Progress<'_>,
    ) -> Result<(), Failure> {
        let body = UpRequest::new(project, flags.clone(), parallel);
        self.follow_progress(&paths::project_up(&project.name), &body, "up", progress)
    }

    fn project_down(
        &self,
        name: &str,
        req: &DownRequest,
        progress: Progress<'_>,
    ) -> Result<(), Failure> {
        self.follow_progress(&paths::project_down(name), req, "down", progress)
    }

    fn list_projects(&self) -> Result<Vec<ProjectSummary>, Failure> {
        Ok(self.get(paths::PROJECTS)?)
    }

    fn project_ps(
        &self,
        name: &str,
        all: bool,
        services: &[String],
    ) -> Result<Vec<PsRow>, Failure> {
        let mut path = format!("{}?all={all}", paths::project_containers(name));
        if !services.is_empty() {
            path.push_str(&format!("&service={}", encode(&services.join(","))));
        }
        Ok(self.get(&path)?)
    }

    fn project_action(
        &self,
        name: &str,
        action: ProjectAction,
        req: &ActionRequest,
    ) -> Result<ActionAnswer, Failure> {
        Ok(self.send_json(Method::POST, &action.path(name), req)?)
    }
}

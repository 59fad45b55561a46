//! The [`Api`] in process: each operation is the facade's own method, its
//! error turned into the [`Failure`] a client would have read from the
//! daemon (the same class and the same words).

use std::collections::BTreeMap;

use stack_api::api::{Api, Progress};
use stack_api::error::Failure;
use stack_api::objects::{
    NetworkCreateRequest, NetworkPruneResult, NetworkSummary, VolumeCreateRequest,
    VolumePruneResult, VolumeSummary,
};
use stack_api::project_actions::{ActionAnswer, ActionRequest, ProjectAction};
use stack_api::projects::{
    DownRequest, PlanAnswer, PlanFlags, ProjectEvent, ProjectSummary, PsRow,
};
use stack_api::system::{
    ContainerFilter, ContainerSummary, ContainerUpdate, ExecRequest, ExecResult, ImageSummary,
    LogRecord, PruneResult, PullEvent, RemovedImage,
};

use super::{Engine, EngineError};
use crate::error_class::Classify;

impl From<EngineError> for Failure {
    fn from(err: EngineError) -> Failure {
        Failure::new(err.class(), err.to_string())
    }
}

impl Api for Engine {
    fn list_containers(&self, filter: &ContainerFilter) -> Result<Vec<ContainerSummary>, Failure> {
        Ok(Engine::list_containers(self, filter))
    }

    fn inspect_container(&self, key: &str) -> Result<serde_json::Value, Failure> {
        Ok(Engine::inspect(self, key)?)
    }

    fn container_logs(
        &self,
        key: &str,
        follow: bool,
        emit: &mut dyn FnMut(&LogRecord) -> bool,
    ) -> Result<(), Failure> {
        Ok(Engine::log_source(self, key)?.read(follow, emit)?)
    }

    fn start_container(&self, key: &str) -> Result<(), Failure> {
        Engine::start(self, key)?;
        Ok(())
    }

    fn stop_container(&self, key: &str, grace: Option<u64>) -> Result<(), Failure> {
        Engine::stop(self, key, grace)?;
        Ok(())
    }

    fn restart_container(&self, key: &str, grace: Option<u64>) -> Result<(), Failure> {
        Ok(Engine::restart(self, key, grace)?)
    }

    fn kill_container(&self, key: &str, signal: &str) -> Result<(), Failure> {
        Ok(Engine::kill(self, key, signal)?)
    }

    fn pause_container(&self, key: &str) -> Result<(), Failure> {
        Ok(Engine::pause(self, key)?)
    }

    fn unpause_container(&self, key: &str) -> Result<(), Failure> {
        Ok(Engine::unpause(self, key)?)
    }

    fn update_container(
        &self,
        key: &str,
        update: &ContainerUpdate,
    ) -> Result<ContainerUpdate, Failure> {
        Ok(Engine::update(self, key, update)?)
    }

    fn remove_container(&self, key: &str, force: bool) -> Result<(), Failure> {
        Ok(Engine::remove(self, key, force)?)
    }

    fn exec_captured(&self, key: &str, req: &ExecRequest) -> Result<ExecResult, Failure> {
        Ok(Engine::exec(self, key, req)?)
    }

    fn list_images(&self) -> Result<Vec<ImageSummary>, Failure> {
        Ok(Engine::list_images(self)?)
    }

    fn remove_image(&self, name: &str) -> Result<RemovedImage, Failure> {
        Ok(Engine::remove_image(self, name)?)
    }

    fn prune_images(&self, all: bool) -> Result<PruneResult, Failure> {
        Ok(Engine::prune_images(self, all)?)
    }

    fn pull_image(
        &self,
        reference: &str,
        platform: Option<&str>,
        emit: &(dyn Fn(PullEvent) + Send + Sync),
    ) -> Result<(), Failure> {
        Ok(Engine::pull(self, reference, platform, emit)?)
    }

    fn list_networks(&self) -> Result<Vec<NetworkSummary>, Failure> {
        Ok(Engine::list_networks(self)?)
    }

    fn inspect_network(&self, name: &str) -> Result<NetworkSummary, Failure> {
        Ok(Engine::inspect_network(self, name)?)
    }

    fn create_network(&self, req: &NetworkCreateRequest) -> Result<NetworkSummary, Failure> {
        Ok(Engine::create_network(self, req)?)
    }

    fn remove_network(&self, name: &str) -> Result<(), Failure> {
        Ok(Engine::remove_network(self, name)?)
    }

    fn prune_networks(&self) -> Result<NetworkPruneResult, Failure> {
        Ok(Engine::prune_networks(self)?)
    }

    fn list_volumes(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<VolumeSummary>, Failure> {
        Ok(Engine::list_volumes(self, filters)?)
    }

    fn inspect_volume(&self, name: &str) -> Result<VolumeSummary, Failure> {
        Ok(Engine::inspect_volume(self, name)?)
    }

    fn create_volume(&self, req: &VolumeCreateRequest) -> Result<VolumeSummary, Failure> {
        Ok(Engine::create_volume(self, req)?.0)
    }

    fn remove_volume(&self, name: &str, force: bool) -> Result<(), Failure> {
        Ok(Engine::remove_volume(self, name, force)?)
    }

    fn prune_volumes(&self, all: bool) -> Result<VolumePruneResult, Failure> {
        Ok(Engine::prune_volumes(self, all)?)
    }

    fn project_plan(
        &self,
        project: &stack_spec::Project,
        flags: &PlanFlags,
    ) -> Result<PlanAnswer, Failure> {
        Ok(Engine::prepare_up(self, project, flags)?.answer)
    }

    fn project_up(
        &self,
        project: &stack_spec::Project,
        flags: &PlanFlags,
        parallel: Option<usize>,
        progress: Progress<'_>,
    ) -> Result<(), Failure> {
        let prepared = Engine::prepare_up(self, project, flags)?;
        let emit = |e: ProjectEvent| progress(&e);
        Ok(Engine::run_up(self, project, prepared, parallel, &emit)?)
    }

    fn project_down(
        &self,
        name: &str,
        req: &DownRequest,
        progress: Progress<'_>,
    ) -> Result<(), Failure> {
        let prepared = Engine::prepare_down(self, name, req)?;
        let emit = |e: ProjectEvent| progress(&e);
        Ok(Engine::run_down(self, prepared, &emit)?)
    }

    fn list_projects(&self) -> Result<Vec<ProjectSummary>, Failure> {
        Ok(Engine::list_projects(self)?)
    }

    fn project_ps(
        &self,
        name: &str,
        all: bool,
        services: &[String],
    ) -> Result<Vec<PsRow>, Failure> {
        Ok(Engine::ps_rows(self, name, all, services)?)
    }

    fn project_action(
        &self,
        name: &str,
        action: ProjectAction,
        req: &ActionRequest,
    ) -> Result<ActionAnswer, Failure> {
        Ok(Engine::project_action(self, name, action, req)?)
    }
}

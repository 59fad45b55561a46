//! The native API as one trait: every operation a front end asks of a
//! host. The daemon's client implements it over the socket
//! ([`Client`](crate::client::Client)); the engine facade implements it in
//! process. A verb is written once against [`Api`] and runs either way,
//! with the same answers and the same [`Failure`]s.
//!
//! Streams are callbacks: each item is handed over as it arrives, and a
//! callback that returns false ends the stream.

use std::collections::BTreeMap;

use crate::error::Failure;
use crate::objects::{
    NetworkCreateRequest, NetworkPruneResult, NetworkSummary, VolumeCreateRequest,
    VolumePruneResult, VolumeSummary,
};
use crate::project_actions::{ActionAnswer, ActionRequest, ProjectAction};
use crate::projects::{DownRequest, PlanAnswer, PlanFlags, ProjectEvent, ProjectSummary, PsRow};
use crate::system::{
    ContainerFilter, ContainerSummary, ContainerUpdate, ExecRequest, ExecResult, ImageSummary,
    LogRecord, PruneResult, PullEvent, RemovedImage,
};

/// Receives each progress event of `up` and `down`.
pub type Progress<'a> = &'a (dyn Fn(&ProjectEvent) + Sync);

/// Every operation of one host, wherever it runs.
pub trait Api {
    // Containers.
    fn list_containers(&self, filter: &ContainerFilter) -> Result<Vec<ContainerSummary>, Failure>;
    /// Docker's inspect document.
    fn inspect_container(&self, key: &str) -> Result<serde_json::Value, Failure>;
    /// What the log holds, then (with `follow`) each new record until the
    /// container stops or `emit` returns false.
    fn container_logs(
        &self,
        key: &str,
        follow: bool,
        emit: &mut dyn FnMut(&LogRecord) -> bool,
    ) -> Result<(), Failure>;
    /// Already running is no error.
    fn start_container(&self, key: &str) -> Result<(), Failure>;
    /// `grace`: seconds before SIGKILL (default the container's own).
    /// Already stopped is no error.
    fn stop_container(&self, key: &str, grace: Option<u64>) -> Result<(), Failure>;
    fn restart_container(&self, key: &str, grace: Option<u64>) -> Result<(), Failure>;
    /// `signal`: a name (`TERM`, `SIGHUP`) or a number.
    fn kill_container(&self, key: &str, signal: &str) -> Result<(), Failure>;
    /// Freezes a running container; one not running or already paused is
    /// a conflict.
    fn pause_container(&self, key: &str) -> Result<(), Failure>;
    /// Thaws a paused container; one not paused is a conflict.
    fn unpause_container(&self, key: &str) -> Result<(), Failure>;
    /// New limits and restart policy, live when it runs and kept; answers
    /// every value now in force.
    fn update_container(
        &self,
        key: &str,
        update: &ContainerUpdate,
    ) -> Result<ContainerUpdate, Failure>;
    fn remove_container(&self, key: &str, force: bool) -> Result<(), Failure>;
    /// Runs a command to completion with its output captured.
    fn exec_captured(&self, key: &str, req: &ExecRequest) -> Result<ExecResult, Failure>;

    // Images.
    fn list_images(&self) -> Result<Vec<ImageSummary>, Failure>;
    fn remove_image(&self, name: &str) -> Result<RemovedImage, Failure>;
    fn prune_images(&self, all: bool) -> Result<PruneResult, Failure>;
    /// Pulls one image, each step to `emit`; the last event of a success
    /// is `Pulled`, a failure is the error.
    fn pull_image(
        &self,
        reference: &str,
        platform: Option<&str>,
        emit: &(dyn Fn(PullEvent) + Send + Sync),
    ) -> Result<(), Failure>;

    // Networks and volumes.
    fn list_networks(&self) -> Result<Vec<NetworkSummary>, Failure>;
    fn inspect_network(&self, name: &str) -> Result<NetworkSummary, Failure>;
    fn create_network(&self, req: &NetworkCreateRequest) -> Result<NetworkSummary, Failure>;
    fn remove_network(&self, name: &str) -> Result<(), Failure>;
    fn prune_networks(&self) -> Result<NetworkPruneResult, Failure>;
    /// `filters`: Docker's map (`{"label": ["k=v"]}`).
    fn list_volumes(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<VolumeSummary>, Failure>;
    fn inspect_volume(&self, name: &str) -> Result<VolumeSummary, Failure>;
    /// An existing name is kept and answered.
    fn create_volume(&self, req: &VolumeCreateRequest) -> Result<VolumeSummary, Failure>;
    /// With `force`, a missing volume is no error.
    fn remove_volume(&self, name: &str, force: bool) -> Result<(), Failure>;
    fn prune_volumes(&self, all: bool) -> Result<VolumePruneResult, Failure>;

    // Projects. A change refused because another change of the project is
    // under way fails with a busy [`Failure`] before it starts.
    /// The plan of `up` (what `--dry-run` prints).
    fn project_plan(
        &self,
        project: &stack_spec::Project,
        flags: &PlanFlags,
    ) -> Result<PlanAnswer, Failure>;
    /// Plans and applies `up`, each step to `progress`.
    fn project_up(
        &self,
        project: &stack_spec::Project,
        flags: &PlanFlags,
        parallel: Option<usize>,
        progress: Progress<'_>,
    ) -> Result<(), Failure>;
    /// Takes the project down (no stack file needed), each step to `progress`.
    fn project_down(
        &self,
        name: &str,
        req: &DownRequest,
        progress: Progress<'_>,
    ) -> Result<(), Failure>;
    /// The projects of this host, their containers counted by status.
    fn list_projects(&self) -> Result<Vec<ProjectSummary>, Failure>;
    /// The rows of `ps` for a project (only `services` when some are named).
    fn project_ps(&self, name: &str, all: bool, services: &[String])
        -> Result<Vec<PsRow>, Failure>;
    /// `start`, `stop`, `restart`, `kill`, `pause`, `unpause` or `rm` of a
    /// project's services.
    fn project_action(
        &self,
        name: &str,
        action: ProjectAction,
        req: &ActionRequest,
    ) -> Result<ActionAnswer, Failure>;
}

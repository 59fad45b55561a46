//! `RUN`: the command in a container of stack's own runtime, on an
//! overlay of the stage's layers; what it changed (the overlay's upper
//! directory, minus the mount points the runtime made) becomes a layer.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use crate::containers::{
    Attach, ContainerRecord, Containers, ImageConfig, ImageSource, LogFollower, NetworkMode,
    NetworkOptions, ProcessOverrides, RunOptions,
};

use super::layers::{lower_dirs, Layer, LayerSource, LayerStore};
use super::stage::StageState;
use super::BuildError;

/// How often the step's output is looked at.
const POLL: Duration = Duration::from_millis(20);

/// The label that marks a build step's container (so `ps -a` and a
/// sweep can tell them from the user's).
pub const BUILD_STEP_LABEL: &str = "org.stack.build-step";

/// The label naming the build (its scratch directory under `build-tmp`)
/// a step container belongs to, so a sweep can tell a running build's
/// steps from those a killed build left.
pub const BUILD_OWNER_LABEL: &str = "org.stack.build-owner";

/// A `RUN` ready to execute.
pub struct RunStep<'a> {
    pub argv: Vec<String>,
    /// `RUN --network`: `default` (the default bridge), `none`, `host`.
    pub network: Option<&'a str>,
    /// Where the step is, for messages (`Dockerfile:7`).
    pub at: &'a str,
    /// The build it belongs to (its `BUILD_OWNER_LABEL`).
    pub owner: &'a str,
    /// Cancelled: the command is killed and its container removed.
    pub cancel: &'a super::CancellationToken,
    /// `RUN --mount`s as `stack run` takes them.
    pub volumes: Vec<String>,
    pub tmpfs: Vec<String>,
}

impl RunStep<'_> {
    /// Runs the step on `stage` and answers its layer (none when it
    /// changed nothing). `output` gets each line the command prints.
    pub fn execute(
        &self,
        containers: &Containers,
        store: &dyn LayerStore,
        stage: &StageState,
        scratch: &std::path::Path,
        output: &mut dyn FnMut(&str),
    ) -> Result<Option<Layer>, BuildError> {
        let mut lowers = lower_dirs(stage);
        if lowers.is_empty() {
            // FROM scratch: overlay needs one lower directory.
            let empty = scratch.join("empty-lower");
            std::fs::create_dir_all(&empty).map_err(BuildError::io(&empty))?;
            lowers.push(empty);
        }
        let mode = match self.network.unwrap_or("default") {
            "default" => NetworkMode::Default,
            "none" => NetworkMode::None,
            "host" => NetworkMode::Host,
            other => {
                return Err(BuildError::Invalid(format!(
                    "{}: RUN --network={other}: expected default, none or host",
                    self.at
                )))
            }
        };
        let config = &stage.config;
        let opts = RunOptions {
            process: ProcessOverrides {
                entrypoint: Some(String::new()),
                cmd: self.argv.clone(),
                env: stage.run_env(),
                user: (!config.user.is_empty()).then(|| config.user.clone()),
                workdir: Some(if config.working_dir.is_empty() {
                    "/".to_string()
                } else {
                    config.working_dir.clone()
                }),
                ..ProcessOverrides::default()
            },
            network: NetworkOptions {
                mode,
                ..NetworkOptions::default()
            },
            labels: [
                (BUILD_STEP_LABEL.to_string(), self.at.to_string()),
                (BUILD_OWNER_LABEL.to_string(), self.owner.to_string()),
            ]
            .into_iter()
            .collect(),
            volumes: self.volumes.clone(),
            tmpfs: self.tmpfs.clone(),
            ..RunOptions::default()
        };
        let source = ImageSource::Layers {
            lower_dirs: lowers.clone(),
            config: ImageConfig::default(),
        };
        let record = containers.create(&source, &opts)?;
        let result = self.run_and_take_layer(containers, store, &record, &lowers, output);
        let _ = containers.remove(&record, true);
        result
    }

    fn run_and_take_layer(
        &self,
        containers: &Containers,
        store: &dyn LayerStore,
        record: &ContainerRecord,
        lowers: &[PathBuf],
        output: &mut dyn FnMut(&str),
    ) -> Result<Option<Layer>, BuildError> {
        let mut logs = LogFollower::new(std::slice::from_ref(record));
        let started = containers.start(record, Attach::Detached)?;
        let (done_tx, done) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = done_tx.send(started.wait());
        });
        let exit = loop {
            for (_, line) in logs.read_new() {
                output(line.log.trim_end_matches('\n'));
            }
            if self.cancel.is_cancelled() {
                // `execute` removes the container, killing what runs.
                return Err(BuildError::Cancelled);
            }
            match done.recv_timeout(POLL) {
                Ok(exit) => break exit?,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(BuildError::Invalid(format!(
                        "{}: the step's container ended without an exit status",
                        self.at
                    )))
                }
            }
        };
        // What the command printed last, and any unfinished last line.
        std::thread::sleep(POLL);
        for (_, line) in logs.read_new() {
            output(line.log.trim_end_matches('\n'));
        }
        if exit.code != 0 {
            return Err(BuildError::RunFailed {
                at: self.at.to_string(),
                command: self.argv.join(" "),
                code: exit.code,
            });
        }
        let upper = record.dir.upper();
        stack_runtime::mount_stubs::remove_from_upper(&record.spec, &upper, lowers)
            .map_err(BuildError::io(&upper))?;
        let empty = std::fs::read_dir(&upper)
            .map_err(BuildError::io(&upper))?
            .next()
            .is_none();
        if empty {
            return Ok(None);
        }
        store.add_layer(&upper, LayerSource::OverlayUpper).map(Some)
    }
}

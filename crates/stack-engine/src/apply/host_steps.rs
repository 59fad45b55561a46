//! The real [`Steps`]: images through [`Images`], containers through
//! [`Containers::create`]/`start`/`remove`, each change recorded in the
//! store in one transaction and announced in the event log.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use stack_runtime::event_log::{self, EventRecord};
use stack_runtime::launch::Attach;
use stack_runtime::spec::{ContainerDir, ContainerSpec};
use stack_runtime::state::State;
use stack_spec::Project;

use super::gate::HostObserver;
use super::observe::store_state;
use super::run_plan::Steps;
use super::service_options::{run_options, Slot};
use super::step_error::StepErrorKind;
use super::Host;
use crate::containers::network::admin;
use crate::containers::{ContainerError, ContainerRecord, ImageSource};
use crate::images::{Images, Reference};
use crate::plan::DesiredProject;
use crate::store::{self, NetworkRecord, VolumeRecord};
use crate::supervise::{
    self, evaluate_dependency, Condition, Dependency, GateState, ServiceObserver, SystemClock,
};
use stack_runtime::state::Status;

/// Receives `(container name, state, still waiting)` for each container of
/// a dependency a gate waits on: `Waiting`, then `Healthy` or `Exited`.
pub type GateReport<'a> = dyn Fn(&str, &str, bool) + Sync + 'a;

fn no_report(_: &str, _: &str, _: bool) {}

/// How often a waiting `depends_on` gate looks again. Reading a few
/// `state.json` files is cheap; Compose's 500 ms shows in every start.
const GATE_POLL: Duration = Duration::from_millis(50);

/// The steps of one `up` or `down` of one project.
pub struct HostSteps<'a> {
    pub host: &'a Host,
    /// `None` for `down` without a stack file.
    pub project: Option<&'a Project>,
    pub desired: Option<&'a DesiredProject>,
    pub project_name: &'a str,
    /// `-t`: overrides each container's stop grace period.
    pub stop_timeout: Option<Duration>,
    /// Reference as written -> digest, filled as images are resolved.
    pub digests: Mutex<BTreeMap<String, String>>,
    images: Mutex<Option<std::sync::Arc<Images>>>,
    /// Hears the containers a gate waits for (`Waiting`, then `Healthy` or
    /// `Exited`), so `up` can say what it waits for, as Compose does.
    pub gate_report: Option<&'a GateReport<'a>>,
    /// Held during a pull. Two pulls at once that share a layer (redis is
    /// built on busybox's) race on that blob's file in the image store, so
    /// images are pulled one at a time; each pull still fetches its layers
    /// in parallel.
    pulling: Mutex<()>,
}

impl<'a> HostSteps<'a> {
    pub fn new(
        host: &'a Host,
        project: Option<&'a Project>,
        desired: Option<&'a DesiredProject>,
        project_name: &'a str,
    ) -> HostSteps<'a> {
        HostSteps {
            host,
            project,
            desired,
            project_name,
            stop_timeout: None,
            gate_report: None,
            digests: Mutex::new(BTreeMap::new()),
            images: Mutex::new(None),
            pulling: Mutex::new(()),
        }
    }

    /// The names of the containers of one service of this project.
    fn container_names(&self, service: &str) -> Vec<String> {
        self.host
            .containers
            .of_project(self.project_name)
            .into_iter()
            .filter(|r| {
                crate::labels::membership(&r.spec.labels).is_some_and(|m| m.service == service)
            })
            .map(|r| r.spec.name)
            .collect()
    }

    fn images(&self) -> Result<std::sync::Arc<Images>, StepErrorKind> {
        let mut slot = self.images.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(images) = slot.as_ref() {
            return Ok(images.clone());
        }
        let images = Images::open(&self.host.paths, &self.host.config).map_err(|source| {
            StepErrorKind::Image {
                context: "open the image store".into(),
                source,
            }
        })?;
        let images = std::sync::Arc::new(images);
        *slot = Some(images.clone());
        Ok(images)
    }

    /// The digest of `reference` as present locally, if it is.
    pub fn local_digest(&self, reference: &str) -> Option<String> {
        let images = self.images().ok()?;
        let image = images.store().find(reference).ok()?;
        let digest = image.manifest.to_string();
        self.digests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(reference.to_string(), digest.clone());
        Some(digest)
    }

    /// The record of container `id`, read from its directory directly (a
    /// lookup through the whole list would make big stacks quadratic).
    fn record(&self, id: &str) -> Result<Option<ContainerRecord>, StepErrorKind> {
        let dir = ContainerDir::new(self.host.paths.state_root.join("containers").join(id));
        if !dir.spec().exists() {
            if dir.state().exists() {
                return Err(StepErrorKind::MissingSpec {
                    id: id.to_string(),
                    path: dir.spec(),
                });
            }
            return Ok(None);
        }
        let runtime = |source| StepErrorKind::Runtime {
            context: format!("container {id}"),
            source,
        };
        let spec = ContainerSpec::load(&dir).map_err(runtime)?;
        let state = State::load(&dir).map_err(runtime)?;
        Ok(Some(ContainerRecord { dir, spec, state }))
    }

    fn event(&self, record: &ContainerRecord, action: &str) {
        let mut event = EventRecord::now("container", action, &record.spec.id, &record.spec.name);
        for (k, v) in &record.spec.labels {
            event = event.with(k, v.clone());
        }
        let _ = event_log::append(&self.host.paths.state_root, &event);
    }

    /// Starts a created container and records its new state; a container
    /// that cannot start is removed again, so nothing is left half-made.
    fn launch(&self, record: &ContainerRecord, fresh: bool) -> Result<(), StepErrorKind> {
        let name = &record.spec.name;
        if let Err(err) = self.host.containers.start(record, Attach::Detached) {
            if fresh {
                let _ = self.host.containers.remove(record, true);
                let _ = self
                    .host
                    .store
                    .write(|w| w.remove_container(&record.spec.id));
                self.event(record, "destroy");
            }
            return Err(StepErrorKind::Container {
                context: format!("start {name}"),
                source: err,
            });
        }
        let now = store::now_ms();
        let current = self
            .record(&record.spec.id)?
            .ok_or_else(|| StepErrorKind::Gone { what: name.clone() })?;
        self.host
            .store
            .write(|w| {
                if let Some(mut row) = w.read().container(&record.spec.id)? {
                    row.state = store_state(&current);
                    row.pid = current.state.pid;
                    row.exit_code = current.state.exit_code;
                    row.started_at_ms = Some(now);
                    row.manual_stop = false;
                    w.update_container(&row)?;
                }
                Ok(())
            })
            .map_err(store_error(format!("record {name}")))
    }

    fn stop(&self, record: &ContainerRecord) -> Result<(), StepErrorKind> {
        if record.state.effective_status() != stack_runtime::state::Status::Running {
            return Ok(());
        }
        let grace = self
            .stop_timeout
            .unwrap_or(Duration::from_secs(record.spec.stop_timeout));
        stack_runtime::control::stop(&record.dir, grace).map_err(|source| {
            StepErrorKind::Runtime {
                context: format!("stop {}", record.spec.name),
                source,
            }
        })?;
        self.event(record, "stop");
        Ok(())
    }
}

impl Steps for HostSteps<'_> {
    fn pull(&self, reference: &str) -> Result<(), StepErrorKind> {
        let _one_at_a_time = self.pulling.lock().unwrap_or_else(|p| p.into_inner());
        let images = self.images()?;
        let parsed = Reference::parse(reference).map_err(|source| StepErrorKind::Image {
            context: format!("image {reference}"),
            source,
        })?;
        // The plan's `pull` action reports the image (` Image busybox
        // Pulled`) through the verb's printer, the same line on both paths;
        // layer lines here would go to whichever process does the work.
        images
            .pull(&[parsed], &crate::images::progress::Quiet, |_| {})
            .map_err(|source| StepErrorKind::Image {
                context: format!("pull {reference}"),
                source,
            })?;
        self.local_digest(reference);
        Ok(())
    }

    fn build(&self, service: &str) -> Result<(), StepErrorKind> {
        let _one_at_a_time = self.pulling.lock().unwrap_or_else(|p| p.into_inner());
        let image = super::build_step::build(self.host, self.project, service)?;
        self.local_digest(&image);
        Ok(())
    }

    fn create_network(&self, key: &str, name: &str) -> Result<(), StepErrorKind> {
        let desired = self.desired.and_then(|d| d.networks.get(key));
        let config = desired.map(|n| n.config.clone()).unwrap_or_default();
        let spec = self.project.and_then(|p| p.networks.get(key));
        let options = network_options(self.project_name, key, name, spec)?;
        let exists = crate::containers::network::network_exists(&self.host.paths.state_root, name);
        if !exists {
            admin::create(&self.host.containers, &options).map_err(network_error(name))?;
        }
        let row = NetworkRecord {
            name: name.to_string(),
            project: Some(self.project_name.to_string()),
            key: key.to_string(),
            driver: "bridge".into(),
            config_hash: config.hash(),
            config_fields: config.as_map().clone(),
            subnet: options.subnet.map(|n| n.to_string()),
            gateway: options.gateway.map(|g| g.to_string()),
            bridge: None,
            external: false,
            created_at_ms: store::now_ms(),
        };
        self.host
            .store
            .write(|w| {
                if w.read().network(name)?.is_none() {
                    w.insert_network(&row)?;
                }
                Ok(())
            })
            .map_err(store_error(format!("network {name}")))
    }

    fn remove_network(&self, name: &str) -> Result<(), StepErrorKind> {
        match admin::remove(&self.host.containers, name) {
            Ok(()) | Err(ContainerError::NotFound(_)) => {}
            // The network is gone and only a follow-up (stopping the idle
            // DNS resolver in time) failed: the removal itself is done.
            Err(e)
                if !crate::containers::network::network_exists(
                    &self.host.paths.state_root,
                    name,
                ) =>
            {
                eprintln!("warning: network {name} removed, but: {e}");
            }
            Err(e) => return Err(network_error(name)(e)),
        }
        self.host
            .store
            .write(|w| w.remove_network(name).map(|_| ()))
            .map_err(store_error(format!("network {name}")))
    }

    fn create_volume(&self, key: &str, name: &str) -> Result<(), StepErrorKind> {
        let data = self
            .host
            .volume_dir(name)
            .map_err(|source| StepErrorKind::VolumeDir {
                key: key.to_string(),
                source: Box::new(source),
            })?
            .join("_data");
        std::fs::create_dir_all(&data).map_err(|source| StepErrorKind::Io {
            context: format!("volume {name}"),
            source,
        })?;
        let config = self
            .desired
            .and_then(|d| d.volumes.get(key))
            .map(|v| v.config.clone())
            .unwrap_or_default();
        let row = VolumeRecord {
            name: name.to_string(),
            project: Some(self.project_name.to_string()),
            key: key.to_string(),
            driver: "local".into(),
            config_hash: config.hash(),
            config_fields: config.as_map().clone(),
            external: false,
            created_at_ms: store::now_ms(),
        };
        self.host
            .store
            .write(|w| {
                if w.read().volume(name)?.is_none() {
                    w.insert_volume(&row)?;
                }
                Ok(())
            })
            .map_err(store_error(format!("volume {name}")))?;
        let _ = event_log::append(
            &self.host.paths.state_root,
            &EventRecord::now("volume", "create", name, name),
        );
        Ok(())
    }

    fn remove_volume(&self, name: &str) -> Result<(), StepErrorKind> {
        crate::volumes::remove_unused(&self.host.store, &self.host.containers, name)?;
        let _ = event_log::append(
            &self.host.paths.state_root,
            &EventRecord::now("volume", "destroy", name, name),
        );
        Ok(())
    }

    fn gate(&self, service: &str) -> Result<Vec<String>, StepErrorKind> {
        let Some(desired) = self.desired.and_then(|d| d.services.get(service)) else {
            return Ok(Vec::new());
        };
        if desired.depends_on.is_empty() {
            return Ok(Vec::new());
        }
        let deps: Vec<Dependency> = desired
            .depends_on
            .iter()
            .map(|d| Dependency {
                service: d.service.clone(),
                condition: d.condition,
                required: d.required,
            })
            .collect();
        let mut observer = HostObserver {
            containers: &self.host.containers,
            project: self.project_name,
        };
        // Compose reports the dependencies it waits on (not those that
        // need only be started): `Waiting`, then the state reached.
        let watched: Vec<&Dependency> = deps
            .iter()
            .filter(|d| d.condition != Condition::Started)
            .collect();
        let report = self.gate_report.unwrap_or(&no_report);
        for dep in &watched {
            for name in self.container_names(&dep.service) {
                report(&name, "Waiting", true);
            }
        }
        let warnings = supervise::wait_for_dependencies(
            &deps,
            &mut observer,
            &SystemClock::new(),
            GATE_POLL,
            None,
        )
        .map_err(|source| StepErrorKind::Dependency {
            service: service.to_string(),
            source,
        })?;
        for dep in watched {
            let observed = observer.observe(&dep.service);
            if evaluate_dependency(dep, observed.as_ref()) != GateState::Satisfied {
                continue; // an optional dependency that failed: a warning says so
            }
            let reached = match dep.condition {
                Condition::CompletedSuccessfully => "Exited",
                _ => "Healthy",
            };
            for name in self.container_names(&dep.service) {
                report(&name, reached, false);
            }
        }
        Ok(warnings)
    }

    fn create_container(
        &self,
        service: &str,
        replica: u32,
        name: &str,
    ) -> Result<(), StepErrorKind> {
        let (Some(project), Some(desired)) = (
            self.project,
            self.desired.and_then(|d| d.services.get(service)),
        ) else {
            return Err(StepErrorKind::UnknownService(service.to_string()));
        };
        let spec = project
            .services
            .get(service)
            .ok_or_else(|| StepErrorKind::UnknownService(service.to_string()))?;
        let hash = desired.config.hash();
        let digest = self.local_digest(&desired.image);
        let slot = Slot {
            name,
            replica,
            config_hash: &hash,
            image_digest: digest.as_deref(),
        };
        let mut opts = run_options(project, spec, &slot)?;
        opts.backend = self.host.backend;
        let record = self
            .host
            .containers
            .create(&ImageSource::Image(desired.image.clone()), &opts)
            .map_err(|source| StepErrorKind::Container {
                context: format!("create {name}"),
                source,
            })?;
        let row = store::ContainerRecord {
            id: record.spec.id.clone(),
            project: self.project_name.to_string(),
            service: service.to_string(),
            replica,
            name: name.to_string(),
            oneoff: false,
            config_hash: hash,
            config_fields: desired.config.as_map().clone(),
            image_ref: desired.image.clone(),
            image_digest: digest,
            state: Status::Created,
            health: None,
            pid: None,
            exit_code: None,
            restart_count: 0,
            manual_stop: false,
            created_at_ms: store::now_ms(),
            started_at_ms: None,
            finished_at_ms: None,
            depends_on: desired
                .depends_on
                .iter()
                .map(|d| d.service.clone())
                .collect(),
        };
        if let Err(e) = self.host.store.write(|w| w.insert_container(&row)) {
            let _ = self.host.containers.remove(&record, true);
            return Err(store_error(format!("record {name}"))(e));
        }
        self.event(&record, "create");
        self.launch(&record, true)
    }

    fn start_container(&self, id: &str) -> Result<(), StepErrorKind> {
        let record = self.record(id)?.ok_or_else(|| gone(id))?;
        if record.state.effective_status() == stack_runtime::state::Status::Running {
            return Ok(());
        }
        self.launch(&record, false)
    }

    fn restart_container(&self, id: &str) -> Result<(), StepErrorKind> {
        let record = self.record(id)?.ok_or_else(|| gone(id))?;
        self.stop(&record)?;
        let record = self.record(id)?.ok_or_else(|| gone(id))?;
        self.launch(&record, false)
    }

    fn remove_container(&self, id: &str) -> Result<(), StepErrorKind> {
        let record = match self.record(id) {
            Ok(record) => record,
            Err(err) => {
                // A damaged record: removed from what the host shows.
                let damaged = self.host.containers.damaged();
                let Some(damaged) = damaged.iter().find(|d| d.id == id) else {
                    return Err(err);
                };
                self.host
                    .containers
                    .remove_damaged(damaged)
                    .map_err(|source| StepErrorKind::Container {
                        context: format!("remove {}", damaged.name()),
                        source,
                    })?;
                None
            }
        };
        if let Some(record) = record {
            self.stop(&record)?;
            self.host
                .containers
                .remove(&record, true)
                .map_err(|source| StepErrorKind::Container {
                    context: format!("remove {}", record.spec.name),
                    source,
                })?;
            self.event(&record, "destroy");
        }
        self.host
            .store
            .write(|w| {
                w.release_ips(id)?;
                w.remove_container(id).map(|_| ())
            })
            .map_err(store_error(format!("forget container {id}")))
    }
}

/// `network create` options of a project network: its subnet and gateway
/// from `ipam.config`, `internal`, its labels plus the project's.
fn network_options(
    project: &str,
    key: &str,
    name: &str,
    spec: Option<&stack_spec::Network>,
) -> Result<admin::CreateOptions, StepErrorKind> {
    let mut options = admin::CreateOptions {
        name: name.to_string(),
        ..Default::default()
    };
    if let Some(spec) = spec {
        options.internal = spec.internal;
        options.labels = spec.labels.clone();
        let pool = spec.ipam.as_ref().and_then(|i| i.config.first());
        if let Some(subnet) = pool.and_then(|p| p.subnet.as_deref()) {
            options.subnet = Some(
                subnet
                    .parse()
                    .map_err(|_| invalid_option(key, "subnet", subnet))?,
            );
        }
        if let Some(gateway) = pool.and_then(|p| p.gateway.as_deref()) {
            options.gateway = Some(
                gateway
                    .parse()
                    .map_err(|_| invalid_option(key, "gateway", gateway))?,
            );
        }
    }
    options
        .labels
        .insert(crate::labels::PROJECT.into(), project.to_string());
    options
        .labels
        .insert("com.docker.compose.network".into(), key.to_string());
    Ok(options)
}

fn invalid_option(key: &str, field: &'static str, value: &str) -> StepErrorKind {
    StepErrorKind::NetworkOption {
        key: key.to_string(),
        field,
        value: value.to_string(),
    }
}

fn network_error(name: &str) -> impl FnOnce(ContainerError) -> StepErrorKind + '_ {
    move |source| StepErrorKind::Network {
        name: name.to_string(),
        source,
    }
}

fn store_error(context: String) -> impl FnOnce(store::StoreError) -> StepErrorKind {
    move |source| StepErrorKind::Store { context, source }
}

fn gone(id: &str) -> StepErrorKind {
    StepErrorKind::Gone {
        what: format!("container {id}"),
    }
}

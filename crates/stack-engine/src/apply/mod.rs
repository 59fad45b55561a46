//! Applying a plan on this host: `stack up` and `stack down`.
//!
//! `up`: reconcile the store with the container records, plan, pull what
//! is missing (in parallel), plan again with the digests now present, then
//! create networks and volumes and the containers wave by wave in
//! dependency order, each wave gated on its `depends_on` conditions.
//! `down`: the same reconciliation, then the down plan, in reverse order.
//!
//! Every caller gets the [`Plan`] back before anything runs, so `--dry-run`
//! prints exactly what would be done.

mod build_step;
mod gate;
mod host_steps;
mod observe;
mod run_plan;
mod service_options;
mod step_error;

use crate::error_class::{Classify, ErrorClass};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use stack_runtime::spec::{Backend, UnknownBackend};
use stack_spec::Project;

pub use gate::HostObserver;
pub use host_steps::{GateReport, HostSteps};
pub use observe::{observe, reconcile, store_state, Reconciled};
pub use run_plan::{run_plan, Outcome, Report, Steps};
pub use service_options::{
    depends_on_from_label, port_text, run_options, signal_number, OptionsError, Slot,
    DEPENDS_ON_LABEL, IMAGE_LABEL,
};
pub use step_error::{StepError, StepErrorKind};

use crate::config::Config;
use crate::containers::Containers;
use crate::paths::HostPaths;
use crate::plan::{
    self, plan_down, Action, ActionKind, DesiredProject, DownOptions, Plan, PlanError, PlanOptions,
    PullPolicy,
};
use crate::project_lock::{ProjectLock, ProjectLockError};
use crate::store::{ProjectRecord, Store, StoreError};

/// Why `up` or `down` could not run.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Volume(#[from] crate::volumes::VolumeError),
    #[error(transparent)]
    Options(#[from] OptionsError),
    /// Containers of the project have records that cannot be read; `up`
    /// would make a second container beside each. One line per container,
    /// naming the file and the way out.
    #[error("{}", .0.join("\n"))]
    Damaged(Vec<String>),
    /// Some actions failed; the report says which.
    #[error("{}", failures_text(.0))]
    Failed(Report),
    /// Another change of the project is under way.
    #[error(transparent)]
    Locked(#[from] ProjectLockError),
}

fn failures_text(report: &Report) -> String {
    let mut lines: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
    if report.skipped > 0 {
        lines.push(format!("{} later actions not run", report.skipped));
    }
    lines.join("\n")
}

/// What `up` and `down` work with on this host.
pub struct Host {
    pub paths: HostPaths,
    pub config: Config,
    pub containers: Containers,
    pub store: Store,
    /// The configured default container backend.
    pub backend: Backend,
}

impl Host {
    pub fn open(paths: &HostPaths) -> Result<Host, ApplyError> {
        Host::with_store(paths, Store::open(&paths.state_root)?)
    }

    /// Like [`Host::open`], but a damaged state database does not stop
    /// the work: it is left as found, and the host works on an empty
    /// in-memory store that reconciliation fills from the container
    /// records and the networks on the host. For `down`, which must be
    /// able to remove what is there whatever the database says. The
    /// second value is the database's error, to show as a warning.
    pub fn open_despite_damage(
        paths: &HostPaths,
    ) -> Result<(Host, Option<StoreError>), ApplyError> {
        match Store::open(&paths.state_root) {
            Ok(store) => Ok((Host::with_store(paths, store)?, None)),
            Err(err @ StoreError::Damaged { .. }) => {
                let scratch = Store::scratch(&paths.state_root)?;
                Ok((Host::with_store(paths, scratch)?, Some(err)))
            }
            Err(err) => Err(err.into()),
        }
    }

    fn with_store(paths: &HostPaths, store: Store) -> Result<Host, ApplyError> {
        let config =
            Config::load(&paths.config_file).map_err(|e| ApplyError::Config(e.to_string()))?;
        let backend = config
            .runtime
            .default
            .parse()
            .map_err(|e: UnknownBackend| {
                ApplyError::Config(format!("{}: {e}", paths.config_file.display()))
            })?;
        Ok(Host {
            containers: Containers::new(paths),
            store,
            paths: paths.clone(),
            config,
            backend,
        })
    }

    /// Directory of a named volume (`_data` inside holds its files).
    pub fn volume_dir(&self, name: &str) -> Result<PathBuf, crate::volumes::VolumeError> {
        crate::volumes::volume_dir(&self.paths.state_root, name)
    }
}

/// The flags of `stack up` that are not planning options.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub plan: PlanOptions,
    /// Actions run at once within a wave.
    pub parallel: usize,
}

/// A sensible number of actions at once: container starts mostly wait on
/// the kernel (mounts, clone, exec), so a few per CPU keep it busy without
/// the stalls unbounded parallelism gives on big stacks.
pub fn default_parallelism() -> usize {
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cpus * 4).clamp(4, 64)
}

/// The planner's view of `project` and the images it names that are present.
pub struct Prepared {
    pub desired: DesiredProject,
    pub plan: Plan,
    pub reconciled: Reconciled,
    /// Held from the plan to the end of its `up`: nothing else changes the
    /// project between what was seen and what is done.
    pub lock: ProjectLock,
}

/// Reconciles and plans `up` without changing anything but the store's
/// view of what exists (`--dry-run` stops here).
pub fn prepare_up(
    host: &Host,
    project: &Project,
    opts: &PlanOptions,
) -> Result<Prepared, ApplyError> {
    let lock = ProjectLock::claim(&host.paths.state_root, &project.name)?;
    let desired = plan::desired_from_spec(project)?;
    check_services(project)?;
    crate::volumes::require_external(&host.paths.state_root, project)?;
    let (reconciled, _) = reconcile(&host.store, &host.containers, &project.name)?;
    if !reconciled.damaged.is_empty() {
        return Err(ApplyError::Damaged(reconciled.damaged));
    }
    let steps = HostSteps::new(host, Some(project), Some(&desired), &project.name);
    let digests = local_digests(&steps, &desired);
    let observed = observe(&host.store, &project.name, &digests)?;
    let plan = plan::plan(&desired, &observed, opts)?;
    Ok(Prepared {
        desired,
        plan,
        reconciled,
        lock,
    })
}

/// Checks every service's options before anything is made, so that one
/// refused option (an unsupported key, a device that is not there, a
/// sysctl of the host's) fails `up` as a whole instead of leaving the
/// services before it running.
fn check_services(project: &Project) -> Result<(), ApplyError> {
    for (key, network) in &project.networks {
        if network.enable_ipv6 == Some(true) {
            return Err(ApplyError::Config(format!(
                "network {key}: `enable_ipv6` is not supported by stack yet (networks are IPv4 only)"
            )));
        }
    }
    for service in project.services.values() {
        let slot = Slot {
            name: &service.name,
            replica: 1,
            config_hash: "",
            image_digest: None,
        };
        let opts = run_options(project, service, &slot)?;
        crate::containers::confinement::check(&opts)
            .map_err(|e| ApplyError::Config(format!("service {}: {e}", service.name)))?;
    }
    Ok(())
}

fn local_digests(steps: &HostSteps<'_>, desired: &DesiredProject) -> BTreeMap<String, String> {
    let images: BTreeSet<&str> = desired
        .services
        .values()
        .map(|s| s.image.as_str())
        .collect();
    images
        .into_iter()
        .filter_map(|i| steps.local_digest(i).map(|d| (i.to_string(), d)))
        .collect()
}

/// Runs `up` from a prepared plan: pulls first, then plans again (a pull
/// may change a digest, which then shows as `image changed`), then the
/// rest. Returns the plan that was carried out and its report.
pub fn up(
    host: &Host,
    project: &Project,
    prepared: Prepared,
    opts: &UpOptions,
    progress: &(dyn Fn(&Action, &Outcome) + Sync),
) -> Result<(Plan, Report), ApplyError> {
    up_reporting_gates(host, project, prepared, opts, progress, &|_, _, _| {})
}

/// [`up`], telling `gates` about each container a `depends_on` gate waits
/// for (`Waiting`, then `Healthy` or `Exited`).
pub fn up_reporting_gates(
    host: &Host,
    project: &Project,
    prepared: Prepared,
    opts: &UpOptions,
    progress: &(dyn Fn(&Action, &Outcome) + Sync),
    gates: &GateReport<'_>,
) -> Result<(Plan, Report), ApplyError> {
    upsert_project(host, project)?;
    let mut steps = HostSteps::new(host, Some(project), Some(&prepared.desired), &project.name);
    steps.gate_report = Some(gates);
    let pulls = Plan {
        actions: prepared
            .plan
            .actions
            .iter()
            .filter(|a| {
                matches!(
                    a.kind,
                    ActionKind::PullImage { .. } | ActionKind::BuildImage { .. }
                )
            })
            .cloned()
            .collect(),
        ..prepared.plan.clone()
    };
    let mut plan = prepared.plan;
    if !pulls.is_empty() {
        let report = run_plan(&pulls, &steps, opts.parallel, progress);
        if !report.ok() {
            return Err(ApplyError::Failed(report));
        }
        let digests = local_digests(&steps, &prepared.desired);
        let observed = observe(&host.store, &project.name, &digests)?;
        let mut again = opts.plan.clone();
        // What had to be pulled or built now is; `always` must not pull
        // twice, nor `--build` build twice.
        again.pull = Some(PullPolicy::Missing);
        again.build = Some(false);
        plan = plan::plan(&prepared.desired, &observed, &again)?;
    }
    let report = run_plan(&plan, &steps, opts.parallel, progress);
    if !report.ok() {
        return Err(ApplyError::Failed(report));
    }
    Ok((plan, report))
}

fn upsert_project(host: &Host, project: &Project) -> Result<(), ApplyError> {
    let now = crate::store::now_ms();
    let record = ProjectRecord {
        name: project.name.clone(),
        working_dir: Some(project.working_dir.display().to_string()),
        config_files: project
            .config_files
            .iter()
            .map(|f| f.display().to_string())
            .collect(),
        created_at_ms: now,
        updated_at_ms: now,
    };
    host.store.write(|w| w.upsert_project(&record))?;
    Ok(())
}

/// A planned `down` and the project's lock, held until it has run.
pub struct PreparedDown {
    pub plan: Plan,
    pub lock: ProjectLock,
}

/// The plan of `down` for `project_name` (no stack file needed).
pub fn prepare_down(
    host: &Host,
    project_name: &str,
    opts: &DownOptions,
) -> Result<PreparedDown, ApplyError> {
    let lock = ProjectLock::claim(&host.paths.state_root, project_name)?;
    reconcile(&host.store, &host.containers, project_name)?;
    let observed = observe(&host.store, project_name, &BTreeMap::new())?;
    Ok(PreparedDown {
        plan: plan_down(project_name, &observed, opts),
        lock,
    })
}

/// Carries out a down plan; forgets the project once nothing of it is left.
pub fn down(
    host: &Host,
    prepared: &PreparedDown,
    stop_timeout: Option<Duration>,
    parallel: usize,
    progress: &(dyn Fn(&Action, &Outcome) + Sync),
) -> Result<Report, ApplyError> {
    let plan = &prepared.plan;
    let mut steps = HostSteps::new(host, None, None, &plan.project);
    steps.stop_timeout = stop_timeout;
    let report = run_plan(plan, &steps, parallel, progress);
    if !report.ok() {
        return Err(ApplyError::Failed(report));
    }
    host.store.write(|w| {
        let r = w.read();
        let empty = r.containers_of(&plan.project)?.is_empty()
            && r.networks_of(&plan.project)?.is_empty()
            && r.volumes_of(&plan.project)?.is_empty();
        if empty {
            w.remove_project(&plan.project)?;
        }
        Ok(())
    })?;
    Ok(report)
}

/// An `up` or `down` that could not run, or failed, by its cause.
impl Classify for ApplyError {
    fn class(&self) -> ErrorClass {
        match self {
            // A plan that cannot be made is the stack file's fault.
            ApplyError::Plan(_) => ErrorClass::InvalidInput,
            ApplyError::Options(inner) => inner.class(),
            ApplyError::Locked(lock) => lock.class(),
            ApplyError::Volume(inner) => inner.class(),
            // A failed action answers with its error's class (the first
            // failure's, when a wave had several).
            ApplyError::Failed(report) => report
                .failures
                .first()
                .map_or(ErrorClass::Internal, |f| f.class()),
            _ => ErrorClass::Internal,
        }
    }
}

//! What the planner compares: the desired project (from the stack file), the
//! observed project (from the store and the kernel), and the user's options.
//!
//! The desired side is the planner's own small view, made from
//! `stack_spec::Project` by [`super::desired_from_spec`], so the planning rules do not
//! depend on every detail of the stack file model.

use std::collections::BTreeMap;

use super::ConfigFields;
use crate::supervise::Condition;
use stack_runtime::state::Status;

/// The project as the stack file wants it (profiles already applied).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredProject {
    pub name: String,
    pub services: BTreeMap<String, DesiredService>,
    /// Keyed by the stack file's network key.
    pub networks: BTreeMap<String, DesiredNetwork>,
    /// Keyed by the stack file's volume key.
    pub volumes: BTreeMap<String, DesiredVolume>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredService {
    pub name: String,
    /// Image reference as written (`redis:7`), the key for pulls and digests.
    pub image: String,
    pub replicas: u32,
    /// `container_name:`; then the service cannot scale past one.
    pub container_name: Option<String>,
    /// The hashed per-field view (see [`ConfigFields`]).
    pub config: ConfigFields,
    pub depends_on: Vec<DesiredDependency>,
    /// Network keys the service joins (empty with `network_mode`).
    pub networks: Vec<String>,
    /// Named volume keys the service mounts.
    pub volumes: Vec<String>,
    /// Services whose namespaces or volumes this one shares
    /// (`network_mode`/`ipc`/`pid: service:X`, `volumes_from`): if one of
    /// them is recreated, this one must be too.
    pub shares_with: Vec<String>,
    pub pull_policy: PullPolicy,
    /// The service has `build:`: its image is built here, never pulled.
    pub build: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredDependency {
    pub service: String,
    pub condition: Condition,
    pub required: bool,
    /// `restart: true`: restart this service when the dependency is
    /// recreated by an `up`.
    pub restart: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredNetwork {
    /// Full name (`<project>_<key>` or `name:`).
    pub name: String,
    pub external: bool,
    pub config: ConfigFields,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredVolume {
    pub name: String,
    pub external: bool,
    pub config: ConfigFields,
}

/// When to pull an image (for a service with `build:`, when to build it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullPolicy {
    Always,
    #[default]
    Missing,
    Never,
    /// `pull_policy: build`: build at every `up`.
    Build,
}

impl std::str::FromStr for PullPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "always" => Ok(PullPolicy::Always),
            "missing" | "if_not_present" => Ok(PullPolicy::Missing),
            "never" => Ok(PullPolicy::Never),
            "build" => Ok(PullPolicy::Build),
            other => Err(format!(
                "invalid pull policy {other:?}: expected always, missing, never or build"
            )),
        }
    }
}

/// The project as it is now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedProject {
    pub containers: Vec<ObservedContainer>,
    /// Keyed by full network name.
    pub networks: BTreeMap<String, ObservedObject>,
    /// Keyed by full volume name.
    pub volumes: BTreeMap<String, ObservedObject>,
    /// Image reference -> digest of the image present locally.
    pub local_images: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedContainer {
    pub id: String,
    pub name: String,
    pub service: String,
    pub replica: u32,
    pub oneoff: bool,
    pub config_hash: String,
    /// Empty if unknown (then a changed hash is reported without fields).
    pub config: ConfigFields,
    pub image_digest: Option<String>,
    pub state: Status,
    /// Services it depends on (for the order of `down`).
    pub depends_on: Vec<String>,
}

/// A network or volume as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedObject {
    pub external: bool,
    pub config_hash: String,
    pub config: ConfigFields,
}

/// The flags of `stack up` that change the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// `--force-recreate`: recreate every selected container.
    pub force_recreate: bool,
    /// `--no-recreate`: never recreate; only create what is missing.
    pub no_recreate: bool,
    /// `--no-deps`: only the named services, not their dependencies.
    pub no_deps: bool,
    /// `--remove-orphans`: remove containers of services gone from the file.
    pub remove_orphans: bool,
    /// `--pull`: overrides each service's `pull_policy`.
    pub pull: Option<PullPolicy>,
    /// `--build` (`Some(true)`: build every service with `build:`) or
    /// `--no-build` (`Some(false)`: never build; a missing image fails).
    pub build: Option<bool>,
    /// Services named on the command line; empty means all.
    pub services: Vec<String>,
    /// `--scale S=N`.
    pub scale: BTreeMap<String, u32>,
}

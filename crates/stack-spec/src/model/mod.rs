//! The typed project model: what a stack file means once it is loaded,
//! interpolated, merged and normalized.
//!
//! Serialization uses Compose's key names. What `stack config` prints is
//! shaped from this model by [`crate::output`], which gives it Compose's
//! key order, defaults and units.

mod deploy;
mod resources;
mod service;
mod service_volume;
mod units;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use deploy::{
    Deploy, Develop, Healthcheck, Logging, Resource, Resources, Ulimit, WatchAction, WatchExec,
    WatchRule,
};
pub use resources::{FileObject, Ipam, IpamPool, Network, Volume};
pub use service::{
    Dependency, DependencyCondition, EnvFile, FileReference, Port, RestartPolicy,
    RestartPolicyError, Service, ServiceNetwork,
};
pub use service_volume::{BindOptions, MountType, ServiceVolume, TmpfsOptions, VolumeOptions};
pub use units::{ByteSize, ByteSizeError, Duration, DurationError};

/// Free-form values kept as they were written (extensions, keys stack accepts
/// but does not interpret).
pub type Extensions = BTreeMap<String, serde_json::Value>;

/// A loaded stack: the services and the resources they use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// Normalized project name (`[a-z0-9][a-z0-9_-]*`).
    pub name: String,
    /// Directory relative paths were resolved against.
    #[serde(skip)]
    pub working_dir: PathBuf,
    /// The stack files that were loaded, in merge order.
    #[serde(skip)]
    pub config_files: Vec<PathBuf>,
    /// Enabled services (profiles applied), by name.
    pub services: BTreeMap<String, Service>,
    /// Services left out because none of their profiles is active.
    #[serde(skip)]
    pub disabled_services: BTreeMap<String, Service>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, Network>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Volume>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, FileObject>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub configs: BTreeMap<String, FileObject>,
    /// Top-level `x-*` keys, kept aside for tools; the engine ignores them.
    #[serde(flatten)]
    pub extensions: Extensions,
    /// Profiles that were active when the project was loaded.
    #[serde(skip)]
    pub active_profiles: Vec<String>,
    /// The variables interpolation saw (process environment over `.env`).
    #[serde(skip)]
    pub environment: BTreeMap<String, String>,
    /// Warnings raised while loading (unset variables, obsolete `version`, ...).
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// Loaded with [`crate::LoadOptions::no_normalize`]: resources may have
    /// no `name` and [`crate::output`] adds none of Compose's defaults.
    #[serde(skip)]
    pub skip_normalization: bool,
}

impl Project {
    /// Every profile named by any service, enabled or not, sorted.
    pub fn all_profiles(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .services
            .values()
            .chain(self.disabled_services.values())
            .flat_map(|s| s.profiles.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

//! The planner: desired project + observed state -> [`Plan`], a list of
//! actions each with its reason, grouped in waves that may run in parallel.
//!
//! Pure: no I/O, no clock, no root, so every rule is unit-tested and
//! `stack up --dry-run` prints exactly what `stack up` would do.
//!
//! Image digests are the ones known at planning time (images present
//! locally). After pulling, the engine plans again: planning is cheap, and a
//! digest that a pull changed then shows up as `image changed`.

mod action;
mod down;
mod fields;
mod from_spec;
mod from_store;
mod graph;
mod model;
mod planner;
mod render;

pub use action::{Action, ActionKind, Reason};
pub use down::{plan_down, DownOptions};
pub use fields::{ConfigFields, FieldChange, SERVICE_PATHS_NOT_HASHED};
pub use from_spec::{condition, desired_from_spec, service_hashes};
pub use from_store::observe_from_store;
pub use model::{
    DesiredDependency, DesiredNetwork, DesiredProject, DesiredService, DesiredVolume,
    ObservedContainer, ObservedObject, ObservedProject, PlanOptions, PullPolicy,
};
pub use planner::{plan, Plan};
/// The one dependency ordering (the stack file's), for callers that order
/// other things than services: containers after a reboot.
pub use stack_spec::{levels, Levels};

/// A plan that cannot be made; each names the service or option at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no such service: {0}")]
    UnknownService(String),
    #[error("dependency cycle between services: {}", .0.join(", "))]
    Cycle(Vec<String>),
    #[error("service {service} uses network {network}, which is not declared")]
    UnknownNetwork { service: String, network: String },
    #[error("service {service} uses volume {volume}, which is not declared")]
    UnknownVolume { service: String, volume: String },
    #[error("service {service}: image {image} is not present and pull policy is never")]
    ImageMissing { service: String, image: String },
    #[error(
        "service {service} has container_name set, so it cannot have {replicas} replicas \
         (container names are unique)"
    )]
    ScaleWithContainerName { service: String, replicas: u32 },
    #[error("{0} cannot be used together")]
    ConflictingOptions(&'static str),
    #[error("service {0} has no image (stack does not build images)")]
    NoImage(String),
    #[error("{what}: cannot read its configuration: {message}")]
    Model { what: String, message: String },
}

#[cfg(test)]
mod tests;

//! Why one action of a plan failed, as a value: the action as the plan
//! prints it and the error of the crate that failed, so callers can tell a
//! missing image from a port in use from a dependency that never became
//! healthy (the daemon answers each with its own status code) while users
//! still read the same one line.

use std::path::PathBuf;

use stack_image::ImageError;

use super::service_options::OptionsError;
use crate::containers::ContainerError;
use crate::error_class::{Classify, ErrorClass};
use crate::store::StoreError;
use crate::supervise::GateError;
use crate::volumes::VolumeError;

/// One failed action of a plan. Shown as `<action>: <error>`.
#[derive(Debug, thiserror::Error)]
#[error("{action}: {kind}")]
pub struct StepError {
    /// The action as the plan prints it (`create web-1`).
    pub action: String,
    #[source]
    pub kind: StepErrorKind,
}

impl StepError {
    pub fn class(&self) -> ErrorClass {
        self.kind.class()
    }
}

/// What went wrong in one step, wrapping the error of the crate that did
/// the work with what it was working on.
#[derive(Debug, thiserror::Error)]
pub enum StepErrorKind {
    /// Opening the image store or pulling an image (`context` says which:
    /// `open the image store`, `pull busybox`).
    #[error("{context}: {source}")]
    Image {
        context: String,
        #[source]
        source: ImageError,
    },
    /// Making or removing the network `name` on the host.
    #[error("network {name}: {source}")]
    Network {
        name: String,
        #[source]
        source: ContainerError,
    },
    /// An `ipam.config` value of a network of the stack file that is not
    /// an IPv4 network or address.
    #[error("network {key}: invalid {field} {value:?}")]
    NetworkOption {
        key: String,
        field: &'static str,
        value: String,
    },
    /// The directory of the volume `key` of the stack file. (Boxed, as in
    /// [`StepErrorKind::Volume`]: volume errors are the largest and would
    /// make every step's result as big.)
    #[error("volume {key}: {source}")]
    VolumeDir {
        key: String,
        #[source]
        source: Box<VolumeError>,
    },
    /// Removing a volume (the error names it).
    #[error(transparent)]
    Volume(Box<VolumeError>),
    /// A file or directory the step made itself.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Recording the change in the state store (`context` names the
    /// object: `network demo_default`, `record demo-web-1`).
    #[error("{context}: {source}")]
    Store {
        context: String,
        #[source]
        source: StoreError,
    },
    /// A `depends_on` gate of `service` that will not open: the source
    /// names the dependency and the condition it did not reach.
    #[error("service {service}: {source}")]
    Dependency {
        service: String,
        #[source]
        source: GateError,
    },
    /// A service the plan names that the stack file does not have.
    #[error("service {0} is not in the stack file")]
    UnknownService(String),
    /// The service's options cannot be carried out.
    #[error(transparent)]
    Options(#[from] OptionsError),
    /// Creating, starting or removing a container (`context`: `create
    /// demo-web-1`, `start demo-web-1`, `remove demo-web-1`).
    #[error("{context}: {source}")]
    Container {
        context: String,
        #[source]
        source: ContainerError,
    },
    /// Reading a container's files or stopping it (`context`: `container
    /// <id>`, `stop demo-web-1`).
    #[error("{context}: {source}")]
    Runtime {
        context: String,
        #[source]
        source: stack_runtime::Error,
    },
    /// A container whose state file is there but whose spec is not.
    #[error("container {id}: {} is missing", path.display())]
    MissingSpec { id: String, path: PathBuf },
    /// Building the image of `service`.
    #[error("build {service}: {source}")]
    Build {
        service: String,
        #[source]
        source: Box<crate::build::BuildError>,
    },
    /// A container that went away while the step worked on it (`what`:
    /// `demo-web-1`, `container <id>`).
    #[error("{what} is gone")]
    Gone { what: String },
}

impl From<VolumeError> for StepErrorKind {
    fn from(err: VolumeError) -> StepErrorKind {
        StepErrorKind::Volume(Box::new(err))
    }
}

impl Classify for StepErrorKind {
    fn class(&self) -> ErrorClass {
        match self {
            StepErrorKind::Image { source, .. } => source.class(),
            StepErrorKind::Network { source, .. } | StepErrorKind::Container { source, .. } => {
                source.class()
            }
            StepErrorKind::NetworkOption { .. } | StepErrorKind::UnknownService(_) => {
                ErrorClass::InvalidInput
            }
            StepErrorKind::VolumeDir { source, .. } | StepErrorKind::Volume(source) => {
                source.as_ref().class()
            }
            StepErrorKind::Io { .. } | StepErrorKind::MissingSpec { .. } => ErrorClass::Internal,
            StepErrorKind::Store { source, .. } => source.class(),
            StepErrorKind::Dependency { source, .. } => source.class(),
            StepErrorKind::Options(source) => source.class(),
            StepErrorKind::Runtime { source, .. } => source.class(),
            StepErrorKind::Gone { .. } => ErrorClass::NotFound,
            StepErrorKind::Build { source, .. } => source.as_ref().class(),
        }
    }
}

impl Classify for StepError {
    fn class(&self) -> ErrorClass {
        self.kind.class()
    }
}

impl StepErrorKind {
    /// Shorthand for [`Classify::class`] without importing the trait.
    pub fn class(&self) -> ErrorClass {
        Classify::class(self)
    }
}

//! The one error of the facade: each engine error it can meet, kept whole,
//! plus the facade's own refusals of a request. Every variant knows its
//! [`ErrorClass`], so a front end turns it into a status code or an exit
//! message without reading the text.

use stack_image::ImageError;
use stack_net::NetError;

use crate::apply::ApplyError;
use crate::config::ConfigError;
use crate::containers::network::joins::JoinError;
use crate::containers::ContainerError;
use crate::error_class::{Classify, ErrorClass};
use crate::project::ProjectError;
use crate::project_lock::ProjectLockError;
use crate::store::StoreError;
use crate::volumes::VolumeError;

/// Why an operation of the [`Engine`](super::Engine) failed. The engine
/// errors are boxed: some are large (a failed `up` carries its report),
/// and every operation returns this type.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Container(Box<ContainerError>),
    #[error(transparent)]
    Runtime(Box<stack_runtime::Error>),
    #[error(transparent)]
    Image(Box<ImageError>),
    #[error(transparent)]
    Volume(Box<VolumeError>),
    #[error(transparent)]
    Net(Box<NetError>),
    #[error(transparent)]
    Apply(Box<ApplyError>),
    #[error(transparent)]
    Project(Box<ProjectError>),
    #[error(transparent)]
    Locked(Box<ProjectLockError>),
    #[error(transparent)]
    Store(Box<StoreError>),
    #[error(transparent)]
    Config(Box<ConfigError>),
    #[error(transparent)]
    Build(Box<crate::build::BuildError>),
    #[error(transparent)]
    Join(Box<JoinError>),
    /// The request itself is wrong; the text names the value at fault.
    #[error("{0}")]
    Invalid(String),
    /// The request names an object that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The object exists, or is in a state that refuses the request.
    #[error("{0}")]
    Conflict(String),
    /// A host call the facade makes itself failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl EngineError {
    /// Another change of the same project holds its lock: trying again
    /// once it is done will work.
    pub fn is_busy(&self) -> bool {
        self.class() == ErrorClass::Busy
    }

    /// An I/O failure with what was being done.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> EngineError {
        let context = context.into();
        move |source| EngineError::Io { context, source }
    }
}

/// `?` on each engine error.
macro_rules! boxed_from {
    ($($variant:ident($source:ty)),* $(,)?) => {
        $(impl From<$source> for EngineError {
            fn from(err: $source) -> EngineError {
                EngineError::$variant(Box::new(err))
            }
        })*
    };
}

boxed_from!(
    Container(ContainerError),
    Runtime(stack_runtime::Error),
    Image(ImageError),
    Volume(VolumeError),
    Net(NetError),
    Apply(ApplyError),
    Project(ProjectError),
    Locked(ProjectLockError),
    Store(StoreError),
    Config(ConfigError),
    Build(crate::build::BuildError),
    Join(JoinError),
);

impl Classify for EngineError {
    fn class(&self) -> ErrorClass {
        match self {
            EngineError::Container(e) => e.class(),
            EngineError::Runtime(e) => e.class(),
            EngineError::Image(e) => e.class(),
            EngineError::Volume(e) => e.class(),
            EngineError::Net(e) => e.class(),
            EngineError::Apply(e) => e.class(),
            EngineError::Project(e) => e.class(),
            EngineError::Locked(e) => e.class(),
            EngineError::Store(e) => e.class(),
            EngineError::Config(e) => e.class(),
            EngineError::Build(e) => e.class(),
            EngineError::Join(e) => e.class(),
            EngineError::Invalid(_) => ErrorClass::InvalidInput,
            EngineError::NotFound(_) => ErrorClass::NotFound,
            EngineError::Conflict(_) => ErrorClass::Conflict,
            EngineError::Io { .. } => ErrorClass::Internal,
        }
    }
}

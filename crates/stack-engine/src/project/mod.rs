//! The project verbs that act on a project's existing containers (`start`,
//! `stop`, `restart`, `kill`, `rm`, `top`, `stats`, `events`), found from
//! the containers' own labels so they work with or without the stack file.
//!
//! This is engine logic, not CLI formatting, so the daemon can call the
//! same functions later. The stack file, when there is one, only adds the
//! dependency order ([`select::Waves`]).

pub mod actions;
pub mod events;
pub mod ports;
pub mod select;
pub mod stats;
pub mod top;

use crate::containers::ContainerError;
use crate::error_class::{Classify, ErrorClass};

/// Errors of the project verbs, each naming the project, service or
/// container at fault.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("no containers found for project {0:?}")]
    NoContainers(String),
    #[error("no such service: {0}")]
    NoSuchService(String),
    #[error("service {service:?} has no container with index {index}")]
    NoSuchIndex { service: String, index: u32 },
    #[error("service {0:?} is not running")]
    NotRunning(String),
    #[error("{name}: {source}")]
    Container {
        name: String,
        #[source]
        source: ContainerError,
    },
    #[error("{0}")]
    Invalid(String),
}

impl ProjectError {
    /// Wraps a container error with the container's name.
    pub fn on(name: &str) -> impl FnOnce(ContainerError) -> ProjectError + '_ {
        move |source| ProjectError::Container {
            name: name.to_string(),
            source,
        }
    }
}

/// A project without containers is not found, a service it does not know
/// is a bad request.
impl Classify for ProjectError {
    fn class(&self) -> ErrorClass {
        match self {
            ProjectError::NoContainers(_) | ProjectError::NoSuchIndex { .. } => {
                ErrorClass::NotFound
            }
            ProjectError::NoSuchService(_) | ProjectError::Invalid(_) => ErrorClass::InvalidInput,
            ProjectError::NotRunning(_) => ErrorClass::Conflict,
            ProjectError::Container { source, .. } => source.class(),
        }
    }
}

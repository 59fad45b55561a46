//! What kind of failure an engine error is, in the terms an HTTP API
//! answers with. The daemon turns an [`ErrorClass`] into a status code;
//! the judgement of which error is which lives here, next to the error
//! types, so every caller (routes, `up`, `down`) classifies alike.

use stack_image::ImageError;
use stack_net::NetError;

use crate::containers::ContainerError;
use crate::store::StoreError;
use crate::supervise::GateError;
use crate::volumes::VolumeError;

/// The classes are the native API's own: the engine judges, the daemon
/// and the client read the same enum.
pub use stack_api::error::ErrorClass;

/// Errors that know their [`ErrorClass`].
pub trait Classify {
    fn class(&self) -> ErrorClass;
}

impl Classify for ContainerError {
    fn class(&self) -> ErrorClass {
        match self {
            ContainerError::NotFound(_) => ErrorClass::NotFound,
            ContainerError::NameInUse(_) | ContainerError::Live { .. } => ErrorClass::Conflict,
            ContainerError::Invalid(_) => ErrorClass::InvalidInput,
            ContainerError::Runtime(inner) => inner.class(),
            ContainerError::Network(inner) => inner.class(),
            ContainerError::Io { .. } => ErrorClass::Internal,
        }
    }
}

/// A connect or disconnect that the container's networks refuse.
impl Classify for crate::containers::network::joins::JoinError {
    fn class(&self) -> ErrorClass {
        use crate::containers::network::joins::JoinError;
        match self {
            JoinError::NotJoined { .. } => ErrorClass::NotFound,
            JoinError::NoNetworks { .. }
            | JoinError::AlreadyJoined { .. }
            | JoinError::LastNetwork { .. } => ErrorClass::Conflict,
            JoinError::Container(inner) => inner.class(),
        }
    }
}

impl Classify for stack_runtime::Error {
    fn class(&self) -> ErrorClass {
        match self {
            stack_runtime::Error::NotRunning(_)
            | stack_runtime::Error::Running(_)
            | stack_runtime::Error::AlreadyPaused(_)
            | stack_runtime::Error::NotPaused(_)
            | stack_runtime::Error::Paused(_) => ErrorClass::Conflict,
            // The request named a user or group the container does not
            // have, or asked for a change the container cannot take.
            stack_runtime::Error::UnknownIdentity { .. } | stack_runtime::Error::Refused { .. } => {
                ErrorClass::InvalidInput
            }
            _ => ErrorClass::Internal,
        }
    }
}

impl Classify for NetError {
    fn class(&self) -> ErrorClass {
        match self {
            NetError::NoSuchNetwork(_) => ErrorClass::NotFound,
            NetError::NetworkExists(_)
            | NetError::InUse { .. }
            | NetError::AddressUnavailable { .. }
            | NetError::SubnetFull { .. }
            | NetError::PoolsExhausted { .. } => ErrorClass::Conflict,
            NetError::Invalid { .. } => ErrorClass::InvalidInput,
            _ => ErrorClass::Internal,
        }
    }
}

impl Classify for ImageError {
    fn class(&self) -> ErrorClass {
        match self {
            ImageError::ImageNotFound(_) => ErrorClass::NotFound,
            ImageError::InUse { .. } => ErrorClass::Conflict,
            ImageError::InvalidReference { .. } => ErrorClass::InvalidInput,
            // The registry did not answer: it may later.
            ImageError::Connect { .. } | ImageError::Timeout { .. } => ErrorClass::Unavailable,
            // No client is left to read it.
            ImageError::Cancelled { .. } => ErrorClass::Conflict,
            _ => ErrorClass::Internal,
        }
    }
}

impl Classify for VolumeError {
    fn class(&self) -> ErrorClass {
        match self {
            VolumeError::NotFound(_) => ErrorClass::NotFound,
            VolumeError::InUse { .. } => ErrorClass::Conflict,
            VolumeError::Invalid(_) | VolumeError::MissingExternal { .. } => {
                ErrorClass::InvalidInput
            }
            VolumeError::Io { .. } | VolumeError::Store { .. } => ErrorClass::Internal,
        }
    }
}

impl Classify for StoreError {
    fn class(&self) -> ErrorClass {
        match self {
            StoreError::Conflict { .. } => ErrorClass::Conflict,
            StoreError::NotFound { .. } => ErrorClass::NotFound,
            _ => ErrorClass::Internal,
        }
    }
}

impl Classify for GateError {
    fn class(&self) -> ErrorClass {
        match self {
            // A dependency that failed (exited, unhealthy, missing) refuses
            // the dependent until it is fixed: the project's state is at fault.
            GateError::Failed { .. } => ErrorClass::Conflict,
            // Still coming up when the wait ended: a later `up` may succeed.
            GateError::Timeout { .. } => ErrorClass::Unavailable,
        }
    }
}

/// The host's own configuration is at fault, not the request.
impl Classify for crate::config::ConfigError {
    fn class(&self) -> ErrorClass {
        ErrorClass::Internal
    }
}

//! Errors of the API: one JSON body `{ "message", "kind" }` with the status
//! code that says what kind of failure it is, and of the daemon itself.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use stack_engine::containers::ContainerError;
use stack_engine::images::ImageError;

use crate::api::ErrorBody;

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, message)
    }
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// The `kind` word of a status code.
    pub fn kind_of(status: StatusCode) -> &'static str {
        match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::CONFLICT => "conflict",
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            _ => "internal",
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            message: self.message.clone(),
            kind: Self::kind_of(self.status).to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, message = %self.message, "request failed");
        }
        (self.status, axum::Json(self.body())).into_response()
    }
}

impl From<ContainerError> for ApiError {
    fn from(err: ContainerError) -> ApiError {
        match &err {
            ContainerError::NotFound(_) => ApiError::not_found(err.to_string()),
            ContainerError::NameInUse(_) => ApiError::conflict(err.to_string()),
            ContainerError::Invalid(_) => ApiError::bad_request(err.to_string()),
            ContainerError::Runtime(inner) => runtime_status(inner, err.to_string()),
            ContainerError::Io { .. } => ApiError::internal(err.to_string()),
            ContainerError::Network(net) => network_status(net, err.to_string()),
        }
    }
}

impl From<stack_net::NetError> for ApiError {
    fn from(err: stack_net::NetError) -> ApiError {
        let message = err.to_string();
        network_status(&err, message)
    }
}

impl From<stack_runtime::Error> for ApiError {
    fn from(err: stack_runtime::Error) -> ApiError {
        let message = err.to_string();
        runtime_status(&err, message)
    }
}

fn runtime_status(err: &stack_runtime::Error, message: String) -> ApiError {
    match err {
        stack_runtime::Error::NotRunning(_) | stack_runtime::Error::Running(_) => {
            ApiError::conflict(message)
        }
        // The request named a user or group the container does not have.
        stack_runtime::Error::UnknownIdentity { .. } => ApiError::bad_request(message),
        _ => ApiError::internal(message),
    }
}

fn network_status(err: &stack_net::NetError, message: String) -> ApiError {
    use stack_net::NetError;
    match err {
        NetError::NoSuchNetwork(_) => ApiError::not_found(message),
        NetError::NetworkExists(_)
        | NetError::InUse { .. }
        | NetError::AddressUnavailable { .. }
        | NetError::SubnetFull { .. }
        | NetError::PoolsExhausted { .. } => ApiError::conflict(message),
        NetError::Invalid { .. } => ApiError::bad_request(message),
        _ => ApiError::internal(message),
    }
}

impl From<ImageError> for ApiError {
    fn from(err: ImageError) -> ApiError {
        match &err {
            ImageError::ImageNotFound(_) => ApiError::not_found(err.to_string()),
            ImageError::InUse { .. } => ApiError::conflict(err.to_string()),
            ImageError::InvalidReference { .. } => ApiError::bad_request(err.to_string()),
            _ => ApiError::internal(err.to_string()),
        }
    }
}

/// Why the daemon could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("another stack daemon is answering on {0}")]
    AlreadyRunning(std::path::PathBuf),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Config(#[from] stack_engine::config::ConfigError),
}

pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> DaemonError {
    let context = context.into();
    move |source| DaemonError::Io { context, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_map_to_status_codes() {
        let nf: ApiError = ContainerError::NotFound("x".into()).into();
        assert_eq!(nf.status, StatusCode::NOT_FOUND);
        assert_eq!(nf.body().kind, "not_found");
        assert_eq!(nf.message, "no such container: x");
        let running: ApiError = stack_runtime::Error::Running("web".into()).into();
        assert_eq!(running.status, StatusCode::CONFLICT);
        let img: ApiError = ImageError::ImageNotFound("busybox".into()).into();
        assert_eq!(img.status, StatusCode::NOT_FOUND);
        let bad: ApiError = ContainerError::Invalid("x".into()).into();
        assert_eq!(bad.body().kind, "bad_request");
    }
}

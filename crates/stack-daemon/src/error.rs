//! Errors of the API: one JSON body `{ "message", "kind" }` with the status
//! code that says what kind of failure it is, and of the daemon itself.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use stack_engine::error_class::{Classify, ErrorClass};
use stack_engine::facade::EngineError;

use stack_api::system::ErrorBody;

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    /// The body's `kind` word.
    pub kind: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind: Self::kind_of(status),
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
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            _ => "internal",
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            message: self.message.clone(),
            kind: self.kind.to_string(),
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

/// The status code of each class of engine error. The one place an
/// engine error becomes a status: which error is which class is judged by
/// the engine ([`Classify`]), next to the error types.
pub fn status_of(class: ErrorClass) -> StatusCode {
    match class {
        ErrorClass::NotFound => StatusCode::NOT_FOUND,
        ErrorClass::Conflict | ErrorClass::Busy => StatusCode::CONFLICT,
        ErrorClass::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorClass::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorClass::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    /// An engine error answered with the status of its class.
    pub fn classified(err: &(impl Classify + std::fmt::Display)) -> ApiError {
        let class = err.class();
        ApiError {
            status: status_of(class),
            kind: class.word(),
            message: err.to_string(),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(err: EngineError) -> ApiError {
        ApiError::classified(&err)
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
    use stack_engine::containers::ContainerError;
    use stack_engine::images::ImageError;

    #[test]
    fn engine_errors_map_to_status_codes() {
        let api = |e: EngineError| ApiError::from(e);
        let nf = api(ContainerError::NotFound("x".into()).into());
        assert_eq!(nf.status, StatusCode::NOT_FOUND);
        assert_eq!(nf.body().kind, "not_found");
        assert_eq!(nf.message, "no such container: x");
        let img = api(ImageError::ImageNotFound("busybox".into()).into());
        assert_eq!(img.status, StatusCode::NOT_FOUND);
        let bad = api(ContainerError::Invalid("x".into()).into());
        assert_eq!(bad.body().kind, "bad_request");
        let offline = api(ImageError::Connect {
            url: "https://registry.example".into(),
            message: "refused".into(),
        }
        .into());
        assert_eq!(offline.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(offline.body().kind, "unavailable");
        assert_eq!(
            api(EngineError::Conflict("x".into())).status,
            StatusCode::CONFLICT
        );
    }

    #[test]
    fn the_kind_word_of_a_status_is_the_class_word() {
        for class in [
            ErrorClass::NotFound,
            ErrorClass::Conflict,
            ErrorClass::InvalidInput,
            ErrorClass::Unavailable,
            ErrorClass::Internal,
        ] {
            assert_eq!(ApiError::kind_of(status_of(class)), class.word());
        }
        // A busy project is a conflict whose body says it is worth waiting.
        let busy = ApiError::classified(&EngineError::from(
            stack_engine::project_lock::ProjectLockError::Busy {
                project: "shop".into(),
            },
        ));
        assert_eq!(busy.status, StatusCode::CONFLICT);
        assert_eq!(busy.body().kind, "busy");
    }
}

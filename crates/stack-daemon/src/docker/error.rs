//! Docker's error answer: `{"message": "..."}` with the status of the
//! failure's class (the same table as the native API,
//! [`crate::error::status_of`]), and the 501 of an endpoint not built.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use stack_api::docker::ErrorResponse;
use stack_engine::error_class::Classify;
use stack_engine::facade::EngineError;

/// An error answered to a Docker client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerError {
    pub status: StatusCode,
    pub message: String,
}

impl DockerError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> DockerError {
        DockerError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> DockerError {
        DockerError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn internal(message: impl Into<String>) -> DockerError {
        DockerError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// An endpoint of Docker's API that stack does not serve yet.
    pub fn not_implemented(method: &str, template: &str) -> DockerError {
        DockerError::new(
            StatusCode::NOT_IMPLEMENTED,
            format!("{method} {template} of the Docker Engine API is not implemented by stack"),
        )
    }

    /// A not-found engine error in Docker's words (`No such container:
    /// web`), any other as it is.
    pub fn or_no_such(err: EngineError, what: &str, key: &str) -> DockerError {
        let mut out = DockerError::from(err);
        if out.status == StatusCode::NOT_FOUND {
            out.message = format!("No such {what}: {key}");
        }
        out
    }
}

impl From<EngineError> for DockerError {
    fn from(err: EngineError) -> DockerError {
        DockerError {
            status: crate::error::status_of(err.class()),
            message: err.to_string(),
        }
    }
}

impl From<crate::error::ApiError> for DockerError {
    fn from(err: crate::error::ApiError) -> DockerError {
        DockerError {
            status: err.status,
            message: err.message,
        }
    }
}

impl IntoResponse for DockerError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() && self.status != StatusCode::NOT_IMPLEMENTED {
            tracing::error!(status = %self.status, message = %self.message, "docker request failed");
        }
        let body = ErrorResponse {
            message: self.message,
        };
        (self.status, axum::Json(body)).into_response()
    }
}

/// Runs blocking engine work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, DockerError> + Send + 'static,
) -> Result<T, DockerError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| DockerError::internal(format!("worker thread: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use stack_engine::containers::ContainerError;

    #[test]
    fn engine_errors_keep_their_class_status_in_dockers_words() {
        let nf = DockerError::or_no_such(
            ContainerError::NotFound("web".into()).into(),
            "container",
            "web",
        );
        assert_eq!(nf.status, StatusCode::NOT_FOUND);
        assert_eq!(nf.message, "No such container: web");
        let bad = DockerError::from(EngineError::Invalid("x".into()));
        assert_eq!(
            (bad.status, bad.message.as_str()),
            (StatusCode::BAD_REQUEST, "x")
        );
        let conflict =
            DockerError::or_no_such(EngineError::Conflict("in use".into()), "image", "a");
        assert_eq!(conflict.message, "in use");
        assert_eq!(
            DockerError::not_implemented("POST", "/containers/{id}/attach").status,
            StatusCode::NOT_IMPLEMENTED
        );
    }
}

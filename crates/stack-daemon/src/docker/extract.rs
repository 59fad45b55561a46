//! Docker's query strings and JSON bodies, refused in Docker's error
//! shape. Booleans come as `1`/`0`/`true`/`false` (Go clients send `1`).

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;

use super::error::DockerError;

/// Query string, or a 400.
pub struct Q<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = DockerError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, DockerError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Q(v))
            .map_err(|e| DockerError::bad_request(e.body_text()))
    }
}

/// JSON body, or a 400. An empty body is the type's default, as Docker's
/// routes take it.
pub struct J<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for J<T> {
    type Rejection = DockerError;

    async fn from_request(req: Request, state: &S) -> Result<Self, DockerError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| DockerError::bad_request(e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(J(T::default()));
        }
        serde_json::from_slice(&bytes)
            .map(J)
            .map_err(|e| DockerError::bad_request(format!("invalid JSON body: {e}")))
    }
}

/// A query boolean as Docker reads them: `1`, `true`, `True` are true;
/// `0`, `false`, empty are false.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let text = String::deserialize(d)?;
    match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "" | "0" | "false" | "no" => Ok(false),
        other => Err(serde::de::Error::custom(format!(
            "invalid boolean {other:?}"
        ))),
    }
}

//! The one error type of the crate. Every variant names the object at fault
//! (reference, digest, path, registry URL) so a user can act on it.

use std::path::PathBuf;

/// What went wrong with an image operation.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference { reference: String, reason: String },

    #[error("{url}: {message}")]
    Registry { url: String, message: String },

    #[error("{url}: not found (HTTP 404){detail}")]
    NotFound { url: String, detail: String },

    #[error("{url}: unauthorized (HTTP {status}){detail}")]
    Unauthorized {
        url: String,
        status: u16,
        detail: String,
    },

    #[error(
        "{registry}: repository {repository}: {what} is larger than the limit of {limit} bytes"
    )]
    TooLarge {
        registry: String,
        repository: String,
        what: String,
        limit: u64,
    },

    #[error("{registry}: repository {repository}: {what} timed out: {reason}")]
    Timeout {
        registry: String,
        repository: String,
        what: String,
        reason: String,
    },

    #[error("{url}: cannot connect: {message}")]
    Connect { url: String, message: String },

    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },

    #[error("{what}: size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        what: String,
        expected: u64,
        actual: u64,
    },

    #[error("no source could serve {reference}: {}", attempts.join("; "))]
    AllSourcesFailed {
        reference: String,
        attempts: Vec<String>,
    },

    #[error("{reference}: no manifest for platform {platform} (available: {available})")]
    NoMatchingPlatform {
        reference: String,
        platform: String,
        available: String,
    },

    #[error("{what}: unsupported media type {media_type:?}")]
    UnsupportedMediaType { what: String, media_type: String },

    #[error("{what}: malformed JSON: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },

    #[error("layer {layer}: entry {entry:?} refused: {reason}")]
    UnsafeLayerEntry {
        layer: String,
        entry: String,
        reason: String,
    },

    #[error("layer {layer}: {message}")]
    Layer { layer: String, message: String },

    /// The operation was stopped on request (its client left).
    #[error("{what}: cancelled")]
    Cancelled { what: String },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("image {0} is not in the local store")]
    ImageNotFound(String),

    #[error("image {image} is in use by {users}; not removed")]
    InUse { image: String, users: String },

    #[error("archive {path}: {message}")]
    Archive { path: PathBuf, message: String },

    /// Something in a directory being turned into a layer that a layer
    /// cannot carry faithfully (a socket is skipped, not refused).
    #[error("{path}: cannot go into a layer: {reason}")]
    LayerSource { path: PathBuf, reason: String },

    /// The layer being written could not be written (disk full, a file
    /// that shrank while it was read, a name the tar format refuses).
    #[error("{path}: writing the layer: {source}")]
    LayerWrite {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The registry (or its token server) refused to let this client
    /// push to the repository: no credentials, wrong ones, or no right.
    #[error("unauthorized: push to {target} denied (HTTP {status}){detail}")]
    PushDenied {
        /// `registry/repository`.
        target: String,
        status: u16,
        detail: String,
    },

    /// A step of a push failed for another reason than authorization.
    #[error("push to {target}: {what}: {message}")]
    Push {
        /// `registry/repository`.
        target: String,
        what: String,
        message: String,
    },

    /// An image commit whose parts do not fit together.
    #[error("image commit refused: {reason}")]
    Commit { reason: String },
}

impl ImageError {
    /// An I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ImageError::Io {
            path: path.into(),
            source,
        }
    }

    /// Whether trying the next mirror (or the origin) could help. Integrity
    /// failures never fall back: a source that serves wrong bytes is an
    /// alarm, not a hiccup. A source that stalls or sends too much is
    /// broken or hostile, and the next one may well be fine.
    pub fn is_fallback_worthy(&self) -> bool {
        matches!(
            self,
            ImageError::NotFound { .. }
                | ImageError::Unauthorized { .. }
                | ImageError::Connect { .. }
                | ImageError::Registry { .. }
                | ImageError::Timeout { .. }
                | ImageError::TooLarge { .. }
        )
    }
}

/// Shorthand used across the crate.
pub type Result<T, E = ImageError> = std::result::Result<T, E>;

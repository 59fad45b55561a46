//! The distribution (OCI registry) protocol client: one [`Session`] per
//! endpoint (a mirror or the registry itself) and repository, for pulls
//! and pushes.

pub mod auth;
mod blob;
pub(crate) mod connect;
mod deadline;
mod session;
mod upload;

pub use session::{Manifest, Session};
pub use upload::Mount;

/// The four manifest media types. Distribution answers 404 for an OCI
/// manifest when the Accept header lacks its type, so all are always sent.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Manifests bigger than this are refused (distribution's own limit is 4 MiB).
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;

/// Image configs bigger than this are refused before they are downloaded
/// (they are read into memory whole; real ones are a few KiB, long
/// histories a few hundred).
pub const MAX_CONFIG_BYTES: u64 = 8 * 1024 * 1024;

/// Token server answers bigger than this are refused (a JWT is a few KiB).
pub const MAX_TOKEN_BYTES: u64 = 1024 * 1024;

/// Error bodies are read up to this size for their message.
pub const MAX_ERROR_BODY_BYTES: u64 = 64 * 1024;

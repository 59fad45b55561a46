//! The distribution (OCI registry) protocol client: one [`Session`] per
//! endpoint (a mirror or the registry itself) and repository.

pub mod auth;
mod blob;
mod session;

pub use session::{Manifest, Session};

/// The four manifest media types. Distribution answers 404 for an OCI
/// manifest when the Accept header lacks its type, so all are always sent.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Manifests bigger than this are refused (distribution's own limit is 4 MiB).
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

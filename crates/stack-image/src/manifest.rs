//! Manifests and indexes, parsed with oci-spec. Docker's v2 schema 2
//! manifest and manifest list have the same shape as OCI's and parse with
//! the same types; schema 1 is refused.

use oci_spec::image::{ImageIndex, ImageManifest as OciManifest};

use crate::digest::Digest;
use crate::error::{ImageError, Result};
use crate::platform::Platform;

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// A blob a manifest points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
}

/// An image manifest: a config and layers, bottom first.
#[derive(Debug, Clone)]
pub struct ImageManifest {
    pub config: BlobRef,
    pub layers: Vec<BlobRef>,
}

/// One entry of an index.
#[derive(Debug, Clone)]
pub struct IndexEntry {
    pub blob: BlobRef,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

/// What a manifest endpoint served.
#[derive(Debug, Clone)]
pub enum ManifestKind {
    Image(ImageManifest),
    Index(Vec<IndexEntry>),
}

fn digest_of(what: &str, d: &oci_spec::image::Digest) -> Result<Digest> {
    Digest::parse(d.as_ref()).map_err(|e| ImageError::Layer {
        layer: what.to_string(),
        message: e.to_string(),
    })
}

fn json_err(what: &Digest) -> impl Fn(oci_spec::OciSpecError) -> ImageError + '_ {
    move |e| ImageError::Registry {
        url: format!("manifest {what}"),
        message: format!("malformed: {e}"),
    }
}

impl ImageManifest {
    /// Parses an image manifest (OCI or Docker v2s2).
    pub fn parse(bytes: &[u8], digest: &Digest) -> Result<ImageManifest> {
        let m = OciManifest::from_reader(bytes).map_err(json_err(digest))?;
        let blob = |d: &oci_spec::image::Descriptor| -> Result<BlobRef> {
            Ok(BlobRef {
                media_type: d.media_type().to_string(),
                digest: digest_of(&digest.to_string(), d.digest())?,
                size: d.size(),
            })
        };
        Ok(ImageManifest {
            config: blob(m.config())?,
            layers: m.layers().iter().map(blob).collect::<Result<_>>()?,
        })
    }
}

/// Classifies and parses what a manifest endpoint served: by the body's
/// `mediaType`, then the Content-Type header, then its shape.
pub fn parse_any(bytes: &[u8], content_type: &str, digest: &Digest) -> Result<ManifestKind> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|source| ImageError::Json {
            what: format!("manifest {digest}"),
            source,
        })?;
    if value.get("schemaVersion").and_then(|v| v.as_u64()) == Some(1) {
        return Err(ImageError::UnsupportedMediaType {
            what: format!("manifest {digest}"),
            media_type: "Docker schema 1 (deprecated)".into(),
        });
    }
    let media_type = value
        .get("mediaType")
        .and_then(|v| v.as_str())
        .unwrap_or(content_type);
    let is_index = match media_type {
        OCI_INDEX | DOCKER_LIST => true,
        OCI_MANIFEST | DOCKER_MANIFEST => false,
        _ => value.get("manifests").is_some(),
    };
    if !is_index {
        return Ok(ManifestKind::Image(ImageManifest::parse(bytes, digest)?));
    }
    let index = ImageIndex::from_reader(bytes).map_err(json_err(digest))?;
    let mut entries = Vec::new();
    for m in index.manifests() {
        let (os, architecture, variant) = match m.platform() {
            Some(p) => (
                p.os().to_string(),
                p.architecture().to_string(),
                p.variant().clone(),
            ),
            None => (String::new(), String::new(), None),
        };
        entries.push(IndexEntry {
            blob: BlobRef {
                media_type: m.media_type().to_string(),
                digest: digest_of(&digest.to_string(), m.digest())?,
                size: m.size(),
            },
            os,
            architecture,
            variant,
        });
    }
    Ok(ManifestKind::Index(entries))
}

/// Picks the entry for `platform`, or says which platforms there are.
pub fn select<'a>(
    entries: &'a [IndexEntry],
    platform: &Platform,
    reference: &str,
) -> Result<&'a IndexEntry> {
    entries
        .iter()
        .find(|e| platform.matches(&e.os, &e.architecture, e.variant.as_deref()))
        .ok_or_else(|| ImageError::NoMatchingPlatform {
            reference: reference.to_string(),
            platform: platform.to_string(),
            available: entries
                .iter()
                .map(|e| match &e.variant {
                    Some(v) => format!("{}/{}/{v}", e.os, e.architecture),
                    None => format!("{}/{}", e.os, e.architecture),
                })
                .collect::<Vec<_>>()
                .join(", "),
        })
}

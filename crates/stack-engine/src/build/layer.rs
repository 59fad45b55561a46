//! A layer of an image being built, as the builder keeps it (and the
//! cache records it).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One layer of an image being built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// The compressed blob: `sha256:<hex>`.
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    /// The uncompressed tar: `sha256:<hex>`.
    pub diff_id: String,
    /// Where the store unpacked it (an overlay lower directory).
    pub snapshot: PathBuf,
}

/// How a directory becomes a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerSource {
    /// An overlay upper directory (a `RUN`): whiteouts and opaque
    /// directories become the OCI markers.
    OverlayUpper,
    /// A directory whose whole content is the layer (`COPY`, `WORKDIR`).
    Plain,
}

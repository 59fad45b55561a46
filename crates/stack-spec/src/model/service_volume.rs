//! A service's mount: bind, named volume, anonymous volume or tmpfs.

use serde::{Deserialize, Serialize};

use super::ByteSize;

fn is_false(b: &bool) -> bool {
    !*b
}

/// One `volumes:` entry of a service, long form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceVolume {
    #[serde(rename = "type")]
    pub kind: MountType,
    /// Host path (bind, absolute after loading), volume key (volume), or
    /// none (anonymous volume, tmpfs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub target: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<BindOptions>,
    /// `Some` and empty for a short-syntax volume (Compose prints
    /// `volume: {}`); serialized only when set, so the planner's hash does
    /// not see the difference.
    #[serde(default, skip_serializing_if = "VolumeOptions::is_unset")]
    pub volume: Option<VolumeOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<TmpfsOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<String>,
}

/// What a mount is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    Bind,
    Volume,
    Tmpfs,
    Image,
    Npipe,
    Cluster,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagation: Option<String>,
    /// Create a missing host directory (always true for the short syntax).
    #[serde(default, skip_serializing_if = "is_false")]
    pub create_host_path: bool,
    /// `z` (shared) or `Z` (private) SELinux relabel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selinux: Option<String>,
}

impl VolumeOptions {
    /// No options, or only the defaults.
    pub fn is_unset(options: &Option<VolumeOptions>) -> bool {
        options
            .as_ref()
            .is_none_or(|o| *o == VolumeOptions::default())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeOptions {
    /// Do not copy the image's content into a new volume.
    #[serde(default, skip_serializing_if = "is_false")]
    pub nocopy: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmpfsOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<ByteSize>,
    /// File mode bits of the tmpfs root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
}

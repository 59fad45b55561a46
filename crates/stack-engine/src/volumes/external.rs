//! `up` refuses a stack file whose `external: true` volumes do not exist,
//! naming them, instead of quietly making empty ones.

use std::collections::BTreeSet;
use std::path::Path;

use stack_spec::model::{MountType, Project};

use super::{volumes_dir, VolumeError};

/// Checks the external volumes the project's services mount.
pub fn require_external(state_root: &Path, project: &Project) -> Result<(), VolumeError> {
    let used: BTreeSet<&str> = project
        .services
        .values()
        .flat_map(|s| s.volumes.iter())
        .filter(|v| v.kind == MountType::Volume)
        .filter_map(|v| v.source.as_deref())
        .collect();
    let dir = volumes_dir(state_root);
    let missing: Vec<String> = project
        .volumes
        .iter()
        .filter(|(key, vol)| vol.external && used.contains(key.as_str()))
        .map(|(_, vol)| vol.name.clone())
        .filter(|name| !dir.join(name).join("_data").is_dir())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(VolumeError::MissingExternal { names: missing })
    }
}

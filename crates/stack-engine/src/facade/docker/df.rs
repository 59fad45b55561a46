//! `GET /system/df`: what takes disk, by kind, in Docker's shape. Images
//! with the number of containers that use each, containers with what they
//! wrote, volumes with their size and users, the unpacked layers counted
//! once, and the build cache's `RUN --mount=type=cache` directories.

use std::collections::BTreeMap;

use stack_api::docker::objects::VolumeUsage;
use stack_api::docker::system::{BuildCacheRecord, DiskUsage};

use super::super::{Engine, EngineError};
use super::GO_ZERO_TIME;

/// The kinds `type` may name.
const KINDS: &[&str] = &["container", "image", "volume", "build-cache"];

impl Engine {
    /// Bytes of the local image `id` (its layers unpacked), 0 when gone.
    pub(super) fn image_size(&self, id: &str) -> i64 {
        self.images()
            .ok()
            .and_then(|images| images.store().find(id).ok())
            .map_or(0, |image| image.size as i64)
    }

    /// `types`: the request's `type` values; none means every kind.
    pub fn docker_system_df(&self, types: &[String]) -> Result<DiskUsage, EngineError> {
        if let Some(unknown) = types.iter().find(|t| !KINDS.contains(&t.as_str())) {
            return Err(EngineError::Invalid(format!(
                "type {unknown:?}: expected one of {}",
                KINDS.join(", ")
            )));
        }
        let wants = |kind: &str| types.is_empty() || types.iter().any(|t| t == kind);
        let mut usage = DiskUsage::default();
        if wants("image") {
            let images = self.images()?;
            let store = images.store();
            let mut rows = self.docker_images()?;
            let all = store.list()?;
            for row in &mut rows {
                let users: usize = all
                    .iter()
                    .filter(|i| i.id.to_string() == row.id)
                    .map(|i| store.users_of(&i.manifest).map(|u| u.len()))
                    .sum::<Result<usize, _>>()?;
                row.containers = users as i64;
                row.shared_size = 0;
            }
            usage.images = Some(rows);
            usage.layers_size = Some(store.layers_size()? as i64);
        }
        if wants("container") {
            usage.containers = Some(self.docker_containers(true, None, true, &BTreeMap::new())?);
        }
        if wants("volume") {
            let mut volumes = self.docker_volumes(&BTreeMap::new())?;
            let summaries = self.list_volumes(&BTreeMap::new())?;
            for volume in &mut volumes {
                let Some(summary) = summaries.iter().find(|s| s.name == volume.name) else {
                    continue;
                };
                let dir = std::path::Path::new(&summary.mountpoint);
                volume.usage_data = Some(VolumeUsage {
                    size: crate::disk_usage::bytes_below(dir) as i64,
                    ref_count: summary.used_by.len() as i64,
                });
            }
            usage.volumes = Some(volumes);
        }
        if wants("build-cache") {
            usage.build_cache = Some(cache_mounts(&self.paths.state_root));
        }
        Ok(usage)
    }
}

/// The `RUN --mount=type=cache` directories, each a record.
fn cache_mounts(state_root: &std::path::Path) -> Vec<BuildCacheRecord> {
    let dir = state_root.join("build-cache-mounts");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut records: Vec<BuildCacheRecord> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| {
            let modified = e
                .metadata()
                .and_then(|m| m.modified())
                .map(stack_runtime::timefmt::format)
                .unwrap_or_else(|_| GO_ZERO_TIME.to_string());
            let id = e.file_name().to_string_lossy().into_owned();
            BuildCacheRecord {
                description: format!("RUN --mount=type=cache ({id})"),
                id,
                kind: "exec.cachemount".into(),
                in_use: false,
                shared: false,
                size: crate::disk_usage::bytes_below(&e.path()) as i64,
                created_at: modified.clone(),
                last_used_at: modified,
            }
        })
        .collect();
    records.sort_by(|a, b| a.id.cmp(&b.id));
    records
}

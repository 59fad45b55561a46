//! Docker's prune endpoints on the facade's own removals: stopped
//! containers, networks no container joins, unused volumes, images and
//! the build cache, each answered in Docker's shape with the space given
//! back. Each takes the filters it can honour; any other filter is an
//! error that names it, never ignored.

use stack_api::docker::filters::{labels_match, Filters};
use stack_api::docker::images::DeleteItem;
use stack_api::docker::prune::{
    BuildCachePruned, ContainersPruned, ImagesPruned, NetworksPruned, VolumesPruned,
};

use super::super::{Engine, EngineError};
use crate::containers::Status;

/// Refuses a filter not in `known`.
fn only(filters: &Filters, known: &[&str], endpoint: &str) -> Result<(), EngineError> {
    match filters.keys().find(|k| !known.contains(&k.as_str())) {
        Some(name) => Err(EngineError::Invalid(format!(
            "{endpoint}: filter {name:?} is not supported by stack (supported: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ))),
        None => Ok(()),
    }
}

/// A boolean filter's one value (`dangling`, `all`), `default` when absent.
fn boolean(filters: &Filters, name: &str, default: bool) -> Result<bool, EngineError> {
    let Some(values) = filters.get(name) else {
        return Ok(default);
    };
    match values.as_slice() {
        [v] if matches!(v.as_str(), "true" | "1") => Ok(true),
        [v] if matches!(v.as_str(), "false" | "0") => Ok(false),
        _ => Err(EngineError::Invalid(format!(
            "filter {name}: expected one value, true or false, got {values:?}"
        ))),
    }
}

impl Engine {
    /// `POST /containers/prune`: every container that is not running nor
    /// about to restart, with `label` filters; the space is what their
    /// directories held.
    pub fn docker_prune_containers(
        &self,
        filters: &Filters,
    ) -> Result<ContainersPruned, EngineError> {
        only(filters, &["label"], "containers/prune")?;
        let wanted = filters.get("label").cloned().unwrap_or_default();
        let mut pruned = ContainersPruned::default();
        for record in self.containers.list() {
            let status = record.state.effective_status();
            if matches!(status, Status::Running | Status::Restarting)
                || !labels_match(&wanted, &record.spec.labels)
            {
                continue;
            }
            let bytes = crate::disk_usage::bytes_below(&record.dir.root);
            self.remove(&record.spec.id, false)?;
            pruned.space_reclaimed += bytes;
            pruned.containers_deleted.push(record.spec.id.clone());
        }
        Ok(pruned)
    }

    /// `POST /images/prune`: the images without a name no container uses
    /// (Docker's dangling ones), or with `dangling=false` (`docker image
    /// prune -a`) every image no container uses.
    pub fn docker_prune_images(&self, filters: &Filters) -> Result<ImagesPruned, EngineError> {
        only(filters, &["dangling"], "images/prune")?;
        let all = !boolean(filters, "dangling", true)?;
        let report = self.prune_images(all)?;
        Ok(ImagesPruned {
            images_deleted: report
                .images
                .into_iter()
                .map(|name| {
                    // An unnamed image is reported by its manifest digest.
                    if name.starts_with("sha256:") {
                        DeleteItem {
                            untagged: None,
                            deleted: Some(name),
                        }
                    } else {
                        DeleteItem {
                            untagged: Some(name),
                            deleted: None,
                        }
                    }
                })
                .collect(),
            space_reclaimed: report.bytes,
        })
    }

    /// `POST /networks/prune`: every network no container joins.
    pub fn docker_prune_networks(&self, filters: &Filters) -> Result<NetworksPruned, EngineError> {
        only(filters, &[], "networks/prune")?;
        Ok(NetworksPruned {
            networks_deleted: self.prune_networks()?.networks,
        })
    }

    /// `POST /volumes/prune`: anonymous volumes no container mounts, or
    /// every unused one with `all=true` (Docker 23 and later).
    pub fn docker_prune_volumes(&self, filters: &Filters) -> Result<VolumesPruned, EngineError> {
        only(filters, &["all"], "volumes/prune")?;
        let report = self.prune_volumes(boolean(filters, "all", false)?)?;
        Ok(VolumesPruned {
            volumes_deleted: report.volumes,
            space_reclaimed: report.bytes,
        })
    }

    /// `POST /build/prune`: the whole build cache (entries, cache mounts,
    /// and the layers only it kept).
    pub fn docker_prune_build_cache(
        &self,
        filters: &Filters,
    ) -> Result<BuildCachePruned, EngineError> {
        only(filters, &[], "build/prune")?;
        let report = crate::build::prune_cache(&self.paths)?;
        Ok(BuildCachePruned {
            caches_deleted: report.entries,
            space_reclaimed: report.mount_bytes + report.store.bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(pairs: &[(&str, &[&str])]) -> Filters {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn filters_not_honoured_are_refused_by_name() {
        let err = only(
            &filters(&[("until", &["24h"])]),
            &["label"],
            "containers/prune",
        )
        .expect_err("refused")
        .to_string();
        assert!(err.contains("\"until\"") && err.contains("label"), "{err}");
        assert!(only(&filters(&[("label", &["a=b"])]), &["label"], "x").is_ok());
        assert!(only(&filters(&[("label", &["a"])]), &[], "x")
            .expect_err("refused")
            .to_string()
            .contains("none"));
    }

    #[test]
    fn boolean_filters_read_one_value() {
        assert!(!boolean(&filters(&[]), "all", false).expect("absent"));
        assert!(boolean(&filters(&[("all", &["true"])]), "all", false).expect("true"));
        assert!(!boolean(&filters(&[("dangling", &["0"])]), "dangling", true).expect("false"));
        assert!(boolean(&filters(&[("all", &["maybe"])]), "all", false).is_err());
        assert!(boolean(&filters(&[("all", &["true", "false"])]), "all", false).is_err());
    }
}

//! Images in Docker's shapes, and the pull progress as Docker's JSON
//! progress stream.

use std::collections::{BTreeMap, HashMap};
use std::time::UNIX_EPOCH;

use stack_api::docker::images::{
    DeleteItem, GraphDriver, HistoryItem, ImageInspect, ImageMetadata, ImageSummary,
    ProgressDetail, ProgressLine, RootFs,
};
use stack_api::system::PullEvent;

use super::super::{Engine, EngineError};
use super::GO_ZERO_TIME;
use crate::images::{ImageError, LocalImage, Reference};
use stack_runtime::timefmt;

impl Engine {
    /// `GET /images/json`: one row per image id, its tags together.
    pub fn docker_images(&self) -> Result<Vec<ImageSummary>, EngineError> {
        let list = self.images()?.store().list()?;
        let mut rows: Vec<ImageSummary> = Vec::new();
        for image in &list {
            let (tags, digests): (Vec<String>, Vec<String>) = names(image).into_iter().unzip();
            match rows.iter_mut().find(|r| r.id == image.id.to_string()) {
                Some(row) => {
                    row.repo_tags.extend(tags);
                    for digest in digests {
                        if !row.repo_digests.contains(&digest) {
                            row.repo_digests.push(digest);
                        }
                    }
                }
                None => rows.push(ImageSummary {
                    id: image.id.to_string(),
                    parent_id: String::new(),
                    repo_tags: tags,
                    repo_digests: digests,
                    created: created_secs(image),
                    size: image.size as i64,
                    shared_size: -1,
                    labels: image.config.config.labels.clone(),
                    containers: -1,
                }),
            }
        }
        rows.sort_by_key(|r| std::cmp::Reverse(r.created));
        Ok(rows)
    }

    /// `GET /images/{name}/json`, by reference or id.
    pub fn docker_image(&self, name: &str) -> Result<ImageInspect, EngineError> {
        let store = self.images()?;
        let image = store
            .store()
            .find(name)
            .map_err(|e| no_such_image(e, name))?;
        let all = store.store().list()?;
        let same: Vec<&LocalImage> = all.iter().filter(|i| i.id == image.id).collect();
        let config = &image.config;
        Ok(ImageInspect {
            id: image.id.to_string(),
            repo_tags: same.iter().filter_map(|i| names(i)).map(|n| n.0).collect(),
            repo_digests: same.iter().filter_map(|i| names(i)).map(|n| n.1).collect(),
            parent: String::new(),
            comment: String::new(),
            created: config
                .created
                .clone()
                .unwrap_or_else(|| GO_ZERO_TIME.into()),
            docker_version: String::new(),
            author: String::new(),
            config: serde_json::to_value(&config.config).unwrap_or_default(),
            architecture: config.architecture.clone(),
            variant: config.variant.clone(),
            os: config.os.clone(),
            size: image.size as i64,
            graph_driver: GraphDriver {
                name: "overlay".into(),
                data: BTreeMap::new(),
            },
            root_fs: RootFs {
                kind: "layers".into(),
                layers: config
                    .rootfs
                    .diff_ids
                    .iter()
                    .map(|d| d.to_string())
                    .collect(),
            },
            metadata: ImageMetadata {
                last_tag_time: GO_ZERO_TIME.into(),
            },
        })
    }

    /// `GET /images/{name}/history`: the image config's history, newest
    /// first, each step that made a layer with that layer's size. An image
    /// without history gets a step per layer, as Docker answers.
    pub fn docker_image_history(&self, name: &str) -> Result<Vec<HistoryItem>, EngineError> {
        let images = self.images()?;
        let store = images.store();
        let image = store.find(name).map_err(|e| no_such_image(e, name))?;
        let sizes = store.layer_sizes()?;
        let tags: Vec<String> = store
            .list()?
            .iter()
            .filter(|i| i.id == image.id)
            .filter_map(|i| names(i).map(|n| n.0))
            .collect();
        let config = &image.config;
        let seconds = |t: Option<&str>| {
            t.and_then(timefmt::parse)
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs() as i64)
        };
        let mut layers = config.rootfs.diff_ids.iter();
        let mut size_of_next = || {
            layers
                .next()
                .and_then(|d| sizes.get(d))
                .map_or(0, |s| *s as i64)
        };
        let step = |created: i64, created_by: String, size: i64, comment: String| HistoryItem {
            id: "<missing>".into(),
            created,
            created_by,
            tags: Vec::new(),
            size,
            comment,
        };
        let mut steps: Vec<HistoryItem> = if config.history.is_empty() {
            let created = seconds(config.created.as_deref());
            (0..config.rootfs.diff_ids.len())
                .map(|_| step(created, String::new(), size_of_next(), String::new()))
                .collect()
        } else {
            config
                .history
                .iter()
                .map(|h| {
                    step(
                        seconds(h.created.as_deref()),
                        h.created_by.clone().unwrap_or_default(),
                        if h.empty_layer { 0 } else { size_of_next() },
                        h.comment.clone().unwrap_or_default(),
                    )
                })
                .collect()
        };
        steps.reverse();
        if let Some(top) = steps.first_mut() {
            top.id = image.id.to_string();
            top.tags = tags;
        }
        Ok(steps)
    }

    /// `DELETE /images/{name}`.
    pub fn docker_remove_image(&self, name: &str) -> Result<Vec<DeleteItem>, EngineError> {
        let image = self
            .images()?
            .remove(name)
            .map_err(|e| no_such_image(e, name))?;
        let untagged = names(&image).map(|(tag, _)| DeleteItem {
            untagged: Some(tag),
            deleted: None,
        });
        Ok(untagged
            .into_iter()
            .chain([DeleteItem {
                untagged: None,
                deleted: Some(image.id.to_string()),
            }])
            .collect())
    }
}

/// Docker's words for an image that is not here.
fn no_such_image(err: ImageError, name: &str) -> EngineError {
    match err {
        ImageError::ImageNotFound(_) => EngineError::NotFound(format!("No such image: {name}")),
        other => other.into(),
    }
}

/// `busybox:latest` and `busybox@sha256:...`; an unnamed image has
/// neither (`docker images` shows `<none>`).
fn names(image: &LocalImage) -> Option<(String, String)> {
    if image.reference.is_empty() {
        return None;
    }
    Some(match Reference::parse(&image.reference) {
        Ok(r) => (
            r.familiar(),
            format!("{}@{}", r.familiar_name(), image.manifest),
        ),
        Err(_) => (image.reference.clone(), image.manifest.to_string()),
    })
}

fn created_secs(image: &LocalImage) -> i64 {
    image
        .config
        .created
        .as_deref()
        .and_then(timefmt::parse)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64)
}

/// Turns the engine's pull events into Docker's progress lines: layers
/// named by their first 12 hex digits, sizes as `progressDetail`.
#[derive(Debug, Default)]
pub struct PullProgress {
    sizes: HashMap<String, u64>,
}

fn short(digest: &str) -> String {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    hex.chars().take(12).collect()
}

impl PullProgress {
    /// The first line, before any event: `Pulling from library/busybox`.
    pub fn start(reference: &str) -> ProgressLine {
        let (name, tag) = match Reference::parse(reference) {
            Ok(r) => {
                let familiar = r.familiar();
                let tag = familiar
                    .rsplit_once(':')
                    .map(|(_, t)| t.to_string())
                    .unwrap_or_else(|| "latest".into());
                (r.familiar_name(), tag)
            }
            Err(_) => (reference.to_string(), "latest".into()),
        };
        let path = if name.contains('/') {
            name
        } else {
            format!("library/{name}")
        };
        ProgressLine::status(format!("Pulling from {path}"), Some(&tag))
    }

    pub fn lines(&mut self, event: &PullEvent) -> Vec<ProgressLine> {
        match event {
            PullEvent::LayerStarted { digest, size } => {
                self.sizes.insert(digest.clone(), *size);
                vec![ProgressLine::status(
                    "Pulling fs layer",
                    Some(&short(digest)),
                )]
            }
            PullEvent::Progress { digest, bytes } => vec![ProgressLine {
                progress_detail: Some(ProgressDetail {
                    current: Some(*bytes),
                    total: self.sizes.get(digest).copied(),
                }),
                ..ProgressLine::status("Downloading", Some(&short(digest)))
            }],
            PullEvent::LayerDone { digest, note } => {
                let status = if note.starts_with("already present") {
                    "Already exists"
                } else {
                    "Pull complete"
                };
                vec![ProgressLine::status(status, Some(&short(digest)))]
            }
            PullEvent::Message { line } => vec![ProgressLine::status(line.clone(), None)],
            PullEvent::Pulled {
                reference,
                manifest,
                layers_downloaded,
                ..
            } => {
                let outcome = if *layers_downloaded == 0 {
                    format!("Status: Image is up to date for {reference}")
                } else {
                    format!("Status: Downloaded newer image for {reference}")
                };
                vec![
                    ProgressLine::status(format!("Digest: {manifest}"), None),
                    ProgressLine::status(outcome, None),
                ]
            }
            PullEvent::Error { message } => vec![ProgressLine::error(message.clone())],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_events_read_like_dockers_progress() {
        let start = PullProgress::start("busybox");
        assert_eq!(
            start.status.as_deref(),
            Some("Pulling from library/busybox")
        );
        assert_eq!(start.id.as_deref(), Some("latest"));
        let mut p = PullProgress::default();
        let digest = format!("sha256:{}", "ab".repeat(32));
        let l = p.lines(&PullEvent::LayerStarted {
            digest: digest.clone(),
            size: 10,
        });
        assert_eq!(l[0].id.as_deref(), Some("abababababab"));
        let l = p.lines(&PullEvent::Progress {
            digest: digest.clone(),
            bytes: 5,
        });
        let detail = l[0].progress_detail.clone().expect("detail");
        assert_eq!((detail.current, detail.total), (Some(5), Some(10)));
        let l = p.lines(&PullEvent::LayerDone {
            digest,
            note: "downloaded, verified, unpacked".into(),
        });
        assert_eq!(l[0].status.as_deref(), Some("Pull complete"));
    }
}

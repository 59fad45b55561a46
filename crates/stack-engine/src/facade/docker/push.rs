//! `POST /images/{name}/push` and `POST /images/{name}/tag` of the Docker
//! API: the facade's push and tag, with the push's progress as Docker's
//! JSON lines (`The push refers to repository [...]`, a `Pushing` line per
//! layer with its bytes, then `Pushed`, `Layer already exists` or
//! `Mounted from REPO`, and the digest with its `aux`).

use std::collections::HashMap;
use std::sync::Mutex;

use stack_api::docker::images::{ProgressDetail, ProgressLine, PushResult};

use super::super::pull_progress::PROGRESS_STEP;
use super::super::{Engine, EngineError};
use crate::images::{Digest, Progress, Reference};

/// `name` with the `tag` of the query, when one is given.
pub fn with_query_tag(name: &str, tag: Option<&str>) -> String {
    match tag.filter(|t| !t.is_empty()) {
        Some(tag) => format!("{name}:{tag}"),
        None => name.to_string(),
    }
}

/// The pusher's progress as Docker's lines, layers by their first 12 hex
/// digits. Byte counts are batched as a pull's are (a line per
/// [`PROGRESS_STEP`] and one at the end): the pusher reports every chunk.
struct Lines<'a> {
    emit: &'a (dyn Fn(ProgressLine) + Sync),
    /// Per layer: bytes sent so far, its size, and bytes not yet reported.
    layers: Mutex<HashMap<String, (u64, u64, u64)>>,
}

impl Progress for Lines<'_> {
    fn layer_started(&self, digest: &Digest, size: u64) {
        if let Ok(mut layers) = self.layers.lock() {
            layers.insert(digest.short().to_string(), (0, size, 0));
        }
        (self.emit)(ProgressLine::status("Preparing", Some(digest.short())));
    }

    fn advance(&self, digest: &Digest, bytes: u64) {
        let id = digest.short();
        let Some((current, total)) = self.layers.lock().ok().and_then(|mut layers| {
            let entry = layers.get_mut(id)?;
            entry.0 += bytes;
            entry.2 += bytes;
            if entry.2 < PROGRESS_STEP && entry.0 < entry.1 {
                return None;
            }
            entry.2 = 0;
            Some((entry.0, entry.1))
        }) else {
            return;
        };
        (self.emit)(ProgressLine {
            progress_detail: Some(ProgressDetail {
                current: Some(current),
                total: Some(total),
            }),
            ..ProgressLine::status("Pushing", Some(id))
        });
    }

    fn layer_done(&self, digest: &Digest, note: &str) {
        (self.emit)(ProgressLine::status(note, Some(digest.short())));
    }

    fn message(&self, line: &str) {
        (self.emit)(ProgressLine::status(line, None));
    }
}

impl Engine {
    /// Pushes the local image `name` (with the query's `tag`) to the
    /// registry its name says, sending Docker's progress lines to `emit`.
    pub fn docker_push(
        &self,
        name: &str,
        tag: Option<&str>,
        emit: &(dyn Fn(ProgressLine) + Sync),
        cancel: &crate::build::CancellationToken,
    ) -> Result<(), EngineError> {
        let image = with_query_tag(name, tag);
        let target = Reference::parse(&image)?;
        // Docker names the repository as it will be pulled.
        emit(ProgressLine::status(
            format!(
                "The push refers to repository [{}/{}]",
                target.registry, target.repository
            ),
            None,
        ));
        let lines = Lines {
            emit,
            layers: Mutex::new(HashMap::new()),
        };
        let outcome = self.push_image(&image, &lines, cancel)?;
        let tag = outcome
            .reference
            .tag
            .clone()
            .unwrap_or_else(|| "latest".into());
        emit(ProgressLine::status(
            format!(
                "{tag}: digest: {} size: {}",
                outcome.manifest, outcome.manifest_size
            ),
            None,
        ));
        emit(ProgressLine {
            progress_detail: Some(ProgressDetail::default()),
            aux: Some(PushResult {
                tag,
                digest: outcome.manifest.to_string(),
                size: outcome.manifest_size,
            }),
            ..ProgressLine::default()
        });
        Ok(())
    }

    /// `docker tag SOURCE REPO[:TAG]`: the query's `repo` and `tag`.
    pub fn docker_tag(
        &self,
        source: &str,
        repo: &str,
        tag: Option<&str>,
    ) -> Result<(), EngineError> {
        if repo.is_empty() {
            return Err(EngineError::Invalid("repo is required".into()));
        }
        self.tag_image(source, &with_query_tag(repo, tag))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_tag_is_added_when_given() {
        assert_eq!(
            with_query_tag("127.0.0.1:5000/app", Some("1")),
            "127.0.0.1:5000/app:1"
        );
        assert_eq!(with_query_tag("app", Some("")), "app");
        assert_eq!(with_query_tag("app", None), "app");
    }

    #[test]
    fn layers_report_their_bytes_and_dockers_notes() {
        let seen = Mutex::new(Vec::new());
        let emit = |line: ProgressLine| seen.lock().expect("lock").push(line);
        let lines = Lines {
            emit: &emit,
            layers: Mutex::new(HashMap::new()),
        };
        let digest = Digest::of(b"layer");
        lines.layer_started(&digest, 10);
        lines.advance(&digest, 4);
        lines.advance(&digest, 6);
        lines.layer_done(&digest, "Pushed");
        let seen = seen.into_inner().expect("lock");
        // Batched: the 4 bytes wait, the last 6 complete the layer.
        let statuses: Vec<_> = seen.iter().filter_map(|l| l.status.clone()).collect();
        assert_eq!(statuses, ["Preparing", "Pushing", "Pushed"]);
        let last_bytes = seen[1].progress_detail.clone().expect("detail");
        assert_eq!((last_bytes.current, last_bytes.total), (Some(10), Some(10)));
        assert_eq!(seen[2].id.as_deref(), Some(digest.short()));
    }
}

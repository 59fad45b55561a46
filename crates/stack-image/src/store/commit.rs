//! Committing a built image: its config and an OCI image manifest written
//! as blobs, the manifest named by each tag. The JSON is canonical (keys
//! sorted, no spaces), so the same config and layers always give the
//! same image id and manifest digest.

use serde::Serialize;

use super::layout::Descriptor;
use super::{LocalImage, Store};
use crate::digest::Digest;
use crate::error::{ImageError, Result};
use crate::image_config::ImageConfigFile;
use crate::manifest::{OCI_CONFIG, OCI_MANIFEST};
use crate::reference::Reference;
use crate::store::layout::REF_NAME;

/// Media type prefixes of layers (OCI's and Docker's).
const LAYER_MEDIA_TYPES: [&str; 2] = [
    "application/vnd.oci.image.layer.",
    "application/vnd.docker.image.rootfs.",
];

impl Store {
    /// Stores an image made of `config` and `layers` (bottom first, each
    /// already in the store, as [`Store::add_layer`] leaves them) and
    /// names it with every one of `tags`, normalized as a pull names
    /// images (`app` is `docker.io/library/app:latest`). Answers the image
    /// as [`Store::find`] finds it by its first tag.
    ///
    /// `config.rootfs.diff_ids` must list the layers' diff_ids in the same
    /// order (an empty `rootfs.type` becomes `layers`); a non-empty
    /// `history` must have one entry without `empty_layer` per layer, as
    /// Docker checks. No layers at all (`FROM scratch` with only config) is
    /// an image too. A name that pointed at another image moves to this one.
    pub fn commit_image(
        &self,
        config: &ImageConfigFile,
        layers: &[Descriptor],
        tags: &[String],
    ) -> Result<LocalImage> {
        let refuse = |reason: String| ImageError::Commit { reason };
        let names = tags
            .iter()
            .map(|tag| {
                let reference = Reference::parse(tag)?;
                if reference.digest.is_some() {
                    return Err(ImageError::InvalidReference {
                        reference: tag.clone(),
                        reason: "an image is named by a tag; its digest comes from its content"
                            .into(),
                    });
                }
                Ok(reference.to_string())
            })
            .collect::<Result<Vec<String>>>()?;
        let mut config = config.clone();
        if config.rootfs.kind.is_empty() {
            config.rootfs.kind = "layers".into();
        }
        if config.rootfs.diff_ids.len() != layers.len() {
            return Err(refuse(format!(
                "{} layers but {} diff_ids in the config",
                layers.len(),
                config.rootfs.diff_ids.len()
            )));
        }
        let layer_steps = config.history.iter().filter(|h| !h.empty_layer).count();
        if !config.history.is_empty() && layer_steps != layers.len() {
            return Err(refuse(format!(
                "{} layers but {layer_steps} history entries that made a layer",
                layers.len()
            )));
        }
        // Shared with pulls, exclusive to prune: nothing this commit
        // checks or writes can be collected before the tags name it.
        let _shared = self.pull_lock()?;
        for (layer, diff_id) in layers.iter().zip(&config.rootfs.diff_ids) {
            self.check_layer(layer, diff_id).map_err(refuse)?;
        }
        let config_bytes = canonical_json(&config, "image config")?;
        let config_digest = Digest::of(&config_bytes);
        self.layout.write_blob(&config_digest, &config_bytes)?;
        let manifest = Manifest {
            schema_version: 2,
            media_type: OCI_MANIFEST,
            config: Descriptor {
                media_type: OCI_CONFIG.into(),
                digest: config_digest.clone(),
                size: config_bytes.len() as u64,
                annotations: Default::default(),
                platform: None,
            },
            layers: layers
                .iter()
                .map(|layer| {
                    let mut layer = layer.clone();
                    layer.annotations.remove(REF_NAME);
                    layer.platform = None;
                    layer
                })
                .collect(),
        };
        let manifest_bytes = canonical_json(&manifest, "image manifest")?;
        let manifest_digest = Digest::of(&manifest_bytes);
        self.layout.write_blob(&manifest_digest, &manifest_bytes)?;
        let descriptor = Descriptor {
            media_type: OCI_MANIFEST.into(),
            digest: manifest_digest.clone(),
            size: manifest_bytes.len() as u64,
            annotations: Default::default(),
            platform: None,
        };
        let Some(first) = names.first() else {
            // No name: kept as Docker keeps an untagged build, found by
            // its id, removed by the next `image prune`.
            self.keep_unnamed(descriptor)?;
            return self.find(&config_digest.to_string());
        };
        for name in &names {
            self.tag(name, descriptor.clone())?;
        }
        self.find(first)
    }

    /// Why `layer` cannot be part of an image of this store, if it cannot.
    fn check_layer(&self, layer: &Descriptor, diff_id: &Digest) -> Result<(), String> {
        if !LAYER_MEDIA_TYPES
            .iter()
            .any(|prefix| layer.media_type.starts_with(prefix))
        {
            return Err(format!(
                "layer {}: {:?} is not a layer media type",
                layer.digest, layer.media_type
            ));
        }
        let path = self.layout.blob_path(&layer.digest);
        match std::fs::metadata(&path) {
            Ok(meta) if meta.len() == layer.size => {}
            Ok(meta) => {
                return Err(format!(
                    "layer {}: the descriptor says {} bytes, the stored blob has {}",
                    layer.digest,
                    layer.size,
                    meta.len()
                ))
            }
            Err(e) => return Err(format!("layer {}: not in the store ({e})", layer.digest)),
        }
        match self.snapshots.lookup(diff_id) {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(format!(
                "layer {}: no snapshot of diff_id {diff_id}",
                layer.digest
            )),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// An OCI image manifest as this store writes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    schema_version: u32,
    media_type: &'static str,
    config: Descriptor,
    layers: Vec<Descriptor>,
}

/// `value` as JSON with every object's keys sorted and no whitespace: the
/// same content always gives the same bytes, whatever order the structs
/// declare their fields in or serde_json keeps maps in.
fn canonical_json(value: &impl Serialize, what: &str) -> Result<Vec<u8>> {
    let json_err = |source| ImageError::Json {
        what: what.to_string(),
        source,
    };
    let value = serde_json::to_value(value).map_err(json_err)?;
    serde_json::to_vec(&sorted(value)).map_err(json_err)
}

fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

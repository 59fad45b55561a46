//! OCI archives (`stack image save` / `stack image load`): a tar of an OCI
//! image layout, for machines without a registry. Loading verifies every
//! blob against its name before storing it, exactly as a pull does.

use std::io::{Read, Write};
use std::path::Path;

use crate::digest::{Digest, Hasher};
use crate::error::{ImageError, Result};
use crate::image_config::ImageConfigFile;
use crate::manifest::{self, ManifestKind};
use crate::platform::Platform;
use crate::reference::Reference;
use crate::store::layout::{Descriptor, LayoutIndex, REF_NAME};
use crate::store::Store;

/// Writes the images `names` to `out` as an OCI archive.
pub fn save(store: &Store, names: &[String], out: &Path) -> Result<Vec<String>> {
    let archive_err = |message: String| ImageError::Archive {
        path: out.to_path_buf(),
        message,
    };
    let mut index = LayoutIndex::default();
    let mut blobs = Vec::new();
    let mut saved = Vec::new();
    for name in names {
        let image = store.find(name)?;
        let manifest_bytes = store.layout.read_blob(&image.manifest)?;
        let mut annotations = std::collections::BTreeMap::new();
        if !image.reference.is_empty() {
            annotations.insert(REF_NAME.to_string(), image.reference.clone());
        }
        index.manifests.push(Descriptor {
            media_type: manifest::OCI_MANIFEST.into(),
            digest: image.manifest.clone(),
            size: manifest_bytes.len() as u64,
            annotations,
            platform: None,
        });
        blobs.push(image.manifest.clone());
        blobs.push(image.id.clone());
        blobs.extend(image.layers.iter().cloned());
        saved.push(image.reference);
    }
    blobs.sort();
    blobs.dedup();
    let tmp = out.with_extension("partial");
    let file = std::fs::File::create(&tmp).map_err(|e| ImageError::io(&tmp, e))?;
    let mut builder = tar::Builder::new(std::io::BufWriter::new(file));
    let mut add = |path: &str, size: u64, data: &mut dyn Read| -> Result<()> {
        let mut header = tar::Header::new_ustar();
        header.set_size(size);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, path, data)
            .map_err(|e| archive_err(format!("writing {path}: {e}")))
    };
    let layout_marker = br#"{"imageLayoutVersion":"1.0.0"}"#;
    add(
        "oci-layout",
        layout_marker.len() as u64,
        &mut &layout_marker[..],
    )?;
    let index_bytes = serde_json::to_vec(&index).map_err(|source| ImageError::Json {
        what: "index.json".into(),
        source,
    })?;
    add(
        "index.json",
        index_bytes.len() as u64,
        &mut &index_bytes[..],
    )?;
    for digest in &blobs {
        let path = store.layout.blob_path(digest);
        let mut file = std::fs::File::open(&path).map_err(|e| ImageError::io(&path, e))?;
        let size = file.metadata().map_err(|e| ImageError::io(&path, e))?.len();
        add(&format!("blobs/sha256/{}", digest.hex()), size, &mut file)?;
    }
    let mut writer = builder
        .into_inner()
        .map_err(|e| archive_err(format!("finishing: {e}")))?;
    writer.flush().map_err(|e| ImageError::io(&tmp, e))?;
    drop(writer);
    std::fs::rename(&tmp, out).map_err(|e| ImageError::io(out, e))?;
    Ok(saved)
}

/// Loads an OCI archive into the store: blobs verified against their
/// names, layers unpacked, images named as the archive's index says.
pub fn load(store: &Store, input: &Path, platform: &Platform) -> Result<Vec<String>> {
    let archive_err = |message: String| ImageError::Archive {
        path: input.to_path_buf(),
        message,
    };
    let _shared = store.pull_lock()?;
    let file = std::fs::File::open(input).map_err(|e| ImageError::io(input, e))?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    let mut index_bytes = None;
    for entry in archive.entries().map_err(|e| archive_err(e.to_string()))? {
        let mut entry = entry.map_err(|e| archive_err(e.to_string()))?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = path.trim_start_matches("./");
        if path == "index.json" {
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| archive_err(format!("index.json: {e}")))?;
            index_bytes = Some(bytes);
        } else if let Some(hex) = path.strip_prefix("blobs/sha256/") {
            let digest = Digest::parse(&format!("sha256:{hex}"))
                .map_err(|e| archive_err(format!("{path}: {e}")))?;
            ingest(store, &digest, &mut entry, input)?;
        }
    }
    let index_bytes = index_bytes.ok_or_else(|| archive_err("no index.json".into()))?;
    let index: LayoutIndex =
        serde_json::from_slice(&index_bytes).map_err(|source| ImageError::Json {
            what: format!("{}: index.json", input.display()),
            source,
        })?;
    let mut loaded = Vec::new();
    for descriptor in index.manifests {
        let name = descriptor
            .ref_name()
            .ok_or_else(|| {
                archive_err(format!("{} has no ref.name annotation", descriptor.digest))
            })?
            .to_string();
        let reference = Reference::parse(&name)?;
        let (digest, bytes) = resolve_platform(store, &descriptor.digest, platform, &name)?;
        let ManifestKind::Image(image) = manifest::parse_any(&bytes, "", &digest)? else {
            return Err(archive_err(format!("{digest}: nested index")));
        };
        let config_bytes = store.layout.read_blob(&image.config.digest)?;
        let config: ImageConfigFile =
            serde_json::from_slice(&config_bytes).map_err(|source| ImageError::Json {
                what: format!("image config {}", image.config.digest),
                source,
            })?;
        for (layer, diff_id) in image.layers.iter().zip(&config.rootfs.diff_ids) {
            store
                .snapshots
                .ensure(&store.layout.blob_path(&layer.digest), diff_id)?;
        }
        store.tag(
            &reference.to_string(),
            Descriptor {
                media_type: manifest::OCI_MANIFEST.into(),
                digest: digest.clone(),
                size: bytes.len() as u64,
                annotations: Default::default(),
                platform: None,
            },
        )?;
        loaded.push(reference.to_string());
    }
    Ok(loaded)
}

/// Follows an index to the manifest for `platform`.
fn resolve_platform(
    store: &Store,
    digest: &Digest,
    platform: &Platform,
    name: &str,
) -> Result<(Digest, Vec<u8>)> {
    let bytes = store.layout.read_blob(digest)?;
    match manifest::parse_any(&bytes, "", digest)? {
        ManifestKind::Image(_) => Ok((digest.clone(), bytes)),
        ManifestKind::Index(entries) => {
            let chosen = manifest::select(&entries, platform, name)?
                .blob
                .digest
                .clone();
            let bytes = store.layout.read_blob(&chosen)?;
            Ok((chosen, bytes))
        }
    }
}

/// Copies one blob out of the archive, verifying it before it is stored.
fn ingest(store: &Store, digest: &Digest, data: &mut dyn Read, input: &Path) -> Result<()> {
    if store.has_blob(digest) {
        return Ok(());
    }
    let partial = store.ingest_path(digest);
    let mut file = std::fs::File::create(&partial).map_err(|e| ImageError::io(&partial, e))?;
    let mut hasher = Hasher::default();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = data.read(&mut buf).map_err(|e| ImageError::Archive {
            path: input.to_path_buf(),
            message: format!("reading blob {digest}: {e}"),
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])
            .map_err(|e| ImageError::io(&partial, e))?;
    }
    drop(file);
    let actual = hasher.finish();
    if &actual != digest {
        let _ = std::fs::remove_file(&partial);
        return Err(ImageError::DigestMismatch {
            what: format!("{}: blob {digest}", input.display()),
            expected: digest.to_string(),
            actual: actual.to_string(),
        });
    }
    store.commit_ingested(digest)
}

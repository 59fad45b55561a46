//! Naming: another name for an image already here (`docker tag`), and
//! the descriptor a name points at (what a push sends as the manifest).

use super::layout::Descriptor;
use super::{LocalImage, Store};
use crate::error::{ImageError, Result};
use crate::reference::Reference;

impl Store {
    /// The image `name` (a reference or id prefix, as [`Store::find`]
    /// takes) and the `index.json` descriptor of its manifest, whose media
    /// type is the one the manifest was stored with.
    pub fn descriptor(&self, name: &str) -> Result<(LocalImage, Descriptor)> {
        let image = self.find(name)?;
        let index = self.layout.read_index()?;
        let descriptor = index
            .manifests
            .into_iter()
            // The digest too: a name moved since `find` is not this image.
            .find(|d| {
                d.digest == image.manifest
                    && match d.ref_name() {
                        Some(name) => name == image.reference,
                        None => image.reference.is_empty(),
                    }
            })
            .ok_or_else(|| ImageError::ImageNotFound(name.to_string()))?;
        Ok((image, descriptor))
    }

    /// Names the image `source` (a reference or id prefix) also `target`,
    /// normalized as pulls and builds name images (`app` is
    /// `docker.io/library/app:latest`). A name that pointed at another
    /// image moves to this one, as with `docker tag`. A digest in `target`
    /// is refused: a digest is what the content is, not a name to give.
    pub fn tag_image(&self, source: &str, target: &str) -> Result<LocalImage> {
        let reference = Reference::parse(target)?;
        if reference.digest.is_some() {
            return Err(ImageError::InvalidReference {
                reference: target.to_string(),
                reason: "a new name is a tag; a digest comes from the content".into(),
            });
        }
        // Shared with pulls, exclusive to prune: the image cannot be
        // collected between finding it and naming it.
        let _shared = self.pull_lock()?;
        let (_, mut descriptor) = self.descriptor(source)?;
        descriptor.annotations.clear();
        let name = reference.to_string();
        self.tag(&name, descriptor)?;
        self.find(&name)
    }
}

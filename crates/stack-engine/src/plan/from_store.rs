//! The observed side of a plan, read from the state store.

use super::{ConfigFields, ObservedContainer, ObservedObject, ObservedProject};
use crate::store::{Reader, StoreError};

/// What the store says about `project`: its containers, networks, volumes,
/// and the digests that `references` (the images the stack file names) and
/// the images of its containers resolve to, where pulled.
///
/// The store is what stack last recorded; the reconciler corrects container
/// states from the kernel (a process that died while nobody watched) before
/// planning.
pub fn observe_from_store<'r>(
    reader: &Reader<'_>,
    project: &str,
    references: impl IntoIterator<Item = &'r str>,
) -> Result<ObservedProject, StoreError> {
    let mut observed = ObservedProject::default();
    for reference in references {
        if let Some(image) = reader.image_ref(reference)? {
            observed.local_images.insert(image.reference, image.digest);
        }
    }
    for c in reader.containers_of(project)? {
        if let Some(image) = reader.image_ref(&c.image_ref)? {
            observed.local_images.insert(image.reference, image.digest);
        }
        observed.containers.push(ObservedContainer {
            id: c.id,
            name: c.name,
            service: c.service,
            replica: c.replica,
            oneoff: c.oneoff,
            config_hash: c.config_hash,
            config: ConfigFields::from_map(c.config_fields),
            image_digest: c.image_digest,
            state: c.state,
            depends_on: c.depends_on,
        });
    }
    for n in reader.networks_of(project)? {
        observed.networks.insert(
            n.name,
            ObservedObject {
                external: n.external,
                config_hash: n.config_hash,
                config: ConfigFields::from_map(n.config_fields),
            },
        );
    }
    for v in reader.volumes_of(project)? {
        observed.volumes.insert(
            v.name,
            ObservedObject {
                external: v.external,
                config_hash: v.config_hash,
                config: ConfigFields::from_map(v.config_fields),
            },
        );
    }
    Ok(observed)
}

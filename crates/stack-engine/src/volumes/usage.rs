//! Which containers mount which volume, and how much a volume holds.

use std::collections::BTreeMap;
use std::path::Path;

use stack_runtime::spec::MountKind;

use crate::containers::Containers;

/// Volume name -> names of the containers (any state) whose spec mounts
/// a path inside it.
pub(super) fn users(containers: &Containers, volumes_dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for record in containers.list() {
        for mount in &record.spec.mounts {
            let source = match &mount.kind {
                MountKind::Volume { source, .. } | MountKind::Bind { source, .. } => source,
                MountKind::Tmpfs { .. } => continue,
            };
            let Some(name) = volume_of(source, volumes_dir) else {
                continue;
            };
            let names = out.entry(name).or_default();
            if !names.contains(&record.spec.name) {
                names.push(record.spec.name.clone());
            }
        }
    }
    for names in out.values_mut() {
        names.sort();
    }
    out
}

/// The volume a host path lies in, if any.
fn volume_of(source: &Path, volumes_dir: &Path) -> Option<String> {
    let rest = source.strip_prefix(volumes_dir).ok()?;
    let first = rest.components().next()?;
    Some(first.as_os_str().to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_inside_a_volume_name_it() {
        let base = Path::new("/s/volumes");
        assert_eq!(
            volume_of(Path::new("/s/volumes/data/_data"), base).as_deref(),
            Some("data")
        );
        assert_eq!(
            volume_of(Path::new("/s/volumes/data/_data/sub"), base).as_deref(),
            Some("data")
        );
        assert_eq!(volume_of(Path::new("/s/other/data"), base), None);
        assert_eq!(volume_of(base, base), None);
    }
}

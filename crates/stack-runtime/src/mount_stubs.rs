//! The files and directories the runtime makes in a root filesystem only
//! to mount something on them (/proc, /dev, /sys, /etc/hosts, a bind
//! mount's target). They land in the overlay's upper directory; when that
//! directory becomes an image layer (a build's `RUN`), the ones the image
//! did not have must go, or every built image would carry them.

use std::path::{Path, PathBuf};

use crate::spec::ContainerSpec;

/// The paths (absolute inside the container) that a start of `spec` may
/// create as mount points.
pub fn mount_points(spec: &ContainerSpec) -> Vec<String> {
    let mut points: Vec<String> = crate::mounts::system_mounts(spec)
        .iter()
        .map(|m| m.destination.to_string())
        .collect();
    points.extend(
        ["hostname", "hosts", "resolv.conf"]
            .iter()
            .map(|name| format!("/etc/{name}")),
    );
    points.extend(spec.mounts.iter().map(|m| m.destination.clone()));
    points
}

/// Removes from `upper` each mount point of `spec` that none of `lowers`
/// has and that is still empty (an empty file or directory), then its
/// parent directories the same way. Answers the paths removed.
pub fn remove_from_upper(
    spec: &ContainerSpec,
    upper: &Path,
    lowers: &[PathBuf],
) -> std::io::Result<Vec<String>> {
    let mut removed = Vec::new();
    let mut points = mount_points(spec);
    // Deepest first, so a stub directory is empty once its stubs are gone.
    points.sort_by_key(|p| std::cmp::Reverse(p.matches('/').count()));
    for point in points {
        let mut path = relative(&point);
        while let Some(rel) = path {
            if !remove_stub(upper, lowers, &rel)? {
                break;
            }
            removed.push(format!("/{}", rel.display()));
            path = rel
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf);
        }
    }
    Ok(removed)
}

/// `/a/b/../c` as `a/c`: the path inside the root, never above it; none
/// for the root itself.
fn relative(point: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in Path::new(point).components() {
        match part {
            std::path::Component::Normal(p) => out.push(p),
            std::path::Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// The entry at `rel` of the layer directory `layer`, as overlayfs looks
/// it up: level by level, never through a symlink (a symlink where a
/// directory is looked for ends the lookup in that layer); `None` when the
/// layer has nothing there.
pub fn layer_entry(layer: &Path, rel: &Path) -> Option<rustix::fs::Stat> {
    use rustix::fs::{self as rfs, AtFlags, Mode, OFlags};
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut dir = rfs::open(layer, flags, Mode::empty()).ok()?;
    let parts: Vec<_> = rel.components().collect();
    let (last, parents) = parts.split_last()?;
    for part in parents {
        dir = rfs::openat(&dir, part.as_os_str(), flags, Mode::empty()).ok()?;
    }
    rfs::statat(&dir, last.as_os_str(), AtFlags::SYMLINK_NOFOLLOW).ok()
}

/// Removes `upper/rel` when it is an empty stub no lower layer has.
fn remove_stub(upper: &Path, lowers: &[PathBuf], rel: &Path) -> std::io::Result<bool> {
    if lowers.iter().any(|l| layer_entry(l, rel).is_some()) {
        return Ok(false);
    }
    let path = upper.join(rel);
    // Never through a symlink the container made: `rel` is checked part
    // by part.
    let mut at = upper.to_path_buf();
    for part in rel.components() {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => return Ok(false),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    let meta = std::fs::symlink_metadata(&path)?;
    if meta.is_dir() {
        if std::fs::read_dir(&path)?.next().is_some() {
            return Ok(false);
        }
        std::fs::remove_dir(&path)?;
    } else if meta.is_file() && meta.len() == 0 {
        std::fs::remove_file(&path)?;
    } else {
        return Ok(false);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stubs_the_image_lacked_go_and_what_it_had_or_filled_stays() {
        let upper = tempfile::tempdir().expect("upper");
        let lower = tempfile::tempdir().expect("lower");
        let u = upper.path();
        for dir in ["proc", "sys", "dev", "etc", "data"] {
            std::fs::create_dir_all(u.join(dir)).expect("dir");
        }
        std::fs::write(u.join("etc/hosts"), "").expect("hosts");
        std::fs::write(u.join("etc/resolv.conf"), "").expect("resolv");
        std::fs::write(u.join("etc/hostname"), "built\n").expect("hostname");
        std::fs::write(u.join("data/keep"), "x").expect("data");
        // The image had /sys: its stub is not one to remove.
        std::fs::create_dir_all(lower.path().join("sys")).expect("lower sys");
        let spec: ContainerSpec = serde_json::from_value(serde_json::json!({
            "id": "x", "name": "x", "lower_dirs": [], "hostname": "x",
            "cgroup_path": "stack/x",
            "process": {"args": ["true"], "env": [], "cwd": "/", "user": ""}
        }))
        .expect("spec");
        let removed = remove_from_upper(&spec, u, &[lower.path().to_path_buf()]).expect("remove");
        assert!(!u.join("proc").exists() && !u.join("dev").exists());
        assert!(!u.join("etc/hosts").exists() && !u.join("etc/resolv.conf").exists());
        assert!(u.join("sys").exists(), "the image had it");
        assert!(u.join("etc/hostname").exists(), "written by the build");
        assert!(u.join("etc").exists(), "not empty");
        assert!(u.join("data/keep").exists());
        assert!(removed.contains(&"/proc".to_string()), "{removed:?}");
    }
}

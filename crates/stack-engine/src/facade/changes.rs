//! `docker diff` (`GET /containers/{id}/changes`): what a container
//! changed in its root filesystem, read from its overlay's upper
//! directory. A deletion is overlayfs's 0:0 character device; an entry a
//! lower layer also has is modified, any other added. Directories the
//! image has are listed only when something below them changed (overlay
//! copies them up for that), and the mount points stack makes (`/proc`,
//! `/etc/hosts`, a volume's directory) are not changes of the container
//! when the image lacked them and they are still empty.

use std::path::{Path, PathBuf};

use rustix::fs::FileType;
use stack_api::docker::containers::ContainerChange;
use stack_runtime::mount_stubs::{layer_entry, mount_points};

use super::{Engine, EngineError};

const MODIFIED: u8 = 0;
const ADDED: u8 = 1;
const DELETED: u8 = 2;

impl Engine {
    /// The container `key`'s changes, in path order.
    pub fn container_changes(&self, key: &str) -> Result<Vec<ContainerChange>, EngineError> {
        let record = self.find(key)?;
        let stubs: Vec<PathBuf> = mount_points(&record.spec)
            .iter()
            .map(|p| Path::new(p.trim_start_matches('/')).to_path_buf())
            .collect();
        let walk = Walk {
            upper: record.dir.upper(),
            lowers: &record.spec.lower_dirs,
            stubs: &stubs,
        };
        let mut out = Vec::new();
        // A container that never started has no upper directory yet.
        if walk.upper.is_dir() {
            walk.dir(Path::new(""), &mut out)?;
        }
        Ok(out)
    }
}

struct Walk<'a> {
    upper: PathBuf,
    lowers: &'a [PathBuf],
    stubs: &'a [PathBuf],
}

impl Walk<'_> {
    /// Lists the changes below `rel`; answers whether there were any.
    fn dir(&self, rel: &Path, out: &mut Vec<ContainerChange>) -> Result<bool, EngineError> {
        let at = self.upper.join(rel);
        let mut names: Vec<_> = std::fs::read_dir(&at)
            .map_err(EngineError::io(at.display().to_string()))?
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        names.sort();
        let mut any = false;
        for name in names {
            let rel = rel.join(&name);
            let path = self.upper.join(&rel);
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue; // gone while we looked
            };
            let kind = FileType::from_raw_mode(std::os::unix::fs::MetadataExt::mode(&meta));
            let whiteout = kind == FileType::CharacterDevice
                && std::os::unix::fs::MetadataExt::rdev(&meta) == 0;
            let in_image = self.in_image(&rel);
            let shown = format!("/{}", rel.display());
            if whiteout {
                if in_image {
                    out.push(change(shown, DELETED));
                    any = true;
                }
                continue;
            }
            if self.is_empty_stub(&rel, &meta, in_image) {
                continue;
            }
            let at = out.len();
            let below = kind == FileType::Directory && self.dir(&rel, out)?;
            if kind == FileType::Directory && in_image && !below {
                continue;
            }
            out.insert(at, change(shown, if in_image { MODIFIED } else { ADDED }));
            any = true;
        }
        Ok(any)
    }

    /// Whether the image (a lower layer, topmost first) has `rel`.
    fn in_image(&self, rel: &Path) -> bool {
        for lower in self.lowers {
            if let Some(stat) = layer_entry(lower, rel) {
                let kind = FileType::from_raw_mode(stat.st_mode);
                // A whiteout in a layer hides what the layers below have.
                return !(kind == FileType::CharacterDevice && stat.st_rdev == 0);
            }
        }
        false
    }

    /// A mount point stack made that the image lacked, still empty.
    fn is_empty_stub(&self, rel: &Path, meta: &std::fs::Metadata, in_image: bool) -> bool {
        if in_image || !self.stubs.iter().any(|s| s == rel || s.starts_with(rel)) {
            return false;
        }
        if meta.is_dir() {
            // A directory on the way to a stub counts as one if all it
            // holds are stubs.
            let path = self.upper.join(rel);
            return std::fs::read_dir(&path).is_ok_and(|entries| {
                entries.flatten().all(|e| {
                    let child = rel.join(e.file_name());
                    std::fs::symlink_metadata(path.join(e.file_name()))
                        .is_ok_and(|m| self.is_empty_stub(&child, &m, self.in_image(&child)))
                })
            });
        }
        meta.is_file() && meta.len() == 0
    }
}

fn change(path: String, kind: u8) -> ContainerChange {
    ContainerChange { path, kind }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_entries_become_docker_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (upper, lower) = (dir.path().join("upper"), dir.path().join("lower"));
        for d in ["etc", "usr/lib", "var/log", "tmp"] {
            std::fs::create_dir_all(lower.join(d)).expect("lower");
        }
        std::fs::write(lower.join("etc/motd"), "hi").expect("motd");
        std::fs::write(lower.join("usr/lib/gone"), "x").expect("gone");
        for d in ["etc", "usr/lib", "var/log", "proc", "new/deep"] {
            std::fs::create_dir_all(upper.join(d)).expect("upper");
        }
        std::fs::write(upper.join("etc/motd"), "changed").expect("motd");
        std::fs::write(upper.join("etc/hosts"), "").expect("stub");
        std::fs::write(upper.join("new/deep/file"), "x").expect("new");
        let whiteout = upper.join("usr/lib/gone");
        if rustix::fs::mknodat(
            rustix::fs::CWD,
            &whiteout,
            FileType::CharacterDevice,
            rustix::fs::Mode::empty(),
            0,
        )
        .is_err()
        {
            return; // mknod needs CAP_MKNOD; the privileged run covers it
        }
        let stubs = [PathBuf::from("etc/hosts"), PathBuf::from("proc")];
        let lowers = [lower];
        let walk = Walk {
            upper,
            lowers: &lowers,
            stubs: &stubs,
        };
        let mut out = Vec::new();
        walk.dir(Path::new(""), &mut out).expect("walk");
        let got: Vec<(String, u8)> = out.into_iter().map(|c| (c.path, c.kind)).collect();
        let want = [
            ("/etc", MODIFIED),
            ("/etc/motd", MODIFIED),
            ("/new", ADDED),
            ("/new/deep", ADDED),
            ("/new/deep/file", ADDED),
            ("/usr", MODIFIED),
            ("/usr/lib", MODIFIED),
            ("/usr/lib/gone", DELETED),
        ];
        let want: Vec<(String, u8)> = want.iter().map(|(p, k)| (p.to_string(), *k)).collect();
        assert_eq!(
            got, want,
            "var/log copied up with nothing below is no change; stubs are none"
        );
    }
}

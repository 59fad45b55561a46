//! The file trees `COPY` reads from: the build context (one directory,
//! minus what `.dockerignore` excludes) and a stage or image (its layers
//! merged as overlay would: the topmost entry wins, a whiteout hides what
//! is below, an opaque directory hides the lower directories' content).
//! Paths are resolved inside the tree: a symlink is followed only within
//! it (an absolute target counts from the tree's root, `..` stops at the
//! root), never onto the host.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::Metadata;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

/// Symlinks followed while resolving one path, as Linux allows.
const MAX_HOPS: usize = 40;

/// The overlay xattr that marks an opaque directory in a snapshot.
const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// An entry of a tree: where its bytes are on the host, and its metadata.
#[derive(Debug)]
pub struct Entry {
    pub host_path: PathBuf,
    pub meta: Metadata,
}

/// A tree `COPY` can read.
pub trait SourceTree {
    /// The entry at `rel` (relative to the tree's root, no `..` left),
    /// not following a final symlink; none when absent or excluded.
    fn entry(&self, rel: &Path) -> Option<Entry>;
    /// The names in directory `rel`, sorted.
    fn children(&self, rel: &Path) -> Vec<OsString>;
    /// Whether `rel` (a path in the tree) is left out of the build.
    fn excluded(&self, _rel: &Path) -> bool {
        false
    }
}

/// `rel` with every symlink on the way resolved inside the tree; the last
/// component is followed too when `follow_last`. None: a loop, or a path
/// that goes through something that is not a directory.
pub fn resolve(tree: &dyn SourceTree, rel: &Path, follow_last: bool) -> Option<PathBuf> {
    let mut pending: Vec<OsString> = normal_parts(rel).into_iter().rev().collect();
    let mut done = PathBuf::new();
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            done.pop();
            continue;
        }
        let candidate = done.join(&part);
        let is_last = pending.is_empty();
        match tree.entry(&candidate) {
            Some(e) if e.meta.file_type().is_symlink() && (!is_last || follow_last) => {
                hops += 1;
                if hops > MAX_HOPS {
                    return None;
                }
                let target = std::fs::read_link(&e.host_path).ok()?;
                if target.is_absolute() {
                    done = PathBuf::new();
                }
                for p in components_with_parents(&target).into_iter().rev() {
                    pending.push(p);
                }
            }
            Some(e) if !is_last && !e.meta.is_dir() => return None,
            _ => done = candidate,
        }
    }
    Some(done)
}

/// The parts of a path, `.` and the root dropped, `..` kept (resolution
/// handles it against what is resolved so far).
fn components_with_parents(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

/// The parts of a path with `..` applied lexically, never above the root.
pub fn normal_parts(path: &Path) -> Vec<OsString> {
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_os_string()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    parts
}

/// The build context: one host directory, walked without following any
/// symlink, minus the entries `.dockerignore` excludes.
pub struct ContextTree {
    root: PathBuf,
    ignore: Option<stack_build::dockerignore::IgnoreMatcher>,
}

impl ContextTree {
    pub fn new(root: PathBuf, ignore: Option<stack_build::dockerignore::IgnoreMatcher>) -> Self {
        ContextTree { root, ignore }
    }
}

impl SourceTree for ContextTree {
    fn entry(&self, rel: &Path) -> Option<Entry> {
        if self.excluded(rel) && !self.may_hold_included(rel) {
            return None;
        }
        // Each parent must be a real directory: a symlink on the way was
        // resolved by `resolve` into its target's path already.
        let mut at = self.root.clone();
        let parts = normal_parts(rel);
        for (i, part) in parts.iter().enumerate() {
            at.push(part);
            let meta = std::fs::symlink_metadata(&at).ok()?;
            if i + 1 < parts.len() && !meta.is_dir() {
                return None;
            }
            if i + 1 == parts.len() {
                return Some(Entry {
                    host_path: at,
                    meta,
                });
            }
        }
        let meta = std::fs::symlink_metadata(&self.root).ok()?;
        Some(Entry {
            host_path: self.root.clone(),
            meta,
        })
    }

    fn children(&self, rel: &Path) -> Vec<OsString> {
        let Some(e) = self.entry(rel) else {
            return Vec::new();
        };
        if !e.meta.is_dir() {
            return Vec::new();
        }
        let mut names: Vec<OsString> = std::fs::read_dir(&e.host_path)
            .map(|rd| rd.filter_map(|d| d.ok().map(|d| d.file_name())).collect())
            .unwrap_or_default();
        names.retain(|n| {
            let child = rel.join(n);
            !self.excluded(&child) || self.may_hold_included(&child)
        });
        names.sort();
        names
    }

    fn excluded(&self, rel: &Path) -> bool {
        let text = rel.to_string_lossy();
        !text.is_empty() && self.ignore.as_ref().is_some_and(|m| m.matches(&text))
    }
}

impl ContextTree {
    /// An excluded directory a `!` pattern may re-include something in.
    fn may_hold_included(&self, rel: &Path) -> bool {
        let text = rel.to_string_lossy();
        self.ignore
            .as_ref()
            .is_some_and(|m| m.may_contain_exceptions(&text))
    }
}

/// A stage's or image's layers (snapshot directories in overlay form),
/// merged.
pub struct LayersTree {
    /// Topmost first.
    layers: Vec<PathBuf>,
}

impl LayersTree {
    pub fn new(topmost_first: Vec<PathBuf>) -> Self {
        LayersTree {
            layers: topmost_first,
        }
    }

    /// The layers that can hold `rel`'s content: from the top down to the
    /// first where a parent is opaque, a whiteout, or not a directory.
    fn visible(&self, rel: &Path) -> Vec<&PathBuf> {
        let parts = normal_parts(rel);
        let mut out = Vec::new();
        'layers: for layer in &self.layers {
            let mut at = layer.clone();
            for part in &parts[..parts.len().saturating_sub(1)] {
                at.push(part);
                match std::fs::symlink_metadata(&at) {
                    Ok(m) if m.is_dir() => {
                        if is_opaque(&at) {
                            out.push(layer);
                            break 'layers;
                        }
                    }
                    Ok(_) => {
                        // A whiteout or a file hides everything below.
                        out.push(layer);
                        break 'layers;
                    }
                    Err(_) => continue 'layers,
                }
            }
            out.push(layer);
        }
        out
    }
}

fn is_opaque(dir: &Path) -> bool {
    rustix::fs::lgetxattr(dir, OPAQUE_XATTR, &mut [0u8; 4]).is_ok_and(|n| n == 1)
}

fn is_whiteout(meta: &Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

impl SourceTree for LayersTree {
    fn entry(&self, rel: &Path) -> Option<Entry> {
        if normal_parts(rel).is_empty() {
            let root = self.layers.first()?;
            let meta = std::fs::symlink_metadata(root).ok()?;
            return Some(Entry {
                host_path: root.clone(),
                meta,
            });
        }
        for layer in self.visible(rel) {
            let path = layer.join(rel);
            if let Ok(meta) = std::fs::symlink_metadata(&path) {
                if is_whiteout(&meta) {
                    return None;
                }
                return Some(Entry {
                    host_path: path,
                    meta,
                });
            }
        }
        None
    }

    fn children(&self, rel: &Path) -> Vec<OsString> {
        let mut names: BTreeMap<OsString, bool> = BTreeMap::new();
        let child_probe = rel.join("probe");
        for layer in self.visible(&child_probe) {
            let dir = layer.join(rel);
            let Ok(meta) = std::fs::symlink_metadata(&dir) else {
                continue;
            };
            if !meta.is_dir() {
                break;
            }
            if let Ok(rd) = std::fs::read_dir(&dir) {
                for d in rd.flatten() {
                    let whiteout = d.metadata().is_ok_and(|m| is_whiteout(&m));
                    names.entry(d.file_name()).or_insert(whiteout);
                }
            }
            if is_opaque(&dir) {
                break;
            }
        }
        names
            .into_iter()
            .filter(|(_, whiteout)| !whiteout)
            .map(|(n, _)| n)
            .collect()
    }
}

/// Owner and mode of an entry, for copying metadata.
pub fn owner_mode(meta: &Metadata) -> (u32, u32, u32) {
    (meta.uid(), meta.gid(), meta.mode() & 0o7777)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_merge_with_whiteouts_and_opaque_dirs() {
        let top = tempfile::tempdir().expect("top");
        let low = tempfile::tempdir().expect("low");
        let (t, l) = (top.path(), low.path());
        std::fs::create_dir_all(l.join("etc/old")).expect("dirs");
        std::fs::write(l.join("etc/a"), "low a").expect("a");
        std::fs::write(l.join("etc/b"), "low b").expect("b");
        std::fs::write(l.join("etc/old/x"), "x").expect("x");
        std::fs::create_dir_all(t.join("etc")).expect("dirs");
        std::fs::write(t.join("etc/a"), "top a").expect("a");
        std::os::unix::fs::symlink("/etc/a", t.join("link")).expect("link");
        let tree = LayersTree::new(vec![t.to_path_buf(), l.to_path_buf()]);
        let a = tree.entry(Path::new("etc/a")).expect("a");
        assert_eq!(std::fs::read_to_string(a.host_path).expect("read"), "top a");
        assert_eq!(
            tree.children(Path::new("etc")),
            ["a", "b", "old"].map(OsString::from)
        );
        assert_eq!(
            resolve(&tree, Path::new("link"), true),
            Some(PathBuf::from("etc/a"))
        );
        assert_eq!(
            resolve(&tree, Path::new("../../link"), false),
            Some(PathBuf::from("link"))
        );
    }

    #[test]
    fn a_context_symlink_resolves_inside_the_context() {
        let ctx = tempfile::tempdir().expect("ctx");
        let c = ctx.path();
        std::fs::create_dir_all(c.join("src")).expect("src");
        std::fs::write(c.join("src/main"), "code").expect("main");
        std::os::unix::fs::symlink("/etc", c.join("escape")).expect("link");
        std::os::unix::fs::symlink("../../../src", c.join("src/up")).expect("link");
        let tree = ContextTree::new(c.to_path_buf(), None);
        // `/etc` inside the context is the context's own `etc`: absent.
        let escaped = resolve(&tree, Path::new("escape/passwd"), true).expect("resolves");
        assert_eq!(escaped, PathBuf::from("etc/passwd"));
        assert!(tree.entry(&escaped).is_none());
        assert_eq!(
            resolve(&tree, Path::new("src/up/main"), true),
            Some(PathBuf::from("src/main"))
        );
    }
}

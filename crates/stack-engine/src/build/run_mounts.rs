//! `RUN --mount`: what a step sees besides its stage's layers.
//!
//! - `type=cache`: a directory kept between builds under
//!   `<state root>/build-cache-mounts/`, one per `id` (default: the
//!   target), made with `uid`/`gid`/`mode`; `sharing=locked` lets one step
//!   at a time use it. Its content is not part of the step's cache key
//!   (as in BuildKit: a cache mount only speeds work up).
//! - `type=bind`: a path of the context (resolved inside the context) or
//!   of a stage (`from=`), copied out first: the context as
//!   `.dockerignore` filters it, a stage from its layers. Read-only
//!   unless `rw`, and then the step's writes go to the copy and are
//!   thrown away. Its content is part of the cache key.
//! - `type=tmpfs`: an empty tmpfs, `size=` allowed.
//!
//! `secret` and `ssh`, `sharing=private` and a cache seeded `from=` a
//! stage are refused by name.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use stack_build::model::RunMount;

use super::cache::{tree_digest, BuildCache};
use super::tree::{resolve, SourceTree};
use super::BuildError;

/// The mounts of one step, ready for its container.
#[derive(Default)]
pub struct StepMounts {
    /// `HOST:CONTAINER[:ro]`, as `stack run -v` takes them.
    pub volumes: Vec<String>,
    /// `CONTAINER[:size=N]`, as `stack run --tmpfs` takes them.
    pub tmpfs: Vec<String>,
    /// What the cache key must include (bind sources' content).
    pub key: Vec<String>,
    /// `sharing=locked` caches, held while the step runs.
    pub locks: Vec<File>,
}

/// Where a `from=` stage's tree can be read.
pub trait StageTrees {
    /// The merged layers of stage (or image) `name`, to copy from.
    fn tree(&self, name: &str) -> Result<Box<dyn SourceTree + '_>, BuildError>;
}

/// Prepares `mounts` for one step.
pub fn prepare(
    mounts: &[RunMount],
    at: &str,
    state_root: &Path,
    context: &dyn SourceTree,
    stages: &dyn StageTrees,
    scratch: &Path,
) -> Result<StepMounts, BuildError> {
    let mut out = StepMounts::default();
    for (n, mount) in mounts.iter().enumerate() {
        let m = Options::new(mount, at)?;
        let target = m.target()?;
        match mount.kind.as_str() {
            "cache" => {
                m.only(&[
                    "id", "target", "sharing", "mode", "uid", "gid", "ro", "readonly",
                ])?;
                let sharing = m.get("sharing").unwrap_or("shared");
                let id = m.get("id").unwrap_or(&target);
                let dir = state_root
                    .join("build-cache-mounts")
                    .join(BuildCache::key(&[id]));
                make_cache_dir(&dir, &m)?;
                match sharing {
                    "shared" => {}
                    "locked" => out.locks.push(lock(&dir)?),
                    other => return Err(m.unsupported(&format!("sharing={other}"))),
                }
                let ro = if m.flag("ro") || m.flag("readonly") {
                    ":ro"
                } else {
                    ""
                };
                out.volumes.push(format!("{}:{target}{ro}", dir.display()));
            }
            "bind" => {
                m.only(&[
                    "source",
                    "target",
                    "from",
                    "ro",
                    "readonly",
                    "rw",
                    "readwrite",
                ])?;
                // A writable bind writes into its own copy, thrown away
                // with the step's scratch directory, as BuildKit does.
                let writable =
                    (m.flag("rw") || m.flag("readwrite")) && !(m.flag("ro") || m.flag("readonly"));
                let source = m.get("source").unwrap_or("");
                let dest = scratch.join(format!("bind-{n}"));
                let host = match m.get("from") {
                    None => copy_out(context, true, source, &dest, at)?,
                    Some(from) => copy_out(stages.tree(from)?.as_ref(), false, source, &dest, at)?,
                };
                out.key
                    .push(format!("bind {target} {}", tree_digest(&host)?));
                let ro = if writable { "" } else { ":ro" };
                out.volumes.push(format!("{}:{target}{ro}", host.display()));
            }
            "tmpfs" => {
                m.only(&["target", "size"])?;
                match m.get("size") {
                    Some(size) => out.tmpfs.push(format!("{target}:size={size}")),
                    None => out.tmpfs.push(target),
                }
            }
            other => return Err(m.unsupported(&format!("type={other}"))),
        }
    }
    Ok(out)
}

/// A mount's options, read with their aliases.
struct Options<'a> {
    mount: &'a RunMount,
    at: &'a str,
    fields: BTreeMap<&'static str, &'a str>,
}

impl<'a> Options<'a> {
    fn new(mount: &'a RunMount, at: &'a str) -> Result<Options<'a>, BuildError> {
        let mut fields = BTreeMap::new();
        for (key, value) in &mount.options {
            let name = match key.as_str() {
                "src" | "source" => "source",
                "dst" | "target" | "destination" => "target",
                "id" => "id",
                "sharing" => "sharing",
                "mode" => "mode",
                "uid" => "uid",
                "gid" => "gid",
                "from" => "from",
                "size" => "size",
                "ro" => "ro",
                "readonly" => "readonly",
                "rw" => "rw",
                "readwrite" => "readwrite",
                other => {
                    return Err(BuildError::Unsupported {
                        at: at.to_string(),
                        what: format!("RUN --mount option {other}"),
                    })
                }
            };
            fields.insert(name, value.as_str());
        }
        Ok(Options { mount, at, fields })
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.fields.get(name).copied()
    }

    fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v != "false")
    }

    /// Refuses the options `type=` does not take.
    fn only(&self, allowed: &[&str]) -> Result<(), BuildError> {
        match self.fields.keys().find(|k| !allowed.contains(k)) {
            Some(key) => Err(self.unsupported(key)),
            None => Ok(()),
        }
    }

    fn target(&self) -> Result<String, BuildError> {
        match self.get("target") {
            Some(t) if t.starts_with('/') => Ok(super::stage::clean(t)),
            Some(t) => Err(BuildError::Invalid(format!(
                "{}: RUN --mount target {t:?} must be absolute",
                self.at
            ))),
            None => Err(BuildError::Invalid(format!(
                "{}: RUN --mount=type={} needs a target",
                self.at, self.mount.kind
            ))),
        }
    }

    fn unsupported(&self, what: &str) -> BuildError {
        BuildError::Unsupported {
            at: self.at.to_string(),
            what: format!("RUN --mount=type={} {what}", self.mount.kind),
        }
    }

    fn number(&self, name: &str, radix: u32, default: u32) -> Result<u32, BuildError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => u32::from_str_radix(v, radix).map_err(|_| {
                BuildError::Invalid(format!("{}: RUN --mount {name}={v}: not a number", self.at))
            }),
        }
    }
}

/// The cache directory, made the first time with the mount's owner and
/// mode (later builds find it as the last one left it).
fn make_cache_dir(dir: &Path, m: &Options) -> Result<(), BuildError> {
    if dir.is_dir() {
        return Ok(());
    }
    let (uid, gid, mode) = (
        m.number("uid", 10, 0)?,
        m.number("gid", 10, 0)?,
        m.number("mode", 8, 0o755)?,
    );
    std::fs::create_dir_all(dir).map_err(BuildError::io(dir))?;
    std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(BuildError::io(dir))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
        .map_err(BuildError::io(dir))
}

/// An exclusive lock on a cache directory, released when dropped.
fn lock(dir: &Path) -> Result<File, BuildError> {
    let path = dir.with_extension("lock");
    let file = File::create(&path).map_err(BuildError::io(&path))?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| BuildError::io(&path)(e.into()))?;
    Ok(file)
}

/// `source` of the context or of a stage, copied out to `dest`: the
/// context as `.dockerignore` filters it (binding the host directory
/// itself would show the step, and its cache key, what the context
/// leaves out), a stage because its layers are no one directory to bind.
/// Answers what to bind: `dest`, or the copied file for a file source.
fn copy_out(
    tree: &dyn SourceTree,
    from_context: bool,
    source: &str,
    dest: &Path,
    at: &str,
) -> Result<PathBuf, BuildError> {
    let invalid =
        |what: &str| BuildError::Invalid(format!("{at}: RUN --mount source {source}: {what}"));
    let rel = resolve(tree, Path::new(source), true).ok_or_else(|| invalid("a symlink loop"))?;
    let Some(entry) = tree.entry(&rel) else {
        return Err(if tree.excluded(&rel) {
            invalid("excluded by .dockerignore")
        } else if from_context {
            invalid("no such file or directory in the build context")
        } else {
            invalid("no such file or directory in the source stage")
        });
    };
    std::fs::create_dir_all(dest).map_err(BuildError::io(dest))?;
    let rel_text = match rel.to_string_lossy() {
        text if text.is_empty() => ".".to_string(),
        text => text.into_owned(),
    };
    let copy = stack_build::model::Copy {
        sources: vec![rel_text],
        dest: "/".into(),
        heredocs: Vec::new(),
        from: None,
        chown: None,
        chmod: None,
        link: false,
        exclude: Vec::new(),
        parents: false,
        checksum: None,
        keep_git_dir: false,
    };
    let step = super::copy_step::CopyStep {
        copy: &copy,
        dest: "/".into(),
        owner: None,
        at,
        keyword: "RUN --mount",
    };
    let empty = super::tree::LayersTree::new(Vec::new());
    let source_tree = super::copy_step::CopySource { tree, from_context };
    step.execute(&source_tree, &empty, dest)?;
    // A directory's content lands in `dest`; a file under its own name.
    match rel.file_name().filter(|_| !entry.meta.is_dir()) {
        Some(name) => Ok(dest.join(name)),
        None => Ok(dest.to_path_buf()),
    }
}

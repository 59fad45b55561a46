//! `COPY` and `ADD`: the sources (globs allowed) read from the context or
//! from a stage, written into a fresh directory that is the new layer,
//! with Docker's rules for where they land: a directory's content goes
//! into the destination, several sources need a destination ending in
//! `/`, a destination that is a directory in the image receives the file
//! under its own name. Paths in the image are resolved through its
//! symlinks, inside the image. A heredoc source (`COPY <<EOF /dest`)
//! becomes a file of its own; `ADD` extracts a local tar archive (plain,
//! gzip or zstd) into the destination, confined to it as image layers
//! are.

use std::ffi::OsString;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use globset::GlobBuilder;
use stack_build::model::{Copy, Heredoc};

use super::owners::Owner;
use super::tree::{normal_parts, owner_mode, resolve, SourceTree};
use super::BuildError;

/// Where the copied files come from, and whose ownership they keep.
pub struct CopySource<'a> {
    pub tree: &'a dyn SourceTree,
    /// Files from the context belong to root unless `--chown` says
    /// otherwise; files from a stage keep their owners.
    pub from_context: bool,
}

/// A `COPY`/`ADD` ready to execute.
pub struct CopyStep<'a> {
    pub copy: &'a Copy,
    /// The destination, absolute in the image (the workdir applied),
    /// with its trailing `/` kept: that makes it a directory.
    pub dest: String,
    pub owner: Option<Owner>,
    pub at: &'a str,
    pub keyword: &'a str,
}

impl CopyStep<'_> {
    /// Copies the sources into `layer` (the new layer's root) and answers
    /// how many entries were written.
    pub fn execute(
        &self,
        source: &CopySource,
        image: &dyn SourceTree,
        layer: &Path,
    ) -> Result<usize, BuildError> {
        let chmod = self
            .copy
            .chmod
            .as_deref()
            .map(|m| {
                parse_mode(m).ok_or_else(|| {
                    self.invalid(format!("--chmod={m}: expected an octal mode such as 0755"))
                })
            })
            .transpose()?;
        // The parser lists a heredoc among the sources by its delimiter,
        // in order.
        let mut heredocs = self.copy.heredocs.iter().peekable();
        let mut matched: Vec<Item> = Vec::new();
        for pattern in &self.copy.sources {
            if let Some(doc) = heredocs.next_if(|d| &d.name == pattern) {
                matched.push(Item::Inline(doc));
                continue;
            }
            if pattern.contains("://") {
                return Err(self.unsupported(&format!("URL source {pattern}")));
            }
            let found = expand_source(source.tree, pattern);
            if found.is_empty() {
                let place = if source.from_context {
                    "the build context"
                } else {
                    "the source stage"
                };
                return Err(
                    self.invalid(format!("{pattern}: no such file or directory in {place}"))
                );
            }
            matched.extend(found.into_iter().map(Item::Path));
        }
        let dest_is_dir = self.dest.ends_with('/') || self.dest.ends_with("/.");
        if (matched.len() > 1 || self.copy.sources.len() > 1) && !dest_is_dir {
            return Err(self.invalid(format!(
                "{} copies several sources, so its destination {} must end with /",
                self.keyword, self.dest
            )));
        }
        let dest = PathBuf::from(&self.dest);
        let mut writer = Writer {
            layer,
            image,
            source,
            owner: self.owner,
            chmod,
            written: 0,
            at: self.at,
        };
        for item in matched {
            let rel = match item {
                Item::Path(rel) => rel,
                Item::Inline(doc) => {
                    let target = if dest_is_dir || image_has_dir(image, &dest) {
                        dest.join(&doc.name)
                    } else {
                        dest.clone()
                    };
                    writer.write_inline(&target, &doc.content)?;
                    continue;
                }
            };
            let resolved = resolve(source.tree, &rel, true)
                .ok_or_else(|| self.invalid(format!("{}: a symlink loop", rel.display())))?;
            let entry = source.tree.entry(&resolved).ok_or_else(|| {
                self.invalid(format!("{}: no such file or directory", rel.display()))
            })?;
            if self.keyword == "ADD" && entry.meta.is_file() {
                match archive_kind(&entry.host_path) {
                    Some(ArchiveKind::Tar) => {
                        writer.extract(&entry.host_path, &dest, &rel)?;
                        continue;
                    }
                    Some(ArchiveKind::Unreadable(format)) => {
                        return Err(self.unsupported(&format!(
                            "extracting the {format} archive {}",
                            rel.display()
                        )))
                    }
                    None => {}
                }
            }
            let target = if entry.meta.is_dir() {
                dest.clone()
            } else if dest_is_dir || image_has_dir(image, &dest) {
                dest.join(rel.file_name().unwrap_or_default())
            } else {
                dest.clone()
            };
            writer.copy(&resolved, &target)?;
        }
        Ok(writer.written)
    }

    fn invalid(&self, message: String) -> BuildError {
        BuildError::Invalid(format!("{}: {} {message}", self.at, self.keyword))
    }

    fn unsupported(&self, what: &str) -> BuildError {
        BuildError::Unsupported {
            at: self.at.to_string(),
            what: format!("{} of {what}", self.keyword),
        }
    }
}

/// The paths of the tree a source names: itself, or what its glob
/// matches (component by component, sorted).
fn expand_source(tree: &dyn SourceTree, pattern: &str) -> Vec<PathBuf> {
    let parts = normal_parts(Path::new(pattern));
    if !parts.iter().any(|p| has_glob(&p.to_string_lossy())) {
        let rel: PathBuf = parts.iter().collect();
        let found = resolve(tree, &rel, true).and_then(|r| tree.entry(&r));
        return if found.is_some() {
            vec![rel]
        } else {
            Vec::new()
        };
    }
    let mut paths = vec![PathBuf::new()];
    for part in &parts {
        let text = part.to_string_lossy();
        let mut next = Vec::new();
        for base in &paths {
            if !has_glob(&text) {
                let p = base.join(part);
                if tree.entry(&p).is_some() {
                    next.push(p);
                }
                continue;
            }
            let Ok(glob) = GlobBuilder::new(&text).literal_separator(true).build() else {
                continue;
            };
            let matcher = glob.compile_matcher();
            let dir = resolve(tree, base, true).unwrap_or_else(|| base.clone());
            for name in tree.children(&dir) {
                if matcher.is_match(Path::new(&name)) {
                    next.push(base.join(name));
                }
            }
        }
        paths = next;
    }
    paths.sort();
    paths
}

fn has_glob(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

fn parse_mode(text: &str) -> Option<u32> {
    u32::from_str_radix(text, 8).ok().filter(|m| *m <= 0o7777)
}

/// One source of a step: a path of the source tree, or a heredoc.
enum Item<'a> {
    Path(PathBuf),
    Inline(&'a Heredoc),
}

/// What `ADD` does with a local file that is an archive.
#[derive(Debug, PartialEq, Eq)]
enum ArchiveKind {
    /// A tar, plain or compressed with gzip or zstd: extracted.
    Tar,
    /// A compression stack cannot read (bzip2, xz): refused by name,
    /// since Docker would extract it.
    Unreadable(&'static str),
}

/// Whether `path` is an archive `ADD` extracts: its first bytes say bzip2
/// or xz, or (after gzip or zstd, when present) a tar header's `ustar`
/// magic. A compressed file that is no tar is copied as it is, as
/// Docker does.
fn archive_kind(path: &Path) -> Option<ArchiveKind> {
    use std::io::Read;
    const TAR_MAGIC: std::ops::Range<usize> = 257..262;
    let file = open_nofollow(path).ok()?;
    let (compression, stream) = stack_image::unpack::decompress(file).ok()?;
    let mut head = Vec::with_capacity(TAR_MAGIC.end);
    let read = stream.take(TAR_MAGIC.end as u64).read_to_end(&mut head);
    if compression == stack_image::unpack::Compression::None {
        if let Some(name) = stack_image::unpack::Compression::unreadable(&head) {
            return Some(ArchiveKind::Unreadable(name));
        }
    }
    (read.is_ok() && head.get(TAR_MAGIC) == Some(b"ustar")).then_some(ArchiveKind::Tar)
}

/// Opens a file of the source tree without following a symlink there.
fn open_nofollow(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Whether `path` is a directory in the image (through its symlinks).
fn image_has_dir(image: &dyn SourceTree, path: &Path) -> bool {
    resolve(image, path, true)
        .and_then(|p| image.entry(&p))
        .is_some_and(|e| e.meta.is_dir())
}

/// Writes copied entries into the layer directory.
struct Writer<'a> {
    layer: &'a Path,
    image: &'a dyn SourceTree,
    source: &'a CopySource<'a>,
    owner: Option<Owner>,
    chmod: Option<u32>,
    written: usize,
    at: &'a str,
}

impl Writer<'_> {
    /// Copies the source entry `rel` to `target` (absolute in the image).
    fn copy(&mut self, rel: &Path, target: &Path) -> Result<(), BuildError> {
        let target = self.place(target)?;
        self.copy_entry(rel, &target, true)
    }

    /// `target` with the image's symlinks on the way resolved, and its
    /// parent directories made in the layer (with the image's metadata
    /// where the image has them, else root's 0755).
    fn place(&mut self, target: &Path) -> Result<PathBuf, BuildError> {
        let parent = target.parent().unwrap_or(Path::new("/"));
        let parent = resolve(self.image, parent, true).ok_or_else(|| {
            BuildError::Invalid(format!(
                "{}: {}: a symlink loop in the image",
                self.at,
                target.display()
            ))
        })?;
        let mut at = PathBuf::new();
        for part in normal_parts(&parent) {
            at.push(&part);
            let dir = self.layer.join(&at);
            if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
                continue;
            }
            std::fs::create_dir(&dir).map_err(BuildError::io(&dir))?;
            let (uid, gid, mode) = match self.image.entry(&at) {
                Some(e) if e.meta.is_dir() => owner_mode(&e.meta),
                _ => (0, 0, 0o755),
            };
            set_owner_mode(&dir, uid, gid, mode)?;
        }
        let name = target.file_name().map(OsString::from).unwrap_or_default();
        Ok(at.join(name))
    }

    /// A heredoc's body as the file `target` (absolute in the image):
    /// root's (or `--chown`'s), mode 0644 (or `--chmod`'s), as BuildKit
    /// makes it.
    fn write_inline(&mut self, target: &Path, content: &str) -> Result<(), BuildError> {
        let target = self.layer.join(self.place(target)?);
        remove_existing(&target)?;
        std::fs::write(&target, content).map_err(BuildError::io(&target))?;
        let (uid, gid) = self.owner.map_or((0, 0), |o| (o.uid, o.gid));
        set_owner_mode(&target, uid, gid, self.chmod.unwrap_or(0o644))?;
        self.written += 1;
        Ok(())
    }

    /// Extracts the tar `archive` into the directory `dest` (absolute in
    /// the image, made when missing): entries keep the archive's owners
    /// and modes unless `--chown`/`--chmod` say otherwise, and none is
    /// written outside `dest`, through `..` or a symlink.
    fn extract(&mut self, archive: &Path, dest: &Path, rel: &Path) -> Result<(), BuildError> {
        let dir = self.layer.join(self.place(dest)?);
        if !std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            remove_existing(&dir)?;
            std::fs::create_dir(&dir).map_err(BuildError::io(&dir))?;
            set_owner_mode(&dir, 0, 0, 0o755)?;
        }
        let file = open_nofollow(archive).map_err(BuildError::io(archive))?;
        let what = format!("{}: ADD {}", self.at, rel.display());
        // An archive is a plain tree, extracted into the layer being
        // made: a `.wh.` name in it must not become a deletion.
        let unpacked = stack_image::unpack::unpack_tree(file, &dir, &what)?;
        self.written += unpacked.entries as usize;
        if self.owner.is_none() && self.chmod.is_none() {
            return Ok(());
        }
        for entry in walkdir::WalkDir::new(&dir).min_depth(1).follow_links(false) {
            let entry = entry.map_err(|e| BuildError::io(&dir)(e.into()))?;
            let meta = entry
                .metadata()
                .map_err(|e| BuildError::io(entry.path())(e.into()))?;
            let (mut uid, mut gid, mut mode) = owner_mode(&meta);
            if let Some(owner) = self.owner {
                (uid, gid) = (owner.uid, owner.gid);
            }
            if meta.file_type().is_symlink() {
                std::os::unix::fs::lchown(entry.path(), Some(uid), Some(gid))
                    .map_err(BuildError::io(entry.path()))?;
                continue;
            }
            if let Some(m) = self.chmod {
                mode = m;
            }
            set_owner_mode(entry.path(), uid, gid, mode)?;
        }
        Ok(())
    }

    /// Copies `rel` of the source to `target` (relative in the layer); a
    /// directory's content goes into `target`.
    fn copy_entry(&mut self, rel: &Path, target: &Path, top: bool) -> Result<(), BuildError> {
        let tree = self.source.tree;
        let Some(entry) = tree.entry(rel) else {
            return Ok(());
        };
        let dst = self.layer.join(target);
        let kind = entry.meta.file_type();
        let (mut uid, mut gid, mut mode) = owner_mode(&entry.meta);
        if self.source.from_context {
            (uid, gid) = (0, 0);
        }
        if let Some(owner) = self.owner {
            (uid, gid) = (owner.uid, owner.gid);
        }
        if let Some(m) = self.chmod {
            mode = m;
        }
        if kind.is_dir() {
            if !std::fs::symlink_metadata(&dst).is_ok_and(|m| m.is_dir()) {
                if top && target.as_os_str().is_empty() {
                    // COPY dir / : the layer's root already exists.
                } else {
                    std::fs::create_dir(&dst).map_err(BuildError::io(&dst))?;
                }
            }
            for name in tree.children(rel) {
                self.copy_entry(&rel.join(&name), &target.join(&name), false)?;
            }
            if !(top && target.as_os_str().is_empty()) {
                set_owner_mode(&dst, uid, gid, mode)?;
                set_mtime(&dst, &entry.meta)?;
                self.written += 1;
            }
            return Ok(());
        }
        remove_existing(&dst)?;
        if kind.is_symlink() {
            let link =
                std::fs::read_link(&entry.host_path).map_err(BuildError::io(&entry.host_path))?;
            std::os::unix::fs::symlink(&link, &dst).map_err(BuildError::io(&dst))?;
            std::os::unix::fs::lchown(&dst, Some(uid), Some(gid)).map_err(BuildError::io(&dst))?;
        } else if kind.is_file() {
            copy_file(&entry.host_path, &dst)?;
            set_owner_mode(&dst, uid, gid, mode)?;
            set_mtime(&dst, &entry.meta)?;
        } else if !self.source.from_context
            && (kind.is_char_device() || kind.is_block_device() || kind.is_fifo())
        {
            let file_kind = if kind.is_char_device() {
                rustix::fs::FileType::CharacterDevice
            } else if kind.is_block_device() {
                rustix::fs::FileType::BlockDevice
            } else {
                rustix::fs::FileType::Fifo
            };
            rustix::fs::mknodat(
                rustix::fs::CWD,
                &dst,
                file_kind,
                rustix::fs::Mode::from_raw_mode(mode),
                entry.meta.rdev(),
            )
            .map_err(|e| BuildError::io(&dst)(e.into()))?;
            set_owner_mode(&dst, uid, gid, mode)?;
        } else {
            return Err(BuildError::Invalid(format!(
                "{}: {}: not a regular file, directory or symlink",
                self.at,
                rel.display()
            )));
        }
        self.written += 1;
        Ok(())
    }
}

/// A file, a link or an empty directory already at `path` in the layer
/// (a later source of the same step) is replaced.
fn remove_existing(path: &Path) -> Result<(), BuildError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path).map_err(BuildError::io(path)),
        Ok(_) => std::fs::remove_file(path).map_err(BuildError::io(path)),
        Err(_) => Ok(()),
    }
}

/// Copies a file's bytes without following a symlink at `from`.
fn copy_file(from: &Path, to: &Path) -> Result<(), BuildError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut src = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(from)
        .map_err(BuildError::io(from))?;
    let mut dst = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(BuildError::io(to))?;
    std::io::copy(&mut src, &mut dst).map_err(BuildError::io(to))?;
    Ok(())
}

fn set_owner_mode(path: &Path, uid: u32, gid: u32, mode: u32) -> Result<(), BuildError> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).map_err(BuildError::io(path))?;
    // chown clears setuid and setgid: the mode comes after.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(BuildError::io(path))
}

fn set_mtime(path: &Path, meta: &std::fs::Metadata) -> Result<(), BuildError> {
    let time = rustix::fs::Timestamps {
        last_access: rustix::fs::Timespec {
            tv_sec: meta.atime(),
            tv_nsec: meta.atime_nsec() as _,
        },
        last_modification: rustix::fs::Timespec {
            tv_sec: meta.mtime(),
            tv_nsec: meta.mtime_nsec() as _,
        },
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        path,
        &time,
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(|e| BuildError::io(path)(e.into()))
}

//! Writing a directory as an OCI layer: the builder's side of what
//! [`crate::unpack`] reads.
//!
//! A RUN step leaves its changes in an overlayfs upper directory
//! ([`DiffKind::OverlayUpper`]): deletions there are 0:0 character
//! devices and replaced directories carry `trusted.overlay.opaque=y`;
//! they become OCI whiteouts (`.wh.<name>`, `<dir>/.wh..wh..opq`). A COPY
//! step builds a directory that is the layer as it is ([`DiffKind::Plain`]).
//!
//! The same tree always gives the same bytes: entries in path order,
//! xattrs sorted, no user or group names, no access or change times, a
//! fixed compression level and a gzip header without name or time, and
//! with [`LayerOptions::source_date_epoch`] every mtime clamped to it.
//! The digests are computed while the layer streams out, in one pass.

mod emit;
mod walk;
mod xattr;

use std::ffi::OsStr;
use std::io::{BufWriter, Write};
use std::os::fd::BorrowedFd;
use std::path::Path;

use crate::digest::{Digest, Hasher, HashingWriter};
use crate::error::{ImageError, Result};
pub use crate::unpack::Compression;
pub use walk::Mounts;
use walk::WalkRules;

pub const MEDIA_TYPE_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const MEDIA_TYPE_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const MEDIA_TYPE_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// What starts the name of a whiteout entry.
const WHITEOUT_PREFIX: &[u8] = b".wh.";

/// gzip level: zlib's default, a fixed number so the bytes do not change
/// with a library's idea of "default".
const GZIP_LEVEL: u32 = 6;
/// zstd level: the reference tool's default.
const ZSTD_LEVEL: i32 = 3;
/// Output buffer between the compressor and the caller's writer.
const WRITE_BUFFER: usize = 256 * 1024;

/// What the directory given to [`write_layer`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffKind {
    /// An overlayfs upper directory: 0:0 character devices are deletions,
    /// `trusted.overlay.opaque=y` (or `user.overlay.opaque=y`) directories
    /// hide what the lower layers had in them, other overlay attributes
    /// are dropped. An upper written with `redirect_dir` or `metacopy`
    /// on is refused: its entries depend on the lower layers.
    OverlayUpper,
    /// The directory's whole content is the layer.
    Plain,
    /// A tree copied as it is (`docker cp`, `export`), not a layer: no
    /// name and no device stands for a deletion, and none is refused.
    Tree,
}

/// How a layer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerOptions {
    pub compression: Compression,
    /// Clamps every mtime to at most this (seconds since the epoch), as
    /// `SOURCE_DATE_EPOCH` asks of reproducible builds.
    pub source_date_epoch: Option<u64>,
}

impl Default for LayerOptions {
    /// gzip: what every registry and runtime reads.
    fn default() -> Self {
        LayerOptions {
            compression: Compression::Gzip,
            source_date_epoch: None,
        }
    }
}

/// What [`write_layer`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerStats {
    /// Digest of the blob as written (compressed).
    pub digest: Digest,
    /// sha256 of the uncompressed tar: the image config's `diff_ids` entry.
    pub diff_id: Digest,
    /// Bytes of the blob as written.
    pub size: u64,
    /// Bytes of the uncompressed tar.
    pub tar_size: u64,
    pub media_type: &'static str,
    /// Tar entries (whiteouts and opaque markers included): zero means
    /// the directory was empty, a step that changed nothing.
    pub entries: u64,
}

/// The OCI media type of a layer compressed with `compression`.
pub fn media_type(compression: Compression) -> &'static str {
    match compression {
        Compression::Gzip => MEDIA_TYPE_GZIP,
        Compression::Zstd => MEDIA_TYPE_ZSTD,
        Compression::None => MEDIA_TYPE_TAR,
    }
}

/// Writes the tree under `dir` to `out` as a layer blob (see the module
/// docs). Symlinks are never followed and nothing outside `dir` is read;
/// sockets are skipped (a tar cannot hold them). `out` is flushed.
pub fn write_layer(
    dir: &Path,
    kind: DiffKind,
    options: &LayerOptions,
    out: impl Write,
) -> Result<LayerStats> {
    let write_err = |source: std::io::Error| ImageError::LayerWrite {
        path: dir.to_path_buf(),
        source,
    };
    let blob = HashingWriter {
        inner: BufWriter::with_capacity(WRITE_BUFFER, out),
        hasher: Hasher::default(),
    };
    let tar = HashingWriter {
        inner: Encoder::new(options.compression, blob).map_err(write_err)?,
        hasher: Hasher::default(),
    };
    let mut emitter = emit::Emitter::new(tar, dir, kind, options.source_date_epoch);
    let rules = WalkRules {
        whiteouts: kind == DiffKind::OverlayUpper,
        mounts: Mounts::Enter,
    };
    walk::walk(dir, rules, &mut |node| emitter.visit(node))?;
    let (tar, entries) = emitter.finish()?;
    let tar_size = tar.hasher.len();
    let diff_id = tar.hasher.finish();
    let mut blob = tar.inner.finish().map_err(write_err)?;
    blob.flush().map_err(write_err)?;
    Ok(LayerStats {
        size: blob.hasher.len(),
        digest: blob.hasher.finish(),
        diff_id,
        tar_size,
        media_type: media_type(options.compression),
        entries,
    })
}

/// What a tree archive holds.
#[derive(Debug, Clone, Copy)]
pub enum TreeRoot<'a> {
    /// The entry `name` of the directory `parent` (never followed), and
    /// all below it when it is a directory, under the path `rename`.
    Entry {
        parent: BorrowedFd<'a>,
        name: &'a OsStr,
        rename: &'a [u8],
    },
    /// The open directory `dir`: with `rename`, the directory itself under
    /// that path and all below it; without, only what is below it, by
    /// paths relative to it (an export).
    Dir {
        dir: BorrowedFd<'a>,
        rename: Option<&'a [u8]>,
    },
}

/// Writes a tree to `out` as an uncompressed tar, as it is ([`DiffKind::Tree`]):
/// owners, modes, times, xattrs, hardlinks, devices; sockets skipped.
/// `display` names the tree in errors. Returns the entries written.
pub fn write_tree(
    display: &Path,
    root: TreeRoot<'_>,
    mounts: Mounts,
    out: impl Write,
) -> Result<u64> {
    let write_err = |source: std::io::Error| ImageError::LayerWrite {
        path: display.to_path_buf(),
        source,
    };
    let out = BufWriter::with_capacity(WRITE_BUFFER, out);
    let mut emitter = emit::Emitter::new(out, display, DiffKind::Tree, None);
    let rules = WalkRules {
        whiteouts: false,
        mounts,
    };
    let mut visit = |node: &walk::Node<'_>| emitter.visit(node);
    match root {
        TreeRoot::Entry {
            parent,
            name,
            rename,
        } => walk::walk_entry(display, parent, name, rename, rules, &mut visit)?,
        TreeRoot::Dir { dir, rename: None } => walk::walk_below(display, dir, rules, &mut visit)?,
        TreeRoot::Dir {
            dir,
            rename: Some(rename),
        } => walk::walk_dir_itself(display, dir, rename, rules, &mut visit)?,
    }
    let (mut out, entries) = emitter.finish()?;
    out.flush().map_err(write_err)?;
    Ok(entries)
}

/// The compressor, chosen at run time.
enum Encoder<W: Write> {
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
    None(W),
}

impl<W: Write> Encoder<W> {
    fn new(compression: Compression, out: W) -> std::io::Result<Self> {
        Ok(match compression {
            // No file name and mtime 0 in the header, OS "unknown": the
            // header says nothing about where or when it was written.
            Compression::Gzip => Encoder::Gzip(
                flate2::GzBuilder::new()
                    .mtime(0)
                    .operating_system(255)
                    .write(out, flate2::Compression::new(GZIP_LEVEL)),
            ),
            Compression::Zstd => Encoder::Zstd(zstd::stream::write::Encoder::new(out, ZSTD_LEVEL)?),
            Compression::None => Encoder::None(out),
        })
    }

    /// Writes the compressed stream's trailer and hands back the writer.
    fn finish(self) -> std::io::Result<W> {
        match self {
            Encoder::Gzip(e) => e.finish(),
            Encoder::Zstd(e) => e.finish(),
            Encoder::None(w) => Ok(w),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Encoder::Gzip(e) => e.write(buf),
            Encoder::Zstd(e) => e.write(buf),
            Encoder::None(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Encoder::Gzip(e) => e.flush(),
            Encoder::Zstd(e) => e.flush(),
            Encoder::None(w) => w.flush(),
        }
    }
}

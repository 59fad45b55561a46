//! One entry of the tree becomes its tar entries: the header (GNU, with
//! long-name records and base-256 numbers when needed), xattrs as PAX
//! `SCHILY.xattr.*` records, and, for an overlay upper directory, the OCI
//! form of its deletions (`.wh.<name>`) and opaque directories
//! (`<dir>/.wh..wh..opq`).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{BufReader, Read, Write};
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, FileType};
use tar::{EntryType, Header};

use super::walk::{Attrs, Node};
use super::xattr::{self, Source};
use super::{DiffKind, WHITEOUT_PREFIX};
use crate::error::{ImageError, Result};

const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";

/// Read buffer for file contents.
const READ_BUFFER: usize = 256 * 1024;

/// Writes the entries of one layer, in the order it is given them.
pub(super) struct Emitter<W: Write> {
    builder: tar::Builder<W>,
    root: PathBuf,
    kind: DiffKind,
    epoch: Option<u64>,
    /// The first path written for each inode with several links, so the
    /// others become hardlink entries to it.
    links: HashMap<(u64, u64), Vec<u8>>,
    /// Tar entries written (PAX and long-name records not counted).
    pub entries: u64,
}

/// The attributes of an entry as the layer carries them.
#[derive(Default)]
struct Carried {
    /// Carried as PAX records, by name.
    xattrs: Vec<(String, Vec<u8>)>,
    /// An opaque directory of an overlay upper.
    opaque: bool,
}

impl<W: Write> Emitter<W> {
    pub fn new(out: W, root: &Path, kind: DiffKind, epoch: Option<u64>) -> Self {
        Emitter {
            builder: tar::Builder::new(out),
            root: root.to_path_buf(),
            kind,
            epoch,
            links: HashMap::new(),
            entries: 0,
        }
    }

    /// Writes the end-of-archive blocks and hands back the writer.
    pub fn finish(self) -> Result<(W, u64)> {
        let entries = self.entries;
        let root = self.root;
        let out = self
            .builder
            .into_inner()
            .map_err(|source| ImageError::LayerWrite { path: root, source })?;
        Ok((out, entries))
    }

    /// Writes what `node` becomes in the layer.
    pub fn visit(&mut self, node: &Node<'_>) -> Result<()> {
        let refuse = |reason: &str| ImageError::LayerSource {
            path: self.root.join(OsStr::from_bytes(node.path)),
            reason: reason.to_string(),
        };
        if self.kind != DiffKind::Tree && node.name.as_bytes().starts_with(WHITEOUT_PREFIX) {
            return Err(refuse(
                "a name starting with \".wh.\" would read as a deletion in the layer",
            ));
        }
        let attrs = node.attrs;
        match attrs.kind {
            // The tar format has no sockets; Docker skips them too.
            FileType::Socket => return Ok(()),
            FileType::CharacterDevice if attrs.rdev == 0 => {
                return match self.kind {
                    DiffKind::OverlayUpper => self.whiteout(node),
                    DiffKind::Plain => Err(refuse(
                        "a 0:0 character device is what overlayfs reads as a deletion; \
                         a layer cannot carry one",
                    )),
                    DiffKind::Tree => Ok(()),
                }
                .and_then(|()| match self.kind {
                    DiffKind::Tree => self.tree_device(node),
                    _ => Ok(()),
                });
            }
            _ => {}
        }
        let carried = self.xattrs(node)?;
        if attrs.kind != FileType::Directory && attrs.nlink > 1 {
            let key = (attrs.dev, attrs.ino);
            if let Some(first) = self.links.get(&key).cloned() {
                let records: Vec<_> = self
                    .exact_name("path", node.path, b"")
                    .into_iter()
                    .chain(self.exact_name("linkpath", &first, b""))
                    .collect();
                self.pax(node.path, &records)?;
                let mut header = self.header(&attrs, EntryType::Link);
                return self.append_link(&mut header, node.path, &first);
            }
            self.links.insert(key, node.path.to_vec());
        }
        let mut records: Vec<(String, Vec<u8>)> = carried
            .xattrs
            .iter()
            .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v.clone()))
            .collect();
        let dir_slash: &[u8] = if attrs.kind == FileType::Directory {
            b"/"
        } else {
            b""
        };
        records.extend(self.exact_name("path", node.path, dir_slash));
        self.pax(node.path, &records)?;
        match attrs.kind {
            FileType::Directory => {
                let mut header = self.header(&attrs, EntryType::Directory);
                let mut path = node.path.to_vec();
                path.push(b'/');
                self.append(&mut header, &path, std::io::empty())?;
                if carried.opaque {
                    let mut marker = self.header(&attrs, EntryType::Regular);
                    marker.set_mode(0);
                    path.extend_from_slice(OPAQUE_MARKER);
                    self.append(&mut marker, &path, std::io::empty())?;
                }
                Ok(())
            }
            FileType::RegularFile => {
                let fd = node.fd.ok_or_else(|| ImageError::LayerSource {
                    path: self.root.join(OsStr::from_bytes(node.path)),
                    reason: "regular file not opened".into(),
                })?;
                let mut header = self.header(&attrs, EntryType::Regular);
                header.set_size(attrs.size);
                let reader = BufReader::with_capacity(
                    READ_BUFFER,
                    Exact {
                        fd,
                        left: attrs.size,
                    },
                );
                self.append(&mut header, node.path, reader)
            }
            FileType::Symlink => {
                let target = rfs::readlinkat(node.parent, node.name, Vec::new()).map_err(|e| {
                    ImageError::io(self.root.join(OsStr::from_bytes(node.path)), e.into())
                })?;
                let mut header = self.header(&attrs, EntryType::Symlink);
                self.append_link(&mut header, node.path, target.as_bytes())
            }
            FileType::CharacterDevice | FileType::BlockDevice | FileType::Fifo => self.device(node),
            other => Err(ImageError::LayerSource {
                path: self.root.join(OsStr::from_bytes(node.path)),
                reason: format!("unsupported file type {other:?}"),
            }),
        }
    }

    /// A PAX record keeping `path` as it is (key `path` or `linkpath`),
    /// when the tar writer would rewrite it: it drops a leading `./`,
    /// which an archive of `dir/.` must keep (`docker cp` matches on it).
    fn exact_name(&self, key: &str, path: &[u8], suffix: &[u8]) -> Option<(String, Vec<u8>)> {
        let keeps_dot = self.kind == DiffKind::Tree && (path == b"." || path.starts_with(b"./"));
        keeps_dot.then(|| (key.to_string(), [path, suffix].concat()))
    }

    /// One PAX header with `records`, before the entry they describe (a
    /// reader keeps only the last PAX header before an entry).
    fn pax(&mut self, path: &[u8], records: &[(String, Vec<u8>)]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.builder
            .append_pax_extensions(records.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
            .map_err(|e| self.write_err(path, e))
    }

    /// A 0:0 character device of a tree (no deletion there), with its
    /// exact name.
    fn tree_device(&mut self, node: &Node<'_>) -> Result<()> {
        let records: Vec<_> = self
            .exact_name("path", node.path, b"")
            .into_iter()
            .collect();
        self.pax(node.path, &records)?;
        self.device(node)
    }

    /// A device node or a fifo.
    fn device(&mut self, node: &Node<'_>) -> Result<()> {
        let attrs = node.attrs;
        let kind = match attrs.kind {
            FileType::CharacterDevice => EntryType::Char,
            FileType::BlockDevice => EntryType::Block,
            _ => EntryType::Fifo,
        };
        let mut header = self.header(&attrs, kind);
        if kind != EntryType::Fifo {
            let (major, minor) = (rfs::major(attrs.rdev), rfs::minor(attrs.rdev));
            header
                .set_device_major(major)
                .and_then(|()| header.set_device_minor(minor))
                .map_err(|e| self.write_err(node.path, e))?;
        }
        self.append(&mut header, node.path, std::io::empty())
    }

    /// `.wh.<name>` next to where the deleted entry was: an empty regular
    /// file with the owner of the overlay whiteout it stands for.
    fn whiteout(&mut self, node: &Node<'_>) -> Result<()> {
        let mut path = match node.path.iter().rposition(|b| *b == b'/') {
            Some(slash) => node.path[..=slash].to_vec(),
            None => Vec::new(),
        };
        path.extend_from_slice(WHITEOUT_PREFIX);
        path.extend_from_slice(node.name.as_bytes());
        let mut header = self.header(&node.attrs, EntryType::Regular);
        header.set_mode(0);
        self.append(&mut header, &path, std::io::empty())
    }

    /// The xattrs a layer carries for `node`, and what its overlay
    /// attributes say. Overlay's own attributes are never carried: the
    /// unpacker refuses them, since they would steer overlayfs from inside
    /// an image. `security.selinux` is the host's label, not the image's.
    fn xattrs(&self, node: &Node<'_>) -> Result<Carried> {
        let source = match node.fd {
            Some(fd) => Source::Fd(fd),
            None => Source::At {
                dir: node.parent,
                name: node.name,
            },
        };
        let path = || self.root.join(OsStr::from_bytes(node.path));
        let all = xattr::read_all(&source).map_err(|e| ImageError::io(path(), e.into()))?;
        let mut carried = Carried::default();
        for (name, value) in all {
            let name = String::from_utf8(name).map_err(|e| ImageError::LayerSource {
                path: path(),
                reason: format!(
                    "xattr name {:?} is not UTF-8 (PAX records need it)",
                    String::from_utf8_lossy(e.as_bytes())
                ),
            })?;
            let overlay_attr = name
                .strip_prefix("trusted.overlay.")
                .or_else(|| name.strip_prefix("user.overlay."));
            match (overlay_attr, self.kind) {
                (None, _) if name == "security.selinux" => {}
                (None, _) => carried.xattrs.push((name, value)),
                (Some(_), DiffKind::Plain | DiffKind::Tree) => {}
                (Some("opaque"), DiffKind::OverlayUpper) => {
                    // "x" marks a directory holding xattr whiteouts, not an
                    // opaque one.
                    carried.opaque = node.attrs.kind == FileType::Directory && value == b"y";
                }
                (Some(attr @ ("redirect" | "metacopy")), DiffKind::OverlayUpper) => {
                    return Err(ImageError::LayerSource {
                        path: path(),
                        reason: format!(
                            "overlay {attr} entry: its content lives in the lower layers; \
                             mount the container's overlay with redirect_dir=off,metacopy=off"
                        ),
                    });
                }
                (Some(_), DiffKind::OverlayUpper) => {}
            }
        }
        Ok(carried)
    }

    /// A header with the entry's owner, permission bits and clamped time;
    /// no user or group names (ids are what a container sees).
    fn header(&self, attrs: &Attrs, kind: EntryType) -> Header {
        let mut header = Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(attrs.mode);
        header.set_uid(attrs.uid.into());
        header.set_gid(attrs.gid.into());
        header.set_mtime(match self.epoch {
            Some(epoch) => attrs.mtime.min(epoch),
            None => attrs.mtime,
        });
        header.set_size(0);
        header
    }

    fn append(&mut self, header: &mut Header, path: &[u8], data: impl Read) -> Result<()> {
        self.builder
            .append_data(header, Path::new(OsStr::from_bytes(path)), data)
            .map_err(|e| self.write_err(path, e))?;
        self.entries += 1;
        Ok(())
    }

    fn append_link(&mut self, header: &mut Header, path: &[u8], target: &[u8]) -> Result<()> {
        self.builder
            .append_link(
                header,
                Path::new(OsStr::from_bytes(path)),
                Path::new(OsStr::from_bytes(target)),
            )
            .map_err(|e| self.write_err(path, e))?;
        self.entries += 1;
        Ok(())
    }

    fn write_err(&self, path: &[u8], source: std::io::Error) -> ImageError {
        ImageError::LayerWrite {
            path: self.root.join(OsStr::from_bytes(path)),
            source,
        }
    }
}

/// Reads exactly the size the header announced: a file that shrank while
/// it was read is an error (the archive would be corrupt otherwise), and
/// bytes it gained since are not read.
struct Exact<'a> {
    fd: BorrowedFd<'a>,
    left: u64,
}

impl Read for Exact<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = rustix::io::read(self.fd, &mut buf[..want])?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the file shrank by {} bytes while it was read", self.left),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

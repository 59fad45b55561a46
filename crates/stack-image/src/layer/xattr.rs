//! Extended attributes of the entries of a tree being written as a layer,
//! read without following symlinks and without leaving the tree.
//!
//! Regular files and directories are open anyway (to read them), so their
//! attributes come through their fds. For symlinks, devices and fifos
//! there is no `lgetxattrat` before Linux 6.13, and opening a fifo or a
//! device to read its attributes could block or have side effects, so they
//! are named `/proc/self/fd/<parent fd>/<name>` with the `l*` calls: the
//! parent is the directory fd the walk holds, and the last component is
//! never followed.

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs as rfs;
use rustix::io::Errno;

/// Where the attributes are read from.
pub(super) enum Source<'a> {
    /// An open file or directory.
    Fd(BorrowedFd<'a>),
    /// The entry `name` of the directory `dir`, not followed.
    At {
        dir: BorrowedFd<'a>,
        name: &'a OsStr,
    },
}

/// Attribute names and values.
pub(super) type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;

/// Every attribute of `source`, sorted by name (so the layer's bytes do
/// not depend on the order the file system lists them in).
pub(super) fn read_all(source: &Source<'_>) -> Result<Xattrs, Errno> {
    let path = match source {
        Source::Fd(_) => None,
        Source::At { dir, name } => {
            let mut path = format!("/proc/self/fd/{}/", dir.as_raw_fd()).into_bytes();
            path.extend_from_slice(name.as_bytes());
            Some(path)
        }
    };
    let list = match (&path, source) {
        (Some(path), _) => {
            let path = OsStr::from_bytes(path);
            read_sized(
                || rfs::llistxattr_query(path),
                |buf| rfs::llistxattr(path, buf),
            )
        }
        (None, Source::Fd(fd)) => {
            read_sized(|| rfs::flistxattr_query(fd), |buf| rfs::flistxattr(fd, buf))
        }
        (None, Source::At { .. }) => Ok(Vec::new()),
    };
    let list = match list {
        Ok(list) => list,
        // A file system without xattrs simply has none to carry.
        Err(Errno::NOTSUP) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for name in list.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name_os = OsStr::from_bytes(name);
        let value = match (&path, source) {
            (Some(path), _) => {
                let path = OsStr::from_bytes(path);
                read_sized(
                    || rfs::lgetxattr_query(path, name_os),
                    |buf| rfs::lgetxattr(path, name_os, buf),
                )
            }
            (None, Source::Fd(fd)) => read_sized(
                || rfs::fgetxattr_query(fd, name_os),
                |buf| rfs::fgetxattr(fd, name_os, buf),
            ),
            (None, Source::At { .. }) => continue,
        };
        match value {
            Ok(value) => out.push((name.to_vec(), value)),
            // Removed between the listing and the read: it is gone.
            Err(Errno::NODATA) => {}
            Err(e) => return Err(e),
        }
    }
    out.sort();
    Ok(out)
}

/// Asks for the size with `query`, then reads with `read`; again when the
/// value grew in between (`ERANGE`).
fn read_sized(
    query: impl Fn() -> Result<usize, Errno>,
    read: impl Fn(&mut [u8]) -> Result<usize, Errno>,
) -> Result<Vec<u8>, Errno> {
    loop {
        let size = query()?;
        if size == 0 {
            return Ok(Vec::new());
        }
        let mut buf = vec![0u8; size];
        match read(&mut buf) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(buf);
            }
            Err(Errno::RANGE) => continue,
            Err(e) => return Err(e),
        }
    }
}

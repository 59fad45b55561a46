//! Layer unpacking into a snapshot directory in overlay form.
//!
//! The `tar` crate is used as a parser only: its own unpack turns device
//! nodes into empty files and refuses (rather than confines) symlinked
//! parents. Every write here goes through [`ConfinedRoot`], so nothing a
//! layer says can reach outside its snapshot. OCI whiteouts become what
//! overlayfs understands: `.wh.x` a 0/0 character device `x`,
//! `.wh..wh..opq` the `trusted.overlay.opaque=y` xattr on its directory.

mod compression;
mod confined;
mod entry;
mod path;

use std::ffi::OsString;
use std::io::{BufReader, Read};
use std::path::Path;

pub use compression::{decompress, Compression};
use confined::ConfinedRoot;

use crate::digest::{Digest, HashingReader};
use crate::error::{ImageError, Result};

/// Read and copy buffer size.
const READ_BUFFER: usize = 256 * 1024;

/// What unpacking a layer found.
#[derive(Debug, Clone)]
pub struct Unpacked {
    pub compression: Compression,
    /// sha256 of the uncompressed tar stream.
    pub diff_id: Digest,
    /// Uncompressed bytes read.
    pub tar_bytes: u64,
    pub entries: u64,
}

/// Unpacks the layer blob `blob` into the existing, empty directory `dest`.
/// `layer` names the layer in errors. The caller compares the returned
/// diff_id with the image config and discards `dest` on mismatch.
pub fn unpack_layer(blob: impl Read, dest: &Path, layer: &str) -> Result<Unpacked> {
    let io_err = |e: std::io::Error| ImageError::Layer {
        layer: layer.to_string(),
        message: e.to_string(),
    };
    let (compression, stream) = decompress(blob).map_err(io_err)?;
    // The tar parser reads 512-byte headers; a large buffer between it and
    // the decompressor keeps those reads cheap. Bytes are hashed as they
    // leave the decompressor, so the buffer does not disturb the diff_id.
    let mut buffered = BufReader::with_capacity(READ_BUFFER, HashingReader::new(stream));
    let mut copy_buffer = vec![0u8; READ_BUFFER];
    let mut root = ConfinedRoot::open(dest).map_err(|e| ImageError::io(dest, e))?;
    let mut dir_times: Vec<(Vec<OsString>, u64)> = Vec::new();
    let mut entries = 0u64;
    {
        let mut archive = tar::Archive::new(&mut buffered);
        for item in archive.entries().map_err(io_err)? {
            let mut item = item.map_err(io_err)?;
            entries += 1;
            let applied = entry::apply(&mut root, &mut item, layer, &mut copy_buffer)?;
            if let Some(dir) = applied {
                dir_times.push(dir);
            }
        }
    }
    let hasher = buffered.into_inner().drain_and_finish().map_err(io_err)?;
    // Children changed their directories' mtimes; set those last, deepest first.
    for (components, mtime) in dir_times.into_iter().rev() {
        entry::set_dir_time(&root, &components, mtime).map_err(|e| ImageError::Layer {
            layer: layer.to_string(),
            message: format!(
                "setting the time of {:?}: {e}",
                components.join("/".as_ref())
            ),
        })?;
    }
    Ok(Unpacked {
        compression,
        tar_bytes: hasher.len(),
        diff_id: hasher.finish(),
        entries,
    })
}

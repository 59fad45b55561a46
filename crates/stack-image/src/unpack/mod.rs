//! Layer unpacking into a snapshot directory in overlay form.
//!
//! The `tar` crate is used as a parser only: its own unpack turns device
//! nodes into empty files and refuses (rather than confines) symlinked
//! parents. Every write here goes through [`ConfinedRoot`], so nothing a
//! layer says can reach outside its snapshot. OCI whiteouts become what
//! overlayfs understands: `.wh.x` a 0/0 character device `x`,
//! `.wh..wh..opq` the `trusted.overlay.opaque=y` xattr on its directory.
//! A tar that is no layer (a build context, an archive `ADD` extracts) is
//! unpacked by [`unpack_tree`] with the same confinement, every name a
//! plain file: there, `.wh.x` is a file called `.wh.x`.

mod compression;
mod entry;
mod path;
mod sparse;
mod tap;

use std::ffi::OsString;
use std::io::{BufReader, Read};
use std::path::Path;

pub use compression::{decompress, Compression};
/// Also used to change files inside a running container (`stack watch`),
/// with the same guarantee: nothing is followed out of the root.
pub use stack_confine::ConfinedRoot;

use std::sync::mpsc::{Receiver, SyncSender};

use crate::digest::{Digest, Hasher};
use crate::error::{ImageError, Result};
use tap::Tap;

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

pub use entry::Rules as TreeRules;

/// Unpacks the layer blob `blob` into the existing, empty directory `dest`.
/// `layer` names the layer in errors. The caller compares the returned
/// diff_id with the image config and discards `dest` on mismatch.
///
/// Decompression and hashing run on a second thread, so they overlap with
/// the file system work of writing the entries.
pub fn unpack_layer(blob: impl Read + Send, dest: &Path, layer: &str) -> Result<Unpacked> {
    let mut root = ConfinedRoot::open(dest).map_err(|e| ImageError::io(dest, e))?;
    unpack(blob, &mut root, layer, TreeRules::default())
}

/// Unpacks a tar that is a plain tree, not a layer (an uploaded build
/// context, an archive `ADD` extracts), into `dest`, confined as a layer
/// is; a `.wh.` name is a file, never a deletion. `what` names it in
/// errors.
pub fn unpack_tree(blob: impl Read + Send, dest: &Path, what: &str) -> Result<Unpacked> {
    let mut root = ConfinedRoot::open(dest).map_err(|e| ImageError::io(dest, e))?;
    unpack_tree_into(blob, &mut root, TreeRules::default(), what)
}

/// [`unpack_tree`] into a root already open (a container's, for `docker
/// cp`), by `rules` (below a directory, owned by given ids, kinds kept;
/// `tree` is taken as set).
pub fn unpack_tree_into(
    blob: impl Read + Send,
    root: &mut ConfinedRoot,
    rules: TreeRules<'_>,
    what: &str,
) -> Result<Unpacked> {
    unpack(
        blob,
        root,
        what,
        TreeRules {
            tree: true,
            ..rules
        },
    )
}

fn unpack(
    blob: impl Read + Send,
    root: &mut ConfinedRoot,
    layer: &str,
    rules: TreeRules<'_>,
) -> Result<Unpacked> {
    let io_err = |e: std::io::Error| ImageError::Layer {
        layer: layer.to_string(),
        message: e.to_string(),
    };
    let (decoded, written) = std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel(4);
        let decoder = scope.spawn(move || decode_into(blob, sender));
        // The tar parser reads 512-byte headers; the buffer keeps those cheap.
        let mut stream = BufReader::with_capacity(READ_BUFFER, ChannelReader::new(receiver));
        let written = write_entries(&mut stream, root, layer, rules);
        // Read what is left (padding after the end marker belongs to the
        // diff_id), or, after an error, hang up so the decoder stops.
        let written = written.and_then(|w| {
            std::io::copy(&mut stream, &mut std::io::sink()).map_err(io_err)?;
            Ok(w)
        });
        drop(stream);
        let decoded = decoder
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("decoder thread panicked")));
        (decoded, written)
    });
    // A decoding error explains a truncated tar better than the tar error.
    let (compression, hasher) = decoded.map_err(io_err)?;
    let (entries, dir_times) = written?;
    // Children changed their directories' mtimes; set those last, deepest first.
    for (components, mtime) in dir_times.into_iter().rev() {
        entry::set_dir_time(root, &components, mtime).map_err(|e| ImageError::Layer {
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

type DirTimes = Vec<(Vec<OsString>, u64)>;

/// Applies every entry of the tar stream.
fn write_entries(
    stream: &mut dyn Read,
    root: &mut ConfinedRoot,
    layer: &str,
    rules: TreeRules<'_>,
) -> Result<(u64, DirTimes)> {
    let io_err = |e: std::io::Error| ImageError::Layer {
        layer: layer.to_string(),
        message: e.to_string(),
    };
    let mut copy_buffer = vec![0u8; READ_BUFFER];
    let mut dir_times = Vec::new();
    let mut entries = 0u64;
    let tap = Tap::new(stream);
    let mut archive = tar::Archive::new(&tap);
    let mut items = archive.entries().map_err(io_err)?;
    loop {
        tap.start_headers();
        let Some(item) = items.next() else { break };
        let mut item = item.map_err(io_err)?;
        tap.end_headers();
        entries += 1;
        if let Some(dir) = entry::apply(root, &mut item, &tap, layer, rules, &mut copy_buffer)? {
            dir_times.push(dir);
        }
        // Whatever data the entry kept unread is read now, outside the
        // headers' budget. A GNU sparse file's data is read past the
        // parser; reading it through the entry would materialize its holes.
        if item.header().entry_type().is_gnu_sparse() {
            let stored = item.header().entry_size().map_err(io_err)?;
            tap.finish_out_of_band(stored, &mut copy_buffer)
                .map_err(io_err)?;
        } else {
            std::io::copy(&mut item, &mut std::io::sink()).map_err(io_err)?;
        }
    }
    Ok((entries, dir_times))
}

/// Decompresses `blob`, hashing the output, and sends it on in chunks.
/// Stops early, without error, when the receiver hangs up.
fn decode_into(
    blob: impl Read,
    sender: SyncSender<Vec<u8>>,
) -> std::io::Result<(Compression, Hasher)> {
    let mut blob = BufReader::with_capacity(READ_BUFFER, blob);
    if let Some(name) = Compression::unreadable(std::io::BufRead::fill_buf(&mut blob)?) {
        return Err(std::io::Error::other(format!(
            "{name}-compressed archives are not supported: send a plain, gzip or zstd tar"
        )));
    }
    let (compression, mut stream) = decompress(blob)?;
    let mut hasher = Hasher::default();
    loop {
        let mut chunk = vec![0u8; READ_BUFFER];
        let mut filled = 0;
        while filled < chunk.len() {
            match stream.read(&mut chunk[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if filled == 0 {
            return Ok((compression, hasher));
        }
        chunk.truncate(filled);
        hasher.update(&chunk);
        if sender.send(chunk).is_err() {
            return Ok((compression, hasher));
        }
    }
}

/// Reads the chunks a [`decode_into`] thread sends; EOF when it is done.
struct ChannelReader {
    receiver: Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    offset: usize,
}

impl ChannelReader {
    fn new(receiver: Receiver<Vec<u8>>) -> Self {
        ChannelReader {
            receiver,
            chunk: Vec::new(),
            offset: 0,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.offset == self.chunk.len() {
            match self.receiver.recv() {
                Ok(chunk) => {
                    self.chunk = chunk;
                    self.offset = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.offset);
        buf[..n].copy_from_slice(&self.chunk[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }
}

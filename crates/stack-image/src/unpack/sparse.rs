//! Sparse files: GNU (`S` entries, map in the headers), PAX 0.0 and 0.1
//! (map in PAX records) and PAX 1.0 (map at the start of the data). Holes
//! stay holes, as Docker keeps them: only the data segments are written,
//! each at its offset, and the file is then truncated to its real size.
//!
//! A map is hostile input: too many segments, segments out of order or
//! overlapping, beyond the real size, or not adding up to the data stored,
//! are errors, and nothing is allocated from what a map merely declares.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;

use super::tap::Tap;

use super::tap::{MAX_GNU_EXTENSION_HEADERS, MAX_SEGMENTS};

/// Where the map is and how the data is reached.
#[derive(Debug)]
pub enum Sparse {
    /// GNU: map from the headers, data read past the parser.
    Gnu(Map),
    /// PAX 0.0 / 0.1: map from the records, data through the entry.
    Pax(Map),
    /// PAX 1.0: map at the start of the entry's data.
    Pax1 { real_size: u64 },
}

/// What a sparse entry says about itself.
#[derive(Debug)]
pub struct Info {
    pub sparse: Sparse,
    /// The file's real name (`GNU.sparse.name`), when the header holds a
    /// stand-in (`GNUSparseFile.<pid>/<name>`).
    pub name: Option<Vec<u8>>,
}

/// The data segments (offset, length) of a file of `real_size` bytes.
#[derive(Debug, Default)]
pub struct Map {
    pub real_size: u64,
    pub segments: Vec<(u64, u64)>,
}

fn bad(message: impl Into<String>) -> std::io::Error {
    std::io::Error::other(format!("sparse map: {}", message.into()))
}

impl Map {
    fn push(&mut self, offset: u64, length: u64) -> std::io::Result<()> {
        if self.segments.len() >= MAX_SEGMENTS {
            return Err(bad(format!("more than {MAX_SEGMENTS} segments")));
        }
        self.segments.push((offset, length));
        Ok(())
    }

    /// Checks the segments against the real size and the bytes stored.
    fn check(&self, stored: u64) -> std::io::Result<()> {
        let mut end = 0u64;
        let mut total = 0u64;
        for &(offset, length) in &self.segments {
            if offset < end {
                return Err(bad(format!(
                    "segment at {offset} overlaps or precedes the one ending at {end}"
                )));
            }
            end = offset
                .checked_add(length)
                .filter(|e| *e <= self.real_size)
                .ok_or_else(|| {
                    bad(format!(
                        "segment {offset}+{length} goes past the real size {}",
                        self.real_size
                    ))
                })?;
            total += length;
        }
        if total != stored {
            return Err(bad(format!(
                "segments hold {total} bytes but the entry stores {stored}"
            )));
        }
        Ok(())
    }
}

/// Whether `item` is sparse, and how. `tap` holds its headers.
pub fn inspect<R: Read>(item: &mut tar::Entry<'_, R>, tap: &Tap) -> std::io::Result<Option<Info>> {
    if item.header().entry_type().is_gnu_sparse() {
        return Ok(Some(Info {
            sparse: Sparse::Gnu(gnu_map(item, tap)?),
            name: None,
        }));
    }
    let Some(records) = item.pax_extensions()? else {
        return Ok(None);
    };
    let (mut major, mut minor, mut name, mut size) = (None, None, None, None);
    let (mut map, mut pending_offset, mut text_map) = (Map::default(), None, None);
    for record in records {
        let record = record?;
        let value = || record.value().map_err(|_| bad("non-UTF-8 value"));
        let number = || -> std::io::Result<u64> {
            value()?
                .parse()
                .map_err(|_| bad(format!("{:?} is not a number", record.value_bytes())))
        };
        match record.key_bytes() {
            b"GNU.sparse.major" => major = Some(number()?),
            b"GNU.sparse.minor" => minor = Some(number()?),
            b"GNU.sparse.name" => name = Some(record.value_bytes().to_vec()),
            b"GNU.sparse.realsize" | b"GNU.sparse.size" => size = Some(number()?),
            b"GNU.sparse.map" => text_map = Some(value()?.to_string()),
            b"GNU.sparse.offset" => pending_offset = Some(number()?),
            b"GNU.sparse.numbytes" => {
                let offset = pending_offset
                    .take()
                    .ok_or_else(|| bad("numbytes without an offset"))?;
                map.push(offset, number()?)?;
            }
            _ => {}
        }
    }
    let Some(real_size) = size else {
        if major.is_some() || name.is_some() || text_map.is_some() || !map.segments.is_empty() {
            return Err(bad("sparse records without the real size"));
        }
        return Ok(None);
    };
    map.real_size = real_size;
    let sparse = match (major, minor) {
        (Some(1), Some(0)) => Sparse::Pax1 { real_size },
        (Some(major), minor) if major != 0 => {
            return Err(bad(format!(
                "unsupported version {major}.{}",
                minor.unwrap_or(0)
            )))
        }
        _ => {
            if let Some(text) = text_map {
                let mut numbers = text.split(',').map(|n| {
                    n.trim()
                        .parse::<u64>()
                        .map_err(|_| bad(format!("{n:?} is not a number")))
                });
                while let Some(offset) = numbers.next() {
                    let length = numbers
                        .next()
                        .ok_or_else(|| bad("odd number of values"))??;
                    map.push(offset?, length)?;
                }
            }
            map.check(item.size())?;
            Sparse::Pax(map)
        }
    };
    Ok(Some(Info { sparse, name }))
}

/// The GNU map: four segments in the header, 21 in each extension header
/// (read back from the tap).
fn gnu_map<R: Read>(item: &tar::Entry<'_, R>, tap: &Tap) -> std::io::Result<Map> {
    let gnu = item
        .header()
        .as_gnu()
        .ok_or_else(|| bad("sparse type in a non-GNU header"))?;
    let mut map = Map {
        real_size: gnu.real_size()?,
        segments: Vec::new(),
    };
    let add = |block: &tar::GnuSparseHeader, map: &mut Map| -> std::io::Result<()> {
        if !block.is_empty() {
            map.push(block.offset()?, block.length()?)?;
        }
        Ok(())
    };
    for block in &gnu.sparse {
        add(block, &mut map)?;
    }
    if gnu.is_extended() {
        let first = item.raw_header_position() + 512;
        let span = tap
            .headers_end()
            .checked_sub(first)
            .filter(|s| *s > 0 && s % 512 == 0)
            .ok_or_else(|| bad("extension headers not found"))?;
        let count = usize::try_from(span / 512).unwrap_or(usize::MAX);
        if count > MAX_GNU_EXTENSION_HEADERS {
            return Err(bad(format!("more than {MAX_SEGMENTS} segments")));
        }
        let bytes = tap
            .last_header_bytes(count * 512)
            .ok_or_else(|| bad("extension headers not kept"))?;
        for (i, chunk) in bytes.chunks_exact(512).enumerate() {
            let mut ext = tar::GnuExtSparseHeader::new();
            ext.as_mut_bytes().copy_from_slice(chunk);
            if ext.is_extended() != (i + 1 < count) {
                return Err(bad(
                    "extension header chain does not match the headers read",
                ));
            }
            for block in &ext.sparse {
                add(block, &mut map)?;
            }
        }
    }
    map.check(item.header().entry_size()?)?;
    Ok(map)
}

/// Writes the sparse file's data segments into `file` (empty, just
/// created) and gives it its real size.
pub fn write<R: Read>(
    info: &Sparse,
    item: &mut tar::Entry<'_, R>,
    tap: &Tap,
    file: &File,
    buffer: &mut [u8],
) -> std::io::Result<()> {
    let (map, gnu);
    match info {
        Sparse::Gnu(m) => (map, gnu) = (m, true),
        Sparse::Pax(m) => (map, gnu) = (m, false),
        Sparse::Pax1 { real_size } => {
            let (m, map_bytes) = read_pax1_map(item, *real_size)?;
            m.check(item.size() - map_bytes)?;
            write_segments(&m, &mut |b| item.read(b), file, buffer)?;
            return file.set_len(m.real_size);
        }
    }
    if gnu {
        write_segments(map, &mut |b| tap.read_out_of_band(b), file, buffer)?;
    } else {
        write_segments(map, &mut |b| item.read(b), file, buffer)?;
    }
    file.set_len(map.real_size)
}

fn write_segments(
    map: &Map,
    read: &mut dyn FnMut(&mut [u8]) -> std::io::Result<usize>,
    file: &File,
    buffer: &mut [u8],
) -> std::io::Result<()> {
    for &(offset, length) in &map.segments {
        let mut done = 0u64;
        while done < length {
            let want = usize::try_from(length - done)
                .unwrap_or(usize::MAX)
                .min(buffer.len());
            let n = match read(&mut buffer[..want]) {
                Ok(0) => return Err(bad("data ends before the map does")),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            file.write_all_at(&buffer[..n], offset + done)?;
            done += n as u64;
        }
    }
    Ok(())
}

/// Reads the PAX 1.0 map (decimal numbers, one a line: the count, then
/// offset and length pairs; padded to a 512-byte block). Returns it and
/// the bytes it took.
fn read_pax1_map<R: Read>(
    item: &mut tar::Entry<'_, R>,
    real_size: u64,
) -> std::io::Result<(Map, u64)> {
    let mut consumed = 0u64;
    let mut next_number = |item: &mut tar::Entry<'_, R>| -> std::io::Result<u64> {
        let mut digits = Vec::new();
        loop {
            let mut byte = [0u8];
            if item.read(&mut byte)? == 0 {
                return Err(bad("data ends inside the map"));
            }
            consumed += 1;
            match byte[0] {
                b'\n' if !digits.is_empty() => break,
                b'0'..=b'9' if digits.len() < 20 => digits.push(byte[0]),
                _ => return Err(bad("malformed number in the map")),
            }
        }
        std::str::from_utf8(&digits)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("number out of range in the map"))
    };
    let count = next_number(item)?;
    if count > MAX_SEGMENTS as u64 {
        return Err(bad(format!("{count} segments (at most {MAX_SEGMENTS})")));
    }
    let mut map = Map {
        real_size,
        segments: Vec::new(),
    };
    for _ in 0..count {
        let offset = next_number(item)?;
        let length = next_number(item)?;
        map.push(offset, length)?;
    }
    let padding = (512 - consumed % 512) % 512;
    let skipped = std::io::copy(&mut item.by_ref().take(padding), &mut std::io::sink())?;
    if skipped != padding {
        return Err(bad("data ends inside the map's padding"));
    }
    let map_bytes = consumed + padding;
    if map_bytes > item.size() {
        return Err(bad("the map is larger than the entry"));
    }
    Ok((map, map_bytes))
}

//! Layer compression, detected by magic bytes rather than trusted from the
//! media type (registries and tools get media types wrong; bytes don't lie).

use std::io::{BufRead, BufReader, Read};

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    None,
}

const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

impl Compression {
    /// Classifies the first bytes of a blob. zstd skippable frames
    /// (`0x184D2A50..=0x184D2A5F`, used by zstd:chunked) count as zstd.
    pub fn detect(head: &[u8]) -> Compression {
        if head.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if head.starts_with(&ZSTD_MAGIC)
            || (head.len() >= 4 && head[1..4] == [0x2a, 0x4d, 0x18] && head[0] & 0xf0 == 0x50)
        {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The name of a compression whose magic bytes start `head` but that
    /// stack does not read (bzip2, xz), so it is refused by name rather
    /// than read as a broken tar.
    pub fn unreadable(head: &[u8]) -> Option<&'static str> {
        if head.starts_with(b"BZh") {
            Some("bzip2")
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Some("xz")
        } else {
            None
        }
    }
}

/// Buffer size for reading layer blobs: large enough that decompressors
/// and the tar parser rarely wait on small reads.
const BUFFER: usize = 256 * 1024;

/// Wraps a blob in the decompressor its magic bytes call for.
pub fn decompress<'a, R: Read + 'a>(blob: R) -> std::io::Result<(Compression, Box<dyn Read + 'a>)> {
    let mut reader = BufReader::with_capacity(BUFFER, blob);
    let compression = Compression::detect(reader.fill_buf()?);
    let stream: Box<dyn Read> = match compression {
        // Multi-member: pigz and concatenated gzip files are valid layers,
        // and GzDecoder would silently stop after the first member.
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(reader)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(reader)?),
        Compression::None => Box::new(reader),
    };
    Ok((compression, stream))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn detects_and_decodes_all_three() {
        let data = b"hello layer".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).expect("gzip");
        let mut gz_bytes = gz.finish().expect("gzip");
        // A second member must be decoded too.
        let mut gz2 = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz2.write_all(b"tail").expect("gzip");
        gz_bytes.extend(gz2.finish().expect("gzip"));
        let zst = zstd::encode_all(&data[..], 3).expect("zstd");
        for (bytes, kind, expect_len) in [
            (gz_bytes, Compression::Gzip, data.len() + 4),
            (zst, Compression::Zstd, data.len()),
            (data.clone(), Compression::None, data.len()),
        ] {
            let (found, mut r) = decompress(&bytes[..]).expect("open");
            assert_eq!(found, kind);
            let mut out = Vec::new();
            r.read_to_end(&mut out).expect("decode");
            assert_eq!(out.len(), expect_len);
            assert_eq!(&out[..data.len()], &data[..]);
        }
    }
}

//! Tar archives written by hand for attack tests: entries a well-behaved
//! `tar` would never write (names with `..`, a file through a symlink
//! that the same archive planted), in the ustar format every reader
//! takes.

use std::io::Write;
use std::path::Path;

/// One entry of a test archive.
pub enum Entry<'a> {
    File { name: &'a str, data: &'a [u8] },
    Symlink { name: &'a str, target: &'a str },
}

/// A ustar header field: `value` left-aligned, NUL-padded to `len`.
fn field(header: &mut [u8; 512], at: usize, len: usize, value: &[u8]) {
    assert!(value.len() <= len, "tar field too long: {value:?}");
    header[at..at + value.len()].copy_from_slice(value);
}

/// An octal number field: digits, then a NUL.
fn octal(header: &mut [u8; 512], at: usize, len: usize, value: u64) {
    let text = format!("{value:0width$o}", width = len - 1);
    field(header, at, len, text.as_bytes());
}

fn header(name: &str, kind: u8, size: u64, link: &str) -> [u8; 512] {
    let mut h = [0u8; 512];
    field(&mut h, 0, 100, name.as_bytes());
    octal(&mut h, 100, 8, if kind == b'2' { 0o777 } else { 0o644 });
    octal(&mut h, 108, 8, 0);
    octal(&mut h, 116, 8, 0);
    octal(&mut h, 124, 12, size);
    octal(&mut h, 136, 12, 0);
    h[156] = kind;
    field(&mut h, 157, 100, link.as_bytes());
    field(&mut h, 257, 6, b"ustar\0");
    field(&mut h, 263, 2, b"00");
    // The checksum counts its own field as spaces.
    h[148..156].fill(b' ');
    let sum: u64 = h.iter().map(|b| u64::from(*b)).sum();
    let text = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(text.as_bytes());
    h
}

/// Writes `entries`, in order, as a tar at `path`.
pub fn write(path: &Path, entries: &[Entry<'_>]) {
    let mut out = Vec::new();
    for entry in entries {
        match entry {
            Entry::File { name, data } => {
                out.extend_from_slice(&header(name, b'0', data.len() as u64, ""));
                out.extend_from_slice(data);
                out.resize(out.len().div_ceil(512) * 512, 0);
            }
            Entry::Symlink { name, target } => {
                out.extend_from_slice(&header(name, b'2', 0, target));
            }
        }
    }
    out.resize(out.len() + 1024, 0);
    let mut file = std::fs::File::create(path).expect("create the tar");
    file.write_all(&out).expect("write the tar");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gnu_tar_reads_what_is_written() {
        let dir = std::env::temp_dir().join(format!("stack-tarball-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("t.tar");
        write(
            &path,
            &[
                Entry::Symlink {
                    name: "up",
                    target: "/etc",
                },
                Entry::File {
                    name: "../above",
                    data: b"0123456789",
                },
            ],
        );
        let out = std::process::Command::new("tar")
            .arg("-tvf")
            .arg(&path)
            .output()
            .expect("tar");
        let _ = std::fs::remove_dir_all(&dir);
        let listing = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{listing}");
        let lines: Vec<&str> = listing.lines().collect();
        assert!(
            lines[0].starts_with('l') && lines[0].ends_with("up -> /etc"),
            "{listing}"
        );
        assert!(
            lines[1].contains(" 10 ") && lines[1].ends_with("../above"),
            "{listing}"
        );
    }
}

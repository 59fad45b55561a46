//! Helpers shared by the integration tests: hand-made tar layers (with
//! names no well-behaved tar tool would write) and a recording progress.

#![allow(dead_code)]

use std::sync::Mutex;

use stack_image::progress::Progress;
use stack_image::Digest;

/// One tar entry to write.
pub enum Item<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str, u32),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    Fifo(&'a str),
    CharDev(&'a str, u32, u32),
    /// A file with PAX records (xattrs).
    FileWithPax(&'a str, &'a [u8], Vec<(String, Vec<u8>)>),
    /// A file with an owner.
    Owned(&'a str, &'a [u8], u64, u64, u32),
}

/// Writes a raw name into a header, bypassing the tar crate's path checks
/// (it refuses `..`, which is exactly what these tests need to send).
fn raw_header(name: &str, kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    {
        let bytes = name.as_bytes();
        assert!(bytes.len() < 100, "test names stay short");
        let old = h.as_old_mut();
        old.name[..bytes.len()].copy_from_slice(bytes);
    }
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1_700_000_000);
    h
}

fn set_link(h: &mut tar::Header, target: &str) {
    let bytes = target.as_bytes();
    assert!(bytes.len() < 100);
    h.as_old_mut().linkname[..bytes.len()].copy_from_slice(bytes);
}

/// An uncompressed layer tar of `items`.
pub fn layer(items: &[Item]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for item in items {
        match item {
            Item::File(name, data, mode) => {
                let mut h = raw_header(name, tar::EntryType::Regular, data.len() as u64, *mode);
                h.set_cksum();
                b.append(&h, *data).expect("append");
            }
            Item::Owned(name, data, uid, gid, mode) => {
                let mut h = raw_header(name, tar::EntryType::Regular, data.len() as u64, *mode);
                h.set_uid(*uid);
                h.set_gid(*gid);
                h.set_cksum();
                b.append(&h, *data).expect("append");
            }
            Item::Dir(name, mode) => {
                let mut h = raw_header(name, tar::EntryType::Directory, 0, *mode);
                h.set_cksum();
                b.append(&h, &[][..]).expect("append");
            }
            Item::Symlink(name, target) => {
                let mut h = raw_header(name, tar::EntryType::Symlink, 0, 0o777);
                set_link(&mut h, target);
                h.set_cksum();
                b.append(&h, &[][..]).expect("append");
            }
            Item::Hardlink(name, target) => {
                let mut h = raw_header(name, tar::EntryType::Link, 0, 0o644);
                set_link(&mut h, target);
                h.set_cksum();
                b.append(&h, &[][..]).expect("append");
            }
            Item::Fifo(name) => {
                let mut h = raw_header(name, tar::EntryType::Fifo, 0, 0o644);
                h.set_cksum();
                b.append(&h, &[][..]).expect("append");
            }
            Item::CharDev(name, major, minor) => {
                let mut h = raw_header(name, tar::EntryType::Char, 0, 0o666);
                h.set_device_major(*major).expect("major");
                h.set_device_minor(*minor).expect("minor");
                h.set_cksum();
                b.append(&h, &[][..]).expect("append");
            }
            Item::FileWithPax(name, data, records) => {
                let pax: Vec<(&str, &[u8])> = records
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_slice()))
                    .collect();
                b.append_pax_extensions(pax).expect("pax");
                let mut h = raw_header(name, tar::EntryType::Regular, data.len() as u64, 0o644);
                h.set_cksum();
                b.append(&h, *data).expect("append");
            }
        }
    }
    b.into_inner().expect("finish tar")
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

/// Progress that keeps the messages (mirror warnings), the notes of
/// finished layers and the bytes reported, for assertions.
#[derive(Default)]
pub struct Recorder {
    pub messages: Mutex<Vec<String>>,
    pub notes: Mutex<Vec<String>>,
    pub bytes: std::sync::atomic::AtomicU64,
}

impl Progress for Recorder {
    fn layer_started(&self, _: &Digest, _: u64) {}
    fn advance(&self, _: &Digest, bytes: u64) {
        self.bytes
            .fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
    }
    fn layer_done(&self, _: &Digest, note: &str) {
        self.notes.lock().expect("lock").push(note.to_string());
    }
    fn message(&self, line: &str) {
        self.messages.lock().expect("lock").push(line.to_string());
    }
}

impl Recorder {
    pub fn lines(&self) -> Vec<String> {
        self.messages.lock().expect("lock").clone()
    }

    pub fn layer_notes(&self) -> Vec<String> {
        self.notes.lock().expect("lock").clone()
    }
}

pub mod tarlist;

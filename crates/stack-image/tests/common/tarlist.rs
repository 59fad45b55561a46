//! What a written layer holds, entry by entry, for exact assertions.

use std::io::Read;

/// One entry of a layer tar as a reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub path: String,
    pub kind: char,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    pub size: u64,
    pub link: Option<String>,
    pub device: Option<(u32, u32)>,
    pub xattrs: Vec<(String, Vec<u8>)>,
    pub uname: Vec<u8>,
    pub data: Vec<u8>,
}

/// Decompresses (by magic) and lists a layer blob.
pub fn list(blob: &[u8]) -> Vec<Listed> {
    let (_, stream) = stack_image::unpack::decompress(blob).expect("decompress");
    let mut archive = tar::Archive::new(stream);
    let mut out = Vec::new();
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let mut xattrs = Vec::new();
        if let Some(pax) = entry.pax_extensions().expect("pax") {
            for record in pax {
                let record = record.expect("record");
                if let Some(name) = record.key().expect("key").strip_prefix("SCHILY.xattr.") {
                    xattrs.push((name.to_string(), record.value_bytes().to_vec()));
                }
            }
        }
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let link = entry
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).into_owned());
        let h = entry.header().clone();
        let kind = match h.entry_type() {
            tar::EntryType::Regular => '-',
            tar::EntryType::Directory => 'd',
            tar::EntryType::Symlink => 'l',
            tar::EntryType::Link => 'h',
            tar::EntryType::Char => 'c',
            tar::EntryType::Block => 'b',
            tar::EntryType::Fifo => 'p',
            other => panic!("unexpected entry type {other:?}"),
        };
        let device = matches!(kind, 'c' | 'b').then(|| {
            (
                h.device_major().expect("major").expect("major set"),
                h.device_minor().expect("minor").expect("minor set"),
            )
        });
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("data");
        out.push(Listed {
            path,
            kind,
            mode: h.mode().expect("mode"),
            uid: h.uid().expect("uid"),
            gid: h.gid().expect("gid"),
            mtime: h.mtime().expect("mtime"),
            size: h.entry_size().expect("size"),
            link,
            device,
            xattrs,
            uname: h.username_bytes().map(<[u8]>::to_vec).unwrap_or_default(),
            data,
        });
    }
    out
}

/// The paths of `entries`, in order.
pub fn paths(entries: &[Listed]) -> Vec<&str> {
    entries.iter().map(|e| e.path.as_str()).collect()
}

/// The entry at `path`.
pub fn at<'a>(entries: &'a [Listed], path: &str) -> &'a Listed {
    entries
        .iter()
        .find(|e| e.path == path)
        .unwrap_or_else(|| panic!("no entry {path} in {:?}", paths(entries)))
}

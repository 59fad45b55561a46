//! Sparse files in layers: a few KB of tar describing a 20 GiB file must
//! unpack as a 20 GiB file with holes (GNU, PAX 0.0, 0.1 and 1.0, made by
//! GNU tar), into a 64 MiB tmpfs that the old behaviour (writing every
//! zero) fills at once. Hostile maps are errors naming the layer and entry.

mod common;

use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{layer, Item};
use stack_image::unpack::unpack_layer;
use stack_image::ImageError;

const GIB: u64 = 1 << 30;
const REAL_SIZE: u64 = 20 * GIB;
/// Data every 512 MiB (41 segments: more than the four a GNU header
/// holds, so extension headers are needed) and at the very end.
fn marks() -> Vec<(u64, Vec<u8>)> {
    let mut out: Vec<(u64, Vec<u8>)> = (0..40u64)
        .map(|k| (k * 512 * (1 << 20), format!("segment {k}").into_bytes()))
        .collect();
    out.push((REAL_SIZE - 4, b"tail".to_vec()));
    out
}

fn tmpfs(path: &Path, size: &str) {
    std::fs::create_dir_all(path).expect("mkdir");
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(path)
        .status()
        .expect("mount");
    assert!(status.success(), "mount tmpfs on {}", path.display());
}

/// `<dir>/src/big` (sparse, on a tmpfs) archived by GNU tar with `format`.
fn archive(dir: &Path, format: &[&str]) -> PathBuf {
    let src = dir.join("src");
    if !src.join("big").exists() {
        tmpfs(&src, "16m");
        let f = std::fs::File::create(src.join("big")).expect("create");
        f.set_len(REAL_SIZE).expect("set_len");
        for (offset, data) in marks() {
            f.write_all_at(&data, offset).expect("write mark");
        }
    }
    let out = dir.join(format!("layer-{}.tar", format.join("-")));
    let status = Command::new("tar")
        .args(["--sparse", "-cf"])
        .arg(&out)
        .args(format)
        .arg("-C")
        .arg(&src)
        .arg("big")
        .status()
        .expect("GNU tar");
    assert!(status.success(), "tar {format:?}");
    let len = std::fs::metadata(&out).expect("tar").len();
    assert!(len < 1 << 20, "the layer itself is small: {len} bytes");
    out
}

fn unpacked_right(file: &Path) {
    let meta = std::fs::metadata(file).expect("unpacked file");
    assert_eq!(meta.len(), REAL_SIZE);
    let f = std::fs::File::open(file).expect("open");
    for (offset, data) in marks() {
        let mut got = vec![0u8; data.len()];
        f.read_exact_at(&mut got, offset).expect("read mark");
        assert_eq!(got, data, "at {offset}");
    }
    let mut hole = [1u8; 64];
    f.read_exact_at(&mut hole, 3 * GIB + 12345)
        .expect("read hole");
    assert_eq!(hole, [0u8; 64]);
    let allocated = meta.blocks() * 512;
    assert!(allocated < 1 << 20, "{allocated} bytes allocated");
}

#[test]
fn gnu_and_pax_sparse_files_keep_their_holes() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    for format in [
        &["--format=gnu"][..],
        &["--format=posix", "--sparse-version=0.0"],
        &["--format=posix", "--sparse-version=0.1"],
        &["--format=posix", "--sparse-version=1.0"],
    ] {
        let tar = archive(sb.dir(), format);
        let dest = sb.dir().join(format!("dest-{}", format.join("-")));
        tmpfs(&dest, "64m");
        let blob = std::fs::File::open(&tar).expect("open layer");
        unpack_layer(blob, &dest, "sparse-layer").unwrap_or_else(|e| panic!("{format:?}: {e}"));
        let names: Vec<_> = std::fs::read_dir(&dest)
            .expect("dest")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            names,
            ["big"],
            "{format:?}: the real name, no GNUSparseFile dir"
        );
        unpacked_right(&dest.join("big"));
    }
}

/// PAX records, as `common::Item::FileWithPax` takes them.
type Records = Vec<(String, Vec<u8>)>;

fn pax(records: &[(&str, &str)]) -> Records {
    records
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect()
}

fn refused(result: Result<stack_image::unpack::Unpacked, ImageError>, needle: &str) {
    match result {
        Err(ImageError::UnsafeLayerEntry {
            layer,
            entry,
            reason,
        }) => {
            assert_eq!(layer, "hostile-layer");
            assert_eq!(entry, "f");
            assert!(reason.contains(needle), "{reason}");
        }
        other => panic!("expected a refusal mentioning {needle:?}, got {other:?}"),
    }
}

#[test]
fn hostile_sparse_maps_are_errors() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let data = vec![b'x'; 1024];
    let cases: Vec<(Records, &[u8], &str)> = vec![
        // 0.1: the second segment starts inside the first.
        (
            pax(&[
                ("GNU.sparse.size", "4096"),
                ("GNU.sparse.map", "0,512,100,512"),
            ]),
            &data,
            "overlaps",
        ),
        // 0.1: a segment beyond the real size.
        (
            pax(&[("GNU.sparse.size", "100"), ("GNU.sparse.map", "0,1024")]),
            &data,
            "past the real size",
        ),
        // 0.1: segments holding more than the entry stores.
        (
            pax(&[("GNU.sparse.size", "1000000"), ("GNU.sparse.map", "0,4096")]),
            &data,
            "segments hold",
        ),
        // 1.0: a map declaring 10^18 segments must not be allocated.
        (
            pax(&[
                ("GNU.sparse.major", "1"),
                ("GNU.sparse.minor", "0"),
                ("GNU.sparse.realsize", "1000000"),
            ]),
            b"1000000000000000000\n0\n512\n",
            "at most",
        ),
        // 0.0: more segments than allowed, each tiny.
        (
            {
                let mut r = pax(&[("GNU.sparse.size", "100000000")]);
                for i in 0..40_000u64 {
                    r.push(("GNU.sparse.offset".into(), (i * 2).to_string().into_bytes()));
                    r.push(("GNU.sparse.numbytes".into(), b"1".to_vec()));
                }
                r
            },
            &data,
            "more than",
        ),
        // An unknown version is refused, not unpacked as raw bytes.
        (
            pax(&[("GNU.sparse.major", "2"), ("GNU.sparse.realsize", "10")]),
            &data,
            "unsupported version",
        ),
    ];
    for (i, (records, body, needle)) in cases.into_iter().enumerate() {
        let dest = sb.dir().join(format!("hostile-{i}"));
        std::fs::create_dir_all(&dest).expect("dest");
        let tar = layer(&[Item::FileWithPax("f", body, records)]);
        refused(unpack_layer(&tar[..], &dest, "hostile-layer"), needle);
    }
}

/// A GNU sparse entry that is not written as a file (here a whiteout)
/// still has its stored data skipped past the parser: 17 MiB of it must
/// not count against the next entry's header budget (16 MiB).
#[test]
fn a_sparse_whiteout_leaves_the_next_entry_alone() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let src = sb.dir().join("whiteout-src");
    std::fs::create_dir_all(&src).expect("mkdir");
    let f = std::fs::File::create(src.join(".wh.gone")).expect("create");
    f.set_len(GIB).expect("set_len");
    f.write_all_at(&vec![b'd'; 17 << 20], 0).expect("data");
    f.write_all_at(b"end", GIB - 3).expect("data");
    std::fs::write(src.join("after"), b"after\n").expect("after");
    let tar = sb.dir().join("whiteout.tar");
    let status = Command::new("tar")
        .args(["--sparse", "--format=gnu", "-cf"])
        .arg(&tar)
        .arg("-C")
        .arg(&src)
        .args([".wh.gone", "after"])
        .status()
        .expect("GNU tar");
    assert!(status.success(), "tar");
    let dest = sb.dir().join("whiteout-dest");
    std::fs::create_dir_all(&dest).expect("dest");
    let blob = std::fs::File::open(&tar).expect("open layer");
    unpack_layer(blob, &dest, "whiteout-layer").expect("unpack");
    assert_eq!(
        std::fs::read(dest.join("after")).expect("after"),
        b"after\n"
    );
    let gone = std::fs::symlink_metadata(dest.join("gone")).expect("whiteout");
    assert!(
        std::os::unix::fs::FileTypeExt::is_char_device(&gone.file_type()),
        "{gone:?}"
    );
}

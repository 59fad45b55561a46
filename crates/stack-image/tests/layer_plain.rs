//! Writing layers from plain directories, without privileges: entry
//! order, names, links, digests, and the same bytes for the same tree.

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;

use common::tarlist::{at, list, paths};
use stack_image::layer::{write_layer, Compression, DiffKind, LayerOptions, LayerStats};
use stack_image::{Digest, ImageError};

fn write(dir: &Path, options: &LayerOptions) -> (Vec<u8>, LayerStats) {
    let mut blob = Vec::new();
    let stats = write_layer(dir, DiffKind::Plain, options, &mut blob).expect("write layer");
    (blob, stats)
}

fn set_mtime(path: &Path, secs: i64) {
    let t = rustix::fs::Timespec {
        tv_sec: secs,
        tv_nsec: 0,
    };
    let times = rustix::fs::Timestamps {
        last_access: t,
        last_modification: t,
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        path,
        &times,
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .expect("utimensat");
}

const LONG: &str = "a-name-longer-than-the-hundred-bytes-a-ustar-name-field-holds-so-it-needs-a-gnu-long-name-record-0123456789";

/// A tree with the cases that trip writers up.
fn tree(root: &Path) {
    std::fs::create_dir_all(root.join("a")).expect("a");
    std::fs::create_dir_all(root.join("b")).expect("b");
    std::fs::write(root.join("a/z"), b"z").expect("a/z");
    std::fs::write(root.join("a").join(LONG), b"long").expect("long");
    std::fs::write(root.join("a-b"), b"sibling").expect("a-b");
    std::fs::write(root.join("b/f"), b"f").expect("b/f");
    std::fs::write(root.join("hard1"), b"shared").expect("hard1");
    std::fs::hard_link(root.join("hard1"), root.join("hard2")).expect("hard2");
    symlink("/etc/passwd", root.join("sym")).expect("sym");
    symlink(format!("../../{LONG}/{LONG}"), root.join("rel")).expect("rel");
    // A tar cannot hold a socket: skipped, as Docker does.
    let _socket = std::os::unix::net::UnixListener::bind(root.join("sock")).expect("socket");
}

#[test]
fn entries_in_path_order_with_links_and_long_names() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("tree");
    tree(&root);
    let (blob, stats) = write(&root, &LayerOptions::default());
    let entries = list(&blob);
    let long = format!("a/{LONG}");
    assert_eq!(
        paths(&entries),
        ["a/", &long, "a/z", "a-b", "b/", "b/f", "hard1", "hard2", "rel", "sym"],
        "component-wise bytewise order, each directory before its contents"
    );
    assert_eq!(at(&entries, &long).data, b"long");
    let hard2 = at(&entries, "hard2");
    assert_eq!((hard2.kind, hard2.link.as_deref()), ('h', Some("hard1")));
    assert_eq!(at(&entries, "hard1").data, b"shared");
    let sym = at(&entries, "sym");
    assert_eq!((sym.kind, sym.link.as_deref()), ('l', Some("/etc/passwd")));
    let rel = at(&entries, "rel");
    assert_eq!(rel.link, Some(format!("../../{LONG}/{LONG}")));
    assert!(entries.iter().all(|e| e.uname.is_empty()));
    assert_eq!(stats.entries, 10);

    // The digests are of the bytes as written and as decompressed.
    assert_eq!(stats.digest, Digest::of(&blob));
    assert_eq!(stats.size, blob.len() as u64);
    let (_, mut tar) = stack_image::unpack::decompress(&blob[..]).expect("gzip");
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut tar, &mut raw).expect("read");
    assert_eq!(stats.diff_id, Digest::of(&raw));
    assert_eq!(stats.tar_size, raw.len() as u64);
    assert_eq!(
        stats.media_type,
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    // gzip header: no name, mtime 0, OS unknown.
    assert_eq!(&blob[..4], &[0x1f, 0x8b, 0x08, 0x00]);
    assert_eq!(&blob[4..8], &[0, 0, 0, 0]);
    assert_eq!(blob[9], 255);
}

#[test]
fn same_tree_same_bytes_and_the_epoch_clamps_mtimes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("tree");
    tree(&root);
    let epoch = 1_600_000_000;
    let all = ["a", "a/z", "a-b", "b", "b/f", "hard1", "sym", "rel"];
    for compression in [Compression::Gzip, Compression::Zstd, Compression::None] {
        let plain = LayerOptions {
            compression,
            source_date_epoch: None,
        };
        let clamped = LayerOptions {
            compression,
            source_date_epoch: Some(epoch),
        };
        for path in all {
            set_mtime(&root.join(path), 1_700_000_000);
        }
        set_mtime(&root.join("b/f"), 1_000);
        let (first, first_stats) = write(&root, &plain);
        let (again, _) = write(&root, &plain);
        assert!(first == again, "{compression:?}: same tree, same bytes");
        let (before, before_stats) = write(&root, &clamped);

        for path in all {
            set_mtime(&root.join(path), 1_800_000_000);
        }
        set_mtime(&root.join("b/f"), 1_000);
        let (_, changed_stats) = write(&root, &plain);
        assert_ne!(changed_stats.digest, first_stats.digest, "{compression:?}");
        let (after, after_stats) = write(&root, &clamped);
        assert!(
            before == after,
            "{compression:?}: clamped times, same bytes"
        );
        assert_eq!(before_stats, after_stats);

        let entries = list(&after);
        assert_eq!(at(&entries, "a/z").mtime, epoch);
        assert_eq!(at(&entries, "b/f").mtime, 1_000, "older times are kept");
    }
}

#[test]
fn names_a_layer_cannot_carry_and_a_symlinked_root_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("tree");
    std::fs::create_dir_all(root.join("d")).expect("d");
    std::fs::write(root.join("d/.wh.x"), b"").expect(".wh.x");
    let err = write_layer(
        &root,
        DiffKind::Plain,
        &LayerOptions::default(),
        std::io::sink(),
    )
    .expect_err("a .wh. name would be a deletion");
    assert!(
        matches!(&err, ImageError::LayerSource { path, .. } if path.ends_with("d/.wh.x")),
        "{err}"
    );

    let real = tmp.path().join("real");
    std::fs::create_dir(&real).expect("real");
    let link = tmp.path().join("link");
    symlink(&real, &link).expect("link");
    let err = write_layer(
        &link,
        DiffKind::Plain,
        &LayerOptions::default(),
        std::io::sink(),
    )
    .expect_err("the root is not followed either");
    assert!(matches!(err, ImageError::Io { .. }), "{err}");
}

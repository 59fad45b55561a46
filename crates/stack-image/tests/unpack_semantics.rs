//! Layer semantics on a real kernel: file types, owners, modes, xattrs and
//! times as recorded; whiteouts and opaque directories converted so that a
//! real overlay mount of the snapshots shows exactly the image's files.

mod common;

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use common::{gzip, layer, Item};
use stack_image::store::snapshots::Ensured;
use stack_image::unpack::{unpack_layer, Compression};
use stack_image::{Digest, Store};

fn listing(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            out.push(p.strip_prefix(base).expect("prefix").display().to_string());
            if p.symlink_metadata().expect("meta").is_dir() {
                walk(base, &p, out);
            }
        }
    }
    walk(root, root, &mut out);
    out
}

#[test]
fn file_types_owners_modes_xattrs_times() {
    let Some(_sb) = stack_testkit::sandbox() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let tar = layer(&[
        Item::Dir("./etc/", 0o755),
        Item::File("./etc/passwd", b"root:x:0:0::/root:/bin/sh\n", 0o644),
        Item::Owned("home/app/file", b"mine", 1000, 1001, 0o4755),
        Item::Symlink("var/run", "/run"),
        Item::Hardlink("etc/passwd-link", "etc/passwd"),
        Item::Fifo("tmp/fifo"),
        Item::CharDev("dev/null", 1, 3),
        Item::FileWithPax(
            "bin/ping",
            b"elf",
            vec![("SCHILY.xattr.user.origin".into(), b"test".to_vec())],
        ),
    ]);
    for (name, bytes, expected) in [
        ("plain", tar.clone(), Compression::None),
        ("gzip", gzip(&tar), Compression::Gzip),
        (
            "zstd",
            zstd::encode_all(&tar[..], 3).expect("zstd"),
            Compression::Zstd,
        ),
    ] {
        let dest = tmp.path().join(name);
        std::fs::create_dir(&dest).expect("dest");
        let u = unpack_layer(&bytes[..], &dest, name).expect("unpack");
        assert_eq!(u.compression, expected);
        assert_eq!(
            u.diff_id,
            Digest::of(&tar),
            "diff_id is over the uncompressed tar"
        );

        let owned = std::fs::metadata(dest.join("home/app/file")).expect("owned");
        assert_eq!((owned.uid(), owned.gid()), (1000, 1001));
        assert_eq!(
            owned.permissions().mode() & 0o7777,
            0o4755,
            "setuid survives chown"
        );
        assert_eq!(owned.mtime(), 1_700_000_000);
        assert_eq!(
            std::fs::read_link(dest.join("var/run")).expect("symlink"),
            Path::new("/run")
        );
        let a = std::fs::metadata(dest.join("etc/passwd")).expect("passwd");
        let b = std::fs::metadata(dest.join("etc/passwd-link")).expect("link");
        assert_eq!(a.ino(), b.ino(), "hardlink shares the inode");
        assert!(std::fs::symlink_metadata(dest.join("tmp/fifo"))
            .expect("fifo")
            .file_type()
            .is_fifo());
        let dev = std::fs::symlink_metadata(dest.join("dev/null")).expect("dev");
        assert!(dev.file_type().is_char_device());
        assert_eq!(dev.rdev(), rustix::fs::makedev(1, 3));
        let xattr = rustix::fs::getxattr(
            dest.join("bin/ping").as_path(),
            "user.origin",
            &mut [0u8; 16],
        )
        .expect("xattr");
        assert_eq!(xattr, 4);
        let etc = std::fs::metadata(dest.join("etc")).expect("etc");
        assert_eq!(
            etc.mtime(),
            1_700_000_000,
            "directory times are set after children"
        );
    }
}

#[test]
fn whiteouts_and_opaque_dirs_work_under_overlay() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let store = Store::open(&sb.state_root).expect("store");
    let lower = layer(&[
        Item::File("etc/keep", b"k", 0o644),
        Item::File("etc/gone", b"g", 0o644),
        Item::File("opq/old", b"o", 0o644),
        Item::File("opq/sub/deep", b"d", 0o644),
    ]);
    let upper = layer(&[
        Item::File("etc/.wh.gone", b"", 0o644),
        Item::File("opq/.wh..wh..opq", b"", 0o644),
        Item::File("opq/new", b"n", 0o644),
    ]);
    let mut dirs = Vec::new();
    for tar in [&lower, &upper] {
        let blob = sb.dir().join("blob");
        std::fs::write(&blob, gzip(tar)).expect("blob");
        let diff_id = Digest::of(tar);
        let ensured = store.snapshots.ensure(&blob, &diff_id).expect("ensure");
        assert!(matches!(ensured, Ensured::Unpacked { .. }));
        assert_eq!(
            store.snapshots.ensure(&blob, &diff_id).expect("again"),
            Ensured::AlreadyThere,
            "a layer is unpacked once"
        );
        dirs.push(
            store
                .snapshots
                .lookup(&diff_id)
                .expect("db")
                .expect("present"),
        );
    }
    // Overlay form in the upper snapshot.
    let wh = std::fs::symlink_metadata(dirs[1].join("etc/gone")).expect("whiteout");
    assert!(wh.file_type().is_char_device() && wh.rdev() == 0);
    let mut buf = [0u8; 4];
    let n = rustix::fs::getxattr(
        dirs[1].join("opq").as_path(),
        "trusted.overlay.opaque",
        &mut buf,
    )
    .expect("opaque xattr");
    assert_eq!(&buf[..n], b"y");

    let merged = sb.state_root.join("merged");
    std::fs::create_dir(&merged).expect("merged");
    let status = Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o"])
        .arg(format!(
            "ro,lowerdir={}:{}",
            dirs[1].display(),
            dirs[0].display()
        ))
        .arg(&merged)
        .status()
        .expect("mount");
    assert!(status.success(), "overlay mount");
    let seen = listing(&merged);
    let _ = Command::new("umount").arg(&merged).status();
    assert_eq!(seen, ["etc", "etc/keep", "opq", "opq/new"]);
    sb.assert_no_leaks();
}

#[test]
fn bad_diff_id_leaves_no_snapshot() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let store = Store::open(&sb.state_root).expect("store");
    let tar = layer(&[Item::File("a", b"a", 0o644)]);
    let blob = sb.dir().join("blob");
    std::fs::write(&blob, &tar).expect("blob");
    let wrong = Digest::of(b"something else");
    let err = store.snapshots.ensure(&blob, &wrong).expect_err("mismatch");
    assert!(err.to_string().contains("digest mismatch"), "{err}");
    let left: Vec<_> = std::fs::read_dir(&store.snapshots.dir)
        .expect("read")
        .map(|e| e.expect("e").file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".lock" && n != "snapshots.json")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn broken_streams_fail_cleanly() {
    let Some(_sb) = stack_testkit::sandbox() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let big = vec![7u8; 8 << 20];
    // A truncated gzip layer: the decoder's error is reported.
    let whole = gzip(&layer(&[Item::File("big", &big, 0o644)]));
    let dest = tmp.path().join("truncated");
    std::fs::create_dir(&dest).expect("dest");
    let err = unpack_layer(&whole[..whole.len() / 2], &dest, "half").expect_err("truncated");
    eprintln!("truncated layer: {err}");
    assert!(
        matches!(err, stack_image::ImageError::Layer { ref layer, .. } if layer == "half"),
        "{err}"
    );
    // An early refusal while much data is still queued returns at once
    // (the decoder thread stops when the reader hangs up).
    let evil = gzip(&layer(&[
        Item::File("../evil", b"x", 0o644),
        Item::File("big", &big, 0o644),
        Item::File("big2", &big, 0o644),
    ]));
    let dest = tmp.path().join("early");
    std::fs::create_dir(&dest).expect("dest");
    let err = unpack_layer(&evil[..], &dest, "early").expect_err("refused");
    assert!(err.to_string().contains(".."), "{err}");
}

#[test]
fn a_plain_tree_keeps_whiteout_names_as_files_and_stays_confined() {
    let Some(_sb) = stack_testkit::sandbox() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let tar = layer(&[
        Item::File("etc/secret", b"the secret", 0o600),
        Item::File("etc/.wh.secret", b"a file", 0o644),
        Item::File("opq/.wh..wh..opq", b"marker", 0o644),
        Item::File(".wh.", b"odd", 0o644),
        Item::Symlink("out", "/"),
        Item::File("out/escaped", b"inside", 0o644),
    ]);
    let dest = tmp.path().join("tree");
    std::fs::create_dir(&dest).expect("dest");
    stack_image::unpack::unpack_tree(&tar[..], &dest, "context").expect("unpack");
    let read = |p: &str| std::fs::read_to_string(dest.join(p)).expect(p);
    assert_eq!(read("etc/secret"), "the secret");
    assert_eq!(read("etc/.wh.secret"), "a file");
    assert_eq!(read("opq/.wh..wh..opq"), "marker");
    assert_eq!(read(".wh."), "odd");
    assert_eq!(read("escaped"), "inside");
    assert!(
        rustix::fs::lgetxattr(dest.join("opq"), "trusted.overlay.opaque", &mut [0u8; 4]).is_err()
    );
    // A climbing name is refused, as in a layer.
    let climbing = layer(&[Item::File("../../climbed", b"outside", 0o644)]);
    let dest = tmp.path().join("a/b");
    std::fs::create_dir_all(&dest).expect("dest");
    let err =
        stack_image::unpack::unpack_tree(&climbing[..], &dest, "context").expect_err("refused");
    assert!(err.to_string().contains(".."), "{err}");
    assert!(!tmp.path().join("climbed").exists());

    // The same names in a layer are deletions (or refused).
    let as_layer = tmp.path().join("layer");
    std::fs::create_dir(&as_layer).expect("dest");
    let tar = layer(&[Item::File("etc/.wh.secret", b"", 0o644)]);
    unpack_layer(&tar[..], &as_layer, "layer").expect("unpack");
    let wh = std::fs::symlink_metadata(as_layer.join("etc/secret")).expect("whiteout");
    assert!(wh.file_type().is_char_device() && wh.rdev() == 0);
    assert!(!as_layer.join("etc/.wh.secret").exists());
}

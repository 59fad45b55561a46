//! Layers from overlayfs upper directories (root: device nodes, owners,
//! trusted xattrs, overlay mounts): the exact entries, and the round trip
//! through the store's own unpacker under a real overlay mount.

mod common;

use std::os::unix::fs::{lchown, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use common::tarlist::{at, list, paths};
use rustix::fs::{self as rfs, FileType, Mode};
use stack_image::layer::{write_layer, Compression, DiffKind, LayerOptions};
use stack_image::unpack::unpack_layer;
use stack_image::ImageError;

fn mknod(path: &Path, kind: FileType, mode: u32, major: u32, minor: u32) {
    rfs::mknodat(
        rfs::CWD,
        path,
        kind,
        Mode::from(mode),
        rfs::makedev(major, minor),
    )
    .expect("mknod");
}

fn setxattr(path: &Path, name: &str, value: &[u8]) {
    rfs::lsetxattr(path, name, value, rfs::XattrFlags::empty()).expect("setxattr");
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let mut buf = [0u8; 256];
    rfs::lgetxattr(path, name, &mut buf[..])
        .ok()
        .map(|n| buf[..n].to_vec())
}

/// A file capability granting cap_net_raw (bit 13), permitted and
/// effective, in the kernel's v2 format.
fn net_raw_capability() -> Vec<u8> {
    let mut cap = Vec::new();
    cap.extend_from_slice(&0x0200_0001u32.to_le_bytes());
    cap.extend_from_slice(&(1u32 << 13).to_le_bytes());
    cap.extend_from_slice(&0u32.to_le_bytes());
    cap.extend_from_slice(&0u32.to_le_bytes());
    cap.extend_from_slice(&0u32.to_le_bytes());
    cap
}

/// An upper directory as overlayfs leaves it, made by hand.
fn upper_fixture(upper: &Path) {
    for dir in ["bin", "dev", "etc", "opq", "tmp", "www"] {
        std::fs::create_dir_all(upper.join(dir)).expect("dir");
    }
    std::fs::write(upper.join("bin/ping"), b"elf").expect("ping");
    chmod(&upper.join("bin/ping"), 0o4755);
    setxattr(
        &upper.join("bin/ping"),
        "security.capability",
        &net_raw_capability(),
    );
    setxattr(&upper.join("bin/ping"), "user.note", b"n");
    setxattr(&upper.join("bin/ping"), "trusted.overlay.origin", b"junk");
    mknod(&upper.join("dev/fifo"), FileType::Fifo, 0o600, 0, 0);
    mknod(
        &upper.join("dev/null"),
        FileType::CharacterDevice,
        0o666,
        1,
        3,
    );
    chmod(&upper.join("dev/null"), 0o666); // past the umask
    mknod(&upper.join("etc/gone"), FileType::CharacterDevice, 0, 0, 0);
    // Overlayfs shares one whiteout inode between deletions.
    std::fs::hard_link(upper.join("etc/gone"), upper.join("zz-gone")).expect("shared whiteout");
    std::fs::write(upper.join("etc/new.conf"), b"new").expect("new.conf");
    lchown(upper.join("etc/new.conf"), Some(1000), Some(1001)).expect("chown");
    chmod(&upper.join("etc/new.conf"), 0o640);
    std::fs::hard_link(upper.join("etc/new.conf"), upper.join("etc/new.link")).expect("link");
    setxattr(&upper.join("opq"), "trusted.overlay.opaque", b"y");
    lchown(upper.join("opq"), Some(7), Some(8)).expect("chown opq");
    chmod(&upper.join("opq"), 0o750);
    std::fs::write(upper.join("opq/keep"), b"new keep").expect("opq/keep");
    setxattr(&upper.join("www"), "user.overlay.opaque", b"y");
    chmod(&upper.join("tmp"), 0o1777);
}

#[test]
fn overlay_upper_becomes_whiteouts_markers_and_exact_entries() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let upper = sb.dir().join("upper");
    upper_fixture(&upper);
    let options = LayerOptions {
        compression: Compression::None,
        source_date_epoch: Some(1_000_000),
    };
    let mut blob = Vec::new();
    let stats =
        write_layer(&upper, DiffKind::OverlayUpper, &options, &mut blob).expect("write layer");
    let entries = list(&blob);
    assert_eq!(
        paths(&entries),
        [
            ".wh.zz-gone",
            "bin/",
            "bin/ping",
            "dev/",
            "dev/fifo",
            "dev/null",
            "etc/",
            "etc/.wh.gone",
            "etc/new.conf",
            "etc/new.link",
            "opq/",
            "opq/.wh..wh..opq",
            "opq/keep",
            "tmp/",
            "www/",
            "www/.wh..wh..opq",
        ],
        "sorted by their paths in the layer; each opaque marker right after its directory"
    );
    assert_eq!(stats.entries, entries.len() as u64);

    let ping = at(&entries, "bin/ping");
    assert_eq!(
        (ping.kind, ping.mode, ping.uid, ping.gid),
        ('-', 0o4755, 0, 0)
    );
    assert_eq!(ping.data, b"elf");
    assert_eq!(
        ping.xattrs,
        [
            ("security.capability".to_string(), net_raw_capability()),
            ("user.note".to_string(), b"n".to_vec()),
        ],
        "overlay's own attributes are not carried"
    );
    let null = at(&entries, "dev/null");
    assert_eq!(
        (null.kind, null.device, null.mode),
        ('c', Some((1, 3)), 0o666)
    );
    assert_eq!(at(&entries, "dev/fifo").kind, 'p');
    let gone = at(&entries, "etc/.wh.gone");
    assert_eq!((gone.kind, gone.size), ('-', 0));
    assert_eq!(
        at(&entries, ".wh.zz-gone").kind,
        '-',
        "a shared whiteout is no hardlink"
    );
    let conf = at(&entries, "etc/new.conf");
    assert_eq!((conf.uid, conf.gid, conf.mode), (1000, 1001, 0o640));
    let link = at(&entries, "etc/new.link");
    assert_eq!(
        (link.kind, link.link.as_deref()),
        ('h', Some("etc/new.conf"))
    );
    let opq = at(&entries, "opq/");
    assert_eq!((opq.uid, opq.gid, opq.mode), (7, 8, 0o750));
    assert!(opq.xattrs.is_empty(), "the opaque xattr becomes the marker");
    assert_eq!(at(&entries, "opq/.wh..wh..opq").kind, '-');
    assert_eq!(at(&entries, "tmp/").mode, 0o1777);
    assert!(entries
        .iter()
        .all(|e| e.mtime <= 1_000_000 && e.uname.is_empty()));

    // A 0:0 device in a plain tree would turn into a deletion: refused.
    let err = write_layer(&upper, DiffKind::Plain, &options, std::io::sink())
        .expect_err("plain trees cannot hold whiteout devices");
    assert!(matches!(err, ImageError::LayerSource { .. }), "{err}");

    // An upper whose entries depend on the lower layers is refused.
    setxattr(
        &upper.join("opq"),
        "trusted.overlay.redirect",
        b"/elsewhere",
    );
    let err = write_layer(&upper, DiffKind::OverlayUpper, &options, std::io::sink())
        .expect_err("redirects cannot be carried");
    assert!(
        matches!(&err, ImageError::LayerSource { path, .. } if path.ends_with("opq")),
        "{err}"
    );
    sb.assert_no_leaks();
}

fn mount_overlay(lower: &str, upper_work: Option<(&Path, &Path)>, merged: &Path) {
    let mut options = format!("lowerdir={lower}");
    match upper_work {
        Some((upper, work)) => {
            options += &format!(",upperdir={},workdir={}", upper.display(), work.display())
        }
        None => options.insert_str(0, "ro,"),
    }
    let status = Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o", &options])
        .arg(merged)
        .status()
        .expect("mount");
    assert!(status.success(), "overlay mount {options}");
}

fn umount(merged: &Path) {
    let status = Command::new("umount").arg(merged).status().expect("umount");
    assert!(status.success(), "umount");
}

/// A RUN step for real: changes made through an overlay mount, its upper
/// written as a layer, unpacked by the store's unpacker, stacked on the
/// same lower: the container's view comes back.
#[test]
fn a_real_overlay_upper_round_trips_through_the_unpacker() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let base = sb.dir();
    let (lower, upper, work, merged) = (
        base.join("lower"),
        base.join("upper"),
        base.join("work"),
        base.join("merged"),
    );
    for d in [&upper, &work, &merged] {
        std::fs::create_dir_all(d).expect("dir");
    }
    std::fs::create_dir_all(lower.join("etc")).expect("etc");
    std::fs::create_dir_all(lower.join("opq/sub")).expect("opq");
    std::fs::write(lower.join("etc/gone"), b"old").expect("gone");
    std::fs::write(lower.join("etc/keep"), b"keep").expect("keep");
    std::fs::write(lower.join("opq/old"), b"old").expect("old");
    std::fs::write(lower.join("opq/sub/deep"), b"deep").expect("deep");

    mount_overlay(&lower.display().to_string(), Some((&upper, &work)), &merged);
    std::fs::remove_file(merged.join("etc/gone")).expect("rm");
    std::fs::remove_dir_all(merged.join("opq")).expect("rm -r");
    std::fs::create_dir(merged.join("opq")).expect("mkdir");
    std::fs::write(merged.join("opq/new"), b"new").expect("new");
    std::fs::write(merged.join("etc/added"), b"added").expect("added");
    let before: Vec<String> = listing(&merged);
    umount(&merged);

    let mut blob = Vec::new();
    let stats = write_layer(
        &upper,
        DiffKind::OverlayUpper,
        &LayerOptions::default(),
        &mut blob,
    )
    .expect("write layer");
    let entries = list(&blob);
    assert!(
        paths(&entries).contains(&"etc/.wh.gone"),
        "{:?}",
        paths(&entries)
    );
    assert!(paths(&entries).contains(&"opq/.wh..wh..opq"));

    let snapshot = base.join("snapshot");
    std::fs::create_dir(&snapshot).expect("snapshot");
    let unpacked = unpack_layer(&blob[..], &snapshot, "built").expect("unpack");
    assert_eq!(unpacked.diff_id, stats.diff_id);
    let wh = std::fs::symlink_metadata(snapshot.join("etc/gone")).expect("whiteout");
    assert!(std::os::unix::fs::FileTypeExt::is_char_device(&wh.file_type()) && wh.rdev() == 0);
    assert_eq!(
        xattr(&snapshot.join("opq"), "trusted.overlay.opaque").as_deref(),
        Some(&b"y"[..])
    );

    mount_overlay(
        &format!("{}:{}", snapshot.display(), lower.display()),
        None,
        &merged,
    );
    let after = listing(&merged);
    let new = std::fs::read(merged.join("opq/new")).expect("opq/new");
    umount(&merged);
    assert_eq!(
        after, before,
        "the layer on its lower shows what the step saw"
    );
    assert_eq!(
        after,
        ["etc", "etc/added", "etc/keep", "opq", "opq/new"],
        "deleted file gone, opaque directory emptied of the lower's entries"
    );
    assert_eq!(new, b"new");
    sb.assert_no_leaks();
}

fn listing(root: &Path) -> Vec<String> {
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
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

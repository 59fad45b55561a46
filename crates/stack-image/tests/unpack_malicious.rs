//! Malicious layers: every write must stay inside the snapshot. Each case
//! is unpacked next to an "outside" directory holding a secret; afterwards
//! the outside must be exactly as it was.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::{layer, Item};
use stack_image::unpack::unpack_layer;
use stack_image::ImageError;

struct World {
    _tmp: tempfile::TempDir,
    dest: std::path::PathBuf,
    outside: std::path::PathBuf,
}

fn world() -> World {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dest = tmp.path().join("snap");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&dest).expect("dest");
    std::fs::create_dir_all(&outside).expect("outside");
    std::fs::write(outside.join("secret"), b"secret").expect("secret");
    World {
        _tmp: tmp,
        dest,
        outside,
    }
}

fn outside_untouched(w: &World) {
    let names: Vec<_> = std::fs::read_dir(&w.outside)
        .expect("read outside")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        names,
        vec![std::ffi::OsString::from("secret")],
        "outside changed"
    );
    let meta = std::fs::metadata(w.outside.join("secret")).expect("secret");
    assert_eq!(meta.nlink(), 1, "secret gained a hard link");
    assert_eq!(
        std::fs::read(w.outside.join("secret")).expect("read"),
        b"secret"
    );
    let parent = w.outside.parent().expect("parent");
    let siblings: Vec<_> = std::fs::read_dir(parent)
        .expect("read tmp")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        siblings.iter().all(|s| s == "snap" || s == "outside"),
        "something was written next to the snapshot: {siblings:?}"
    );
}

fn unpack(w: &World, items: &[Item]) -> Result<(), ImageError> {
    unpack_layer(&layer(items)[..], &w.dest, "test-layer").map(|_| ())
}

fn refused(result: Result<(), ImageError>, needle: &str) {
    match result {
        Err(ImageError::UnsafeLayerEntry { entry, reason, .. }) => {
            assert!(
                entry.contains(needle) || reason.contains(needle),
                "unexpected refusal: {entry}: {reason}"
            );
        }
        other => panic!("expected a refusal mentioning {needle}, got {other:?}"),
    }
}

#[test]
fn dotdot_paths_are_refused() {
    let Some(_sb) = stack_testkit::sandbox() else {
        return;
    };
    let w = world();
    refused(
        unpack(&w, &[Item::File("../outside/evil", b"x", 0o644)]),
        "..",
    );
    refused(unpack(&w, &[Item::File("a/../../evil", b"x", 0o644)]), "..");
    outside_untouched(&w);
}

#[test]
fn absolute_paths_are_confined() {
    let Some(_sb) = stack_testkit::sandbox() else {
        return;
    };
    let w = world();
    let abs = format!("{}/evil", w.outside.display());
    unpack(
        &w,
        &[
            Item::File(&abs, b"x", 0o644),
            Item::File("/etc/abs", b"y", 0o644),
        ],
    )
    .expect("absolute paths land inside");
    assert!(w.dest.join("etc/abs").is_file());
    let inside = w.dest.join(abs.trim_start_matches('/'));
    assert!(inside.is_file(), "{inside:?}");
    outside_untouched(&w);
}

#[test]
fn symlink_parents_are_resolved_inside() {
    let Some(_sb) = stack_testkit::sandbox() else {
        return;
    };
    let w = world();
    let outside = w.outside.display().to_string();
    // A symlinked parent whose target the layer lacks is refused...
    refused(
        unpack(
            &w,
            &[
                Item::Symlink("dangling", &outside),
                Item::File("dangling/ESCAPE", b"x", 0o644),
            ],
        ),
        "symlink",
    );
    // ...and one whose target exists is followed inside the root.
    unpack(
        &w,
        &[
            Item::Dir(&outside, 0o755),
            Item::Symlink("abslink", &outside),
            Item::File("abslink/ESCAPE-abs", b"x", 0o644),
            Item::Symlink("rellink", "../../../../../../../.."),
            Item::File("rellink/ESCAPE-rel", b"x", 0o644),
            Item::Symlink("rootlink", "/"),
            Item::File("rootlink/ESCAPE-root", b"x", 0o644),
        ],
    )
    .expect("symlinked parents are followed inside the root");
    // The writes through symlinks landed inside the snapshot.
    assert!(w
        .dest
        .join(outside.trim_start_matches('/'))
        .join("ESCAPE-abs")
        .is_file());
    assert!(w.dest.join("ESCAPE-rel").is_file());
    assert!(w.dest.join("ESCAPE-root").is_file());
    // The symlinks themselves are kept verbatim.
    assert_eq!(
        std::fs::read_link(w.dest.join("abslink")).expect("link"),
        Path::new(&outside)
    );
    outside_untouched(&w);
}

#[test]
fn hardlinks_cannot_reach_outside() {
    let Some(_sb) = stack_testkit::sandbox() else {
        return;
    };
    let w = world();
    refused(
        unpack(&w, &[Item::Hardlink("hl", "../outside/secret")]),
        "..",
    );
    let abs = format!("{}/secret", w.outside.display());
    assert!(unpack(&w, &[Item::Hardlink("hl-abs", &abs)]).is_err());
    let outside = w.outside.display().to_string();
    assert!(unpack(
        &w,
        &[
            Item::Symlink("via", &outside),
            Item::Hardlink("hl-via-symlink", "via/secret"),
        ]
    )
    .is_err());
    outside_untouched(&w);
}

#[test]
fn bad_whiteout_names_are_refused() {
    let Some(_sb) = stack_testkit::sandbox() else {
        return;
    };
    for name in ["etc/.wh.", "etc/.wh..", "etc/.wh...", "etc/.wh..wh.other"] {
        let w = world();
        std::fs::create_dir_all(w.dest.join("etc")).expect("etc");
        std::fs::write(w.dest.join("etc/keep"), b"k").expect("keep");
        refused(unpack(&w, &[Item::File(name, b"", 0o644)]), ".wh.");
        assert!(
            w.dest.join("etc/keep").is_file(),
            "{name} removed a sibling"
        );
        outside_untouched(&w);
    }
}

#[test]
fn overlay_xattrs_cannot_be_smuggled() {
    let Some(_sb) = stack_testkit::sandbox() else {
        return;
    };
    let w = world();
    let records = vec![(
        "SCHILY.xattr.trusted.overlay.redirect".to_string(),
        b"/etc".to_vec(),
    )];
    refused(
        unpack(&w, &[Item::FileWithPax("f", b"x", records)]),
        "overlay",
    );
    outside_untouched(&w);
}

//! Trees copied as they are (`docker cp`, `export`), without privileges:
//! the names Docker's clients match on, no name read as a whiteout either
//! way, and an archive unpacked below a directory of a confined root.

mod common;

use std::ffi::{OsStr, OsString};
use std::os::fd::AsFd;
use std::os::unix::fs::symlink;
use std::path::Path;

use common::tarlist::{at, list, paths};
use stack_image::layer::{write_tree, Mounts, TreeRoot};
use stack_image::unpack::{unpack_tree_into as unpack_tree, ConfinedRoot, TreeRules};

fn tree(root: &Path) {
    std::fs::create_dir_all(root.join("d/sub")).expect("mkdir");
    std::fs::write(root.join("d/f"), "f\n").expect("f");
    std::fs::write(root.join("d/.wh.plain"), "not a whiteout\n").expect("wh");
    std::fs::write(root.join("d/sub/g"), "g\n").expect("g");
    std::fs::hard_link(root.join("d/f"), root.join("d/sub/f-again")).expect("hardlink");
    symlink("/elsewhere", root.join("d/link")).expect("symlink");
}

fn open_dir(path: &Path) -> std::fs::File {
    std::fs::File::open(path).expect("open dir")
}

#[test]
fn a_directory_and_its_contents_keep_docker_cp_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    tree(dir.path());
    let parent = open_dir(dir.path());

    // `d`: the directory under its name, everything below it.
    let mut blob = Vec::new();
    let root = TreeRoot::Entry {
        parent: parent.as_fd(),
        name: OsStr::new("d"),
        rename: b"d",
    };
    write_tree(Path::new("t"), root, Mounts::Enter, &mut blob).expect("write");
    let entries = list(&blob);
    assert_eq!(
        paths(&entries),
        [
            "d/",
            "d/.wh.plain",
            "d/f",
            "d/link",
            "d/sub/",
            "d/sub/f-again",
            "d/sub/g"
        ]
    );
    assert_eq!(at(&entries, "d/.wh.plain").data, b"not a whiteout\n");
    assert_eq!(at(&entries, "d/link").link.as_deref(), Some("/elsewhere"));
    assert_eq!(at(&entries, "d/sub/f-again").kind, 'h');

    // `d/.`: the names start with `./`, which the clients match on.
    let d = open_dir(&dir.path().join("d"));
    let mut blob = Vec::new();
    let root = TreeRoot::Dir {
        dir: d.as_fd(),
        rename: Some(b"."),
    };
    write_tree(Path::new("t"), root, Mounts::Enter, &mut blob).expect("write");
    let entries = list(&blob);
    assert_eq!(paths(&entries)[..3], ["./", "./.wh.plain", "./f"]);
    assert_eq!(at(&entries, "./sub/f-again").link.as_deref(), Some("./f"));

    // An export: paths relative to the root, no entry for the root.
    let mut blob = Vec::new();
    let root = TreeRoot::Dir {
        dir: d.as_fd(),
        rename: None,
    };
    write_tree(Path::new("t"), root, Mounts::Stay, &mut blob).expect("write");
    assert_eq!(paths(&list(&blob))[..2], [".wh.plain", "f"]);
}

#[test]
fn an_archive_lands_below_its_directory_as_plain_names() {
    let source = tempfile::tempdir().expect("tempdir");
    tree(source.path());
    let parent = open_dir(source.path());
    let mut blob = Vec::new();
    let root = TreeRoot::Entry {
        parent: parent.as_fd(),
        name: OsStr::new("d"),
        rename: b"copied",
    };
    write_tree(Path::new("t"), root, Mounts::Enter, &mut blob).expect("write");

    let dest = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dest.path().join("into/here")).expect("mkdir");
    let mut confined = ConfinedRoot::open(dest.path()).expect("root");
    let under = [OsString::from("into"), OsString::from("here")];
    let rules = TreeRules {
        under: &under,
        owner: Some((1234, 4321)),
        ..TreeRules::default()
    };
    unpack_tree(&blob[..], &mut confined, rules, "test archive").expect("unpack");
    let copied = dest.path().join("into/here/copied");
    assert_eq!(
        std::fs::read_to_string(copied.join(".wh.plain")).expect(".wh. stays a file"),
        "not a whiteout\n"
    );
    assert_eq!(
        std::fs::read_to_string(copied.join("sub/f-again")).expect("hardlink"),
        "f\n"
    );
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(copied.join("sub/g")).expect("g");
    if rustix::process::geteuid().is_root() {
        assert_eq!((meta.uid(), meta.gid()), (1234, 4321), "owner as asked");
    }

    // A directory is not replaced by a file when asked to keep kinds.
    std::fs::create_dir_all(dest.path().join("k/f")).expect("mkdir");
    let mut blob = Vec::new();
    let d = open_dir(&source.path().join("d"));
    let root = TreeRoot::Entry {
        parent: d.as_fd(),
        name: OsStr::new("f"),
        rename: b"f",
    };
    write_tree(Path::new("t"), root, Mounts::Enter, &mut blob).expect("write");
    let under = [OsString::from("k")];
    let rules = TreeRules {
        under: &under,
        keep_kinds: true,
        ..TreeRules::default()
    };
    let err = unpack_tree(&blob[..], &mut confined, rules, "test archive").expect_err("refused");
    assert!(
        err.to_string().contains("cannot overwrite a directory"),
        "{err}"
    );
    assert!(dest.path().join("k/f").is_dir());

    // bzip2 is refused by name.
    let err = unpack_tree(
        &b"BZh91AY&SY"[..],
        &mut confined,
        TreeRules::default(),
        "bz",
    )
    .expect_err("refused");
    assert!(err.to_string().contains("bzip2"), "{err}");
}

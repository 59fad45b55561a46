use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::*;

struct Fixture {
    _dir: tempfile::TempDir,
    host: std::path::PathBuf,
    root: std::path::PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let host = dir.path().join("host");
    let root = dir.path().join("root");
    std::fs::create_dir_all(&host).expect("host dir");
    std::fs::create_dir_all(&root).expect("root dir");
    Fixture {
        host,
        root,
        _dir: dir,
    }
}

#[test]
fn a_file_is_copied_with_its_mode_and_parents_are_made() {
    let f = fixture();
    let src = f.host.join("run.sh");
    std::fs::write(&src, "echo hi\n").expect("write");
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o750)).expect("chmod");
    let c = ContainerRoot::open(&f.root).expect("open root");
    assert_eq!(
        c.copy_in(&src, Path::new("/app/bin/run.sh")).expect("copy"),
        Outcome::Written
    );
    let out = f.root.join("app/bin/run.sh");
    assert_eq!(std::fs::read_to_string(&out).expect("read"), "echo hi\n");
    assert_eq!(
        std::fs::metadata(&out).expect("meta").permissions().mode() & 0o7777,
        0o750
    );
    assert_eq!(
        c.copy_in(&src, Path::new("/app/bin/run.sh"))
            .expect("copy again"),
        Outcome::Unchanged,
        "same content and mode is not rewritten"
    );
    let leftovers: Vec<_> = std::fs::read_dir(f.root.join("app/bin"))
        .expect("list")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
}

#[test]
fn a_symlink_in_the_container_cannot_lead_out_of_it() {
    let f = fixture();
    std::fs::create_dir_all(f.root.join("etc")).expect("etc");
    std::os::unix::fs::symlink("/etc", f.root.join("app")).expect("absolute link");
    std::os::unix::fs::symlink("../../../../../../..", f.root.join("up")).expect("climbing link");
    let src = f.host.join("x.conf");
    std::fs::write(&src, "x").expect("write");
    let c = ContainerRoot::open(&f.root).expect("open root");
    c.copy_in(&src, Path::new("/app/stack-watch-escape-test.conf"))
        .expect("copy");
    assert!(f.root.join("etc/stack-watch-escape-test.conf").exists());
    assert!(!Path::new("/etc/stack-watch-escape-test.conf").exists());
    c.copy_in(&src, Path::new("/up/escaped.conf"))
        .expect("copy");
    assert!(
        f.root.join("escaped.conf").exists(),
        "`..` stops at the root"
    );
    // A link as the last component is replaced, not followed.
    std::os::unix::fs::symlink("/etc/passwd", f.root.join("last")).expect("link");
    c.copy_in(&src, Path::new("/last")).expect("copy over link");
    assert!(f
        .root
        .join("last")
        .symlink_metadata()
        .expect("meta")
        .is_file());
}

#[test]
fn removal_is_recursive_and_missing_is_fine() {
    let f = fixture();
    std::fs::create_dir_all(f.root.join("app/d/e")).expect("dirs");
    std::fs::write(f.root.join("app/d/e/f"), "f").expect("file");
    let c = ContainerRoot::open(&f.root).expect("open root");
    assert_eq!(
        c.remove(Path::new("/app/d")).expect("remove"),
        Outcome::Removed
    );
    assert!(!f.root.join("app/d").exists());
    assert_eq!(
        c.remove(Path::new("/app/d")).expect("again"),
        Outcome::Unchanged
    );
    assert_eq!(
        c.remove(Path::new("/nope/deeper")).expect("missing parent"),
        Outcome::Unchanged
    );
}

#[test]
fn a_directory_replaces_a_file_and_the_other_way_round() {
    let f = fixture();
    std::fs::create_dir_all(f.host.join("d")).expect("host dir");
    std::fs::write(f.host.join("file"), "content").expect("host file");
    std::fs::create_dir_all(f.root.join("app/file/sub")).expect("dir in the way");
    std::fs::write(f.root.join("app/d"), "file in the way").expect("file in the way");
    let c = ContainerRoot::open(&f.root).expect("open root");
    c.copy_in(&f.host.join("d"), Path::new("/app/d"))
        .expect("dir");
    c.copy_in(&f.host.join("file"), Path::new("/app/file"))
        .expect("file");
    assert!(f.root.join("app/d").is_dir());
    assert_eq!(
        std::fs::read_to_string(f.root.join("app/file")).expect("read"),
        "content"
    );
}

#[test]
fn symlinks_are_copied_as_links() {
    let f = fixture();
    std::os::unix::fs::symlink("target.txt", f.host.join("l")).expect("link");
    let c = ContainerRoot::open(&f.root).expect("open root");
    c.copy_in(&f.host.join("l"), Path::new("/app/l"))
        .expect("copy link");
    assert_eq!(
        std::fs::read_link(f.root.join("app/l")).expect("read link"),
        Path::new("target.txt")
    );
}

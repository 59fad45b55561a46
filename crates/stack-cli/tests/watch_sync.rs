//! `stack watch` syncing source edits into a running container, each
//! change observed from inside the container (`stack container exec cat`).

mod run_support;
mod watch_support;

use std::time::Duration;

use watch_support::{cat, eventually, remove, start_service, Project, Watch};

const WAIT: Duration = Duration::from_secs(10);

const SYNC_STACK: &str = "name: demo
services:
  web:
    image: busybox
    develop:
      watch:
        - path: ./src
          target: /app
          action: sync
          ignore:
            - build/
            - '*.tmp'
        - path: ./docs
          target: /docs
          action: sync
          include:
            - '*.md'
";

#[test]
fn edits_creates_deletes_renames_and_atomic_saves_reach_the_container() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let p = Project::new(&sb, "demo", SYNC_STACK);
    p.write("src/keep.txt", "v1\n");
    p.write("docs/.keep", "");
    let web = start_service(&sb, &p, "web");
    let watch = Watch::start(&sb, &p, &["--no-up"]);
    let has = |path: &str, want: Option<&str>| {
        eventually(WAIT, || cat(&sb, &web, path).as_deref() == want)
    };

    // Without initial_sync, nothing is copied before the first change.
    assert_eq!(cat(&sb, &web, "/app/keep.txt"), None);

    // Create, then edit.
    p.write("src/a.txt", "one\n");
    assert!(
        has("/app/a.txt", Some("one\n")),
        "create: {}",
        watch.output()
    );
    p.write("src/a.txt", "two\n");
    assert!(has("/app/a.txt", Some("two\n")), "edit: {}", watch.output());

    // Atomic save: write a temporary file, rename it over.
    p.write("src/.a.txt.swp", "swap");
    p.write("src/a.txt.new", "three\n");
    std::fs::rename(p.path("src/a.txt.new"), p.path("src/a.txt")).expect("rename over");
    std::fs::remove_file(p.path("src/.a.txt.swp")).expect("remove swap");
    assert!(
        has("/app/a.txt", Some("three\n")),
        "atomic save: {}",
        watch.output()
    );

    // Rename: gone under the old name, present under the new one.
    std::fs::rename(p.path("src/a.txt"), p.path("src/b.txt")).expect("rename");
    assert!(
        has("/app/b.txt", Some("three\n")),
        "rename target: {}",
        watch.output()
    );
    assert!(has("/app/a.txt", None), "rename source: {}", watch.output());

    // Delete.
    std::fs::remove_file(p.path("src/b.txt")).expect("delete");
    assert!(has("/app/b.txt", None), "delete: {}", watch.output());

    // A new directory tree made at once, files in it included.
    std::fs::create_dir_all(p.path("src/new/deeper")).expect("mkdir -p");
    p.write("src/new/deeper/x.txt", "x\n");
    p.write("src/new/y.txt", "y\n");
    assert!(
        has("/app/new/deeper/x.txt", Some("x\n")),
        "new dir: {}",
        watch.output()
    );
    assert!(
        has("/app/new/y.txt", Some("y\n")),
        "new dir: {}",
        watch.output()
    );

    // Mode bits follow.
    use std::os::unix::fs::PermissionsExt;
    p.write("src/run.sh", "#!/bin/sh\necho ran\n");
    std::fs::set_permissions(p.path("src/run.sh"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    assert!(
        eventually(WAIT, || watch_support::sh(&sb, &web, "/app/run.sh 2>&1")
            == "ran\n"),
        "mode bits: {}",
        watch.output()
    );

    // Ignored: .git, editor files, the rule's own ignores; include limits docs.
    p.write("src/.git/HEAD", "ref: refs/heads/main\n");
    p.write("src/.c.txt.swp", "swap");
    p.write("src/c.txt~", "backup");
    p.write("src/build/out.o", "object");
    p.write("src/scratch.tmp", "tmp");
    p.write("docs/notes.txt", "not included");
    p.write("docs/guide.md", "# guide\n");
    p.write("src/marker.txt", "last\n");
    assert!(
        has("/app/marker.txt", Some("last\n")),
        "marker: {}",
        watch.output()
    );
    assert!(
        has("/docs/guide.md", Some("# guide\n")),
        "include: {}",
        watch.output()
    );
    for ignored in [
        "/app/.git/HEAD",
        "/app/.c.txt.swp",
        "/app/c.txt~",
        "/app/build/out.o",
        "/app/scratch.tmp",
        "/docs/notes.txt",
    ] {
        assert_eq!(
            cat(&sb, &web, ignored),
            None,
            "{ignored} must not be synced"
        );
    }
    let listing = watch_support::sh(&sb, &web, "ls -a /app");
    assert!(
        !listing.contains(".stack-sync-"),
        "temporary files left: {listing}"
    );
    assert!(
        watch.batches("web").iter().any(|l| l.contains("synced")),
        "batch lines: {}",
        watch.output()
    );

    drop(watch);
    remove(&sb, &web);
    sb.assert_no_leaks();
}

#[test]
fn a_burst_of_500_files_is_applied_in_one_batch() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let p = Project::new(
        &sb,
        "burst",
        &SYNC_STACK.replace("name: demo", "name: burst"),
    );
    let web = start_service(&sb, &p, "web");
    let watch = Watch::start(&sb, &p, &["--no-up"]);
    for i in 0..500 {
        p.write(&format!("src/many/f{i:03}.txt"), &format!("{i}\n"));
    }
    assert!(
        watch.wait_line(WAIT, |l| l.starts_with("web: ")),
        "no batch: {}",
        watch.output()
    );
    // Give a split batch time to show up before counting.
    std::thread::sleep(Duration::from_millis(500));
    let batches = watch.batches("web");
    assert_eq!(batches.len(), 1, "one batch expected: {batches:#?}");
    assert!(
        batches[0].contains("synced 501 files"),
        "500 files and their directory: {batches:?}"
    );
    let count = watch_support::sh(&sb, &web, "ls /app/many | wc -l");
    assert_eq!(count.trim(), "500");
    assert_eq!(
        cat(&sb, &web, "/app/many/f499.txt").as_deref(),
        Some("499\n")
    );

    drop(watch);
    remove(&sb, &web);
    sb.assert_no_leaks();
}

#[test]
fn initial_sync_brings_a_running_container_up_to_date() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let p = Project::new(
        &sb,
        "initial",
        "name: initial\nservices:\n  web:\n    image: busybox\n    develop:\n      watch:\n        - path: ./src\n          target: /app\n          action: sync\n          initial_sync: true\n",
    );
    p.write("src/one.txt", "1\n");
    p.write("src/sub/two.txt", "2\n");
    p.write("src/.git/config", "[core]\n");
    let web = start_service(&sb, &p, "web");
    let watch = Watch::start(&sb, &p, &["--no-up"]);
    assert!(
        eventually(WAIT, || cat(&sb, &web, "/app/sub/two.txt").as_deref()
            == Some("2\n")),
        "{}",
        watch.output()
    );
    assert_eq!(cat(&sb, &web, "/app/one.txt").as_deref(), Some("1\n"));
    assert_eq!(cat(&sb, &web, "/app/.git/config"), None);
    assert!(
        watch.wait_line(WAIT, |l| l
            .starts_with("web: compared in full, synced 3 files")),
        "{}",
        watch.output()
    );

    drop(watch);
    remove(&sb, &web);
    sb.assert_no_leaks();
}

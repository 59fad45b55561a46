//! `stack cp` in process: a service's replica by `--index` or a container
//! by name, both ways, Docker's naming rules (into a directory, to a new
//! name, `dir/.`), tars on stdin and stdout, `-a`, and a container's
//! links that cannot carry a copy onto this host.

mod run_support;
mod verbs_support;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use run_support::{describe, run_detached, stack, stack_bin};
use verbs_support::{shop, verb};

fn ok(out: std::process::Output) -> String {
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn cp_copies_to_and_from_services_and_containers() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (file, root) = shop(&sb);
    let host = sb.dir().join("host");
    std::fs::create_dir_all(host.join("conf/sub")).expect("mkdir");
    std::fs::write(host.join("conf/app.ini"), "x=1\n").expect("write");
    std::fs::write(host.join("conf/sub/more.ini"), "y=2\n").expect("write");
    let out = sb.dir().join("out");
    std::fs::create_dir_all(&out).expect("out");
    let p = |path: &Path| path.display().to_string();

    // Into the second replica of web, a tree under a new name; out again
    // from the same replica, and not from the first.
    ok(verb(
        &sb,
        &file,
        &["cp", "--index", "2", &p(&host.join("conf")), "web:/tmp/etc"],
    ));
    ok(verb(
        &sb,
        &file,
        &["cp", "--index", "2", "web:/tmp/etc/sub/more.ini", &p(&out)],
    ));
    assert_eq!(read(&out.join("more.ini")), "y=2\n");
    let missing = verb(&sb, &file, &["cp", "web:/tmp/etc", &p(&out.join("none"))]);
    assert!(!missing.status.success(), "{}", describe(&missing));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("Could not find the file /tmp/etc"),
        "{}",
        describe(&missing)
    );

    // `dir/.` copies what the directory holds into an existing directory.
    std::fs::create_dir_all(out.join("flat")).expect("mkdir");
    ok(verb(
        &sb,
        &file,
        &[
            "cp",
            "--index",
            "2",
            "web:/tmp/etc/.",
            &p(&out.join("flat")),
        ],
    ));
    assert_eq!(read(&out.join("flat/app.ini")), "x=1\n");

    // A plain container by name; tars on stdout and stdin; -a owns the
    // files by the container's user.
    run_detached(&sb, &root, "plain", "sleep 300");
    let tar = stack(&sb, &["cp", "plain:/etc/passwd", "-"]);
    assert!(tar.status.success(), "{}", describe(&tar));
    assert_eq!(&tar.stdout[257..262], b"ustar", "a tar on stdout");
    let mut upload = sb
        .command(stack_bin())
        .args(["cp", "-", "plain:/tmp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("stack cp from stdin");
    upload
        .stdin
        .take()
        .expect("stdin")
        .write_all(&tar.stdout)
        .expect("write the tar");
    assert!(upload.wait_with_output().expect("wait").status.success());
    let same = ok(stack(
        &sb,
        &[
            "container",
            "exec",
            "plain",
            "cmp",
            "/etc/passwd",
            "/tmp/passwd",
        ],
    ));
    assert_eq!(same, "");

    let rootfs = root.display().to_string();
    ok(stack(
        &sb,
        &[
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            "alice",
            "-u",
            "alice",
            "--rootfs",
            &rootfs,
            "sleep",
            "300",
        ],
    ));
    let ini = p(&host.join("conf/app.ini"));
    ok(stack(&sb, &["cp", &ini, "alice:/tmp/kept.ini"]));
    ok(stack(&sb, &["cp", "-a", &ini, "alice:/tmp/owned.ini"]));
    let owners = ok(stack(
        &sb,
        &[
            "container",
            "exec",
            "alice",
            "stat",
            "-c",
            "%u",
            "/tmp/kept.ini",
            "/tmp/owned.ini",
        ],
    ));
    assert_eq!(
        owners, "0\n1000\n",
        "ids kept, or the container user's with -a"
    );

    // A link the container plants is followed inside it, never here.
    ok(stack(
        &sb,
        &[
            "container",
            "exec",
            "plain",
            "ln",
            "-s",
            "/",
            "/tmp/root-link",
        ],
    ));
    let marker = format!("stack-cp-{}", std::process::id());
    std::fs::write(host.join(&marker), "inside\n").expect("marker");
    ok(stack(
        &sb,
        &["cp", &p(&host.join(&marker)), "plain:/tmp/root-link/"],
    ));
    assert_eq!(
        ok(stack(
            &sb,
            &["container", "exec", "plain", "cat", &format!("/{marker}")]
        )),
        "inside\n"
    );
    assert!(!Path::new("/").join(&marker).exists());

    ok(verb(&sb, &file, &["rm", "--force"]));
    for name in ["plain", "alice"] {
        ok(stack(&sb, &["container", "rm", "-f", name]));
    }
}

//! `docker cp`, `docker export` and `docker diff` against `stack daemon`: files and
//! trees both ways, into a running container and a created one, symlinks
//! kept or followed (`-L`) inside the container, Docker's errors, and the
//! attacks a container or an archive can try: symlinks planted to carry
//! a copy onto the host, `..` names, a file written through a link the
//! same archive made.

mod daemon_support;
mod docker_support;
mod run_support;

use std::path::Path;
use std::process::Command;

use docker_support::{daemon_with_busybox, Docker};
use run_support::describe;
use stack_testkit::tarball::{self, Entry};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn exec(docker: &Docker, container: &str, script: &str) -> String {
    docker.ok(&["exec", container, "sh", "-c", script])
}

#[test]
fn docker_cp_copies_files_and_trees_both_ways() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (_registry, _daemon, docker) = daemon_with_busybox(&sb);
    docker.ok(&[
        "run",
        "-d",
        "--name",
        "app",
        "--network",
        "none",
        "busybox",
        "sleep",
        "300",
    ]);
    let host = sb.dir().join("host");
    write(&host.join("hello.txt"), "hello\n");
    write(&host.join("tree/a.txt"), "a\n");
    write(&host.join("tree/sub/b.txt"), "b\n");
    let out = sb.dir().join("out");
    std::fs::create_dir_all(&out).expect("out dir");
    let at = |p: &str| host.join(p).display().to_string();
    let to = |p: &str| out.join(p).display().to_string();

    // Into the running container: a file into a directory, a tree under a
    // new name, a file under a new name.
    docker.ok(&["cp", &at("hello.txt"), "app:/tmp/"]);
    docker.ok(&["cp", &at("tree"), "app:/tmp/copied"]);
    docker.ok(&["cp", &at("hello.txt"), "app:/tmp/renamed.txt"]);
    assert_eq!(
        exec(
            &docker,
            "app",
            "cat /tmp/hello.txt /tmp/copied/a.txt /tmp/copied/sub/b.txt /tmp/renamed.txt"
        ),
        "hello\na\nb\nhello\n"
    );

    // Out of it: a file, a tree, the contents of a directory (`dir/.`).
    exec(
        &docker,
        "app",
        "mkdir -p /data/d && echo made > /data/d/f && chmod 640 /data/d/f",
    );
    docker.ok(&["cp", "app:/data/d/f", &to("f")]);
    assert_eq!(std::fs::read_to_string(out.join("f")).expect("f"), "made\n");
    docker.ok(&["cp", "app:/tmp/copied", &to("tree")]);
    assert_eq!(
        std::fs::read_to_string(out.join("tree/sub/b.txt")).expect("b"),
        "b\n"
    );
    docker.ok(&["cp", "app:/data/d/.", &to("contents")]);
    assert_eq!(
        std::fs::read_to_string(out.join("contents/f")).expect("contents/f"),
        "made\n"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(out.join("contents/f"))
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640, "modes travel with the files");

    // A symlink is copied as the link, and with -L as what it leads to,
    // resolved inside the container: its /etc/passwd, not the host's.
    exec(&docker, "app", "ln -s /etc/passwd /tmp/pw");
    docker.ok(&["cp", "app:/tmp/pw", &to("pw-link")]);
    assert_eq!(
        std::fs::read_link(out.join("pw-link")).expect("a link"),
        Path::new("/etc/passwd")
    );
    docker.ok(&["cp", "-L", "app:/tmp/pw", &to("pw-file")]);
    assert_eq!(
        std::fs::read_to_string(out.join("pw-file")).expect("pw-file"),
        exec(&docker, "app", "cat /etc/passwd")
    );

    // Docker's errors.
    let err = docker.fails(&["cp", "app:/nope", &to("nope")]);
    assert!(
        err.contains("Could not find the file /nope in container app"),
        "{err}"
    );
    let err = docker.fails(&["cp", &at("hello.txt"), "ghost:/tmp/x.txt"]);
    assert!(err.contains("No such container: ghost"), "{err}");

    // A container that never ran: the file is in place at its first start.
    docker.ok(&[
        "create",
        "--name",
        "fresh",
        "--network",
        "none",
        "busybox",
        "cat",
        "/etc/app.conf",
    ]);
    docker.ok(&["cp", &at("hello.txt"), "fresh:/etc/app.conf"]);
    docker.ok(&["cp", "fresh:/etc/app.conf", &to("from-fresh")]);
    assert_eq!(
        std::fs::read_to_string(out.join("from-fresh")).expect("from-fresh"),
        "hello\n"
    );
    let printed = docker.ok(&["start", "-a", "fresh"]);
    assert_eq!(printed, "hello\n");
    // Nothing of the copy stays mounted.
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    assert!(
        !mounts
            .lines()
            .any(|l| l.contains(" overlay ") && l.contains(&sb.dir().display().to_string())),
        "a copy's private mounts stay private and go with it:\n{mounts}"
    );
}

#[test]
fn docker_export_writes_the_root_filesystem_without_mounts() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (_registry, _daemon, docker) = daemon_with_busybox(&sb);
    let volume = sb.dir().join("vol");
    write(&volume.join("in-volume"), "v\n");
    docker.ok(&[
        "run",
        "-d",
        "--name",
        "app",
        "--network",
        "none",
        "-v",
        &format!("{}:/mnt/vol", volume.display()),
        "busybox",
        "sh",
        "-c",
        "echo mine > /made-here && sleep 300",
    ]);
    docker_support::eventually("the container wrote its file", || {
        docker
            .run(&["exec", "app", "test", "-f", "/made-here"])
            .status
            .success()
    });
    let tar = sb.dir().join("app.tar");
    docker.ok(&["export", "-o", &tar.display().to_string(), "app"]);
    let listing = Command::new("tar")
        .arg("-tf")
        .arg(&tar)
        .output()
        .expect("tar");
    assert!(listing.status.success(), "{}", describe(&listing));
    let names = String::from_utf8_lossy(&listing.stdout).into_owned();
    let has = |name: &str| names.lines().any(|l| l.trim_start_matches("./") == name);
    assert!(has("bin/busybox") && has("made-here"), "{names}");
    assert!(
        has("proc/") && has("mnt/vol/"),
        "mount points are there: {names}"
    );
    assert!(
        !names
            .lines()
            .any(|l| l.contains("proc/self") || l.contains("in-volume")),
        "nothing mounted is exported: {names}"
    );
}

#[test]
fn docker_cp_never_leaves_the_container() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (_registry, daemon, docker) = daemon_with_busybox(&sb);
    docker.ok(&[
        "run",
        "-d",
        "--name",
        "app",
        "--network",
        "none",
        "busybox",
        "sleep",
        "300",
    ]);
    docker.ok(&[
        "run",
        "-d",
        "--name",
        "ro",
        "--read-only",
        "--network",
        "none",
        "busybox",
        "sleep",
        "300",
    ]);
    let marker = format!("stack-cp-escape-{}", std::process::id());
    let host = sb.dir().join("host");
    write(&host.join(&marker), "escaped?\n");
    let at = |p: &str| host.join(p).display().to_string();

    // The container plants links to `/` and to the host's paths; a copy
    // through them lands in the container's own root.
    exec(
        &docker,
        "app",
        "ln -s / /tmp/up && ln -s ../../../../../../ /tmp/dots",
    );
    docker.ok(&["cp", &at(&marker), "app:/tmp/up/"]);
    docker.ok(&["cp", &at(&marker), "app:/tmp/dots/etc/"]);
    assert_eq!(
        exec(&docker, "app", &format!("cat /{marker} /etc/{marker}")),
        "escaped?\nescaped?\n"
    );
    assert!(!Path::new("/").join(&marker).exists());
    assert!(!Path::new("/etc").join(&marker).exists());

    // Reading through the same links reads the container's files.
    let out = sb.dir().join("out");
    std::fs::create_dir_all(&out).expect("out");
    docker.ok(&[
        "cp",
        "app:/tmp/dots/etc/hostname",
        &out.join("hostname").display().to_string(),
    ]);
    assert_eq!(
        std::fs::read_to_string(out.join("hostname")).expect("hostname"),
        exec(&docker, "app", "cat /etc/hostname")
    );

    // Archives a docker CLI would never send: `..` names, and a file
    // written through a link the same archive made.
    let put = |tar: &Path, path: &str| {
        let out = Command::new("curl")
            .args([
                "-sS",
                "-o",
                "/dev/stderr",
                "-w",
                "%{http_code}",
                "-X",
                "PUT",
            ])
            .args(["-H", "Content-Type: application/x-tar", "--data-binary"])
            .arg(format!("@{}", tar.display()))
            .arg("--unix-socket")
            .arg(&daemon.socket)
            .arg(format!(
                "http://docker/v1.44/containers/app/archive?path={path}"
            ))
            .output()
            .expect("curl");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let dotdot = sb.dir().join("dotdot.tar");
    let escape_name = format!("../../../../../tmp/{marker}");
    tarball::write(
        &dotdot,
        &[Entry::File {
            name: &escape_name,
            data: b"x",
        }],
    );
    let (code, body) = put(&dotdot, "/tmp");
    assert!(
        code.starts_with('4') || code.starts_with('5'),
        "{code} {body}"
    );
    assert!(body.contains(".."), "the refusal names the cause: {body}");
    assert!(!Path::new("/tmp").join(&marker).exists());

    let through = sb.dir().join("through.tar");
    let planted = format!("etc-link/{marker}");
    tarball::write(
        &through,
        &[
            Entry::Symlink {
                name: "etc-link",
                target: "/etc",
            },
            Entry::File {
                name: &planted,
                data: b"through\n",
            },
        ],
    );
    let (code, body) = put(&through, "/tmp");
    assert_eq!(code, "200", "{body}");
    assert_eq!(
        exec(&docker, "app", &format!("cat /etc/{marker}")),
        "through\n",
        "the archive's link was followed inside the container"
    );
    assert!(!Path::new("/etc").join(&marker).exists());

    // A read-only root filesystem is refused by name.
    let err = docker.fails(&["cp", &at(&marker), "ro:/tmp/"]);
    assert!(err.contains("read-only"), "{err}");
}

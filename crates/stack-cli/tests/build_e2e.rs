//! `stack image build` and `stack build` end to end: Dockerfiles built on
//! the fixture busybox (pulled through a docker.io mirror on a local
//! registry), run with `stack run`, rebuilt from the cache, and attacked
//! with a context whose symlinks point out of it and an archive whose
//! entries climb out of their destination.

mod build_support;
mod run_support;

use build_support::{build, fails, ok, sandbox_with_mirror, write_tree};
use run_support::{describe as text, stack};
use stack_testkit::tarball::Entry;

const APP: &str = r#"# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM ${BASE} AS base
ARG GREETING=hello
ENV APP_HOME=/srv/app
WORKDIR $APP_HOME
COPY greet.sh ./
COPY data/ data/
RUN mkdir -p /gone/deep && touch /gone/deep/file /gonefile && echo "$GREETING built" > built.txt
RUN rm -rf /gone /gonefile && chmod 0755 greet.sh
USER app
EXPOSE 8080
LABEL org.example.kind=test
CMD ["./greet.sh"]
"#;

#[test]
fn a_dockerfile_builds_an_image_that_runs_and_rebuilds_from_the_cache() {
    let Some((sb, _reg)) = sandbox_with_mirror() else {
        return;
    };
    let ctx = sb.dir().join("ctx");
    write_tree(
        &ctx,
        &[
            ("Dockerfile", APP),
            (
                "greet.sh",
                "#!/bin/sh\necho \"greetings from $(id -un) in $PWD\"\n",
            ),
            ("data/a.txt", "a\n"),
            ("data/skip.tmp", "skipped\n"),
            ("data/keep.tmp", "kept\n"),
            (".dockerignore", "data/*.tmp\n!data/keep.tmp\n"),
        ],
    );
    let ctx_arg = ctx.to_string_lossy().into_owned();
    let (_, log) = build(&sb, &["-t", "app:1", &ctx_arg]);
    assert!(log.contains("RUN mkdir -p /gone/deep"), "{log}");
    assert!(
        log.contains("naming to docker.io/library/app:1 done"),
        "{log}"
    );

    // The image's config decides the process: CMD, USER, WORKDIR.
    let out = ok(&sb, &["run", "--rm", "app:1"]);
    assert_eq!(out, "greetings from app in /srv/app\n");
    let out = ok(&sb, &["run", "--rm", "app:1", "cat", "built.txt"]);
    assert_eq!(out, "hello built\n");
    // What a later RUN deleted is gone (the layers' whiteouts), and the
    // ignore file's exception came through.
    let out = ok(
        &sb,
        &[
            "run",
            "--rm",
            "app:1",
            "sh",
            "-c",
            "ls /gone /gonefile 2>&1; ls data",
        ],
    );
    assert!(out.contains("No such file"), "{out}");
    assert!(out.contains("a.txt") && out.contains("keep.tmp"), "{out}");
    assert!(!out.contains("skip.tmp"), "{out}");
    // The mount points the runtime made for the steps are not in the image.
    let out = ok(&sb, &["run", "--rm", "app:1", "cat", "/etc/hostname"]);
    assert!(!out.is_empty());
    let inspect = ok(&sb, &["image", "inspect", "app:1"]);
    assert!(inspect.contains("8080/tcp"), "{inspect}");
    assert!(inspect.contains("org.example.kind"), "{inspect}");

    // Nothing changed: every step from the cache, the same image.
    let (_, again) = build(&sb, &["-t", "app:1", &ctx_arg]);
    assert_eq!(again.matches("CACHED").count(), 5, "{again}");
    let first_id = log
        .lines()
        .find(|l| l.starts_with("writing image"))
        .expect("id");
    assert!(again.contains(first_id), "same image: {again}");

    // A changed copied file: the steps from that COPY on run again.
    std::fs::write(ctx.join("data/a.txt"), "changed\n").expect("edit");
    let (_, partial) = build(
        &sb,
        &["-t", "app:2", "--build-arg", "GREETING=hi", &ctx_arg],
    );
    assert!(!partial.contains(first_id), "{partial}");
    let out = ok(
        &sb,
        &["run", "--rm", "app:2", "cat", "built.txt", "data/a.txt"],
    );
    assert_eq!(out, "hi built\nchanged\n");

    assert!(stack(&sb, &["network", "prune"]).status.success());
    sb.assert_no_leaks();
}

#[test]
fn stages_copy_from_each_other_and_a_failed_step_leaves_nothing() {
    let Some((sb, _reg)) = sandbox_with_mirror() else {
        return;
    };
    let ctx = sb.dir().join("ctx");
    write_tree(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox AS build\nRUN mkdir /out && echo compiled > /out/app\n\
             FROM scratch AS bare\nCOPY --from=build /out/app /app\n\
             FROM busybox\nCOPY --from=bare /app /usr/local/bin/app-data\n\
             CMD [\"cat\", \"/usr/local/bin/app-data\"]\n",
        )],
    );
    let ctx_arg = ctx.to_string_lossy().into_owned();
    build(&sb, &["-t", "multi", &ctx_arg]);
    assert_eq!(ok(&sb, &["run", "--rm", "multi"]), "compiled\n");
    // --target stops at a stage.
    build(&sb, &["-t", "only-build", "--target", "build", &ctx_arg]);
    assert_eq!(
        ok(&sb, &["run", "--rm", "only-build", "cat", "/out/app"]),
        "compiled\n"
    );

    write_tree(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nRUN echo before\nRUN echo failing; exit 3\nRUN echo never\n",
        )],
    );
    let err = fails(&sb, &["image", "build", "-t", "broken", &ctx_arg]);
    assert!(
        err.contains("Dockerfile:3") && err.contains("code 3"),
        "{err}"
    );
    assert!(err.contains("failing"), "the step's output is shown: {err}");
    fails(&sb, &["image", "inspect", "broken"]);
    assert_eq!(ok(&sb, &["container", "ls", "-a", "-q"]), "");

    assert!(stack(&sb, &["network", "prune"]).status.success());
    sb.assert_no_leaks();
}

#[test]
fn a_hostile_context_stays_inside_its_directory() {
    let Some((sb, _reg)) = sandbox_with_mirror() else {
        return;
    };
    let ctx = sb.dir().join("ctx");
    write_tree(
        &ctx,
        &[("Dockerfile", "FROM busybox\nCOPY escape/passwd /stolen\n")],
    );
    std::os::unix::fs::symlink("/etc", ctx.join("escape")).expect("link");
    let ctx_arg = ctx.to_string_lossy().into_owned();
    let err = fails(&sb, &["image", "build", "-t", "thief", &ctx_arg]);
    assert!(
        err.contains("escape/passwd") && err.contains("no such file"),
        "{err}"
    );

    // A symlink in the context is copied as a link, not followed.
    write_tree(&ctx, &[("Dockerfile", "FROM busybox\nCOPY . /ctx/\n")]);
    let out = stack(&sb, &["image", "build", "-t", "links", &ctx_arg]);
    assert!(out.status.success(), "{}", text(&out));
    let out = ok(&sb, &["run", "--rm", "links", "readlink", "/ctx/escape"]);
    assert_eq!(out, "/etc\n");
    // `..` in a source stops at the context's root.
    write_tree(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nCOPY ../../../etc/hostname /h\n",
        )],
    );
    let err = fails(&sb, &["image", "build", "-t", "dots", &ctx_arg]);
    assert!(err.contains("no such file"), "{err}");

    assert!(stack(&sb, &["network", "prune"]).status.success());
    sb.assert_no_leaks();
}

#[test]
fn stack_build_builds_the_services_of_a_stack_file() {
    let Some((sb, _reg)) = sandbox_with_mirror() else {
        return;
    };
    let dir = sb.dir().join("proj");
    write_tree(
        &dir,
        &[
            (
                "compose.yaml",
                "name: shop\nservices:\n  web:\n    build:\n      context: ./web\n      args:\n        WORD: built-by-stack\n  api:\n    image: shop/api:dev\n    build:\n      context: ./api\n      dockerfile: api.Dockerfile\n  db:\n    image: busybox\n",
            ),
            ("web/Dockerfile", "FROM busybox\nARG WORD\nRUN echo $WORD > /word\n"),
            ("api/api.Dockerfile", "FROM busybox\nCMD [\"echo\", \"api\"]\n"),
        ],
    );
    let file = dir.join("compose.yaml").to_string_lossy().into_owned();
    let out = stack(&sb, &["-f", &file, "build"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        ok(&sb, &["run", "--rm", "shop-web", "cat", "/word"]),
        "built-by-stack\n"
    );
    assert_eq!(ok(&sb, &["run", "--rm", "shop/api:dev"]), "api\n");

    // A key the builder does not take is named, not ignored.
    std::fs::write(
        dir.join("compose.yaml"),
        "name: shop\nservices:\n  web:\n    build:\n      context: ./web\n      ssh: [default]\n",
    )
    .expect("write");
    let err = fails(&sb, &["-f", &file, "build"]);
    assert!(err.contains("build.ssh"), "{err}");

    assert!(stack(&sb, &["network", "prune"]).status.success());
    sb.assert_no_leaks();
}

#[test]
fn up_builds_a_missing_image_and_up_build_recreates_what_changed() {
    let Some((sb, _reg)) = sandbox_with_mirror() else {
        return;
    };
    let dir = sb.dir().join("proj");
    write_tree(
        &dir,
        &[
            (
                "compose.yaml",
                "name: loop\nservices:\n  app:\n    build: ./app\n    command: [\"sleep\", \"60\"]\n    stop_grace_period: 1s\n  side:\n    image: busybox\n    command: [\"sleep\", \"60\"]\n    stop_grace_period: 1s\n",
            ),
            ("app/Dockerfile", "FROM busybox\nRUN echo one > /version\n"),
        ],
    );
    let file = dir.join("compose.yaml").to_string_lossy().into_owned();
    let up = stack(&sb, &["-f", &file, "up", "-d"]);
    assert!(up.status.success(), "{}", text(&up));
    let err = String::from_utf8_lossy(&up.stderr);
    assert!(
        err.contains("loop-app") && err.contains("Built"),
        "{}",
        text(&up)
    );
    let version = ok(&sb, &["-f", &file, "exec", "-T", "app", "cat", "/version"]);
    assert_eq!(version, "one\n");

    // Nothing changed: nothing built, nothing recreated.
    let again = stack(&sb, &["-f", &file, "up", "-d", "--dry-run"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        !String::from_utf8_lossy(&again.stdout).contains("build"),
        "{}",
        text(&again)
    );

    // `--build` after an edit: app is rebuilt and recreated, side is not.
    std::fs::write(
        dir.join("app/Dockerfile"),
        "FROM busybox\nRUN echo two > /version\n",
    )
    .expect("edit");
    let rebuilt = stack(&sb, &["-f", &file, "up", "-d", "--build"]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt));
    let version = ok(&sb, &["-f", &file, "exec", "-T", "app", "cat", "/version"]);
    assert_eq!(version, "two\n");
    let err = String::from_utf8_lossy(&rebuilt.stderr);
    assert!(
        err.contains("loop-app-1") && err.contains("Recreated"),
        "{}",
        text(&rebuilt)
    );
    assert!(
        !err.contains("loop-side-1  Recreated"),
        "{}",
        text(&rebuilt)
    );

    // `--no-build` with the image gone fails and names it.
    let down = stack(&sb, &["-f", &file, "down"]);
    assert!(down.status.success(), "{}", text(&down));
    assert!(stack(&sb, &["rmi", "loop-app"]).status.success());
    let refused = stack(&sb, &["-f", &file, "up", "-d", "--no-build"]);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("loop-app"),
        "{}",
        text(&refused)
    );

    let down = stack(&sb, &["-f", &file, "down"]);
    assert!(down.status.success(), "{}", text(&down));
    // The build steps ran on the default network, as `stack run` does.
    assert!(stack(&sb, &["network", "prune"]).status.success());
    sb.assert_no_leaks();
}

#[test]
fn run_mounts_cache_bind_and_tmpfs() {
    let Some((sb, _reg)) = sandbox_with_mirror() else {
        return;
    };
    let ctx = sb.dir().join("ctx");
    write_tree(
        &ctx,
        &[
            (
                "Dockerfile",
                "FROM busybox AS tool\nRUN mkdir /out && echo from-stage > /out/made\n\
                 FROM busybox\n\
                 RUN --mount=type=cache,target=/cache,id=counter echo run >> /cache/runs && wc -l < /cache/runs > /runs-seen\n\
                 RUN --mount=type=bind,source=conf,target=/conf cat /conf/setting > /setting\n\
                 RUN --mount=type=bind,from=tool,source=/out,target=/in cat /in/made > /made\n\
                 RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && ls /scratch > /tmpfs-seen\n\
                 RUN ls /cache /conf /in /scratch > /after 2>&1 || true\n",
            ),
            ("conf/setting", "verbose\n"),
        ],
    );
    let ctx_arg = ctx.to_string_lossy().into_owned();
    build(&sb, &["-t", "mounts", &ctx_arg]);
    let out = ok(
        &sb,
        &[
            "run",
            "--rm",
            "mounts",
            "cat",
            "/runs-seen",
            "/setting",
            "/made",
            "/tmpfs-seen",
        ],
    );
    assert_eq!(out, "1\nverbose\nfrom-stage\nx\n");
    // Nothing the mounts showed is in the image: the mount points were
    // empty stubs and went with them.
    let after = ok(&sb, &["run", "--rm", "mounts", "cat", "/after"]);
    assert_eq!(after.matches("No such file").count(), 4, "{after}");

    // The cache mount keeps its content between builds.
    build(&sb, &["--no-cache", "-t", "mounts", &ctx_arg]);
    assert_eq!(
        ok(&sb, &["run", "--rm", "mounts", "cat", "/runs-seen"]),
        "2\n"
    );

    // `builder prune` forgets the cache and the cache mounts.
    let pruned = ok(&sb, &["builder", "prune"]);
    assert!(pruned.contains("1 cache mount(s)"), "{pruned}");
    let (_, log) = build(&sb, &["-t", "mounts", &ctx_arg]);
    assert!(!log.contains("CACHED"), "{log}");
    assert_eq!(
        ok(&sb, &["run", "--rm", "mounts", "cat", "/runs-seen"]),
        "1\n"
    );

    // A changed bind source misses the cache; the bound file is read-only.
    std::fs::write(ctx.join("conf/setting"), "quiet\n").expect("edit");
    let (_, log) = build(&sb, &["-t", "mounts", &ctx_arg]);
    assert!(
        log.contains("#4 CACHED") && !log.contains("#5 CACHED"),
        "{log}"
    );
    assert_eq!(
        ok(&sb, &["run", "--rm", "mounts", "cat", "/setting"]),
        "quiet\n"
    );
    write_tree(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nRUN --mount=type=bind,source=conf,target=/conf echo x > /conf/setting\n",
        )],
    );
    let err = fails(&sb, &["image", "build", "-t", "ro", &ctx_arg]);
    assert!(err.contains("Read-only file system"), "{err}");
    // What is not built is named.
    write_tree(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nRUN --mount=type=secret,id=token cat /run/secrets/token\n",
        )],
    );
    let err = fails(&sb, &["image", "build", "-t", "secret", &ctx_arg]);
    assert!(err.contains("type=secret"), "{err}");

    assert!(stack(&sb, &["network", "prune"]).status.success());
    sb.assert_no_leaks();
}

#[test]
fn heredocs_and_local_archives_become_files() {
    let Some((sb, _reg)) = sandbox_with_mirror() else {
        return;
    };
    let ctx = sb.dir().join("ctx");
    write_tree(&ctx, &[("tree/sub/file.txt", "in the archive\n")]);
    let tar = |args: &[&str]| {
        let out = std::process::Command::new("tar")
            .arg("-C")
            .arg(ctx.join("tree"))
            .args(args)
            .output()
            .expect("tar");
        assert!(out.status.success(), "tar {args:?}: {}", text(&out));
    };
    let app = ctx.join("app.tar.gz").to_string_lossy().into_owned();
    let plain = ctx.join("plain.tar").to_string_lossy().into_owned();
    tar(&[
        "--owner=1000",
        "--group=1000",
        "--numeric-owner",
        "-czf",
        &app,
        "sub",
    ]);
    tar(&["-cf", &plain, "sub"]);
    // A gzip file that holds no tar is copied as it is.
    let gz = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf 'just text\n' | gzip > '{}'",
            ctx.join("note.gz").display()
        ))
        .output()
        .expect("gzip");
    assert!(gz.status.success(), "{}", text(&gz));
    // An archive whose entries climb out through `..` and a symlink.
    let victim = format!("stack-add-escape-{}", std::process::id());
    let evil = ctx.join("evil.tar");
    let through_link = format!("root/tmp/{victim}");
    let through_dots = format!("../../../../tmp/{victim}-dots");
    stack_testkit::tarball::write(
        &evil,
        &[
            Entry::Symlink {
                name: "root",
                target: "/",
            },
            Entry::File {
                name: &through_link,
                data: b"through the link",
            },
            Entry::File {
                name: &through_dots,
                data: b"through dot-dot",
            },
        ],
    );
    write_tree(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox\n\
             ARG NAME=world\n\
             COPY <<EOF /etc/greeting\n\
             hello ${NAME}\n\
             EOF\n\
             COPY <<\"RAW\" /etc/raw\n\
             kept $NAME\n\
             RAW\n\
             COPY --chmod=0755 <<one <<two /multi/\n\
             first\n\
             one\n\
             second\n\
             two\n\
             ADD app.tar.gz /opt/app\n\
             ADD --chown=7:8 plain.tar /opt/plain/\n\
             ADD note.gz /opt/\n",
        )],
    );
    let ctx_arg = ctx.to_string_lossy().into_owned();
    build(&sb, &["-t", "sources", &ctx_arg]);
    let run = |cmd: &str| {
        ok(
            &sb,
            &[
                "run",
                "--rm",
                "--network",
                "none",
                "sources",
                "sh",
                "-c",
                cmd,
            ],
        )
    };
    assert_eq!(run("cat /etc/greeting"), "hello world\n");
    assert_eq!(run("cat /etc/raw"), "kept $NAME\n");
    assert_eq!(
        run("cat /multi/one /multi/two; stat -c %a /multi/one"),
        "first\nsecond\n755\n"
    );
    assert_eq!(
        run("stat -c %u:%g /opt/app/sub/file.txt; cat /opt/app/sub/file.txt"),
        "1000:1000\nin the archive\n"
    );
    assert_eq!(run("stat -c %u:%g /opt/plain/sub/file.txt"), "7:8\n");
    assert_eq!(run("ls /opt"), "app\nnote.gz\nplain\n");

    write_tree(
        &ctx,
        &[("Dockerfile", "FROM busybox\nADD evil.tar /opt/evil/\n")],
    );
    // The `..` entry fails the step, naming it; nothing was written.
    let err = fails(&sb, &["image", "build", "-t", "evil", &ctx_arg]);
    assert!(!std::path::Path::new("/tmp").join(&victim).exists());
    assert!(!std::path::Path::new("/tmp")
        .join(format!("{victim}-dots"))
        .exists());
    assert!(
        err.contains("ADD evil.tar") && err.contains("\"..\""),
        "{err}"
    );
    sb.assert_no_leaks();
}

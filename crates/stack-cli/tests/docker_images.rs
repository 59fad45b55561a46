//! `docker build`, `tag`, `push` and the prunes against `stack daemon`:
//! the docker CLI sends its context to `POST /build` (the classic
//! builder's protocol, which the daemon advertises with `Builder-Version:
//! 1`), the daemon builds it on stack's own builder, the image runs with
//! `docker run`, and goes to a real registry with `docker push`. A hostile
//! upload, sent without the CLI, never writes outside its context
//! directory. `docker system prune` and each prune remove what nothing
//! uses, and refuse a filter stack does not honour.

mod daemon_support;
mod docker_support;
mod run_support;

use std::path::Path;
use std::process::Command;

use daemon_support::Daemon;
use docker_support::{daemon_with_busybox, registry, Docker};
use run_support::describe;
use stack_testkit::tarball::{self, Entry};

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

/// Every uploaded context is removed once its build ends.
fn assert_nothing_left_in_build_tmp(sb: &stack_testkit::Sandbox) {
    let tmp = sb.state_root.join("build-tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left in build-tmp: {left:?}");
}

#[test]
fn docker_build_tags_runs_caches_and_fails_cleanly() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let _registry = registry(&sb);
    let daemon = Daemon::start(&sb, &[]);
    let docker = Docker::new(&sb, &daemon.socket);

    let ctx = sb.dir().join("ctx");
    write(
        &ctx.join("Dockerfile"),
        "FROM busybox AS base\n\
         ARG GREETING=hello\n\
         COPY page.txt /srv/page.txt\n\
         RUN echo \"$GREETING from the build\" > /srv/made.txt\n\
         FROM base AS final\n\
         LABEL team=web\n\
         CMD [\"cat\", \"/srv/page.txt\", \"/srv/made.txt\"]\n\
         FROM final AS unused\n\
         RUN exit 9\n",
    );
    write(&ctx.join("page.txt"), "the page\n");
    write(&ctx.join("secret.key"), "never sent\n");
    write(&ctx.join(".dockerignore"), "secret.key\n");
    let ctx_arg = ctx.to_string_lossy().into_owned();

    // No DOCKER_BUILDKIT: the CLI picks the classic builder from /_ping.
    let out = docker.ok(&[
        "build",
        "-t",
        "built:1",
        "-t",
        "built:latest",
        "--target",
        "final",
        "--build-arg",
        "GREETING=hi",
        &ctx_arg,
    ]);
    assert!(out.contains("Step 1/"), "{out}");
    assert!(out.contains("Successfully built "), "{out}");
    assert!(out.contains("Successfully tagged built:1"), "{out}");
    assert!(out.contains("Successfully tagged built:latest"), "{out}");

    let ran = docker.ok(&["run", "--rm", "built:1"]);
    assert_eq!(ran, "the page\nhi from the build\n");
    // The steps, newest first: CMD made no layer, the RUN and COPY did.
    let history = docker.ok(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}|{{.Size}}",
        "built:1",
    ]);
    let steps: Vec<&str> = history.lines().collect();
    assert!(
        steps[0].starts_with("CMD [\"cat\"") && steps[0].ends_with("|0B"),
        "{history}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s.contains("made.txt") && !s.ends_with("|0B")),
        "{history}"
    );
    let ids = docker.ok(&["history", "-q", "built:1"]);
    assert!(ids.lines().skip(1).all(|l| l == "<missing>"), "{ids}");
    let label = docker.ok(&[
        "inspect",
        "--format",
        "{{index .Config.Labels \"team\"}}",
        "built:1",
    ]);
    assert_eq!(label.trim(), "web");
    let listed = docker.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(listed.lines().any(|l| l == "built:1"), "{listed}");

    // The ignored file never reached the context.
    let ls = docker.run(&["run", "--rm", "built:1", "ls", "/srv"]);
    assert!(!String::from_utf8_lossy(&ls.stdout).contains("secret"));

    // A rebuild of the same context is served from the cache; -q prints
    // only the id, the same one.
    let again = docker.ok(&[
        "build",
        "-t",
        "built:1",
        "--target",
        "final",
        "--build-arg",
        "GREETING=hi",
        &ctx_arg,
    ]);
    assert!(again.contains("Using cache"), "{again}");
    let quiet = docker.ok(&[
        "build",
        "-q",
        "-t",
        "built:1",
        "--target",
        "final",
        "--build-arg",
        "GREETING=hi",
        &ctx_arg,
    ]);
    let id = docker.ok(&["inspect", "--format", "{{.Id}}", "built:1"]);
    assert_eq!(quiet.trim(), id.trim());

    // A Dockerfile elsewhere in the context, named with -f.
    write(
        &ctx.join("sub/Other.dockerfile"),
        "FROM busybox\nCOPY page.txt /p\nCMD [\"cat\", \"/p\"]\n",
    );
    let other = ctx.join("sub/Other.dockerfile");
    docker.ok(&[
        "build",
        "-t",
        "other",
        "-f",
        &other.to_string_lossy(),
        &ctx_arg,
    ]);
    assert_eq!(docker.ok(&["run", "--rm", "other"]), "the page\n");

    // A failing step fails the build, says why, and tags nothing.
    write(
        &ctx.join("Broken.dockerfile"),
        "FROM busybox\nRUN echo going; exit 3\n",
    );
    let broken = ctx.join("Broken.dockerfile");
    let err = docker.fails(&[
        "build",
        "-t",
        "broken",
        "-f",
        &broken.to_string_lossy(),
        &ctx_arg,
    ]);
    assert!(err.contains("exit") && err.contains('3'), "{err}");
    let err = docker.fails(&["inspect", "broken"]);
    assert!(err.contains("No such object"), "{err}");

    // Without -t the image has no name: found by its id, listed as
    // dangling, removed by the next prune.
    let out = docker.ok(&[
        "build",
        "--target",
        "final",
        "--build-arg",
        "GREETING=x",
        &ctx_arg,
    ]);
    let short = out
        .lines()
        .find_map(|l| l.strip_prefix("Successfully built "))
        .expect("the id")
        .trim()
        .to_string();
    let dangling = docker.ok(&["images", "-q", "--filter", "dangling=true"]);
    assert_eq!(dangling.trim(), short, "{dangling}");
    let ran = docker.ok(&["run", "--rm", &short]);
    assert_eq!(ran, "the page\nx from the build\n");
    let pruned = docker.ok(&["image", "prune", "-f"]);
    assert!(pruned.contains("deleted: sha256:"), "{pruned}");
    let dangling = docker.ok(&["images", "-q", "--filter", "dangling=true"]);
    assert_eq!(dangling.trim(), "");
    // A reference filter answers the tags it names only: one line.
    let only = docker.ok(&["images", "-q", "built:1"]);
    assert_eq!(only.lines().count(), 1, "{only}");
    let named = docker.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
    assert!(named.lines().any(|l| l.starts_with("built:1 ")), "{named}");
    assert!(!named.contains("<none>"), "{named}");

    // What stack's builder does not do is refused by name, not ignored.
    let err = docker.fails(&["build", "-t", "x", "--memory", "64m", &ctx_arg]);
    assert!(err.contains("memory"), "{err}");

    // Nothing of the uploaded contexts is left behind.
    assert_nothing_left_in_build_tmp(&sb);
}

/// A tar whose entries climb out of the context, through `..` and
/// through a symlink to `/`, sent straight to the socket.
#[test]
fn a_hostile_build_context_never_writes_outside_it() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let daemon = Daemon::start(&sb, &[]);
    let victim = sb.dir().join("victim");
    std::fs::create_dir_all(&victim).expect("victim dir");
    let tarball = sb.dir().join("evil.tar");
    let victim_file = victim.join("planted");
    let target = victim.to_string_lossy();
    tarball::write(
        &tarball,
        &[
            Entry::File {
                name: "Dockerfile",
                data: b"FROM scratch\n",
            },
            Entry::Symlink {
                name: "up",
                target: &target,
            },
            Entry::File {
                name: "up/planted",
                data: b"through the link",
            },
            Entry::File {
                name: "../../planted-above",
                data: b"through dot-dot",
            },
        ],
    );
    assert!(!victim_file.exists());

    let out = Command::new("curl")
        .args(["-sS", "--unix-socket"])
        .arg(&daemon.socket)
        .args([
            "-X",
            "POST",
            "-H",
            "Content-Type: application/x-tar",
            "--data-binary",
        ])
        .arg(format!("@{}", tarball.display()))
        .arg("http://docker/v1.44/build?t=evil")
        .output()
        .expect("curl");
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(body.contains("\"error\""), "{body} {}", describe(&out));
    assert_eq!(
        std::fs::read_dir(&victim).expect("victim").count(),
        0,
        "a file was planted through the symlink"
    );
    assert!(!sb.state_root.join("planted-above").exists());
    assert!(!sb
        .state_root
        .parent()
        .expect("parent")
        .join("planted-above")
        .exists());
    assert_nothing_left_in_build_tmp(&sb);
}

/// An uploaded context is a plain tree: a file named `.wh.x` in it is a
/// file, not a deletion of `x` (as it would be in an image layer).
#[test]
fn whiteout_names_in_a_context_are_files() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (_registry, _daemon, docker) = daemon_with_busybox(&sb);
    let ctx = sb.dir().join("ctx");
    write(
        &ctx.join("Dockerfile"),
        "FROM busybox\n\
         RUN --mount=type=bind,target=/ctx cat /ctx/.wh.secret /ctx/secret /ctx/.wh.alone > /seen\n",
    );
    write(&ctx.join(".wh.secret"), "a file\n");
    write(&ctx.join("secret"), "the secret\n");
    write(&ctx.join(".wh.alone"), "alone\n");
    docker.ok(&["build", "-t", "plain-tree", &ctx.to_string_lossy()]);
    assert_eq!(
        docker.ok(&["run", "--rm", "plain-tree", "cat", "/seen"]),
        "a file\nthe secret\nalone\n"
    );
    // In an image layer the name would read as a deletion: copying it
    // into one is refused by name, never turned into one.
    write(&ctx.join("Dockerfile"), "FROM busybox\nCOPY . /app/\n");
    let err = docker.fails(&["build", "-t", "plain-tree", &ctx.to_string_lossy()]);
    assert!(err.contains(".wh."), "{err}");
    assert_nothing_left_in_build_tmp(&sb);
}

#[test]
fn docker_tag_and_push_reach_the_registry() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (reg, _daemon, docker) = daemon_with_busybox(&sb);
    let name = format!("{}/team/app:1", reg.addr);
    docker.ok(&["tag", "busybox", &name]);
    let err = docker.fails(&["tag", "nothing-here", &name]);
    assert!(err.contains("nothing-here"), "{err}");

    let out = docker.ok(&["push", &name]);
    assert!(
        out.contains(&format!(
            "The push refers to repository [{}/team/app]",
            reg.addr
        )),
        "{out}"
    );
    assert!(out.contains("Pushed"), "{out}");
    assert!(out.contains("1: digest: sha256:"), "{out}");
    let again = docker.ok(&["push", &name]);
    assert!(again.contains("Layer already exists"), "{again}");
    let pushed = docker.ok(&["inspect", "--format", "{{.Id}}", &name]);

    // Back from the registry into a store without it.
    docker.ok(&["rmi", &name]);
    docker.ok(&["pull", &name]);
    let pulled = docker.ok(&["inspect", "--format", "{{.Id}}", &name]);
    assert_eq!(pulled, pushed);

    let err = docker.fails(&["push", &format!("{}/team/none:1", reg.addr)]);
    assert!(
        err.contains("No such image") || err.contains("does not exist"),
        "{err}"
    );
}

#[test]
fn docker_prunes_remove_what_nothing_uses() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (_registry, _daemon, docker) = daemon_with_busybox(&sb);
    docker.ok(&[
        "run",
        "--name",
        "done",
        "--network",
        "none",
        "busybox",
        "true",
    ]);
    docker.ok(&["create", "--name", "fresh", "--network", "none", "busybox"]);
    docker.ok(&[
        "run",
        "-d",
        "--name",
        "live",
        "--network",
        "none",
        "busybox",
        "sleep",
        "300",
    ]);
    docker.ok(&["network", "create", "spare"]);
    docker.ok(&["volume", "create", "named"]);

    // What takes disk, by kind, before anything is pruned.
    let df = docker.ok(&["system", "df", "--format", "{{json .}}"]);
    let kinds: Vec<serde_json::Value> = df
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON row"))
        .collect();
    let kind = |name: &str| {
        kinds
            .iter()
            .find(|k| k["Type"] == name)
            .unwrap_or_else(|| panic!("{name} in {df}"))
            .clone()
    };
    assert_eq!(kind("Images")["TotalCount"], "1", "{df}");
    assert_eq!(kind("Images")["Active"], "1", "{df}");
    assert_eq!(kind("Containers")["TotalCount"], "3", "{df}");
    assert_eq!(kind("Containers")["Active"], "1", "{df}");
    assert_eq!(kind("Local Volumes")["TotalCount"], "1", "{df}");
    let verbose = docker.ok(&["system", "df", "-v"]);
    assert!(
        verbose.contains("named") && verbose.contains("Build cache usage"),
        "{verbose}"
    );
    let sizes = docker.ok(&["ps", "-a", "-s", "--format", "{{.Names}} {{.Size}}"]);
    assert_eq!(sizes.lines().count(), 3, "{sizes}");
    assert!(sizes.lines().all(|l| l.contains("B (virtual ")), "{sizes}");

    let err = docker.fails(&["container", "prune", "-f", "--filter", "until=1h"]);
    assert!(err.contains("until"), "{err}");

    let out = docker.ok(&["container", "prune", "-f"]);
    assert!(out.contains("Deleted Containers:"), "{out}");
    assert_eq!(out.lines().filter(|l| l.len() == 64).count(), 2, "{out}");
    let left = docker.ok(&["ps", "-a", "--format", "{{.Names}}"]);
    assert_eq!(left.trim(), "live");

    let out = docker.ok(&["network", "prune", "-f"]);
    assert!(out.contains("spare"), "{out}");
    assert!(docker
        .fails(&["network", "inspect", "spare"])
        .contains("spare"));

    // Named volumes go with -a only (Docker 23 and later).
    let out = docker.ok(&["volume", "prune", "-f"]);
    assert!(!out.contains("named"), "{out}");
    let out = docker.ok(&["volume", "prune", "-a", "-f"]);
    assert!(out.contains("named"), "{out}");

    // busybox is used by `live`: it stays.
    docker.ok(&["image", "prune", "-a", "-f"]);
    assert!(docker.ok(&["images", "-q"]).lines().count() == 1);

    let out = docker.ok(&["system", "prune", "-f"]);
    assert!(out.contains("Total reclaimed space"), "{out}");
    let out = docker.ok(&["builder", "prune", "-f"]);
    assert!(out.contains("Total"), "{out}");

    docker.ok(&["rm", "-f", "live"]);
    let out = docker.ok(&["image", "prune", "-a", "-f"]);
    assert!(out.contains("busybox"), "{out}");
    assert_eq!(docker.ok(&["images", "-q"]).trim(), "");
}

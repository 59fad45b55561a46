//! What a build step sees of its context: a `RUN --mount=type=bind` of
//! the context shows it as `.dockerignore` filters it, and what is
//! ignored neither reaches the step nor counts in its cache key.

mod build_support;
mod run_support;

use build_support::{build, fails, ok, sandbox_with_mirror, write_tree};

#[test]
fn a_context_bind_shows_only_what_dockerignore_keeps() {
    let Some((sb, _reg)) = sandbox_with_mirror() else {
        return;
    };
    let ctx = sb.dir().join("ctx");
    write_tree(
        &ctx,
        &[
            (
                "Dockerfile",
                "FROM busybox\n\
                 RUN --mount=type=bind,target=/ctx ls -a /ctx > /ctx-list && cat /ctx/conf/setting > /setting\n\
                 RUN --mount=type=bind,source=conf,target=/conf,rw echo changed > /conf/setting && cat /conf/setting > /rw-seen\n\
                 RUN --mount=type=bind,source=conf,target=/conf ls -a /conf > /conf-list && cat /conf/setting >> /rw-seen\n",
            ),
            (".dockerignore", ".env\n.git\nconf/secret\n"),
            (".env", "TOKEN=one\n"),
            (".git/config", "[core]\n"),
            ("conf/setting", "verbose\n"),
            ("conf/secret", "hunter2\n"),
        ],
    );
    let ctx_arg = ctx.to_string_lossy().into_owned();
    build(&sb, &["-t", "binds", &ctx_arg]);
    let listed = ok(&sb, &["run", "--rm", "binds", "cat", "/ctx-list"]);
    let names: Vec<&str> = listed.lines().collect();
    assert!(
        names.contains(&"Dockerfile") && names.contains(&"conf"),
        "{listed}"
    );
    assert!(
        !names.contains(&".env") && !names.contains(&".git"),
        "{listed}"
    );
    let conf = ok(&sb, &["run", "--rm", "binds", "cat", "/conf-list"]);
    assert_eq!(conf, ".\n..\nsetting\n");
    // The writable bind wrote into a copy: the next step and the host
    // see the file as it was.
    assert_eq!(
        ok(&sb, &["run", "--rm", "binds", "cat", "/rw-seen"]),
        "changed\nverbose\n"
    );
    assert_eq!(
        std::fs::read_to_string(ctx.join("conf/setting")).expect("setting"),
        "verbose\n"
    );

    // Editing what the context ignores changes no step's key.
    std::fs::write(ctx.join(".env"), "TOKEN=two\n").expect("edit");
    std::fs::write(ctx.join("conf/secret"), "swordfish\n").expect("edit");
    std::fs::write(ctx.join(".git/config"), "[user]\n").expect("edit");
    let (_, log) = build(&sb, &["-t", "binds", &ctx_arg]);
    assert!(
        log.contains("#2 CACHED") && log.contains("#3 CACHED") && log.contains("#4 CACHED"),
        "{log}"
    );
    // Editing what it keeps does.
    std::fs::write(ctx.join("conf/setting"), "quiet\n").expect("edit");
    let (_, log) = build(&sb, &["-t", "binds", &ctx_arg]);
    assert!(!log.contains("#2 CACHED"), "{log}");

    // An ignored source is refused by name, not bound from the host.
    write_tree(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nRUN --mount=type=bind,source=.env,target=/env cat /env\n",
        )],
    );
    let err = fails(&sb, &["image", "build", "-t", "env", &ctx_arg]);
    assert!(err.contains("excluded by .dockerignore"), "{err}");

    assert!(run_support::stack(&sb, &["network", "prune"])
        .status
        .success());
    sb.assert_no_leaks();
}

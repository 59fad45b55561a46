//! `stack pull [SERVICE...]` on a stack file, as Compose pulls: the named
//! services' images (all when none), profiles respected, built services
//! skipped, `--include-deps`, `--policy`, `--ignore-pull-failures`; and
//! `pull IMAGE` for a reference that is no service.

mod run_support;
mod up_support;

use up_support::{describe, env, Env};

const STACK: &str = r#"
name: pulls
services:
  db:
    image: tools/db:2
  web:
    image: busybox
    depends_on: [db]
  app:
    build: .
  debug:
    image: busybox:debug
    profiles: [debug]
  broken:
    image: nowhere/missing:1
    profiles: [extra]
"#;

/// The references in the image store, sorted.
fn images(e: &Env) -> Vec<String> {
    let (out, _) = e.host_ok(&["images", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_str(&out).expect("images json");
    let mut names: Vec<String> = rows
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["repository"].as_str().unwrap_or(""),
                r["tag"].as_str().unwrap_or("")
            )
        })
        .collect();
    names.sort();
    names
}

/// An error report as one line (miette wraps long lines in a box).
fn flat(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| !matches!(*w, "│" | "├─▶" | "╰─▶" | "×"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn rmi_all(e: &Env) {
    for image in images(e) {
        e.host_ok(&["rmi", &image]);
    }
}

#[test]
fn pull_follows_the_stack_file() {
    let Some(e) = env(false) else { return };
    e.reg.push(
        &stack_testkit::registry::fixtures().join("busybox"),
        "1",
        "tools/db:2",
    );
    e.write(STACK);

    // A named service: its image only, not the image called `db`.
    let (out, _) = e.ok(&["pull", "db"]);
    assert!(out.contains("tools/db:2: pulled from"), "{out}");
    assert_eq!(images(&e), ["tools/db:2"]);

    // With --include-deps, what web depends on too.
    rmi_all(&e);
    e.ok(&["pull", "web"]);
    assert_eq!(images(&e), ["busybox:latest"]);
    e.ok(&["pull", "--include-deps", "web"]);
    assert_eq!(images(&e), ["busybox:latest", "tools/db:2"]);

    // All services: the built one is skipped with a note; the debug
    // profile is off, so busybox:debug (not in the registry) is not tried.
    let (out, err) = e.ok(&["pull"]);
    assert!(err.contains("app: skipped, it is built"), "{err}");
    assert_eq!(out.matches(": pulled from").count(), 2, "{out}");
    // --policy missing: everything is here already.
    let (out, err) = e.ok(&["pull", "--policy", "missing"]);
    assert_eq!(out, "", "{err}");
    assert!(
        err.contains("service web: image busybox is already here"),
        "{err}"
    );
    // -q: only digests.
    let (out, err) = e.ok(&["pull", "-q", "db"]);
    assert!(
        out.trim().starts_with("sha256:") && out.lines().count() == 1,
        "{out}"
    );
    assert_eq!(err, "");

    // An unknown service (no image of that name either) is named, with
    // the known ones.
    let out = e.stack(&["pull", "dbb"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = flat(&String::from_utf8_lossy(&out.stderr));
    assert!(
        err.contains("dbb is no service of the stack file (its services: app, db, web)"),
        "{err}"
    );

    // A name that is no service keeps Docker's meaning.
    rmi_all(&e);
    let (out, _) = e.ok(&["pull", "busybox"]);
    assert!(out.contains("busybox:latest: pulled from"), "{out}");

    // With the extra profile one image is missing from the registry: an
    // error naming it, or, with --ignore-pull-failures, the rest pulled.
    rmi_all(&e);
    let out = e.stack(&["--profile", "extra", "pull"]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        flat(&String::from_utf8_lossy(&out.stderr)).contains("broken's image nowhere/missing:1"),
        "{}",
        describe(&out)
    );
    let (_, err) = e.ok(&["--profile", "extra", "pull", "--ignore-pull-failures"]);
    assert!(
        err.contains("pulling broken's image nowhere/missing:1 failed, ignored"),
        "{err}"
    );
    assert_eq!(images(&e), ["busybox:latest", "tools/db:2"]);
    e.sb.assert_no_leaks();
}

#[test]
fn without_a_stack_file_pull_wants_an_image() {
    let Some(e) = env(false) else { return };
    let out =
        e.sb.command(run_support::stack_bin())
            .arg("pull")
            .current_dir(&e.dir)
            .output()
            .expect("run stack");
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no stack file here"),
        "{}",
        describe(&out)
    );
    let out =
        e.sb.command(run_support::stack_bin())
            .args(["pull", "busybox"])
            .current_dir(&e.dir)
            .output()
            .expect("run stack");
    assert!(out.status.success(), "{}", describe(&out));
    e.sb.assert_no_leaks();
}

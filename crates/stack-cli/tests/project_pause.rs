//! `stack pause|unpause [SERVICE...]` on the `shop` project (`db`, and
//! two `web` replicas): Compose's lines, the services named or all, what
//! is already paused (or not) skipped, events, and a paused project taken
//! down.

mod run_support;
mod verbs_support;

use run_support::{describe as text, stack};

use verbs_support::*;

fn stdout_and_err(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn pause_and_unpause_a_projects_services() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (file, _root) = shop(&sb);

    let out = verb(&sb, &file, &["pause", "web"]);
    assert!(out.status.success(), "{}", text(&out));
    let printed = stdout_and_err(&out);
    for name in ["shop-web-1", "shop-web-2"] {
        assert!(
            printed.contains(&format!("Container {name}  Paused")),
            "{printed}"
        );
        assert_eq!(status(&sb, name), "paused", "{name}");
    }
    assert_eq!(status(&sb, "shop-db-1"), "running");
    let ps = String::from_utf8_lossy(&verb(&sb, &file, &["ps"]).stdout).into_owned();
    assert!(
        ps.lines()
            .any(|l| l.contains("shop-web-1") && l.contains("(Paused)")),
        "{ps}"
    );

    // All of them: the paused ones are skipped, db is paused.
    let out = verb(&sb, &file, &["pause"]);
    assert!(out.status.success(), "{}", text(&out));
    let printed = stdout_and_err(&out);
    assert!(printed.contains("Container shop-db-1  Paused"), "{printed}");
    assert!(!printed.contains("shop-web-1"), "{printed}");
    let log = events(&sb);
    let pauses = log.iter().filter(|(a, _)| a == "pause").count();
    assert_eq!(pauses, 3, "{log:?}");

    // Without the stack file, by project name.
    let out = stack(&sb, &["-p", "shop", "unpause", "db"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(status(&sb, "shop-db-1"), "running");
    assert_eq!(status(&sb, "shop-web-1"), "paused");
    let out = verb(&sb, &file, &["unpause"]);
    assert!(out.status.success(), "{}", text(&out));
    let printed = stdout_and_err(&out);
    assert!(
        printed.contains("Container shop-web-2  Unpaused"),
        "{printed}"
    );
    assert!(!printed.contains("shop-db-1"), "{printed}");
    for name in ["shop-db-1", "shop-web-1", "shop-web-2"] {
        assert_eq!(status(&sb, name), "running", "{name}");
    }
    let log = events(&sb);
    position(&log, "unpause", "shop-web-2");

    let out = verb(&sb, &file, &["pause", "nosuch"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no such service: nosuch"),
        "{}",
        text(&out)
    );

    // A paused project stops and goes: stop thaws what it signals.
    let out = verb(&sb, &file, &["pause"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = verb(&sb, &file, &["stop", "-t", "20"]);
    assert!(out.status.success(), "{}", text(&out));
    for name in ["shop-db-1", "shop-web-1", "shop-web-2"] {
        let doc = inspect(&sb, name);
        assert_eq!(doc["State"]["Status"], "exited", "{name}: {doc}");
        // TERM through init to sleep: 128+15, not SIGKILL's 137.
        assert_eq!(doc["State"]["ExitCode"], 143, "{name}: {doc}");
    }
    let out = verb(&sb, &file, &["rm"]);
    assert!(out.status.success(), "{}", text(&out));
    sb.assert_no_leaks();
}

//! Damaged state, written as the attack: garbage over `stack.db` and a
//! truncated `state.json` of a running container. `system check` names
//! both, `down` leaves nothing of the project (with or without a repair
//! first), `up` makes no second container, and `system check --repair`
//! brings `ps` back.

mod run_support;
mod up_support;

use up_support::{env, Env};

const TWO_SERVICES: &str = r#"
name: demo
services:
  db:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
  web:
    image: busybox
    command: ["sleep", "1000"]
    depends_on: [db]
    stop_grace_period: 1s
"#;

/// The project up, then its database overwritten with garbage (when
/// `database` is set) and the state.json of `demo-db-1` truncated.
/// Returns the path of that state.json.
fn damage(e: &Env, database: bool) -> std::path::PathBuf {
    e.write(TWO_SERVICES);
    e.ok(&["up", "-d"]);
    let id = e
        .ps()
        .iter()
        .find(|c| c["Name"] == "demo-db-1")
        .and_then(|c| c["ID"].as_str().map(String::from))
        .expect("db-1 in ps");
    // `ps` shows the short id; the directory has the whole one.
    let dir = std::fs::read_dir(e.sb.state_root.join("containers"))
        .expect("containers")
        .flatten()
        .map(|d| d.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&id))
        })
        .expect("db-1 directory");
    let state = dir.join("state.json");
    let text = std::fs::read(&state).expect("state.json");
    std::fs::write(&state, &text[..text.len() / 3]).expect("truncate state.json");
    if database {
        let db = e.sb.state_root.join("stack.db");
        std::fs::write(&db, "this is not a database at all ".repeat(200)).expect("garbage");
    }
    state
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn check_names_the_damaged_database_and_the_truncated_state() {
    let Some(e) = env(false) else { return };
    let state = damage(&e, true);
    let out = e.host(&["system", "check"]);
    assert!(!out.status.success(), "{}", run_support::describe(&out));
    let text = stdout(&out);
    let db = e.sb.state_root.join("stack.db");
    assert!(
        text.contains(&format!("{} is damaged", db.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("{} is damaged", state.display())),
        "{text}"
    );
    // The database is left as found.
    let bytes = std::fs::read_to_string(&db).expect("db");
    assert!(bytes.starts_with("this is not a database"));
    e.ok(&["down", "-t", "0"]);
    e.sb.assert_no_leaks();
}

#[test]
fn down_without_repair_leaves_nothing_of_the_project() {
    let Some(e) = env(false) else { return };
    damage(&e, true);
    let out = run_support::stack(&e.sb, &["-p", "demo", "down", "-t", "0"]);
    assert!(out.status.success(), "{}", run_support::describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stack system check --repair"), "{err}");
    assert_eq!(e.container_dirs(), 0);
    e.sb.assert_no_leaks();
}

#[test]
fn repair_brings_ps_back_and_down_then_leaves_nothing() {
    let Some(e) = env(false) else { return };
    let state = damage(&e, true);
    let (text, _) = e.host_ok(&["system", "check", "--repair"]);
    assert!(text.contains("moved the damaged database"), "{text}");
    assert!(
        text.contains(&format!("rebuilt {}", state.display())),
        "{text}"
    );
    // The damaged files are kept.
    let kept: Vec<String> = std::fs::read_dir(&e.sb.state_root)
        .expect("state root")
        .flatten()
        .map(|f| f.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("stack.db.damaged-"))
        .collect();
    assert!(!kept.is_empty(), "damaged database kept");
    assert!(state.with_extension("json.damaged").exists());
    assert_eq!(e.names(), vec!["demo-db-1", "demo-web-1"]);
    for c in e.ps() {
        assert_eq!(c["State"], "running", "{c}");
    }
    // Everything agrees again.
    let (text, _) = e.host_ok(&["system", "check"]);
    assert!(text.contains("no problems found"), "{text}");
    e.ok(&["down", "-t", "0"]);
    assert_eq!(e.container_dirs(), 0);
    e.sb.assert_no_leaks();
}

#[test]
fn up_makes_no_second_container_beside_a_damaged_record() {
    let Some(e) = env(false) else { return };
    let state = damage(&e, false);
    let out = e.stack(&["up", "-d"]);
    assert!(!out.status.success(), "{}", run_support::describe(&out));
    // The message may be wrapped: compare without the wrapping.
    let err: String = String::from_utf8_lossy(&out.stderr)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '│')
        .collect();
    assert!(
        err.contains(&format!("{}isdamaged", state.display())),
        "{err}"
    );
    assert!(err.contains("stacksystemcheck--repair"), "{err}");
    assert_eq!(e.container_dirs(), 2, "no duplicate made");
    // Listings show the damaged container instead of hiding it.
    let out = run_support::stack(&e.sb, &["container", "ls"]);
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.contains("demo-db-1") && l.contains("damaged")),
        "{text}"
    );
    e.ok(&["down", "-t", "0"]);
    assert_eq!(e.container_dirs(), 0);
    e.sb.assert_no_leaks();
}

//! Help texts keep a verb's own flags apart from the global ones, and verbs
//! that work on no project refuse the project flags.

use std::process::{Command, Output};

fn stack(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stack"))
        .args(args)
        .env_remove("STACK_HOST")
        .output()
        .expect("run stack")
}

/// The lines of one `Heading:` section of a help text.
fn section<'a>(help: &'a str, heading: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect()
}

#[test]
fn global_flags_have_their_own_sections() {
    let out = stack(&["up", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    let own = section(&help, "Options:").join("\n");
    assert!(own.contains("--detach"), "{help}");
    for global in [
        "--file",
        "--project-name",
        "--profile",
        "--root",
        "--no-daemon",
    ] {
        assert!(!own.contains(global), "{global} among up's own: {help}");
    }
    let project = section(&help, "Project options:").join("\n");
    assert!(project.contains("-f, --file <FILE>"), "{help}");
    let global = section(&help, "Global options:").join("\n");
    assert!(
        global.contains("--root <DIR>") && global.contains("--progress"),
        "{help}"
    );
}

#[test]
fn verbs_of_no_project_refuse_project_flags() {
    for args in [
        &["daemon", "-f", "x.yaml"][..],
        &["volume", "ls", "--profile", "dev"][..],
        &["-p", "shop", "version"][..],
    ] {
        let out = stack(args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("works on no project"), "{args:?}: {err}");
    }
}

use std::path::Path;

use super::*;

/// Loads `yaml` as `stack.yaml` in a fresh directory.
fn project(yaml: &str) -> (tempfile::TempDir, Project) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("stack.yaml"), yaml).expect("write stack file");
    let opts = stack_spec::LoadOptions {
        files: vec![dir.path().join("stack.yaml")],
        working_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    let project = stack_spec::load(&opts).unwrap_or_else(|d| panic!("load: {}", d.render_plain()));
    (dir, project)
}

#[test]
fn rules_resolve_against_the_project_directory() {
    let (dir, p) = project(
        "services:\n  web:\n    image: busybox\n    develop:\n      watch:\n        - path: ./src\n          target: /app\n          action: sync\n          ignore: [build/]\n        - path: package.json\n          action: restart\n",
    );
    let rules = compile(&p, &[]).expect("valid rules");
    assert_eq!(rules.len(), 2);
    let r = &rules[0];
    assert_eq!(r.service, "web");
    assert_eq!(r.path, dir.path().join("src"));
    assert_eq!(
        r.target_of(&dir.path().join("src/a/b.js")),
        Some(PathBuf::from("/app/a/b.js"))
    );
    assert!(r.wants(&dir.path().join("src/a.js")));
    assert!(!r.wants(&dir.path().join("src/build/a.o")));
    assert!(!r.wants(&dir.path().join("src/.git/HEAD")));
    assert!(
        !r.wants(&dir.path().join("srcx/a.js")),
        "a sibling is not below the path"
    );
    assert_eq!(rules[1].action, RuleAction::Restart);
    assert_eq!(rules[1].target, None);
}

#[test]
fn rebuild_needs_a_build_section() {
    let (_d, p) = project(
        "services:\n  web:\n    image: busybox\n    develop:\n      watch:\n        - path: .\n          action: rebuild\n",
    );
    let err = compile(&p, &[]).expect_err("rebuild refused").to_string();
    assert!(err.contains("service web"), "{err}");
    assert!(
        err.contains("rebuild needs the service to have a build section"),
        "{err}"
    );
    let (_d, p) = project(
        "services:\n  web:\n    build: .\n    develop:\n      watch:\n        - path: .\n          action: rebuild\n",
    );
    let rules = compile(&p, &[]).expect("rebuild of a built service");
    assert_eq!(rules[0].action, RuleAction::Rebuild);
    assert_eq!(rules[0].target, None);
}

#[test]
fn sync_without_target_and_exec_without_command_are_errors() {
    let (_d, p) = project(
        "services:\n  web:\n    image: busybox\n    develop:\n      watch:\n        - path: src\n          action: sync\n",
    );
    assert!(matches!(compile(&p, &[]), Err(RuleError::NoTarget { .. })));
    let (_d, p) = project(
        "services:\n  web:\n    image: busybox\n    develop:\n      watch:\n        - path: src\n          target: app\n          action: sync\n",
    );
    assert!(matches!(
        compile(&p, &[]),
        Err(RuleError::RelativeTarget { .. })
    ));
}

#[test]
fn services_can_be_selected() {
    let (_d, p) = project(
        "services:\n  web:\n    image: busybox\n    develop:\n      watch:\n        - path: a\n          target: /a\n          action: sync\n  api:\n    image: busybox\n    develop:\n      watch:\n        - path: b\n          target: /b\n          action: sync+exec\n          exec:\n            command: [\"echo\", \"hi\"]\n",
    );
    let rules = compile(&p, &["api".to_string()]).expect("valid");
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].service, "api");
    assert!(matches!(&rules[0].action, RuleAction::SyncExec(e) if e.command == ["echo", "hi"]));
    assert!(matches!(
        compile(&p, &["nope".to_string()]),
        Err(RuleError::UnknownService(s)) if s == "nope"
    ));
}

#[test]
fn include_keeps_only_matching_files_but_walks_directories() {
    let (dir, p) = project(
        "services:\n  web:\n    image: busybox\n    develop:\n      watch:\n        - path: src\n          target: /app\n          action: sync\n          include: [\"**/*.js\"]\n",
    );
    let rules = compile(&p, &[]).expect("valid");
    let r = &rules[0];
    assert!(r.wants(&dir.path().join("src/x/y.js")));
    assert!(!r.wants(&dir.path().join("src/x/y.txt")));
    assert!(Path::new(&r.path).ends_with("src"));
}

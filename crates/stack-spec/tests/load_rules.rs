//! Loader rules end to end on small stacks written to a temporary directory.

use std::collections::BTreeMap;
use std::path::PathBuf;

use stack_spec::{load, DependencyCondition, LoadOptions, Project};

/// Writes `files` into a fresh directory named `dir_name` and loads it.
fn load_in(
    dir_name: &str,
    files: &[(&str, &str)],
    tweak: impl FnOnce(&mut LoadOptions),
) -> Result<Project, String> {
    let root = std::env::temp_dir().join(format!("stack-spec-{}-{dir_name}", std::process::id()));
    let dir = root.join(dir_name);
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write file");
    }
    let mut opts = LoadOptions {
        working_dir: dir.clone(),
        environment: BTreeMap::new(),
        ..LoadOptions::default()
    };
    tweak(&mut opts);
    let result = load(&opts).map_err(|e| e.to_string());
    let _ = std::fs::remove_dir_all(&root);
    result
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn process_environment_wins_over_dotenv() {
    let p = load_in(
        "envwins",
        &[
            (
                "compose.yaml",
                "services:\n  a:\n    image: img:${TAG}\n    environment: [\"X=${X}\"]\n",
            ),
            (".env", "TAG=from-file\nX=file\n"),
        ],
        |o| o.environment = env(&[("TAG", "from-shell")]),
    )
    .expect("loads");
    assert_eq!(p.services["a"].image.as_deref(), Some("img:from-shell"));
    assert_eq!(p.services["a"].environment["X"].as_deref(), Some("file"));
}

#[test]
fn env_file_flag_replaces_dotenv() {
    let p = load_in(
        "envfileflag",
        &[
            (
                "compose.yaml",
                "services:\n  a:\n    image: img:${TAG:-none}\n",
            ),
            (".env", "TAG=dot\n"),
            ("other.env", "TAG=other\n"),
        ],
        |o| o.env_files = vec![PathBuf::from("other.env")],
    )
    .expect("loads");
    assert_eq!(p.services["a"].image.as_deref(), Some("img:other"));
}

#[test]
fn project_name_precedence_and_normalization() {
    let stack = "name: fromfile\nservices:\n  a:\n    image: x\n";
    let p = load_in(
        "Dir.Name_1",
        &[("compose.yaml", "services:\n  a:\n    image: x\n")],
        |_| {},
    )
    .expect("loads");
    assert_eq!(p.name, "dirname_1");
    let p = load_in("n2", &[("compose.yaml", stack)], |_| {}).expect("loads");
    assert_eq!(p.name, "fromfile");
    let p = load_in("n3", &[("compose.yaml", stack)], |o| {
        o.environment = env(&[("COMPOSE_PROJECT_NAME", "fromenv")])
    })
    .expect("loads");
    assert_eq!(p.name, "fromenv");
    let p = load_in("n4", &[("compose.yaml", stack)], |o| {
        o.project_name = Some("flag".into())
    })
    .expect("loads");
    assert_eq!(p.name, "flag");
    let e = load_in("n5", &[("compose.yaml", stack)], |o| {
        o.project_name = Some("Bad Name".into())
    })
    .expect_err("invalid");
    assert!(e.contains("invalid project name"), "{e}");
}

#[test]
fn profiles_from_flag_and_environment() {
    let stack = "services:\n  web:\n    image: x\n  dbg:\n    image: y\n    profiles: [debug]\n  tools:\n    image: z\n    profiles: [tools]\n";
    let p = load_in("prof1", &[("compose.yaml", stack)], |_| {}).expect("loads");
    assert_eq!(p.services.keys().collect::<Vec<_>>(), vec!["web"]);
    assert_eq!(p.all_profiles(), vec!["debug", "tools"]);
    let p = load_in("prof2", &[("compose.yaml", stack)], |o| {
        o.profiles = vec!["debug".into()]
    })
    .expect("loads");
    assert_eq!(p.services.keys().collect::<Vec<_>>(), vec!["dbg", "web"]);
    let p = load_in("prof3", &[("compose.yaml", stack)], |o| {
        o.environment = env(&[("COMPOSE_PROFILES", "tools,debug")])
    })
    .expect("loads");
    assert_eq!(p.services.len(), 3);
    let p = load_in("prof4", &[("compose.yaml", stack)], |o| {
        o.target_services = vec!["tools".into()]
    })
    .expect("loads");
    assert!(p.services.contains_key("tools"));
}

#[test]
fn implicit_dependencies_and_waves() {
    let stack = "services:\n  db:\n    image: x\n  app:\n    image: x\n    links: [db]\n  side:\n    image: x\n    network_mode: service:app\n  backup:\n    image: x\n    volumes_from: [\"db:ro\"]\n";
    let p = load_in("implicit", &[("compose.yaml", stack)], |_| {}).expect("loads");
    assert!(p.services["app"].depends_on.contains_key("db"));
    let side = &p.services["side"].depends_on["app"];
    assert_eq!(
        (side.condition, side.restart),
        (DependencyCondition::ServiceStarted, true)
    );
    assert!(p.services["backup"].depends_on.contains_key("db"));
    assert!(p.services["side"].networks.is_empty());
    let g = p.graph().expect("no cycle");
    assert_eq!(g.waves()[0], vec!["db".to_string()]);
    assert_eq!(g.stop_waves().last(), Some(&vec!["db".to_string()]));
}

#[test]
fn discovery_prefers_compose_yaml_and_reads_override() {
    let p = load_in(
        "discover",
        &[
            ("compose.yaml", "services:\n  a:\n    image: one\n"),
            ("compose.override.yaml", "services:\n  a:\n    image: two\n"),
            ("stack.yaml", "services:\n  b:\n    image: three\n"),
        ],
        |_| {},
    )
    .expect("loads");
    assert_eq!(p.services["a"].image.as_deref(), Some("two"));
    assert!(!p.services.contains_key("b"));
}

#[test]
fn compatibility_turns_unknown_keys_into_warnings() {
    let stack = "services:\n  a:\n    image: x\n    imagee: y\n";
    assert!(load_in("compat1", &[("compose.yaml", stack)], |_| {}).is_err());
    let p = load_in("compat2", &[("compose.yaml", stack)], |o| {
        o.compatibility = true
    })
    .expect("loads");
    assert!(
        p.warnings.iter().any(|w| w.contains("imagee")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn build_flags_read_as_compose_reads_them_and_tags_are_strings() {
    let text = "services:\n  app:\n    build:\n      context: .\n      no_cache: \"true\"\n      pull: ${PULL}\n      tags: [\"app:1\", 2, 3.5]\n";
    let project = load_in("build-types", &[("compose.yaml", text)], |o| {
        o.environment = env(&[("PULL", "false")]);
    })
    .expect("loads");
    let build = project.services["app"].build.as_ref().expect("build");
    assert_eq!(build["no_cache"], serde_json::Value::Bool(true));
    assert_eq!(build["pull"], serde_json::Value::Bool(false));
    assert_eq!(build["tags"], serde_json::json!(["app:1", "2", "3.5"]));

    let bad = |build: &str| {
        let text = format!("services:\n  app:\n    build:\n      context: .\n{build}");
        load_in("build-bad", &[("compose.yaml", &text)], |_| {}).expect_err("refused")
    };
    let err = bad("      no_cache: sometimes\n");
    assert!(
        err.contains("no_cache") && err.contains("true or false"),
        "{err}"
    );
    assert!(err.contains("compose.yaml:5:"), "{err}");
    let err = bad("      tags:\n        - {name: x}\n");
    assert!(
        err.contains("tags") && err.contains("expected a string"),
        "{err}"
    );
    assert!(err.contains("compose.yaml:6:"), "{err}");
}

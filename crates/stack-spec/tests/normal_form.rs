//! The normal form, rule by rule: each test is one way Compose v2's
//! `config` output differs from a plain dump of the model, checked on a
//! small stack file. (`crates/stack-cli/tests/config_compose_diff.rs`
//! compares whole files with Compose itself.)

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};
use stack_spec::{load, output, LoadOptions, Project};

/// A project directory of its own with `files` in it.
fn project_dir(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stack-normal-form-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write file");
    }
    dir
}

fn load_in(dir: PathBuf, yaml: &str, compatibility: bool) -> Result<Project, String> {
    std::fs::write(dir.join("compose.yaml"), yaml).expect("write stack file");
    let environment: BTreeMap<String, String> = [
        ("HOME", "/home/user"),
        ("FROM_HOST", "h"),
        ("COMPOSE_PROFILES", "p"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let opts = LoadOptions {
        working_dir: dir,
        project_name: Some("demo".into()),
        environment,
        compatibility,
        ..LoadOptions::default()
    };
    load(&opts).map_err(|e| e.render_plain())
}

fn project(test: &str, yaml: &str) -> (Project, PathBuf) {
    let dir = project_dir(test, &[]);
    let p = load_in(dir.clone(), yaml, false).unwrap_or_else(|e| panic!("{e}"));
    (p, dir)
}

fn yaml_of(test: &str, yaml: &str) -> String {
    output::to_yaml(&project(test, yaml).0)
}

fn json_of(test: &str, yaml: &str) -> Value {
    serde_json::from_str(&output::to_json(&project(test, yaml).0)).expect("JSON output")
}

#[test]
fn literal_dollars_are_written_doubled() {
    let text = yaml_of(
        "dollars",
        "services:\n  a:\n    image: x\n    command: [\"end$$\", \"$$(cmd)\", \"$$$$5\"]\n",
    );
    assert!(
        text.contains("      - end$$\n      - $$(cmd)\n      - $$$$5\n"),
        "{text}"
    );
    let json = output::to_json(
        &project(
            "dollars-json",
            "services:\n  a:\n    image: x\n    command: [\"end$$\"]\n",
        )
        .0,
    );
    assert!(json.contains("\"end$$\""), "{json}");
}

#[test]
fn volume_targets_are_cleaned_but_not_bind_sources() {
    let yaml = "services:
  a:
    image: x
    volumes:
      - data:/a//b/./c/
      - /anon//x/
      - type: tmpfs
        target: /t//./u/
      - type: bind
        source: /host//dir/
        target: /b//c
volumes:
  data: {}
";
    let text = yaml_of("targets", yaml);
    for target in ["/a/b/c", "/anon/x", "/t/u", "/b/c"] {
        assert!(
            text.contains(&format!("target: {target}\n")),
            "{target}: {text}"
        );
    }
    assert!(text.contains("source: /host//dir/\n"), "{text}");
}

#[test]
fn json_has_compose_s_nulls_and_empty_objects() {
    let j = json_of(
        "json-shapes",
        "services:\n  a:\n    image: x\n    volumes: [\"data:/d\"]\nvolumes:\n  data: {}\n",
    );
    let a = &j["services"]["a"];
    assert_eq!(a["command"], Value::Null);
    assert_eq!(a["entrypoint"], Value::Null);
    assert!(a.as_object().is_some_and(|o| o.contains_key("command")));
    assert_eq!(j["networks"]["default"]["ipam"], json!({}));
    assert_eq!(a["volumes"][0]["volume"], json!({}));
    // The model's own serialization (what the planner hashes) is unchanged.
    let (p, _) = project(
        "model-serde",
        "services:\n  a:\n    image: x\n    volumes: [\"data:/d\"]\nvolumes:\n  data: {}\n",
    );
    let model = serde_json::to_value(&p.services["a"]).expect("model JSON");
    assert_eq!(model["volumes"][0].get("volume"), None, "{model}");
    // YAML leaves out what is empty, except the named volume's options.
    let text = yaml_of(
        "yaml-shapes",
        "services:\n  a:\n    image: x\n    volumes: [\"data:/d\"]\nvolumes:\n  data: {}\n",
    );
    assert!(
        !text.contains("command") && !text.contains("ipam"),
        "{text}"
    );
    assert!(text.contains("        volume: {}\n"), "{text}");
}

#[test]
fn build_gets_compose_s_defaults() {
    let (p, dir) = project(
        "build",
        "services:
  short:
    build: ./app
  long:
    build:
      context: ./api
      args: [A=1, B=two, FROM_HOST, NOT_SET]
",
    );
    let j: Value = serde_json::from_str(&output::to_json(&p)).expect("JSON");
    let abs = |d: &str| dir.join(d).display().to_string();
    assert_eq!(
        j["services"]["short"]["build"],
        json!({"context": abs("app"), "dockerfile": "Dockerfile"})
    );
    assert_eq!(
        j["services"]["long"]["build"],
        json!({"context": abs("api"), "dockerfile": "Dockerfile",
               "args": {"A": "1", "B": "two", "FROM_HOST": "h"}})
    );
}

#[test]
fn secrets_default_to_run_secrets() {
    let j = json_of(
        "secrets",
        "services:\n  a:\n    image: x\n    secrets: [token, {source: other, target: /o}]
secrets:\n  token: {file: ./t}\n  other: {file: ./o}\n",
    );
    assert_eq!(
        j["services"]["a"]["secrets"],
        json!([{"source": "token", "target": "/run/secrets/token"},
               {"source": "other", "target": "/o"}])
    );
}

#[test]
fn env_file_is_merged_into_environment_and_left_out() {
    let dir = project_dir("env-file", &[("a.env", "FROM_FILE=1\nBOTH=file\n")]);
    let p = load_in(
        dir,
        "services:\n  a:\n    image: x\n    env_file: a.env\n    environment: {BOTH: mine}\n",
        false,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let j: Value = serde_json::from_str(&output::to_json(&p)).expect("JSON");
    assert_eq!(
        j["services"]["a"]["environment"],
        json!({"BOTH": "mine", "FROM_FILE": "1"})
    );
    assert!(j["services"]["a"].get("env_file").is_none());
}

#[test]
fn links_imply_a_restarting_dependency() {
    let j = json_of(
        "links",
        "services:\n  db: {image: x}\n  cache: {image: x}\n  web:
    image: x\n    links: [db, \"cache:c\"]\n    depends_on: [cache]\n",
    );
    let deps = &j["services"]["web"]["depends_on"];
    assert_eq!(
        deps["db"],
        json!({"condition": "service_started", "restart": true, "required": true})
    );
    // Written explicitly, the dependency is as written.
    assert_eq!(
        deps["cache"],
        json!({"condition": "service_started", "required": true})
    );
}

#[test]
fn deploy_keeps_empty_parts_in_json_and_prints_go_durations() {
    let yaml = "services:
  a:
    image: x
    deploy:
      restart_policy: {condition: on-failure, delay: 120s, window: 90s}
";
    let j = json_of("deploy", yaml);
    let d = &j["services"]["a"]["deploy"];
    assert_eq!(d["resources"], json!({}));
    assert_eq!(d["placement"], json!({}));
    assert_eq!(
        d["restart_policy"],
        json!({"condition": "on-failure", "delay": "2m0s", "window": "1m30s"})
    );
    let text = yaml_of("deploy-yaml", yaml);
    assert!(
        !text.contains("resources") && !text.contains("placement"),
        "{text}"
    );
}

#[test]
fn memswap_limit_is_in_bytes_like_mem_limit() {
    let text = yaml_of(
        "memswap",
        "services:\n  a:\n    image: x\n    mem_limit: 512m\n    memswap_limit: 1g\n    mem_reservation: 64m\n",
    );
    assert!(
        text.contains(
            "    mem_limit: \"536870912\"\n    mem_reservation: \"67108864\"\n    memswap_limit: \"1073741824\"\n"
        ),
        "{text}"
    );
}

#[test]
fn keys_are_in_compose_s_order() {
    let text = yaml_of(
        "order",
        "x-z: 1
configs:\n  c: {file: ./c}
secrets:\n  s: {file: ./s}
volumes:\n  v: {}
services:
  b:
    working_dir: /w
    volumes: [\"v:/v\"]
    secrets: [s]
    configs: [c]
    image: x
    healthcheck: {test: [CMD, \"true\"], interval: 1s, timeout: 2s}
    command: [run]
    build: .
    profiles: [p]
  a:
    image: x
",
    );
    let top: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(
        top,
        [
            "name: demo",
            "services:",
            "networks:",
            "volumes:",
            "secrets:",
            "configs:",
            "x-z: 1"
        ]
    );
    let b: Vec<&str> = text
        .split("\n  b:\n")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .take_while(|l| l.starts_with("    "))
        .filter(|l| !l.starts_with("     "))
        .collect();
    let keys: Vec<&str> = b
        .iter()
        .map(|l| l.trim().split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(
        keys,
        [
            "profiles",
            "build",
            "command",
            "configs",
            "healthcheck",
            "image",
            "networks",
            "secrets",
            "volumes",
            "working_dir"
        ]
    );
    // Compose's healthcheck order: test, timeout, interval.
    assert!(
        text.contains("      timeout: 2s\n      interval: 1s\n"),
        "{text}"
    );
}

#[test]
fn values_compose_accepts_need_compatibility() {
    let yaml = "services:\n  a:\n    image: x\n    restart: sometimes\n    volumes: [\"d:/d:xyz\"]\nvolumes:\n  d: {}\n";
    let err = load_in(project_dir("strict", &[]), yaml, false).expect_err("stricter than Compose");
    assert!(err.contains("sometimes") && err.contains("xyz"), "{err}");
    assert!(err.contains("--compatibility"), "{err}");
    let p = load_in(project_dir("compat", &[]), yaml, true).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
    let text = output::to_yaml(&p);
    assert!(text.contains("    restart: sometimes\n"), "{text}");
    assert!(text.contains("        target: /d\n"), "{text}");
    // The engine sees no restart policy.
    assert!(p.services["a"].restart.is_none());
}

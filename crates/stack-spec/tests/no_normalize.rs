//! `LoadOptions::no_normalize` (`stack config --no-normalize`): the project
//! as Compose prints it without its normalization step.
//! (`crates/stack-cli/tests/config_compose_diff.rs` compares whole files
//! with Compose itself.)

use std::collections::BTreeMap;

use serde_json::{json, Value};
use stack_spec::{load, output, LoadOptions};

const FILE: &str = r#"
services:
  web:
    build:
      context: .
      args: [SET=1, FROM_HOST, UNSET]
    links: [db]
    volumes:
      - /data//x/./:/short//t/
      - type: bind
        source: /src
        target: /long//t/./
  db:
    image: postgres
    networks: [back]
    volumes: [data:/var/lib]
    secrets: [token]
networks:
  back: {}
volumes:
  data: {}
secrets:
  token:
    file: ./token.txt
"#;

fn json_of(test: &str, no_normalize: bool) -> Value {
    let dir =
        std::env::temp_dir().join(format!("stack-no-normalize-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("compose.yaml"), FILE).expect("write stack file");
    let environment: BTreeMap<String, String> = [("HOME", "/home/user"), ("FROM_HOST", "h")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let opts = LoadOptions {
        working_dir: dir.clone(),
        project_name: Some("demo".into()),
        environment,
        no_normalize,
        ..LoadOptions::default()
    };
    let project = load(&opts).unwrap_or_else(|e| panic!("{}", e.render_plain()));
    assert_eq!(project.skip_normalization, no_normalize);
    let value = output::to_value(&project);
    let _ = std::fs::remove_dir_all(&dir);
    value
}

#[test]
fn normalization_adds_defaults_names_and_links() {
    let v = json_of("normal", false);
    let web = &v["services"]["web"];
    assert_eq!(web["build"]["dockerfile"], json!("Dockerfile"));
    assert_eq!(web["build"]["args"], json!({"SET": "1", "FROM_HOST": "h"}));
    assert_eq!(web["networks"], json!({"default": null}));
    assert_eq!(web["depends_on"]["db"]["restart"], json!(true));
    assert_eq!(web["volumes"][1]["target"], json!("/long/t"));
    assert_eq!(v["networks"]["default"]["name"], json!("demo_default"));
    assert_eq!(v["networks"]["back"]["name"], json!("demo_back"));
    assert_eq!(v["volumes"]["data"]["name"], json!("demo_data"));
    assert_eq!(v["secrets"]["token"]["name"], json!("demo_token"));
}

#[test]
fn without_normalization_none_of_that_is_added() {
    let v = json_of("skipped", true);
    let web = &v["services"]["web"];
    assert_eq!(web["build"].get("dockerfile"), None);
    // Arguments without a value are not looked up: kept as null.
    assert_eq!(
        web["build"]["args"],
        json!({"SET": "1", "FROM_HOST": null, "UNSET": null})
    );
    assert_eq!(web.get("networks"), None);
    assert_eq!(web.get("depends_on"), None);
    // The short syntax is cleaned as it is parsed, the long one is not.
    assert_eq!(web["volumes"][0]["target"], json!("/short/t"));
    assert_eq!(web["volumes"][1]["target"], json!("/long//t/./"));
    assert_eq!(v["networks"].get("default"), None);
    assert_eq!(v["networks"]["back"], json!({"ipam": {}}));
    assert_eq!(v["volumes"]["data"], json!({}));
    assert_eq!(v["secrets"]["token"].get("name"), None);
}

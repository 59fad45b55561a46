//! schemas/stack.schema.json accepts every valid fixture and example and
//! rejects every broken fixture whose fault is visible to a schema.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn validator() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(repo().join("schemas/stack.schema.json")).expect("schema file");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("fixture");
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).expect("fixture is YAML");
    let mut yaml = untag(yaml);
    yaml.apply_merge().expect("merge keys");
    serde_json::to_value(yaml).expect("YAML maps to JSON")
}

/// `!reset` / `!override` are YAML tags, not part of the JSON shape.
fn untag(value: serde_yaml::Value) -> serde_yaml::Value {
    use serde_yaml::Value;
    match value {
        Value::Tagged(t) => untag(t.value),
        Value::Sequence(items) => Value::Sequence(items.into_iter().map(untag).collect()),
        Value::Mapping(m) => Value::Mapping(m.into_iter().map(|(k, v)| (k, untag(v))).collect()),
        other => other,
    }
}

/// Every stack file below `dir` (fixtures and included/extended files).
fn stack_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            stack_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[test]
fn valid_fixtures_and_examples_validate() {
    let v = validator();
    let mut files = Vec::new();
    stack_files(
        &repo().join("crates/stack-spec/tests/fixtures/valid"),
        &mut files,
    );
    stack_files(&repo().join("examples"), &mut files);
    assert!(files.len() >= 8, "found {files:?}");
    for file in files {
        let doc = as_json(&file);
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{} should validate: {errors:#?}",
            file.display()
        );
    }
}

#[test]
fn schema_level_broken_fixtures_are_rejected() {
    let v = validator();
    let dir = repo().join("crates/stack-spec/tests/fixtures/invalid");
    for name in ["unknown_keys", "type_errors", "no_image", "bad_values"] {
        let doc = as_json(&dir.join(format!("{name}.yaml")));
        assert!(!v.is_valid(&doc), "{name} should be rejected by the schema");
    }
}

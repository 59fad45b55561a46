//! The OpenAPI document and the router describe the same operations, and
//! every error status a route documents uses the shared Error body.

use std::path::Path;

fn document() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/stack-api.openapi.yaml");
    let text = std::fs::read_to_string(&path).expect("read the OpenAPI document");
    serde_yaml::from_str(&text).expect("OpenAPI YAML")
}

fn operations(doc: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if method != "parameters" {
                out.push((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_router_serves_exactly_the_documented_operations() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut served = stack_daemon::routes::served();
    served.sort();
    assert_eq!(served, operations(&doc));
}

#[test]
fn every_documented_error_uses_the_error_schema() {
    let doc = document();
    let responses = &doc["components"]["responses"];
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            if method == "parameters" {
                continue;
            }
            for (status, response) in op["responses"].as_object().expect("responses") {
                if !status.starts_with('4') && !status.starts_with('5') {
                    continue;
                }
                let name = response["$ref"]
                    .as_str()
                    .and_then(|r| r.rsplit('/').next())
                    .unwrap_or_else(|| panic!("{method} {path} {status}: not a shared response"));
                let schema = &responses[name]["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/Error",
                    "{method} {path} {status}"
                );
            }
        }
    }
}

#[test]
fn the_schemas_compile_and_reject_a_wrong_error_body() {
    let doc = document();
    let mut schema = serde_json::json!({"$ref": "#/components/schemas/Error"});
    schema["components"] = doc["components"].clone();
    let validator = jsonschema::validator_for(&schema).expect("Error schema compiles");
    let good = stack_daemon::ApiError::not_found("no such container: x").body();
    assert!(validator.is_valid(&serde_json::to_value(good).expect("json")));
    assert!(!validator.is_valid(&serde_json::json!({"message": "x"})));
    assert!(!validator.is_valid(&serde_json::json!({"message": "x", "kind": "oops"})));
    // Every class the engine can answer with is a kind the document lists.
    for class in stack_api::error::ErrorClass::ALL {
        let body = serde_json::json!({"message": "x", "kind": class.word()});
        assert!(validator.is_valid(&body), "{class:?}");
    }
}

//! Fixture suite: every valid stack under fixtures/valid loads to the
//! snapshotted normal form; every broken file under fixtures/invalid fails
//! with the snapshotted diagnostics.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use stack_spec::{load, output, LoadOptions};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fixed environment so results never depend on the machine.
fn options(dir: &Path, files: Vec<PathBuf>) -> LoadOptions {
    let environment: BTreeMap<String, String> = [("HOME", "/home/user"), ("NGINX_TAG", "1.27")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    LoadOptions {
        files,
        working_dir: dir.to_path_buf(),
        environment,
        ..LoadOptions::default()
    }
}

/// Absolute paths of this checkout replaced, so snapshots are portable.
fn portable(text: &str) -> String {
    text.replace(&fixtures().display().to_string(), "<fixtures>")
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture directory")
        .map(|e| e.expect("dir entry").path())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn valid_fixtures_normalize_to_their_snapshot() {
    let dirs = subdirs(&fixtures().join("valid"));
    assert!(dirs.len() >= 5);
    for dir in dirs {
        let name = dir.file_name().expect("name").to_string_lossy().to_string();
        let project = match load(&options(&dir, Vec::new())) {
            Ok(p) => p,
            Err(e) => panic!("{name} should load:\n{}", e.render_plain()),
        };
        let yaml = portable(&output::to_yaml(&project));
        insta::assert_snapshot!(format!("valid_{name}"), yaml);
        // JSON is the same model.
        let json: serde_json::Value =
            serde_json::from_str(&output::to_json(&project)).expect("json output parses");
        assert_eq!(
            json["name"],
            serde_json::Value::String(project.name.clone())
        );
    }
}

#[test]
fn invalid_fixtures_report_their_snapshotted_diagnostics() {
    let dir = fixtures().join("invalid");
    let files = subdirs(&dir);
    assert!(files.len() >= 10);
    for file in files {
        let name = file
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let errors = match load(&options(&dir, vec![file.clone()])) {
            Ok(_) => panic!("{name} should fail to load"),
            Err(e) => e,
        };
        assert!(!errors.is_empty());
        let mut text = String::new();
        for e in &errors.errors {
            text.push_str(&portable(&e.to_string()));
            text.push('\n');
        }
        text.push_str("----\n");
        // Wide enough that no message wraps: where a line wraps would
        // otherwise depend on the length of the checkout's path.
        text.push_str(&portable(&errors.render_plain_unwrapped_at(10_000)));
        insta::assert_snapshot!(format!("invalid_{name}"), text);
    }
}

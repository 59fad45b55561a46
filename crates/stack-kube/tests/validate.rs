//! Every rendered manifest set passes `kubernetes-validate --strict` (PyPI;
//! offline JSON schemas of the Kubernetes API) at the oldest Kubernetes
//! version stack targets and the newest the tool knows. `--strict` also
//! refuses unknown fields. YAML 1.1 readers (kubectl, PyYAML) see the files
//! exactly as a cluster would, so quoting mistakes fail here too.
//!
//! `cargo xtask deps` installs the tool. Without it the test skips with one
//! line, except under `STACK_TEST_PRIVILEGED=1` (CI), where it fails.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use stack_kube::{render, BindMounts, RenderOptions};
use support::fixtures;

/// Kubernetes versions the manifests must be valid for.
const VERSIONS: [&str; 2] = ["1.33.0", "1.37.0"];

/// The validator as a command prefix: the console script if it is on PATH,
/// else the Python module.
fn validator() -> Option<Vec<String>> {
    let candidates: [&[&str]; 2] = [
        &["kubernetes-validate"],
        &["python3", "-m", "kubernetes_validate"],
    ];
    candidates.into_iter().find_map(|argv| {
        let works = Command::new(argv[0])
            .args(&argv[1..])
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success());
        works.then(|| argv.iter().map(|s| s.to_string()).collect())
    })
}

/// Validates all `files` in one run per version (Python starts slowly).
fn validate(tool: &[String], files: &[PathBuf]) {
    for version in VERSIONS {
        let out = Command::new(&tool[0])
            .args(&tool[1..])
            .args(["--strict", "--quiet", "-k", version])
            .args(files)
            .output()
            .expect("run kubernetes-validate");
        assert!(
            out.status.success(),
            "manifests are not valid for Kubernetes {version}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The stack file of every directory under `examples/`.
fn example_stack_files() -> Vec<PathBuf> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&examples).expect("examples directory") {
        let dir = entry.expect("examples entry").path();
        let stack_file = stack_spec::DEFAULT_FILES
            .iter()
            .map(|name| dir.join(name))
            .find(|path| path.is_file());
        if let Some(stack_file) = stack_file {
            found.push(stack_file);
        }
    }
    assert!(!found.is_empty(), "no example stack files found");
    found.sort();
    found
}

#[test]
fn every_fixture_and_example_renders_valid_manifests() {
    let Some(tool) = validator() else {
        if std::env::var("STACK_TEST_PRIVILEGED").as_deref() == Ok("1") {
            panic!("kubernetes-validate is missing; run `cargo xtask deps`");
        }
        eprintln!("skipped: kubernetes-validate is not installed (cargo xtask deps installs it)");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cases: Vec<(String, RenderOptions)> = fixtures::RENDERABLE
        .iter()
        .map(|name| (name.to_string(), RenderOptions::default()))
        .collect();
    cases.push((
        "shop".into(),
        RenderOptions {
            wait_for_dependencies: true,
            namespace: Some("shop-prod".into()),
            ..RenderOptions::default()
        },
    ));
    for namespace in [None, Some("blog".to_string())] {
        cases.push((
            "migration".into(),
            RenderOptions {
                wait_for_dependencies: true,
                namespace,
                ..RenderOptions::default()
            },
        ));
    }
    for bind_mounts in [BindMounts::ConfigMap, BindMounts::HostPath] {
        cases.push((
            "binds".into(),
            RenderOptions {
                bind_mounts,
                ..RenderOptions::default()
            },
        ));
    }
    let mut files = Vec::new();
    for (index, (name, options)) in cases.iter().enumerate() {
        let rendered = render(&fixtures::load(name), options)
            .unwrap_or_else(|err| panic!("{name} does not render: {err}"));
        let file = dir.path().join(format!("{index}-{name}.yaml"));
        let yaml = rendered.manifests.to_yaml_stream().expect("serializes");
        std::fs::write(&file, yaml).expect("write manifests");
        files.push(file);
    }
    for (index, stack_file) in example_stack_files().iter().enumerate() {
        // Examples may bind-mount their own files; ship those as ConfigMaps.
        let options = RenderOptions {
            bind_mounts: BindMounts::ConfigMap,
            ..RenderOptions::default()
        };
        // A service built on this host runs on a cluster once its image
        // is pushed: name one, as a user does before `stack kube`.
        let mut project = fixtures::load_file(stack_file);
        for (name, service) in project.services.iter_mut() {
            if service.build.is_some() && service.image.is_none() {
                service.image = Some(format!("registry.example:5000/{name}:1"));
            }
        }
        let rendered = render(&project, &options)
            .unwrap_or_else(|err| panic!("{} does not render: {err}", stack_file.display()));
        let file = dir.path().join(format!("example-{index}.yaml"));
        let yaml = rendered.manifests.to_yaml_stream().expect("serializes");
        std::fs::write(&file, yaml).expect("write manifests");
        files.push(file);
    }
    validate(&tool, &files);
}

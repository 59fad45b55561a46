//! The loader never panics: arbitrary bytes and arbitrary YAML-shaped
//! documents either load or fail with diagnostics.

use std::collections::BTreeMap;
use std::path::PathBuf;

use proptest::prelude::*;
use stack_spec::{load, LoadOptions};

fn load_text(text: String) {
    let opts = LoadOptions {
        files: vec![PathBuf::from("-")],
        working_dir: PathBuf::from("/nonexistent-stack-fuzz"),
        stdin: Some(text),
        environment: BTreeMap::from([("A".to_string(), "1".to_string())]),
        ..LoadOptions::default()
    };
    if let Err(e) = load(&opts) {
        // Rendering must not panic either.
        let _ = e.render_plain();
    }
}

/// Scalars that exercise interpolation, ports, volumes, durations and sizes.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9_./:-]{0,12}",
        Just("${A:-x}".to_string()),
        Just("${B:?missing}".to_string()),
        Just("$${".to_string()),
        Just("8080:80/udp".to_string()),
        Just("[::1]:1-3:4-6".to_string()),
        Just("./data:/data:ro,z".to_string()),
        Just("1m30s".to_string()),
        Just("512m".to_string()),
        Just("service:web".to_string()),
        Just("!reset []".to_string()),
        Just("*a".to_string()),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "services",
            "web",
            "db",
            "image",
            "ports",
            "volumes",
            "depends_on",
            "environment",
            "networks",
            "healthcheck",
            "test",
            "interval",
            "deploy",
            "resources",
            "limits",
            "memory",
            "extends",
            "service",
            "profiles",
            "command",
            "<<",
            "x-a",
            "include",
            "network_mode",
            "secrets",
            "name",
            "restart",
            "condition",
        ])
        .prop_map(str::to_string),
        "[a-z]{1,6}",
    ]
}

/// A random YAML document built from those keys and scalars.
fn document() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        scalar().prop_map(|s| format!("{s:?}")),
        // Unquoted: tags, aliases and plain scalars as YAML sees them.
        prop::sample::select(vec![
            "!reset []",
            "!override {}",
            "*a",
            "&b 3",
            "~",
            "true",
            "1.5",
            "0x1F"
        ])
        .prop_map(str::to_string),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(", "))),
            prop::collection::vec((key(), inner), 0..5).prop_map(|entries| {
                let body: Vec<String> = entries
                    .into_iter()
                    .map(|(k, v)| format!("{k:?}: {v}"))
                    .collect();
                format!("{{{}}}", body.join(", "))
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        load_text(String::from_utf8_lossy(&bytes).into_owned());
    }

    #[test]
    fn arbitrary_yaml_never_panics(doc in document()) {
        load_text(format!("services: {doc}\n"));
        load_text(doc);
    }

    #[test]
    fn arbitrary_service_never_panics(service in document(), anchor in scalar()) {
        load_text(format!("x-a: &a {{v: {anchor:?}}}\nservices:\n  web: {service}\n  db: {{<<: *a, image: x}}\n"));
    }
}

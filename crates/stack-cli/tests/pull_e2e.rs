//! `stack pull busybox` end to end: the built binary, a config whose
//! registry-mirrors point at a local registry holding the fixture image as
//! library/busybox, then `stack images`, `stack image inspect`, `stack rmi`.

mod run_support;

use run_support::{describe as text, stack};
use stack_testkit::registry::{fixtures, RegistryAuth, TestRegistry};

#[test]
fn stack_pull_busybox_through_a_mirror() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let fx = fixtures();
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fx.join("busybox"), "1", "library/busybox:latest");
    reg.write_mirror_config(&sb.config_file);

    let out = stack(&sb, &["pull", "busybox"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "busybox:latest: pulled from {} (mirror)",
            reg.url()
        )),
        "{}",
        text(&out)
    );

    let out = stack(&sb, &["images", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(rows[0]["repository"], "busybox", "{rows}");
    assert_eq!(rows[0]["tag"], "latest");
    assert!(rows[0]["size"].as_u64().unwrap_or(0) > 1_000_000);

    let out = stack(&sb, &["images"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("REPOSITORY"), "{table}");
    assert!(
        table.contains("busybox") && table.contains("latest"),
        "{table}"
    );

    let out = stack(&sb, &["image", "inspect", "busybox"]);
    assert!(out.status.success(), "{}", text(&out));
    let inspect: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let lower = inspect[0]["LowerDirs"][0].as_str().expect("lower dir");
    assert!(std::path::Path::new(lower).join("bin/busybox").is_file());

    let archive = sb.dir().join("busybox.tar");
    let archive_arg = archive.to_string_lossy().into_owned();
    let out = stack(&sb, &["image", "save", "-o", &archive_arg, "busybox"]);
    assert!(out.status.success(), "{}", text(&out));

    let out = stack(&sb, &["rmi", "busybox"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = stack(&sb, &["images", "-q"]);
    assert!(out.stdout.is_empty(), "{}", text(&out));
    assert!(
        !std::path::Path::new(lower).exists(),
        "rmi removed the snapshot"
    );

    let out = stack(&sb, &["image", "load", "-i", &archive_arg]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("Loaded image: docker.io/library/busybox:latest"),
        "{}",
        text(&out)
    );
    let out = stack(&sb, &["image", "prune", "--all"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Untagged: docker.io/library/busybox:latest"),
        "{}",
        text(&out)
    );
    let out = stack(&sb, &["images", "-q"]);
    assert!(out.stdout.is_empty(), "{}", text(&out));
    sb.assert_no_leaks();
}

#[test]
fn a_bad_config_file_is_located() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    std::fs::write(&sb.config_file, "registry-mirrors = [\n  oops\n]\n").expect("config");
    let out = stack(&sb, &["pull", "busybox"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:2:", sb.config_file.display())),
        "{}",
        text(&out)
    );
}

#[test]
fn an_invalid_reference_says_why() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let out = stack(&sb, &["pull", "Busybox"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("lowercase"), "{}", text(&out));
}

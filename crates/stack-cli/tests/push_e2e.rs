//! `stack image tag`, `stack image push` and `stack push` end to end
//! against a real registry (Debian's docker-registry, also the sandbox's
//! docker.io mirror): an image pushed under a new name pulls back into an
//! empty store with the same digest, a second push sends nothing, and a
//! project pushes the images of the services it builds and names.

mod run_support;

use run_support::{describe, stack};
use stack_testkit::registry::{fixtures, RegistryAuth, TestRegistry};
use stack_testkit::Sandbox;

fn ok(sb: &Sandbox, args: &[&str]) -> (String, String) {
    let out = stack(sb, args);
    assert!(out.status.success(), "stack {args:?}: {}", describe(&out));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fails(sb: &Sandbox, args: &[&str]) -> String {
    let out = stack(sb, args);
    assert!(
        !out.status.success(),
        "stack {args:?} should fail: {}",
        describe(&out)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The manifest digest of a local image.
fn digest_of(sb: &Sandbox, image: &str) -> String {
    let (out, _) = ok(sb, &["image", "inspect", image]);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("inspect json");
    doc[0]["ManifestDigest"]
        .as_str()
        .expect("digest")
        .to_string()
}

#[test]
fn an_image_tagged_and_pushed_pulls_back_whole() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fixtures().join("busybox"), "1", "library/busybox:latest");
    reg.write_mirror_config(&sb.config_file);
    ok(&sb, &["pull", "busybox"]);
    let name = format!("{}/team/app:1", reg.addr);

    // A tag names the same image.
    ok(&sb, &["image", "tag", "busybox", &name]);
    assert_eq!(digest_of(&sb, &name), digest_of(&sb, "busybox"));
    let err = fails(&sb, &["image", "tag", "nothing-here", &name]);
    assert!(err.contains("nothing-here"), "{err}");

    let (out, err) = ok(&sb, &["--progress", "plain", "image", "push", &name]);
    assert!(
        out.contains(&format!("1: digest: {}", digest_of(&sb, &name))),
        "{out}"
    );
    assert!(
        out.contains("1 blob(s) sent") || out.contains("2 blob(s) sent"),
        "{out}"
    );
    assert!(err.contains("Pushed"), "{err}");
    // Everything is there now: nothing is sent again.
    let (again, err) = ok(&sb, &["--progress", "plain", "image", "push", &name]);
    assert!(again.contains("0 blob(s) sent"), "{again}");
    assert!(err.contains("Layer already exists"), "{err}");
    let (quiet, _) = ok(&sb, &["image", "push", "-q", &name]);
    assert_eq!(quiet.trim(), digest_of(&sb, &name));

    // Into an empty store, the same manifest.
    let expected = digest_of(&sb, &name);
    ok(&sb, &["rmi", &name]);
    ok(&sb, &["rmi", "busybox"]);
    ok(&sb, &["image", "prune"]);
    ok(&sb, &["pull", &name]);
    assert_eq!(digest_of(&sb, &name), expected);
    let (ran, _) = ok(
        &sb,
        &["run", "--rm", "--network", "none", &name, "echo", "back"],
    );
    assert_eq!(ran.trim(), "back");

    // An image that is not here.
    let err = fails(
        &sb,
        &["image", "push", &format!("{}/team/none:1", reg.addr)],
    );
    assert!(err.contains("team/none"), "{err}");
}

#[test]
fn a_project_pushes_the_images_it_builds_and_names() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fixtures().join("busybox"), "1", "library/busybox:latest");
    reg.write_mirror_config(&sb.config_file);
    let dir = sb.dir().join("project");
    std::fs::create_dir_all(dir.join("web")).expect("dirs");
    std::fs::write(
        dir.join("web/Dockerfile"),
        "FROM busybox\nRUN echo built > /built\nCMD [\"cat\", \"/built\"]\n",
    )
    .expect("Dockerfile");
    let image = format!("{}/team/web:2", reg.addr);
    std::fs::write(
        dir.join("compose.yaml"),
        format!(
            "services:\n  web:\n    build: ./web\n    image: {image}\n  \
             local:\n    build: ./web\n  cache:\n    image: busybox\n"
        ),
    )
    .expect("compose.yaml");
    let file = dir.join("compose.yaml");
    let file = file.to_string_lossy();

    // Not built yet: nothing to push, and the error says which.
    let err = fails(&sb, &["-f", &file, "push"]);
    assert!(
        err.contains("web's image") && err.contains("not in the local store"),
        "{err}"
    );
    ok(&sb, &["-f", &file, "build"]);
    let (out, err) = ok(&sb, &["-f", &file, "push"]);
    assert!(out.contains("2: digest: sha256:"), "{out}");
    assert!(err.contains("cache: skipped"), "{err}");
    assert!(err.contains("local: skipped"), "{err}");
    let err = fails(&sb, &["-f", &file, "push", "nosuch"]);
    assert!(err.contains("no service"), "{err}");

    // What went up is what was built.
    let pushed = digest_of(&sb, &image);
    ok(&sb, &["rmi", &image]);
    ok(&sb, &["pull", &image]);
    assert_eq!(digest_of(&sb, &image), pushed);
}

//! Pushes to a real registry (Debian's docker-registry): an image pulled
//! from one registry is tagged and pushed to another, byte for byte (the
//! manifest digest stays), blobs the repository has are not sent again,
//! another repository of the same registry gets its blobs by mount, the
//! image pulls back whole into an empty store, and pushes without the
//! right credentials are refused with the registry and repository named.

mod common;

use std::path::Path;

use common::Recorder;
use stack_image::progress::Quiet;
use stack_image::{
    Credentials, ImageError, PullOutcome, Puller, PushOutcome, Pusher, Reference, RegistrySettings,
    Store,
};
use stack_testkit::registry::{fixtures, RegistryAuth, TestRegistry, PASSWORD, USER};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn settings() -> RegistrySettings {
    RegistrySettings {
        docker_config: None,
        ..RegistrySettings::default()
    }
}

fn with_credentials(host: &str) -> RegistrySettings {
    let mut s = settings();
    s.credentials.insert(
        host.to_string(),
        Credentials {
            username: USER.into(),
            password: PASSWORD.into(),
        },
    );
    s
}

fn pull(root: &Path, settings: RegistrySettings, reference: &str) -> PullOutcome {
    let puller = Puller::new(Store::open(root).expect("store"), settings);
    let reference = Reference::parse(reference).expect("reference");
    runtime()
        .block_on(puller.pull(&reference, &Quiet))
        .unwrap_or_else(|e| panic!("pull {reference}: {e}"))
}

fn push(
    root: &Path,
    settings: RegistrySettings,
    source: &str,
    target: &str,
    progress: &Recorder,
) -> Result<PushOutcome, ImageError> {
    let pusher = Pusher::new(Store::open(root).expect("store"), settings);
    let target = Reference::parse(target).expect("reference");
    runtime().block_on(pusher.push(source, &target, progress))
}

#[test]
fn a_tagged_image_pushes_whole_once_mounts_across_repositories_and_pulls_back() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let origin = TestRegistry::start(sb.dir(), RegistryAuth::None);
    origin.push(&fixtures().join("busybox"), "1", "busybox:1");
    let pulled = pull(
        &sb.state_root,
        settings(),
        &format!("{}/busybox:1", origin.addr),
    );
    let target = TestRegistry::start(sb.dir(), RegistryAuth::None);
    let name = format!("{}/team/app:1", target.addr);
    let store = Store::open(&sb.state_root).expect("store");
    let tagged = store
        .tag_image(&format!("{}/busybox:1", origin.addr), &name)
        .expect("tag");
    assert_eq!(tagged.manifest, pulled.manifest);
    assert_eq!(tagged.reference, name);

    let progress = Recorder::default();
    let first = push(&sb.state_root, settings(), &name, &name, &progress).expect("push");
    assert_eq!(first.manifest, pulled.manifest, "the digest stays");
    assert_eq!(first.id, pulled.id);
    assert_eq!(
        (
            first.blobs_uploaded,
            first.blobs_present,
            first.blobs_mounted
        ),
        (2, 0, 0),
        "one layer and the config"
    );
    assert_eq!(progress.layer_notes(), ["Pushed"]);
    let layer_size = first.bytes_uploaded;
    assert!(
        progress.bytes.load(std::sync::atomic::Ordering::Relaxed) <= layer_size,
        "progress never reports more than was sent"
    );

    // Everything is there: nothing is sent again.
    let again = Recorder::default();
    let second = push(&sb.state_root, settings(), &name, &name, &again).expect("push again");
    assert_eq!(
        (second.blobs_uploaded, second.blobs_present),
        (0, 2),
        "nothing uploaded the second time"
    );
    assert_eq!(again.layer_notes(), ["Layer already exists"]);

    // Another repository of the same registry: its blobs are linked from
    // team/app, which the local names say has them.
    let other = format!("{}/team/other:2", target.addr);
    store.tag_image(&name, &other).expect("tag other");
    let mounted = Recorder::default();
    let third = push(&sb.state_root, settings(), &other, &other, &mounted).expect("push other");
    assert_eq!((third.blobs_mounted, third.blobs_uploaded), (2, 0));
    assert_eq!(mounted.layer_notes(), ["Mounted from team/app"]);

    // Into an empty store: the same image comes back and unpacks.
    let fresh = sb.dir().join("fresh");
    let back = pull(&fresh, settings(), &name);
    assert_eq!(back.manifest, pulled.manifest);
    assert_eq!(back.id, pulled.id);
    assert_eq!(back.layers_unpacked, 1);
    let back_other = pull(&fresh, settings(), &other);
    assert_eq!(back_other.manifest, pulled.manifest);

    // An id prefix pushes too; a target without a tag does not.
    let by_id = push(
        &sb.state_root,
        settings(),
        &pulled.id.hex()[..12],
        &format!("{}/team/byid:3", target.addr),
        &Recorder::default(),
    )
    .expect("push by id");
    assert_eq!(by_id.manifest, pulled.manifest);
    let digest_only = format!("{}/team/app@{}", target.addr, pulled.manifest);
    let err = push(
        &sb.state_root,
        settings(),
        &name,
        &digest_only,
        &Recorder::default(),
    )
    .expect_err("no tag");
    assert!(matches!(err, ImageError::InvalidReference { .. }), "{err}");
}

#[test]
fn pushes_need_credentials_with_tokens_and_basic_auth() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let origin = TestRegistry::start(sb.dir(), RegistryAuth::None);
    origin.push(&fixtures().join("busybox"), "1", "busybox:1");
    let pulled = pull(
        &sb.state_root,
        settings(),
        &format!("{}/busybox:1", origin.addr),
    );
    let source = format!("{}/busybox:1", origin.addr);
    for auth in [RegistryAuth::Token, RegistryAuth::Basic] {
        let reg = TestRegistry::start(sb.dir(), auth);
        let name = format!("{}/team/app:1", reg.addr);
        // Anonymous: tokens grant pull only, basic auth grants nothing.
        let err = push(
            &sb.state_root,
            settings(),
            &source,
            &name,
            &Recorder::default(),
        )
        .expect_err("anonymous push");
        assert!(
            matches!(err, ImageError::PushDenied { .. }),
            "{auth:?}: {err}"
        );
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "unauthorized: push to {}/team/app denied",
                reg.addr
            )),
            "{auth:?}: {text}"
        );
        // A wrong password is refused as well.
        let mut wrong = settings();
        wrong.credentials.insert(
            reg.addr.clone(),
            Credentials {
                username: USER.into(),
                password: "nope".into(),
            },
        );
        let err = push(&sb.state_root, wrong, &source, &name, &Recorder::default())
            .expect_err("wrong password");
        assert!(
            matches!(err, ImageError::PushDenied { .. }),
            "{auth:?}: {err}"
        );
        // The right credentials push; the image pulls back with them.
        let done = push(
            &sb.state_root,
            with_credentials(&reg.addr),
            &source,
            &name,
            &Recorder::default(),
        )
        .unwrap_or_else(|e| panic!("{auth:?}: {e}\n{}", reg.log()));
        assert_eq!(done.manifest, pulled.manifest);
        assert_eq!(done.blobs_uploaded, 2);
        let back = pull(
            &sb.dir().join(format!("fresh-{auth:?}")),
            with_credentials(&reg.addr),
            &name,
        );
        assert_eq!(back.manifest, pulled.manifest);
    }
}

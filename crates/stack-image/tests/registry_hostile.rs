//! Hostile registries: answers that never end, trickle, stall, stop short,
//! or fill the disk. Each must end the pull (or fall through to the next
//! source) within the configured limits, and leave nothing behind.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::Recorder;
use stack_image::progress::Quiet;
use stack_image::settings::Timeouts;
use stack_image::{Digest, ImageError, PullOutcome, Puller, Reference, RegistrySettings, Store};
use stack_testkit::hostile::{HostileRegistry, Reply};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Quick limits, so an attack costs the test seconds, not minutes.
fn settings() -> RegistrySettings {
    RegistrySettings {
        docker_config: None,
        timeouts: Timeouts {
            idle: Duration::from_secs(1),
            request: Duration::from_secs(2),
            download: Duration::from_secs(5),
            upload: Duration::from_secs(5),
        },
        ..RegistrySettings::default()
    }
}

fn pull(root: &Path, s: RegistrySettings, reference: &str) -> Result<PullOutcome, ImageError> {
    let puller = Puller::new(Store::open(root).expect("store"), s);
    runtime().block_on(puller.pull(&Reference::parse(reference).expect("ref"), &Quiet))
}

/// A one-layer image: routes for repository `app`, tag `1`, with `layer`
/// as the layer blob. Returns the routes and the manifest bytes.
fn image(layer: Vec<u8>) -> (BTreeMap<String, Reply>, Vec<u8>) {
    let diff_id = Digest::of(&layer);
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{diff_id}"]}},"config":{{}}}}"#
    )
    .into_bytes();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":{}}}]}}"#,
        Digest::of(&config),
        config.len(),
        Digest::of(&layer),
        layer.len()
    )
    .into_bytes();
    let mut routes = BTreeMap::new();
    routes.insert(
        format!("/v2/app/blobs/{}", Digest::of(&config)),
        Reply::Full {
            content_type: "application/json".into(),
            body: config,
        },
    );
    routes.insert(
        format!("/v2/app/blobs/{}", Digest::of(&layer)),
        Reply::Full {
            content_type: "application/octet-stream".into(),
            body: layer,
        },
    );
    routes.insert(
        "/v2/app/manifests/1".into(),
        Reply::Full {
            content_type: OCI_MANIFEST.into(),
            body: manifest.clone(),
        },
    );
    (routes, manifest)
}

fn small_layer() -> Vec<u8> {
    common::layer(&[common::Item::File("hello", b"hello\n", 0o644)])
}

/// Bytes that do not compress and are not all alike.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn ingest_files(root: &Path) -> Vec<String> {
    std::fs::read_dir(root.join("images/ingest"))
        .expect("ingest dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn an_endless_manifest_is_refused_at_its_limit_while_streaming() {
    let mut routes = BTreeMap::new();
    routes.insert(
        "/v2/app/manifests/1".to_string(),
        Reply::Flood {
            content_type: OCI_MANIFEST.into(),
            total: 256 << 20,
        },
    );
    let hostile = HostileRegistry::start(routes);
    let root = tempfile::tempdir().expect("tempdir");
    let err = pull(root.path(), settings(), &format!("{}/app:1", hostile.addr))
        .expect_err("a 256 MiB manifest");
    let text = err.to_string();
    assert!(
        text.contains(&hostile.url())
            && text.contains("repository app")
            && text.contains("limit of 4194304 bytes"),
        "the error names the registry, the repository and the limit: {text}"
    );
    // Reading stopped at the limit: what was sent is the limit plus what
    // the sockets buffered, far from the 256 MiB on offer.
    let sent = hostile.sent.load(std::sync::atomic::Ordering::Relaxed);
    assert!(sent < 32 << 20, "{sent} bytes were taken from the registry");
}

#[test]
fn an_endless_error_page_keeps_its_status() {
    let mut routes = BTreeMap::new();
    routes.insert(
        "/v2/app/manifests/1".to_string(),
        Reply::ErrorFlood {
            status: "404 Not Found".into(),
            total: 256 << 20,
        },
    );
    let hostile = HostileRegistry::start(routes);
    let root = tempfile::tempdir().expect("tempdir");
    let err = pull(root.path(), settings(), &format!("{}/app:1", hostile.addr))
        .expect_err("a 404 with a 256 MiB page");
    let text = err.to_string();
    assert!(
        text.contains(&format!("{}/v2/app/manifests/1: not found", hostile.url())),
        "the 404 is the error, not the size of its page: {text}"
    );
    let sent = hostile.sent.load(std::sync::atomic::Ordering::Relaxed);
    assert!(sent < 32 << 20, "{sent} bytes were taken from the registry");
}

#[test]
fn a_stalled_answer_ends_at_the_idle_limit() {
    let mut routes = BTreeMap::new();
    routes.insert("/v2/app/manifests/1".to_string(), Reply::Stall);
    let hostile = HostileRegistry::start(routes);
    let root = tempfile::tempdir().expect("tempdir");
    let mut s = settings();
    s.timeouts.request = Duration::from_secs(60);
    let started = Instant::now();
    let err = pull(root.path(), s, &format!("{}/app:1", hostile.addr)).expect_err("stalled");
    let text = err.to_string();
    assert!(
        text.contains(&hostile.url())
            && text.contains("manifest 1")
            && text.contains("registry-idle-timeout"),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_dripping_mirror_times_out_and_the_origin_serves() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let (routes, manifest) = image(small_layer());
    let origin = HostileRegistry::start(routes);
    // A byte every 200 ms: never idle, but the manifest would take minutes.
    let mut drip = BTreeMap::new();
    drip.insert(
        "/v2/app/manifests/1".to_string(),
        Reply::Drip {
            content_type: OCI_MANIFEST.into(),
            body: manifest,
            every: Duration::from_millis(200),
        },
    );
    let mirror = HostileRegistry::start(drip);
    let mut s = settings();
    s.mirrors.insert(origin.addr.clone(), vec![mirror.url()]);
    let puller = Puller::new(Store::open(&sb.state_root).expect("store"), s);
    let recorder = Recorder::default();
    let started = Instant::now();
    let outcome = runtime()
        .block_on(puller.pull(
            &Reference::parse(&format!("{}/app:1", origin.addr)).expect("ref"),
            &recorder,
        ))
        .expect("the origin serves after the mirror times out");
    assert_eq!(outcome.source, origin.url());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let lines = recorder.lines();
    assert!(
        lines.iter().any(|l| l.contains(&mirror.url())
            && l.contains("repository app")
            && l.contains("registry-request-timeout")),
        "the warning names the mirror and what timed out: {lines:?}"
    );
}

#[test]
fn a_blob_cut_short_leaves_no_partial_download() {
    let (mut routes, _) = image(noise(256 * 1024));
    // The layer (the one large blob) stops after 100 000 of its bytes,
    // on every attempt.
    for reply in routes.values_mut() {
        if let Reply::Full { body, .. } = reply {
            if body.len() == 256 * 1024 {
                *reply = Reply::Cut {
                    body: body.clone(),
                    after: 100_000,
                };
            }
        }
    }
    let hostile = HostileRegistry::start(routes);
    let root = tempfile::tempdir().expect("tempdir");
    let err =
        pull(root.path(), settings(), &format!("{}/app:1", hostile.addr)).expect_err("a cut blob");
    assert!(err.to_string().contains(&hostile.url()), "{err}");
    assert_eq!(
        ingest_files(root.path()),
        Vec::<String>::new(),
        "partial kept"
    );
    let store = Store::open(root.path()).expect("store");
    assert!(store.list().expect("list").is_empty());
}

#[test]
fn a_full_disk_fails_the_pull_frees_the_space_and_prune_counts_stale_partials() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let root = sb.dir().join("small-store");
    std::fs::create_dir_all(&root).expect("mkdir");
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&root)
        .status()
        .expect("mount");
    assert!(status.success(), "mount a 2 MiB tmpfs");
    let (routes, _) = image(noise(4 << 20));
    let hostile = HostileRegistry::start(routes);
    Store::open(&root).expect("store");
    let free = || {
        let st = rustix::fs::statvfs(&root).expect("statvfs");
        st.f_bavail * st.f_frsize
    };
    let before = free();
    let err =
        pull(&root, settings(), &format!("{}/app:1", hostile.addr)).expect_err("4 MiB into 2 MiB");
    assert!(
        matches!(err, ImageError::Io { .. }),
        "a full disk is an I/O error: {err}"
    );
    assert_eq!(ingest_files(&root), Vec::<String>::new(), "partial kept");
    assert!(free() + 64 * 1024 >= before, "the space came back");

    // What a killed pull leaves is found: by prune, and counted...
    let ingest = root.join("images/ingest");
    std::fs::write(ingest.join(Digest::of(b"stale").hex()), vec![7u8; 100_000]).expect("stale");
    let store = Store::open(&root).expect("store");
    let report = store.prune(true).expect("prune");
    assert_eq!(report.partials, 1);
    assert!(report.bytes >= 100_000, "{report:?}");
    assert_eq!(ingest_files(&root), Vec::<String>::new());

    // ...and by the next pull, which leaves alone a partial that another
    // process is writing (it holds the partial's lock).
    std::fs::write(ingest.join(Digest::of(b"stale").hex()), b"x").expect("stale");
    let live_path = ingest.join(Digest::of(b"live").hex());
    let live = std::fs::File::create(&live_path).expect("live");
    rustix::fs::flock(&live, rustix::fs::FlockOperation::LockExclusive).expect("flock");
    let (routes, _) = image(small_layer());
    let good = HostileRegistry::start(routes);
    pull(&root, settings(), &format!("{}/app:1", good.addr)).expect("a small pull fits");
    assert_eq!(
        ingest_files(&root),
        vec![Digest::of(b"live").hex().to_string()]
    );
}

//! Pulls from a real registry (Debian's docker-registry) filled with the
//! project's fixture images by skopeo: each auth mode, mirror fallback,
//! integrity failures, multi-arch, compression, interruptions, prune and
//! save/load.

mod common;

use std::path::Path;

use common::Recorder;
use stack_image::progress::Quiet;
use stack_image::{
    archive, Credentials, ImageError, Platform, PullOutcome, Puller, Reference, RegistrySettings,
    Store,
};
use stack_testkit::registry::{
    fixtures, free_port, Fault, FaultyProxy, NotFoundServer, RegistryAuth, TestRegistry, PASSWORD,
    USER,
};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn pull_with(
    state_root: &Path,
    settings: RegistrySettings,
    reference: &str,
) -> Result<PullOutcome, ImageError> {
    let puller = Puller::new(Store::open(state_root).expect("store"), settings);
    let reference = Reference::parse(reference).expect("reference");
    runtime().block_on(puller.pull(&reference, &Quiet))
}

fn settings() -> RegistrySettings {
    RegistrySettings {
        docker_config: None,
        ..RegistrySettings::default()
    }
}

fn snapshot_count(state_root: &Path) -> usize {
    let store = Store::open(state_root).expect("store");
    store.snapshots.read_db().expect("db").layers.len()
}

#[test]
fn anonymous_pull_of_gzip_zstd_and_plain_layers_shares_snapshots() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let fx = fixtures();
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    for tag in ["1", "1-zstd", "1-plain"] {
        reg.push(&fx.join("busybox"), tag, &format!("busybox:{tag}"));
    }
    let first = pull_with(
        &sb.state_root,
        settings(),
        &format!("{}/busybox:1", reg.addr),
    )
    .expect("gzip pull");
    assert_eq!(first.source, reg.url());
    assert!(!first.source_is_mirror);
    assert_eq!((first.layers_downloaded, first.layers_unpacked), (1, 1));
    assert!(first.bytes_unpacked > 1_000_000, "busybox is about 2 MB");
    for tag in ["1-zstd", "1-plain"] {
        let o = pull_with(
            &sb.state_root,
            settings(),
            &format!("{}/busybox:{tag}", reg.addr),
        )
        .unwrap_or_else(|e| panic!("{tag}: {e}"));
        assert_eq!(o.layers_downloaded, 1, "{tag}: another blob");
        assert_eq!(o.layers_unpacked, 0, "{tag}: same diff_id, unpacked once");
    }
    assert_eq!(snapshot_count(&sb.state_root), 1);
    let again = pull_with(
        &sb.state_root,
        settings(),
        &format!("{}/busybox:1", reg.addr),
    )
    .expect("re-pull");
    assert_eq!((again.layers_downloaded, again.layers_present), (0, 1));

    let store = Store::open(&sb.state_root).expect("store");
    let rootfs = store
        .rootfs(&format!("{}/busybox:1-zstd", reg.addr))
        .expect("rootfs");
    assert_eq!(rootfs.lower_dirs.len(), 1);
    let lower = &rootfs.lower_dirs[0];
    assert!(lower.join("bin/busybox").is_file());
    assert_eq!(
        std::fs::read_link(lower.join("bin/sh")).expect("applet link"),
        Path::new("busybox")
    );
    let passwd = std::fs::read_to_string(lower.join("etc/passwd")).expect("passwd");
    assert!(passwd.contains("app:x:1000:1000"), "{passwd}");
    assert_eq!(rootfs.config.cmd.as_deref(), Some(&["sh".to_string()][..]));
    // skopeo reads our store as an OCI layout.
    let out = std::process::Command::new("skopeo")
        .args(["inspect", "--raw"])
        .arg(format!(
            "oci:{}:{}/busybox:1",
            store.layout.dir.display(),
            reg.addr
        ))
        .output()
        .expect("skopeo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sb.assert_no_leaks();
}

#[test]
fn basic_auth_uses_configured_or_docker_credentials() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let fx = fixtures();
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::Basic);
    reg.push(&fx.join("busybox"), "1", "busybox:1");
    let reference = format!("{}/busybox:1", reg.addr);

    let err = pull_with(&sb.state_root, settings(), &reference).expect_err("no credentials");
    assert!(err.to_string().contains("unauthorized"), "{err}");

    let mut with_creds = settings();
    with_creds.credentials.insert(
        reg.addr.clone(),
        Credentials {
            username: USER.into(),
            password: PASSWORD.into(),
        },
    );
    pull_with(&sb.state_root, with_creds, &reference).expect("config credentials");

    let docker_config = sb.dir().join("docker-config.json");
    let auth = base64_encode(&format!("{USER}:{PASSWORD}"));
    std::fs::write(
        &docker_config,
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.addr),
    )
    .expect("docker config");
    let other_root = sb.dir().join("root2");
    let via_docker = RegistrySettings {
        docker_config: Some(docker_config),
        ..RegistrySettings::default()
    };
    pull_with(&other_root, via_docker, &reference).expect("docker config.json credentials");
}

fn base64_encode(s: &str) -> String {
    let out = std::process::Command::new("base64")
        .arg("-w0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(s.as_bytes())?;
            child.wait_with_output()
        })
        .expect("base64");
    String::from_utf8(out.stdout).expect("utf8")
}

#[test]
fn anonymous_bearer_token_flow() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let fx = fixtures();
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::Token);
    reg.push(&fx.join("busybox"), "1", "busybox:1");
    reg.push(&fx.join("busybox"), "1", "other:1");
    pull_with(
        &sb.state_root,
        settings(),
        &format!("{}/busybox:1", reg.addr),
    )
    .expect("anonymous bearer pull");
    // A second repository needs a token with another scope.
    pull_with(&sb.state_root, settings(), &format!("{}/other:1", reg.addr)).expect("second scope");
    let missing = pull_with(&sb.state_root, settings(), &format!("{}/nope:1", reg.addr))
        .expect_err("unknown repository");
    assert!(
        matches!(missing, ImageError::AllSourcesFailed { .. }),
        "{missing}"
    );
}

#[test]
fn mirrors_are_tried_in_order_dead_then_404_then_good() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let fx = fixtures();
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fx.join("busybox"), "1", "library/busybox:latest");
    let dead = format!("http://127.0.0.1:{}", free_port());
    let not_found = NotFoundServer::start();
    let mut s = settings();
    s.mirrors.insert(
        "docker.io".into(),
        vec![dead.clone(), not_found.url(), reg.url()],
    );
    let puller = Puller::new(Store::open(&sb.state_root).expect("store"), s);
    let recorder = Recorder::default();
    let outcome = runtime()
        .block_on(puller.pull(&Reference::parse("busybox").expect("ref"), &recorder))
        .expect("pull through the third mirror");
    assert_eq!(outcome.source, reg.url());
    assert!(outcome.source_is_mirror);
    let lines = recorder.lines();
    assert_eq!(lines.len(), 2, "one warning per skipped mirror: {lines:?}");
    assert!(
        lines[0].contains(&dead) && lines[0].contains(&not_found.url()),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("404") && lines[1].contains(&reg.url()),
        "{lines:?}"
    );
    let store = Store::open(&sb.state_root).expect("store");
    store
        .find("busybox")
        .expect("stored as docker.io/library/busybox:latest");
}

#[test]
fn a_flipped_byte_fails_loudly_and_stores_nothing() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let fx = fixtures();
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fx.join("busybox"), "1", "library/busybox:latest");
    let proxy = FaultyProxy::start(&reg.addr, Fault::FlipByte);
    let mut s = settings();
    // The good registry comes after the bad one: a digest mismatch must
    // not fall back, it must fail.
    s.mirrors
        .insert("docker.io".into(), vec![proxy.url(), reg.url()]);
    let err = pull_with(&sb.state_root, s, "busybox").expect_err("mismatch");
    assert!(
        matches!(err, ImageError::DigestMismatch { .. }),
        "expected a digest mismatch, got {err}"
    );
    let store = Store::open(&sb.state_root).expect("store");
    assert!(store.list().expect("list").is_empty());
    assert_eq!(snapshot_count(&sb.state_root), 0);
    let ingest: Vec<_> = std::fs::read_dir(store.layout.dir.join("ingest"))
        .expect("ingest")
        .collect();
    assert!(ingest.is_empty(), "no partial file kept");
    let blobs: Vec<_> = std::fs::read_dir(store.layout.dir.join("blobs/sha256"))
        .expect("blobs")
        .map(|e| e.expect("e").metadata().expect("meta").len())
        .collect();
    assert!(
        blobs.iter().all(|len| *len < 10_000),
        "the damaged layer must not be stored: {blobs:?}"
    );
}

#[test]
fn an_interrupted_download_resumes() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let fx = fixtures();
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fx.join("redis"), "7", "redis:7");
    let proxy = FaultyProxy::start(&reg.addr, Fault::CutOnce(1_000_000));
    let mut s = settings();
    s.mirrors.insert(reg.addr.clone(), vec![proxy.url()]);
    let outcome = pull_with(&sb.state_root, s, &format!("{}/redis:7", reg.addr))
        .expect("pull survives a cut connection");
    assert_eq!(outcome.source, proxy.url());
    assert!(
        proxy
            .range_requests
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1,
        "the second request resumed with Range"
    );
    let store = Store::open(&sb.state_root).expect("store");
    let rootfs = store
        .rootfs(&format!("{}/redis:7", reg.addr))
        .expect("rootfs");
    assert!(rootfs.lower_dirs[0]
        .join("usr/bin/redis-check-rdb")
        .is_file());
    assert_eq!(rootfs.config.working_dir, "/data");
    assert!(rootfs.config.exposed_ports.contains_key("6379/tcp"));
}

#[test]
fn multi_arch_index_picks_the_platform() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let fx = fixtures();
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fx.join("busybox"), "multi", "busybox:multi");
    let reference = format!("{}/busybox:multi", reg.addr);
    let mut amd64 = settings();
    amd64.platform = Platform::parse("linux/amd64").expect("platform");
    pull_with(&sb.state_root, amd64, &reference).expect("amd64");
    let store = Store::open(&sb.state_root).expect("store");
    assert_eq!(
        store.find(&reference).expect("image").config.architecture,
        "amd64"
    );

    let mut arm = settings();
    arm.platform = Platform::parse("linux/arm64/v8").expect("platform");
    pull_with(&sb.state_root, arm, &reference).expect("arm64");
    let image = store.find(&reference).expect("image");
    assert_eq!(image.config.architecture, "arm64");
    assert_eq!(image.config.variant.as_deref(), Some("v8"));

    let mut riscv = settings();
    riscv.platform = Platform::parse("linux/riscv64").expect("platform");
    let err = pull_with(&sb.state_root, riscv, &reference).expect_err("no riscv64");
    assert!(
        err.to_string().contains("linux/arm64/v8"),
        "lists what exists: {err}"
    );
}

#[test]
fn prune_never_removes_what_a_container_uses() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let fx = fixtures();
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fx.join("busybox"), "1", "busybox:1");
    reg.push(&fx.join("redis"), "7", "redis:7");
    let bb = format!("{}/busybox:1", reg.addr);
    let redis = format!("{}/redis:7", reg.addr);
    pull_with(&sb.state_root, settings(), &bb).expect("busybox");
    let r = pull_with(&sb.state_root, settings(), &redis).expect("redis");
    // redis is built on the busybox layer: that blob and snapshot are shared.
    assert_eq!((r.layers_downloaded, r.layers_present), (1, 1));
    assert_eq!(r.layers_unpacked, 1);
    let store = Store::open(&sb.state_root).expect("store");
    let redis_lowers = store.rootfs(&redis).expect("redis rootfs").lower_dirs;
    assert_eq!(redis_lowers.len(), 2);
    assert!(
        redis_lowers[0].join("usr/bin/redis-cli").is_file(),
        "topmost first"
    );
    assert_eq!(
        redis_lowers[1],
        store.rootfs(&bb).expect("busybox rootfs").lower_dirs[0],
        "the shared base layer is one snapshot"
    );
    assert_eq!(snapshot_count(&sb.state_root), 2);
    let busybox = store.find(&bb).expect("busybox");
    store.lease("ctr-1", &busybox).expect("lease");
    let lowers = store.rootfs(&bb).expect("rootfs").lower_dirs;

    let report = store.prune(true).expect("prune -a");
    assert_eq!(report.images, vec![redis.clone()]);
    assert_eq!(report.snapshots, 1, "only redis's own layer goes");
    assert!(report.blobs >= 3, "manifest, config, layer: {report:?}");
    assert!(store.find(&redis).is_err());
    assert!(
        lowers[0].join("bin/busybox").is_file(),
        "busybox snapshot kept"
    );

    let err = store.remove(&bb).expect_err("in use");
    assert!(matches!(err, ImageError::InUse { .. }), "{err}");
    store.release("ctr-1").expect("release");
    store.remove(&bb).expect("rmi after release");
    assert!(!lowers[0].exists(), "snapshot removed with its last image");
    assert_eq!(snapshot_count(&sb.state_root), 0);
}

#[test]
fn save_and_load_round_trip() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let fx = fixtures();
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fx.join("busybox"), "1", "busybox:1");
    let bb = format!("{}/busybox:1", reg.addr);
    pull_with(&sb.state_root, settings(), &bb).expect("pull");
    let store = Store::open(&sb.state_root).expect("store");
    let archive_path = sb.dir().join("busybox.tar");
    archive::save(&store, std::slice::from_ref(&bb), &archive_path).expect("save");

    let other = Store::open(&sb.dir().join("root2")).expect("second store");
    let loaded = archive::load(&other, &archive_path, &Platform::host()).expect("load");
    assert_eq!(loaded, vec![bb.clone()]);
    let a = store.find(&bb).expect("original");
    let b = other.find(&bb).expect("loaded");
    assert_eq!((a.id, a.manifest), (b.id, b.manifest));
    let rootfs = other.rootfs(&bb).expect("rootfs");
    assert!(rootfs.lower_dirs[0].join("bin/busybox").is_file());

    // A damaged archive is refused and stores nothing.
    let mut bytes = std::fs::read(&archive_path).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    let damaged = sb.dir().join("damaged.tar");
    std::fs::write(&damaged, bytes).expect("write");
    let third = Store::open(&sb.dir().join("root3")).expect("third store");
    let err = archive::load(&third, &damaged, &Platform::host()).expect_err("damaged");
    assert!(err.to_string().contains("digest mismatch"), "{err}");
    assert!(third.list().expect("list").is_empty());
}

#[test]
fn https_registry_is_verified_against_the_configured_ca() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let fx = fixtures();
    let reg = TestRegistry::start_tls(sb.dir());
    reg.push(&fx.join("busybox"), "1", "busybox:1");
    // The registry is reached as an https mirror of `localhost:1`, so the
    // TLS path (not loopback's plain HTTP) is what is tested; the origin
    // is a loopback port where nothing listens.
    let reference = "localhost:1/busybox:1";
    let mut without_ca = settings();
    without_ca
        .mirrors
        .insert("localhost:1".into(), vec![reg.url()]);
    let err = pull_with(&sb.state_root, without_ca.clone(), reference)
        .expect_err("an unknown CA is refused");
    assert!(
        err.to_string().to_lowercase().contains("certificate")
            || err.to_string().contains("UnknownIssuer"),
        "{err}"
    );
    let mut with_ca = without_ca;
    with_ca
        .ca_files
        .insert(reg.addr.clone(), reg.ca_file.clone().expect("ca"));
    let outcome = pull_with(&sb.state_root, with_ca, reference).expect("verified TLS pull");
    assert_eq!(outcome.source, reg.url());
}

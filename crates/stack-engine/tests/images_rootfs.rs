//! What the runtime asks of images: a rootfs for a container, pulled
//! through the configured mirror when missing, leased so prune keeps it.

use stack_engine::config::Config;
use stack_engine::images::{progress::Quiet, Images};
use stack_engine::paths::HostPaths;
use stack_testkit::registry::{fixtures, RegistryAuth, TestRegistry};

#[test]
fn ensure_rootfs_pulls_leases_and_orders_layers() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let fx = fixtures();
    let reg = TestRegistry::start(sb.dir(), RegistryAuth::None);
    reg.push(&fx.join("redis"), "7", "library/redis:7");
    std::fs::write(
        &sb.config_file,
        format!("registry-mirrors = [\"{}\"]\n", reg.url()),
    )
    .expect("config");
    let paths = HostPaths::resolve(
        Some(sb.state_root.clone()),
        Some(sb.run_dir.clone()),
        Some(sb.config_file.clone()),
    );
    let config = Config::load(&paths.config_file).expect("config");
    let images = Images::open(&paths, &config).expect("images");

    let rootfs = images
        .ensure_rootfs("redis:7", "web-1", &Quiet)
        .expect("pulled and unpacked");
    assert_eq!(rootfs.lower_dirs.len(), 2);
    assert!(rootfs.lower_dirs[0].join("usr/bin/redis-cli").is_file());
    assert!(rootfs.lower_dirs[1].join("bin/busybox").is_file());
    assert!(rootfs
        .lower_dirs
        .iter()
        .all(|d| d.starts_with(sb.state_root.join("snapshots"))));
    assert_eq!(
        rootfs.config.cmd.as_deref(),
        Some(
            &[
                "redis-server".to_string(),
                "--protected-mode".into(),
                "no".into()
            ][..]
        )
    );
    assert_eq!(rootfs.config.stop_signal.as_deref(), Some("SIGTERM"));
    assert!(rootfs.config.volumes.contains_key("/data"));

    let report = images.store().prune(true).expect("prune");
    assert!(report.images.is_empty(), "leased image kept: {report:?}");
    images.store().release("web-1").expect("release");
    let report = images.store().prune(true).expect("prune");
    assert_eq!(report.images, vec!["docker.io/library/redis:7".to_string()]);
    assert!(!rootfs.lower_dirs[0].exists());
    sb.assert_no_leaks();
}

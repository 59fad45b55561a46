//! Built images in the store: layers added from directories, an image
//! committed from them, then seen, run from, kept and collected exactly
//! like pulled ones.

use std::path::Path;

use stack_image::layer::{DiffKind, LayerOptions};
use stack_image::{Digest, History, ImageConfigFile, ImageError, Store};

fn blob_count(root: &Path) -> usize {
    std::fs::read_dir(root.join("images/blobs/sha256"))
        .expect("blobs")
        .count()
}

fn config_for(diff_ids: Vec<Digest>) -> ImageConfigFile {
    let mut config = ImageConfigFile {
        architecture: "amd64".into(),
        os: "linux".into(),
        ..ImageConfigFile::default()
    };
    config.config.cmd = Some(vec!["/app/hello".into()]);
    config.config.env = vec!["PATH=/usr/bin:/bin".into()];
    config.config.on_build = vec!["RUN true".into()];
    config.history = diff_ids
        .iter()
        .map(|_| History {
            created_by: Some("a step".into()),
            ..History::default()
        })
        .chain([History {
            created_by: Some("CMD".into()),
            empty_layer: true,
            ..History::default()
        }])
        .collect();
    config.rootfs.diff_ids = diff_ids;
    config
}

#[test]
fn committed_images_are_found_run_kept_and_collected() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let store = Store::open(&sb.state_root).expect("store");
    let plain = sb.dir().join("copy");
    std::fs::create_dir_all(plain.join("app")).expect("app");
    std::fs::create_dir_all(plain.join("etc")).expect("etc");
    std::fs::write(plain.join("app/hello"), b"#!/bin/sh\necho hi\n").expect("hello");
    std::fs::write(plain.join("etc/old"), b"old").expect("old");
    let upper = sb.dir().join("upper");
    std::fs::create_dir_all(upper.join("etc")).expect("etc");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        upper.join("etc/old"),
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::empty(),
        0,
    )
    .expect("whiteout");
    std::fs::write(upper.join("etc/new"), b"new").expect("new");

    let options = LayerOptions {
        source_date_epoch: Some(0),
        ..LayerOptions::default()
    };
    let bottom = store
        .add_layer(&plain, DiffKind::Plain, &options)
        .expect("plain layer");
    let top = store
        .add_layer(&upper, DiffKind::OverlayUpper, &options)
        .expect("upper layer");
    assert!(!bottom.reused && !top.reused);
    assert!(bottom.snapshot.join("app/hello").is_file());
    let again = store
        .add_layer(&plain, DiffKind::Plain, &options)
        .expect("same layer again");
    assert!(again.reused);
    assert_eq!(again.descriptor, bottom.descriptor);
    assert_eq!(again.snapshot, bottom.snapshot);
    let ingest = std::fs::read_dir(sb.state_root.join("images/ingest")).expect("ingest");
    assert_eq!(ingest.count(), 0, "nothing left in the ingest area");

    let config = config_for(vec![bottom.diff_id.clone(), top.diff_id.clone()]);
    let layers = [bottom.descriptor.clone(), top.descriptor.clone()];
    let tags = ["app".to_string(), "127.0.0.1:5000/team/app:1".to_string()];
    let image = store.commit_image(&config, &layers, &tags).expect("commit");
    assert_eq!(image.reference, "docker.io/library/app:latest");
    assert_eq!(
        image.layers,
        [bottom.stats.digest.clone(), top.stats.digest.clone()]
    );
    assert_eq!(image.size, bottom.stats.tar_size + top.stats.tar_size);
    assert_eq!(image.config.config.cmd, config.config.cmd);
    assert_eq!(image.config.config.on_build, ["RUN true"]);
    assert_eq!(image.config.rootfs.kind, "layers");
    let again = store
        .commit_image(&config, &layers, &tags)
        .expect("commit again");
    assert_eq!(
        (again.manifest, again.id.clone()),
        (image.manifest.clone(), image.id.clone()),
        "same content, same digests"
    );

    let by_other_name = store.find("127.0.0.1:5000/team/app:1").expect("find");
    assert_eq!(by_other_name.id, image.id);
    assert_eq!(store.find(image.id.short()).expect("by id").id, image.id);
    let names: Vec<String> = store
        .list()
        .expect("list")
        .into_iter()
        .map(|i| i.reference)
        .collect();
    assert_eq!(
        names,
        ["docker.io/library/app:latest", "127.0.0.1:5000/team/app:1"]
    );
    let rootfs = store.rootfs("app").expect("rootfs");
    assert_eq!(
        rootfs.lower_dirs,
        [top.snapshot.clone(), bottom.snapshot.clone()]
    );
    assert_eq!(rootfs.id, image.id);

    // Nothing named is garbage.
    let blobs = blob_count(&sb.state_root);
    assert_eq!(blobs, 4, "two layers, a config, a manifest");
    let report = store.prune(false).expect("prune");
    assert_eq!((report.blobs, report.snapshots), (0, 0));
    assert_eq!(blob_count(&sb.state_root), blobs);

    // FROM scratch with only config: no layers, still an image.
    let empty = store
        .commit_image(&config_for(Vec::new()), &[], &["scratchy".into()])
        .expect("zero layers");
    assert!(empty.layers.is_empty() && empty.size == 0);
    assert!(store
        .rootfs("scratchy")
        .expect("rootfs")
        .lower_dirs
        .is_empty());

    // Once no name is left, prune frees the blobs and snapshots.
    store.remove("app").expect("rmi app");
    assert!(store.rootfs("127.0.0.1:5000/team/app:1").is_ok());
    store
        .remove("127.0.0.1:5000/team/app:1")
        .expect("rmi other name");
    store.remove("scratchy").expect("rmi scratchy");
    store.prune(false).expect("prune");
    assert_eq!(blob_count(&sb.state_root), 0);
    assert!(!bottom.snapshot.exists() && !top.snapshot.exists());
    sb.assert_no_leaks();
}

#[test]
fn commits_that_do_not_fit_are_refused() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let store = Store::open(&sb.state_root).expect("store");
    let dir = sb.dir().join("copy");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("f"), b"f").expect("f");
    let layer = store
        .add_layer(&dir, DiffKind::Plain, &LayerOptions::default())
        .expect("layer");
    let layers = [layer.descriptor.clone()];
    let config = config_for(vec![layer.diff_id.clone()]);

    // Without a name the image is kept unnamed (Docker's dangling image):
    // found by its id, listed, and the first thing a prune removes.
    let unnamed = store.commit_image(&config, &layers, &[]).expect("unnamed");
    assert_eq!(unnamed.reference, "");
    assert_eq!(store.find(unnamed.id.hex()).expect("by id").id, unnamed.id);
    assert!(store
        .list()
        .expect("list")
        .iter()
        .any(|i| i.id == unnamed.id));
    let pruned = store.prune(false).expect("prune");
    assert_eq!(pruned.images, [unnamed.manifest.to_string()]);
    assert!(store.find(unnamed.id.hex()).is_err());
    let by_digest = store.commit_image(&config, &layers, &[format!("app@{}", layer.diff_id)]);
    assert!(matches!(
        by_digest,
        Err(ImageError::InvalidReference { .. })
    ));
    let too_few_diff_ids = store.commit_image(&config_for(Vec::new()), &layers, &["app".into()]);
    assert!(matches!(too_few_diff_ids, Err(ImageError::Commit { .. })));
    let mut wrong_history = config.clone();
    wrong_history.history.clear();
    wrong_history.history.push(History::default());
    wrong_history.history.push(History::default());
    let refused = store.commit_image(&wrong_history, &layers, &["app".into()]);
    assert!(matches!(refused, Err(ImageError::Commit { .. })));
    let mut missing = layer.descriptor.clone();
    missing.digest = Digest::of(b"not stored");
    let refused = store.commit_image(&config, &[missing], &["app".into()]);
    assert!(matches!(refused, Err(ImageError::Commit { .. })));
    assert!(store.list().expect("list").is_empty(), "nothing was named");
    sb.assert_no_leaks();
}

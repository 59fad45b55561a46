//! Volumes on a temporary state root (no root needed: no container mounts).

use super::*;

fn fixture() -> (tempfile::TempDir, Volumes) {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = HostPaths::resolve(
        Some(dir.path().join("state")),
        Some(dir.path().join("run")),
        Some(dir.path().join("none.toml")),
    );
    let volumes = Volumes::open(&paths).expect("open");
    (dir, volumes)
}

fn named(name: &str, labels: &[(&str, &str)]) -> CreateVolume {
    CreateVolume {
        name: Some(name.into()),
        driver: None,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

#[test]
fn create_inspect_and_create_again() {
    let (_d, v) = fixture();
    let (made, new) = v
        .create(&named("data", &[("team", "web")]))
        .expect("create");
    assert!(new);
    assert_eq!(made.name, "data");
    assert_eq!(made.driver, "local");
    assert!(made.mountpoint.ends_with("volumes/data/_data"));
    assert!(made.mountpoint.is_dir());
    assert_eq!(made.labels.get("team").map(String::as_str), Some("web"));
    assert!(made.created_at.ends_with('Z'), "{}", made.created_at);
    let (again, new) = v.create(&named("data", &[])).expect("create again");
    assert!(!new);
    assert_eq!(again, made);
    assert_eq!(v.inspect("data").expect("inspect"), made);
    assert!(matches!(v.inspect("nope"), Err(VolumeError::NotFound(_))));
    assert!(matches!(v.inspect("../x"), Err(VolumeError::NotFound(_))));
}

#[test]
fn bad_names_drivers_and_labels_are_refused() {
    let (_d, v) = fixture();
    let err = v.create(&named("-bad", &[])).expect_err("bad name");
    assert!(
        err.to_string().contains("invalid volume name \"-bad\""),
        "{err}"
    );
    let mut req = named("x", &[]);
    req.driver = Some("nfs".into());
    let err = v.create(&req).expect_err("driver");
    assert!(err.to_string().contains("\"nfs\""), "{err}");
    assert!(v.create(&named("x", &[("", "v")])).is_err());
    assert!(v.list(&VolumeFilter::default()).expect("ls").is_empty());
}

#[test]
fn anonymous_volumes_get_a_random_name_and_the_label() {
    let (_d, v) = fixture();
    let (made, _) = v.create(&CreateVolume::default()).expect("create");
    assert_eq!(made.name.len(), 64);
    assert_eq!(
        made.labels.get(ANONYMOUS_LABEL).map(String::as_str),
        Some("")
    );
}

#[test]
fn list_filters_and_sorts() {
    let (_d, v) = fixture();
    v.create(&named("b-data", &[("team", "web")])).expect("b");
    v.create(&named("a-data", &[("team", "db")])).expect("a");
    // A volume `stack run -v` made: a directory without a row.
    std::fs::create_dir_all(v.path("plain").expect("valid").join("_data")).expect("plain");
    let all = v.list(&VolumeFilter::default()).expect("ls");
    let names: Vec<&str> = all.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["a-data", "b-data", "plain"]);
    let web = v
        .list(&VolumeFilter::parse(&["label=team=web".into()]).expect("filter"))
        .expect("ls");
    assert_eq!(web.len(), 1);
    assert_eq!(web[0].name, "b-data");
    let dangling = v
        .list(&VolumeFilter::parse(&["dangling=true".into()]).expect("filter"))
        .expect("ls");
    assert_eq!(dangling.len(), 3);
}

#[test]
fn remove_takes_the_row_and_the_directory() {
    let (_d, v) = fixture();
    let (made, _) = v.create(&named("data", &[])).expect("create");
    std::fs::write(made.mountpoint.join("f"), "x").expect("write");
    assert!(v.remove("data", false).expect("rm"));
    assert!(!v.path("data").expect("valid name").exists());
    assert_eq!(v.store.read(|r| r.volume("data")).expect("row"), None);
    assert!(matches!(
        v.remove("data", false),
        Err(VolumeError::NotFound(_))
    ));
    assert!(!v.remove("data", true).expect("rm -f of nothing"));
    let left: Vec<_> = std::fs::read_dir(&v.dir).expect("dir").collect();
    assert!(left.is_empty(), "nothing left: {left:?}");
}

#[test]
fn a_failed_move_keeps_the_row_and_the_files() {
    let (_d, v) = fixture();
    let (made, _) = v.create(&named("data", &[])).expect("create");
    std::fs::write(made.mountpoint.join("f"), "x").expect("write");
    let refuse = |_: &Path, _: &Path| Err(std::io::Error::other("device busy"));
    let err = remove_with(&v.store, &v.state_root, "data", refuse).expect_err("refused");
    assert!(err.to_string().contains("move its directory away"), "{err}");
    assert!(v.store.read(|r| r.volume("data")).expect("row").is_some());
    assert_eq!(v.inspect("data").expect("still there"), made);
    assert!(made.mountpoint.join("f").is_file());
}

#[test]
fn a_volume_whose_directory_vanished_just_loses_its_row() {
    let (_d, v) = fixture();
    v.create(&named("data", &[])).expect("create");
    std::fs::remove_dir_all(v.path("data").expect("valid")).expect("rm dir");
    remove_files_and_row(&v.store, &v.state_root, "data").expect("remove");
    assert!(v.store.read(|r| r.volume("data")).expect("row").is_none());
}

#[test]
fn prune_takes_anonymous_ones_unless_all() {
    let (_d, v) = fixture();
    v.create(&named("keep", &[])).expect("named");
    let (anon, _) = v.create(&CreateVolume::default()).expect("anon");
    std::fs::write(anon.mountpoint.join("f"), "12345").expect("write");
    let report = v.prune(false).expect("prune");
    assert_eq!(report.volumes, vec![anon.name]);
    assert_eq!(report.bytes, 5);
    let report = v.prune(true).expect("prune -a");
    assert_eq!(report.volumes, ["keep"]);
    assert!(v.list(&VolumeFilter::default()).expect("ls").is_empty());
}

#[test]
fn a_stale_row_is_replaced_by_a_new_create() {
    let (_d, v) = fixture();
    v.create(&named("data", &[("old", "1")])).expect("create");
    std::fs::remove_dir_all(v.path("data").expect("valid")).expect("rm dir");
    let (made, new) = v.create(&named("data", &[("new", "2")])).expect("again");
    assert!(new);
    assert_eq!(made.labels.get("new").map(String::as_str), Some("2"));
    assert!(!made.labels.contains_key("old"), "{:?}", made.labels);
}

/// The attack of a stack file's `name: ../../../../tmp/x` once it reached
/// the store: `down -v` removes volumes by the names in their rows. A row
/// naming a path outside `<root>/volumes` must not take that path with it,
/// nor may `volume rm`/`inspect` reach it.
#[test]
fn a_name_walking_out_of_the_volumes_directory_touches_nothing() {
    let (d, v) = fixture();
    let victim = d.path().join("victim");
    std::fs::create_dir_all(victim.join("_data")).expect("victim");
    std::fs::write(victim.join("_data/keep"), "x").expect("file");
    let hostile = "../../victim";
    let err = remove_files_and_row(&v.store, &v.state_root, hostile).expect_err("refused");
    assert!(err.to_string().contains("invalid volume name"), "{err}");
    assert!(matches!(v.inspect(hostile), Err(VolumeError::NotFound(_))));
    assert!(v.remove(hostile, true).is_ok_and(|removed| !removed));
    assert!(v.create(&named(hostile, &[])).is_err());
    assert!(victim.join("_data/keep").is_file());
    let err = volume_dir(&v.state_root, "..").expect_err("dot-dot");
    assert!(err.to_string().contains("invalid volume name"), "{err}");
}

use super::*;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stack-cgroup-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn v1_limits_land_in_their_controllers() {
    let root = temp("v1");
    let layout = Layout::Legacy {
        hierarchies: vec!["cpu".into(), "memory".into(), "pids".into()],
        unified: true,
    };
    let cg = Cgroup::at(&root, &layout, "stack/c1");
    let r = Resources {
        memory: Some(64 << 20),
        memory_reservation: Some(32 << 20),
        cpus: Some(0.5),
        cpu_shares: Some(512),
        pids_limit: Some(20),
        memory_swap: None,
    };
    cg.create(&root, &r, None).expect("create");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect(p);
    assert_eq!(
        read("memory/stack/c1/memory.limit_in_bytes"),
        (64u64 << 20).to_string()
    );
    assert_eq!(
        read("memory/stack/c1/memory.soft_limit_in_bytes"),
        (32u64 << 20).to_string()
    );
    assert_eq!(read("cpu/stack/c1/cpu.cfs_quota_us"), "50000");
    assert_eq!(read("cpu/stack/c1/cpu.shares"), "512");
    assert_eq!(read("pids/stack/c1/pids.max"), "20");
    assert!(
        root.join("unified/stack/c1").is_dir(),
        "hybrid: joined in cgroup2 too"
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// A v1 host without cgroup2: the device rules go to the devices
/// controller (with cgroup2, a BPF filter, tested on the real kernel).
#[test]
fn v1_device_rules_land_in_the_devices_controller() {
    let root = temp("v1-devices");
    let layout = Layout::Legacy {
        hierarchies: vec!["devices".into(), "pids".into()],
        unified: false,
    };
    let cg = Cgroup::at(&root, &layout, "stack/c3");
    let rules = crate::devices::rules(false, &[], &[]).expect("restricted");
    cg.create(&root, &Resources::default(), Some(&rules))
        .expect("create");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect(p);
    // Plain files keep the last write: deny all, then the allowlist.
    assert_eq!(read("devices/stack/c3/devices.deny"), "a");
    assert_eq!(read("devices/stack/c3/devices.allow"), "c 136:* rwm");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn v2_enables_controllers_on_ancestors_only() {
    let root = temp("v2");
    std::fs::write(
        root.join("cgroup.controllers"),
        "cpuset cpu io memory pids\n",
    )
    .expect("fixture");
    let cg = Cgroup::at(&root, &Layout::Unified, "stack/c2");
    let r = Resources {
        memory: Some(1 << 20),
        cpus: Some(1.5),
        cpu_shares: Some(1024),
        pids_limit: Some(5),
        ..Default::default()
    };
    cg.create(&root, &r, None).expect("create");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect(p);
    assert_eq!(read("cgroup.subtree_control"), "+cpu +memory +pids");
    assert_eq!(read("stack/cgroup.subtree_control"), "+cpu +memory +pids");
    assert!(!root.join("stack/c2/cgroup.subtree_control").exists());
    assert_eq!(read("stack/c2/cpu.max"), "150000 100000");
    assert_eq!(read("stack/c2/cpu.weight"), "39");
    assert_eq!(read("stack/c2/memory.max"), "1048576");
    std::fs::write(
        root.join("stack/c2/memory.events"),
        "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
    )
    .expect("fixture");
    assert_eq!(cg.oom_kills(), 1);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn shares_map_to_weights_like_runc() {
    assert_eq!(shares_to_weight(2), 1);
    assert_eq!(shares_to_weight(1024), 39);
    assert_eq!(shares_to_weight(262_144), 10_000);
}

#[test]
fn v1_swap_goes_first_only_when_it_grows_past_the_memory_limit() {
    let mib = |n: i64| n << 20;
    assert!(swap_goes_first(mib(512), Some(mib(64))));
    assert!(swap_goes_first(-1, Some(mib(64))));
    assert!(!swap_goes_first(mib(32), Some(mib(64))));
    assert!(swap_goes_first(mib(32), None));
}

#[test]
fn swap_limits_per_layout_and_without_swap_accounting() {
    let root = temp("swap");
    let layout = Layout::Legacy {
        hierarchies: vec!["memory".into()],
        unified: false,
    };
    let cg = Cgroup::at(&root, &layout, "stack/c5");
    cg.create(&root, &Resources::default(), None)
        .expect("create");
    let r = Resources {
        memory: Some(64 << 20),
        memory_swap: Some(128 << 20),
        ..Default::default()
    };
    let err = cg.apply(&r).expect_err("no memsw file");
    assert!(err.to_string().contains("swap accounting"), "{err}");
    std::fs::write(root.join("memory/stack/c5/memory.memsw.limit_in_bytes"), "").expect("fixture");
    cg.apply(&r).expect("apply");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect(p);
    assert_eq!(
        read("memory/stack/c5/memory.memsw.limit_in_bytes"),
        (128u64 << 20).to_string()
    );

    let v2 = Cgroup::at(&root, &Layout::Unified, "stack/c6");
    std::fs::create_dir_all(root.join("stack/c6")).expect("fixture");
    std::fs::write(root.join("stack/c6/memory.swap.max"), "").expect("fixture");
    v2.apply(&r).expect("apply v2");
    assert_eq!(read("stack/c6/memory.swap.max"), (64u64 << 20).to_string());
    let below = Resources {
        memory_swap: Some(1 << 20),
        ..r
    };
    let err = v2.apply(&below).expect_err("below the memory limit");
    assert!(err.to_string().contains("below the memory limit"), "{err}");
    let unlimited = Resources {
        memory_swap: Some(-1),
        ..r
    };
    v2.apply(&unlimited).expect("unlimited");
    assert_eq!(read("stack/c6/memory.swap.max"), "max");
    let _ = std::fs::remove_dir_all(&root);
}

/// A container started before containers joined the v1 freezer has no
/// directory there: an exec joins the others instead of failing.
#[test]
fn an_exec_joins_the_directories_an_older_container_has() {
    let root = temp("older");
    let before = Layout::Legacy {
        hierarchies: vec!["memory".into(), "pids".into()],
        unified: false,
    };
    Cgroup::at(&root, &before, "stack/c7")
        .create(&root, &Resources::default(), None)
        .expect("create");
    let now = Layout::Legacy {
        hierarchies: vec!["freezer".into(), "memory".into(), "pids".into()],
        unified: false,
    };
    let cg = Cgroup::at(&root, &now, "stack/c7");
    assert!(cg.join(42).is_err(), "a start needs every directory");
    cg.join_existing(42).expect("exec joins what exists");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect(p);
    assert_eq!(read("memory/stack/c7/cgroup.procs"), "42");
    assert_eq!(read("pids/stack/c7/cgroup.procs"), "42");
    assert!(!root.join("freezer/stack/c7").exists());
    let _ = std::fs::remove_dir_all(&root);
}

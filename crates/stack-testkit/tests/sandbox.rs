//! The sandbox itself: it isolates the network and sees what is left.

#[test]
fn sandbox_has_private_network_and_finds_leaked_links() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let links = std::process::Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .expect("ip link");
    let links = String::from_utf8_lossy(&links.stdout);
    assert_eq!(
        links.lines().count(),
        1,
        "only loopback in a fresh netns: {links}"
    );
    assert!(sb.state_root.is_dir() && sb.run_dir.is_dir());
    sb.assert_no_leaks();

    let made = std::process::Command::new("ip")
        .args(["link", "add", "stk-leaktest", "type", "bridge"])
        .status()
        .expect("ip link add");
    assert!(made.success());
    let leaks = sb.leaks();
    assert_eq!(
        leaks,
        vec![stack_testkit::Leak::Link("stk-leaktest".into())]
    );
}

//! What the hyperfine-driven benches share: a busybox root filesystem
//! and the report of hyperfine's medians as ratios.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Prints each command's median and its ratio to the first command's,
/// which is named `baseline` in the heading.
pub fn report(json: &Path, baseline: &str) {
    let text = std::fs::read_to_string(json).expect("hyperfine json");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("hyperfine json");
    let results = doc["results"].as_array().cloned().unwrap_or_default();
    let median = |r: &serde_json::Value| r["median"].as_f64().unwrap_or(f64::NAN) * 1000.0;
    let Some(base) = results.first().map(median) else {
        return;
    };
    println!("\nmedians (ms) and ratio to {baseline}:");
    for r in &results {
        let m = median(r);
        println!(
            "  {:<16} {:>8.2} ms  x{:.2}",
            r["command"].as_str().unwrap_or("?"),
            m,
            m / base
        );
    }
}

/// busybox-static and its applets, with a passwd and group for root.
pub fn busybox_rootfs(work: &Path) -> PathBuf {
    let root = work.join("busybox");
    for d in ["bin", "etc", "tmp", "root", "proc", "sys", "dev"] {
        std::fs::create_dir_all(root.join(d)).expect("rootfs dir");
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).expect("/bin/busybox (busybox-static)");
    let list = Command::new("/bin/busybox")
        .arg("--list")
        .output()
        .expect("busybox --list");
    for applet in String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter(|a| *a != "busybox")
    {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).expect("applet");
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").expect("passwd");
    std::fs::write(root.join("etc/group"), "root:x:0:\n").expect("group");
    root
}

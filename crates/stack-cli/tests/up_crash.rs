//! `kill -9` of `stack up` half-way: a second `up` converges with no
//! duplicate container, and `down` then leaves nothing.

mod run_support;
mod up_support;

use std::time::{Duration, Instant};

use up_support::env;

#[test]
fn a_killed_up_converges_on_the_next_up() {
    let Some(e) = env(false) else { return };
    // Through a daemon, the kill ends the client only: the daemon applies
    // on, and the next `up` waits for it, then finds the project whole.
    let mut yaml = String::from("name: demo\nservices:\n");
    for i in 0..8 {
        yaml.push_str(&format!(
            "  s{i}:\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n    stop_grace_period: 1s\n"
        ));
    }
    e.write(&yaml);
    // Pull first, so the kill lands among container creations.
    e.ok(&["up", "-d", "s0"]);
    let file = e.dir.join("compose.yaml");
    let mut child =
        e.sb.command(run_support::stack_bin())
            .args([
                "-f",
                file.to_str().expect("path"),
                "up",
                "-d",
                "--parallel",
                "1",
            ])
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn up");
    let deadline = Instant::now() + Duration::from_secs(30);
    while e.container_dirs() < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("kill -9");
    let _ = child.wait();
    assert!(
        e.container_dirs() < 8,
        "the kill came too late to test anything"
    );

    // A directory the killed process made but never wrote counts as
    // abandoned once it is a moment old (a live creator writes at once).
    std::thread::sleep(Duration::from_millis(200));
    e.ok(&["up", "-d"]);
    let names = e.names();
    let expected: Vec<String> = (0..8).map(|i| format!("demo-s{i}-1")).collect();
    assert_eq!(names, expected, "one container per service, no duplicate");
    let dirs: Vec<(String, Vec<String>)> = std::fs::read_dir(e.sb.state_root.join("containers"))
        .expect("containers dir")
        .flatten()
        .map(|d| {
            let files = std::fs::read_dir(d.path())
                .map(|f| {
                    f.flatten()
                        .map(|x| x.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            (d.file_name().to_string_lossy().into_owned(), files)
        })
        .collect();
    assert_eq!(dirs.len(), 8, "{dirs:?}");
    for c in e.ps() {
        assert_eq!(c["State"], "running", "{c}");
    }
    e.ok(&["down", "-t", "0"]);
    assert_eq!(e.container_dirs(), 0);
    e.sb.assert_no_leaks();
}

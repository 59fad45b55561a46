//! Attached `stack up`: the merged, prefixed log stream and the exit code
//! rules of `--abort-on-container-exit` and `--exit-code-from`; `logs`.

mod run_support;
mod up_support;

use up_support::{describe, env};

const STACK: &str = r#"
name: demo
services:
  talker:
    image: busybox
    command: ["sh", "-c", "echo one; sleep 0.3; echo two; exit 3"]
  sleeper:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
"#;

#[test]
fn abort_on_container_exit_stops_everything_and_returns_the_code() {
    let Some(e) = env(false) else { return };
    e.write(STACK);
    let out = e.stack(&["up", "--abort-on-container-exit"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("talker-1   | one\n"), "{stdout}");
    let one = stdout.find("| one").expect("one");
    let two = stdout.find("| two").expect("two");
    assert!(one < two, "{stdout}");
    for c in e.ps() {
        assert_eq!(c["State"], "exited", "{c}");
    }
    // STATUS as Docker words it: `Exited (3) 2 seconds ago`.
    let talker = e.ps().into_iter().find(|c| c["Service"] == "talker");
    let status = talker.as_ref().map(|c| c["Status"].to_string());
    let status = status.expect("talker in ps");
    assert!(
        status.starts_with("\"Exited (3) ") && status.ends_with(" ago\""),
        "{status}"
    );

    // logs: merged with prefixes, or bare; --tail per container.
    let (logs, _) = e.ok(&["logs", "talker"]);
    assert_eq!(logs, "talker-1  | one\ntalker-1  | two\n");
    let (logs, _) = e.ok(&["logs", "--no-log-prefix", "--tail", "1", "talker"]);
    assert_eq!(logs, "two\n");
    e.ok(&["down"]);
    e.sb.assert_no_leaks();
}

#[test]
fn exit_code_from_returns_that_services_code() {
    let Some(e) = env(false) else { return };
    e.write(STACK);
    let out = e.stack(&["up", "--exit-code-from", "sleeper"]);
    // sleeper was stopped by the abort: SIGTERM ignored by PID 1, then
    // SIGKILL after its grace period.
    let code = out.status.code();
    assert!(code == Some(137) || code == Some(143), "{}", describe(&out));
    e.ok(&["down"]);
    e.sb.assert_no_leaks();
}

#[test]
fn ctrl_c_stops_the_stack_gracefully() {
    let Some(e) = env(false) else { return };
    e.write(
        r#"
name: demo
services:
  app:
    image: busybox
    command: ["sh", "-c", "trap 'echo bye; exit 0' TERM; echo ready; while true; do sleep 0.1; done"]
"#,
    );
    let file = e.dir.join("compose.yaml");
    let child =
        e.sb.command(run_support::stack_bin())
            .args(["-f", file.to_str().expect("path"), "up"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn up");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !e.ps().iter().any(|c| c["State"] == "running") {
        assert!(std::time::Instant::now() < deadline, "app never ran");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT");
    let out = child.wait_with_output().expect("wait up");
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("app-1  | ready"), "{stdout}");
    assert!(stdout.contains("app-1  | bye"), "graceful stop: {stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Gracefully stopping"));
    let app = &e.ps()[0];
    assert_eq!(app["State"], "exited", "{app}");
    assert_eq!(app["ExitCode"], 0, "{app}");
    e.ok(&["down"]);
    e.sb.assert_no_leaks();
}

#[test]
fn logs_index_picks_one_replica_and_n_is_tail() {
    let Some(e) = env(false) else { return };
    e.write(
        r#"
name: demo
services:
  talker:
    image: busybox
    command: ["sh", "-c", "echo one; sleep 0.2; echo two"]
"#,
    );
    e.ok(&["up", "-d", "--scale", "talker=2"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while e.ps().iter().any(|c| c["State"] != "exited") {
        assert!(std::time::Instant::now() < deadline, "talkers never ended");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (logs, _) = e.ok(&["logs", "--index", "2", "talker"]);
    assert_eq!(logs, "talker-2  | one\ntalker-2  | two\n");
    let (logs, _) = e.ok(&["logs", "--no-color", "-n", "1", "--index", "1", "talker"]);
    assert_eq!(logs, "talker-1  | two\n");
    // A replica number needs exactly one service, and one that has it.
    let out = e.stack(&["logs", "--index", "1"]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--index requires one service"),
        "{}",
        describe(&out)
    );
    let out = e.stack(&["logs", "--index", "3", "talker"]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no container with index 3"),
        "{}",
        describe(&out)
    );
    e.ok(&["down"]);
    e.sb.assert_no_leaks();
}

#[test]
fn attached_up_shows_new_output_and_stops_dependants_first() {
    let Some(e) = env(false) else { return };
    // db answers TERM at once, app only after a while: stopped together,
    // db would say goodbye first.
    e.write(
        r#"
name: demo
services:
  db:
    image: busybox
    command: ["sh", "-c", "trap 'echo bye db; exit 0' TERM; echo db ready; while true; do sleep 0.1; done"]
  app:
    image: busybox
    command: ["sh", "-c", "trap 'sleep 0.5; echo bye app; exit 0' TERM; echo app ready; while true; do sleep 0.1; done"]
    depends_on: [db]
"#,
    );
    // db already runs; its earlier output is not shown again.
    e.ok(&["up", "-d", "db"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (logs, _) = e.ok(&["logs", "db"]);
        if logs.contains("db ready") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "db never ready");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let file = e.dir.join("compose.yaml");
    let child =
        e.sb.command(run_support::stack_bin())
            .args(["-f", file.to_str().expect("path"), "up"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn up");
    while !e.ps().iter().all(|c| c["State"] == "running") || e.ps().len() < 2 {
        assert!(std::time::Instant::now() < deadline, "app never ran");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT");
    let out = child.wait_with_output().expect("wait up");
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("Attaching to demo-app-1, demo-db-1\n"),
        "{stdout}"
    );
    assert!(stdout.contains("app-1  | app ready"), "{stdout}");
    assert!(
        !stdout.contains("db ready"),
        "old output replayed: {stdout}"
    );
    let app = stdout.find("| bye app").expect(&stdout);
    let db = stdout.find("| bye db").expect(&stdout);
    assert!(app < db, "app must stop before db: {stdout}");
    e.ok(&["down", "-t", "0"]);
    e.sb.assert_no_leaks();
}

/// A traceback printed in one write, a 40 KiB line, and a last line with
/// no newline: each line its own prefixed log line, attached and in
/// `logs`, and `--tail` counts lines.
#[test]
fn logs_are_lines_whatever_the_writes() {
    let Some(e) = env(false) else { return };
    e.write(
        r#"
name: demo
services:
  crash:
    image: busybox
    command:
      - sh
      - -c
      - |
        printf 'Traceback (most recent call last):\n  File "app.py", line 1\nValueError: boom\n'
        head -c 40960 /dev/zero | tr '\0' x
        echo
        printf 'no newline at the end'
"#,
    );
    let long = "x".repeat(40960);
    let lines = [
        "Traceback (most recent call last):",
        "  File \"app.py\", line 1",
        "ValueError: boom",
        long.as_str(),
        "no newline at the end",
    ];
    let prefixed: String = lines.iter().map(|l| format!("crash-1  | {l}\n")).collect();
    let out = e.stack(&["up"]);
    assert!(out.status.success(), "{}", describe(&out));
    let attached = String::from_utf8_lossy(&out.stdout);
    for line in &lines {
        let wanted = format!("crash-1  | {line}\n");
        assert!(attached.contains(&wanted), "{line:.40} in {attached:.400}");
    }

    let (logs, _) = e.ok(&["logs"]);
    assert_eq!(logs, prefixed);
    let (logs, _) = e.ok(&["logs", "--no-log-prefix", "--tail", "2"]);
    assert_eq!(logs, format!("{long}\nno newline at the end\n"));
    let (logs, _) = e.ok(&["logs", "--timestamps"]);
    assert_eq!(logs.lines().count(), 5, "{logs:.400}");
    assert!(
        logs.lines().all(|l| l.starts_with("crash-1  | 20")),
        "{logs:.400}"
    );

    // The log holds one record per line, none longer than 16 KiB.
    let id = e.ps()[0]["ID"].as_str().expect("id").to_string();
    let dir = std::fs::read_dir(e.sb.state_root.join("containers"))
        .expect("containers")
        .flatten()
        .find(|d| d.file_name().to_string_lossy().starts_with(&id))
        .expect("container dir")
        .path();
    let log = std::fs::read_to_string(dir.join("container.log")).expect("log");
    let records: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("record"))
        .collect();
    let sizes: Vec<usize> = records
        .iter()
        .map(|r| r["log"].as_str().expect("log").len())
        .collect();
    assert!(sizes.iter().all(|n| *n <= 16 * 1024), "{sizes:?}");
    assert_eq!(records[0]["log"], "Traceback (most recent call last):\n");

    // A log written before records were lines: one record, two lines.
    let old = "{\"log\":\"old one\\nold two\\n\",\"stream\":\"stdout\",\"time\":\"2000-01-01T00:00:00.000000000Z\"}\n";
    std::fs::write(dir.join("container.log"), old.to_string() + &log).expect("old record");
    let (logs, _) = e.ok(&["logs"]);
    assert_eq!(
        logs,
        format!("crash-1  | old one\ncrash-1  | old two\n{prefixed}")
    );
    e.ok(&["down"]);
    e.sb.assert_no_leaks();
}

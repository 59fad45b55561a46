//! `stack watch` actions after a sync (restart, exec) and stack file
//! edits, observed from inside the running containers.

mod run_support;
mod watch_support;

use std::time::Duration;

use watch_support::{cat, eventually, pid_of, remove, start_service, Project, Watch};

const WAIT: Duration = Duration::from_secs(15);

const STACK: &str = r#"name: acts
services:
  web:
    image: busybox
    develop:
      watch:
        - path: ./src
          target: /app
          action: sync+restart
  api:
    image: busybox
    develop:
      watch:
        - path: ./api
          target: /srv
          action: sync+exec
          exec:
            command: ["sh", "-c", "echo reloaded $$(cat v.txt) as $$(id -u) in $$(pwd) with $$GREETING"]
            user: "1000"
            working_dir: /srv
            environment:
              GREETING: hello
  worker:
    image: busybox
    develop:
      watch:
        - path: ./worker.conf
          action: restart
"#;

#[test]
fn sync_restart_restarts_and_sync_exec_shows_its_output() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let p = Project::new(&sb, "acts", STACK);
    std::fs::create_dir_all(p.path("api")).expect("api dir");
    p.write("worker.conf", "a=1\n");
    let web = start_service(&sb, &p, "web");
    let api = start_service(&sb, &p, "api");
    let worker = start_service(&sb, &p, "worker");
    let web_pid = pid_of(&sb, &web);
    let api_pid = pid_of(&sb, &api);
    let worker_pid = pid_of(&sb, &worker);
    let watch = Watch::start(&sb, &p, &["--no-up"]);

    // sync+restart: the file is there and the process is a new one.
    p.write("src/app.conf", "port=1\n");
    assert!(
        watch.wait_line(WAIT, |l| l.starts_with("web: synced 1 file, restarted")),
        "{}",
        watch.output()
    );
    assert_ne!(pid_of(&sb, &web), web_pid, "web was restarted");
    assert_eq!(cat(&sb, &web, "/app/app.conf").as_deref(), Some("port=1\n"));

    // sync+exec: the command ran after the sync, as the user, in the
    // directory and with the environment the rule gives.
    p.write("api/v.txt", "7\n");
    assert!(
        watch.wait_line(WAIT, |l| l == "reloaded 7 as 1000 in /srv with hello"),
        "{}",
        watch.output()
    );
    assert!(
        watch.wait_line(WAIT, |l| l.starts_with("api: synced 1 file, exec exited 0")),
        "{}",
        watch.output()
    );
    assert_eq!(pid_of(&sb, &api), api_pid, "exec does not restart");

    // restart alone (a rule on one file): nothing synced, process renewed.
    let conf = p.path("worker.conf");
    std::fs::write(conf.with_extension("tmp"), "a=2\n").expect("write");
    std::fs::rename(conf.with_extension("tmp"), &conf).expect("atomic save of a watched file");
    assert!(
        watch.wait_line(WAIT, |l| l.starts_with("worker: restarted")),
        "{}",
        watch.output()
    );
    assert!(eventually(WAIT, || pid_of(&sb, &worker) != worker_pid));
    assert_eq!(pid_of(&sb, &web), pid_of(&sb, &web), "others untouched");

    drop(watch);
    for c in [&web, &api, &worker] {
        remove(&sb, c);
    }
    sb.assert_no_leaks();
}

#[test]
fn a_broken_stack_file_edit_changes_nothing_and_a_good_one_reaches_the_engine() {
    let Some(sb) = stack_testkit::sandbox() else {
        return;
    };
    let p = Project::new(&sb, "acts", STACK);
    let web = start_service(&sb, &p, "web");
    let web_pid = pid_of(&sb, &web);
    let watch = Watch::start(&sb, &p, &["--no-up", "web"]);

    // Broken: an unknown action. The diagnostic names the file and line.
    let broken = STACK.replace("action: sync+restart", "action: teleport");
    std::fs::write(p.path("stack.yaml"), &broken).expect("broken edit");
    assert!(
        watch.wait_line(WAIT, |l| l
            .starts_with("stack file not applied, the running stack is unchanged")),
        "{}",
        watch.output()
    );
    assert!(
        watch.wait_line(WAIT, |l| l.contains("stack.yaml") && l.contains(":9:")),
        "diagnostic names file and line:\n{}",
        watch.output()
    );
    assert_eq!(pid_of(&sb, &web), web_pid, "nothing restarted");
    // The loop goes on with the previous rules.
    p.write("src/still.txt", "watching\n");
    assert!(
        eventually(WAIT, || cat(&sb, &web, "/app/still.txt").as_deref()
            == Some("watching\n")),
        "{}",
        watch.output()
    );

    assert!(
        watch.wait_line(WAIT, |l| l.starts_with("web: synced 1 file, restarted")),
        "{}",
        watch.output()
    );
    let web_pid = pid_of(&sb, &web);

    // Good: a new service. It reaches the engine's apply, which refuses it
    // before touching anything: its image is not here and may not be
    // pulled (tests never reach a registry outside the sandbox).
    let good = format!("{STACK}  cache:\n    image: busybox\n    pull_policy: never\n");
    std::fs::write(p.path("stack.yaml"), good).expect("good edit");
    assert!(
        watch.wait_line(WAIT, |l| l.starts_with("stack file not applied")
            && l.contains("cache")
            && l.contains("pull policy is never")),
        "{}",
        watch.output()
    );
    assert_eq!(pid_of(&sb, &web), web_pid, "a refused plan touches nothing");

    drop(watch);
    remove(&sb, &web);
    sb.assert_no_leaks();
}

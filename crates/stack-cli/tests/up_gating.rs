//! `depends_on` conditions end to end: a dependent waits for a one-shot
//! to complete, and never starts when its dependency fails or cannot
//! report health.

mod run_support;
mod up_support;

use up_support::{describe, env};

fn state_of(e: &up_support::Env, name: &str) -> serde_json::Value {
    e.ps()
        .into_iter()
        .find(|c| c["Name"] == name)
        .unwrap_or_else(|| panic!("{name} not in ps"))
}

#[test]
fn service_completed_successfully_waits_for_the_exit() {
    let Some(e) = env(false) else { return };
    e.write(
        r#"
name: demo
services:
  migrate:
    image: busybox
    command: ["sh", "-c", "sleep 0.5; echo migrated"]
  web:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    depends_on:
      migrate:
        condition: service_completed_successfully
"#,
    );
    let (_, err) = e.ok(&["up", "-d"]);
    // Said as Compose says it: the dependency waited on, then its exit.
    let lines: Vec<&str> = err.lines().collect();
    let at = |line: &str| lines.iter().position(|l| *l == line).expect(&err);
    assert!(
        at(" Container demo-migrate-1  Started") < at(" Container demo-migrate-1  Waiting")
            && at(" Container demo-migrate-1  Waiting") < at(" Container demo-migrate-1  Exited")
            && at(" Container demo-migrate-1  Exited") < at(" Container demo-web-1  Started"),
        "{err}"
    );
    // `up -d` returned once web started, which needed migrate done.
    let migrate = state_of(&e, "demo-migrate-1");
    assert_eq!(migrate["State"], "exited", "{migrate}");
    assert_eq!(migrate["ExitCode"], 0, "{migrate}");
    assert_eq!(state_of(&e, "demo-web-1")["State"], "running");
    e.ok(&["down", "-t", "0"]);
    e.sb.assert_no_leaks();
}

#[test]
fn a_failed_one_shot_keeps_its_dependent_from_starting() {
    let Some(e) = env(false) else { return };
    e.write(
        r#"
name: demo
services:
  migrate:
    image: busybox
    command: ["sh", "-c", "exit 3"]
  web:
    image: busybox
    command: ["sleep", "1000"]
    depends_on:
      migrate:
        condition: service_completed_successfully
"#,
    );
    let out = e.stack(&["up", "-d"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("service migrate didn't complete successfully: exit 3"),
        "{err}"
    );
    assert_eq!(e.names(), vec!["demo-migrate-1"], "web must not be created");
    e.ok(&["down"]);
    e.sb.assert_no_leaks();
}

#[test]
fn service_healthy_on_a_dependency_without_healthcheck_fails_at_once() {
    let Some(e) = env(false) else { return };
    e.write(
        r#"
name: demo
services:
  db:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
  web:
    image: busybox
    command: ["sleep", "1000"]
    depends_on:
      db:
        condition: service_healthy
  optional:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    depends_on:
      db:
        condition: service_healthy
        required: false
"#,
    );
    let started = std::time::Instant::now();
    let out = e.stack(&["up", "-d"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(!out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("service db has no healthcheck configured"),
        "{err}"
    );
    let names = e.names();
    assert!(!names.contains(&"demo-web-1".to_string()), "{names:?}");
    // An optional dependency that fails only warns.
    assert!(names.contains(&"demo-optional-1".to_string()), "{names:?}");
    assert!(err.contains("optional dependency"), "{err}");
    e.ok(&["down", "-t", "0"]);
    e.sb.assert_no_leaks();
}

#[test]
fn service_healthy_waits_for_health_and_fails_on_unhealthy() {
    let Some(e) = env(false) else { return };
    e.write(
        r#"
name: demo
services:
  db:
    image: busybox
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; sleep 1000"]
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD-SHELL", "test -f /tmp/ready"]
      interval: 10s
      retries: 30
      start_period: 30s
      start_interval: 100ms
  web:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    depends_on:
      db:
        condition: service_healthy
"#,
    );
    let (_, err) = e.ok(&["up", "-d"]);
    let waiting = err.find(" Container demo-db-1  Waiting\n").expect(&err);
    let healthy = err.find(" Container demo-db-1  Healthy\n").expect(&err);
    let web = err.find(" Container demo-web-1  Started\n").expect(&err);
    assert!(waiting < healthy && healthy < web, "{err}");
    let db = state_of(&e, "demo-db-1");
    assert_eq!(
        db["Health"], "healthy",
        "web started only once db was: {db}"
    );
    assert_eq!(state_of(&e, "demo-web-1")["State"], "running");
    e.ok(&["down", "-t", "0"]);

    e.write(
        r#"
name: demo
services:
  db:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "false"]
      interval: 100ms
      retries: 2
  web:
    image: busybox
    command: ["sleep", "1000"]
    depends_on:
      db:
        condition: service_healthy
"#,
    );
    let out = e.stack(&["up", "-d"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("service db is unhealthy"), "{err}");
    assert_eq!(e.names(), vec!["demo-db-1"]);
    e.ok(&["down", "-t", "0"]);
    e.sb.assert_no_leaks();
}

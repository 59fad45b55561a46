//! `/images/...`: list, pull (`POST /images/create`, with Docker's JSON
//! progress stream), and the routes of one image by name (inspect,
//! remove, push with the same stream, tag, history; its export answers
//! 501).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use stack_api::docker::filters::{self, Filters};
use stack_api::docker::images::{ImageSummary, ProgressLine};
use stack_engine::facade::docker::images::PullProgress;
use stack_engine::facade::EngineError;

use super::error::{blocking, DockerError};
use super::extract::{flag, Q};
use crate::routes::AppState;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default, deserialize_with = "flag")]
    #[allow(dead_code)]
    all: bool,
    #[serde(default)]
    filters: Option<String>,
}

/// The row as the filters leave it, if they keep it: `reference` keeps
/// only the tags it names (as Docker answers, so `docker images -q NAME`
/// prints the image once), `dangling` and `label` keep or drop the row.
fn filtered(filters: &Filters, mut row: ImageSummary) -> Option<ImageSummary> {
    if let Some(wanted) = filters.get("reference") {
        row.repo_tags.retain(|tag| {
            let repo = tag.rsplit_once(':').map_or(tag.as_str(), |(r, _)| r);
            wanted.iter().any(|w| tag == w || repo == w)
        });
        if row.repo_tags.is_empty() {
            return None;
        }
    }
    // Dangling: an image without a name (a build without `-t`).
    let dangling = row.repo_tags.is_empty();
    let dangling_ok = filters.get("dangling").is_none_or(|v| {
        v.iter()
            .all(|d| dangling == matches!(d.as_str(), "true" | "1"))
    });
    let label_ok = filters
        .get("label")
        .is_none_or(|w| filters::labels_match(w, &row.labels));
    (dangling_ok && label_ok).then_some(row)
}

pub async fn list(
    State(s): State<AppState>,
    Q(q): Q<ListQuery>,
) -> Result<Json<Vec<ImageSummary>>, DockerError> {
    let filters = filters::parse(q.filters.as_deref())
        .map_err(|e| DockerError::bad_request(e.to_string()))?;
    const KNOWN: &[&str] = &["reference", "dangling", "label"];
    if let Some(name) = filters.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(DockerError::bad_request(format!("invalid filter '{name}'")));
    }
    let rows = blocking(move || Ok(s.engine.docker_images()?)).await?;
    Ok(Json(
        rows.into_iter()
            .filter_map(|r| filtered(&filters, r))
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
pub struct CreateQuery {
    #[serde(default, rename = "fromImage")]
    from_image: Option<String>,
    #[serde(default, rename = "fromSrc")]
    from_src: Option<String>,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    platform: Option<String>,
}

/// `fromImage` and `tag` as one reference (`busybox` + `1.36`,
/// `busybox` + `sha256:...`).
fn reference(image: &str, tag: Option<&str>) -> String {
    match tag.filter(|t| !t.is_empty()) {
        Some(t) if t.contains(':') => format!("{image}@{t}"),
        Some(t) => format!("{image}:{t}"),
        None => image.to_string(),
    }
}

/// Refuses credentials in `X-Registry-Auth`: the engine pulls with the
/// host's registry configuration, and using other credentials is not
/// built yet. Docker's CLI sends `e30=` (`{}`) when it has none.
fn check_registry_auth(headers: &HeaderMap) -> Result<(), DockerError> {
    use base64::Engine as _;
    let Some(value) = headers.get("x-registry-auth") else {
        return Ok(());
    };
    let text = value.to_str().unwrap_or_default().trim();
    let decoded = base64::engine::general_purpose::URL_SAFE
        .decode(text)
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(text))
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
        .unwrap_or_default();
    let auth: serde_json::Value = serde_json::from_slice(&decoded).unwrap_or_default();
    // The CLI also sends `serveraddress` (and an empty `email`) with no
    // credential: only these keys carry one.
    const CREDENTIALS: &[&str] = &[
        "username",
        "password",
        "auth",
        "identitytoken",
        "registrytoken",
    ];
    if CREDENTIALS
        .iter()
        .all(|key| auth.get(key).is_none_or(stack_api::docker::is_unset))
    {
        return Ok(());
    }
    Err(DockerError::new(
        StatusCode::NOT_IMPLEMENTED,
        "X-Registry-Auth: credentials sent with a request are not supported by stack yet; configure the registry's credentials for the daemon instead",
    ))
}

enum Pulled {
    /// A progress line; `started` once the pull reached a registry that
    /// serves the image (a layer, or the end).
    Line {
        line: ProgressLine,
        started: bool,
    },
    Failed(EngineError),
}

/// Pulls; the answer's status is an error's when the pull fails before
/// its first line, else `200` and the progress (a failure then ends the
/// stream with an `error` line, as Docker does).
pub async fn create(
    State(s): State<AppState>,
    headers: HeaderMap,
    Q(q): Q<CreateQuery>,
) -> Result<Response, DockerError> {
    if q.from_src.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(DockerError::not_implemented(
            "POST",
            "/images/create?fromSrc (import)",
        ));
    }
    let Some(image) = q.from_image.filter(|i| !i.is_empty()) else {
        return Err(DockerError::bad_request("fromImage is required"));
    };
    check_registry_auth(&headers)?;
    let reference = reference(&image, q.tag.as_deref());
    let platform = q.platform.filter(|p| !p.is_empty());
    // Unbounded: the engine calls `emit` inside its own runtime, where a
    // blocking send may not wait; progress lines are few (one per MiB).
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Pulled>();
    let engine = s.engine.clone();
    let pull_ref = reference.clone();
    tokio::task::spawn_blocking(move || {
        let progress = std::sync::Mutex::new(PullProgress::default());
        let _ = tx.send(Pulled::Line {
            line: PullProgress::start(&pull_ref),
            started: false,
        });
        let emit = |event: stack_api::system::PullEvent| {
            let started = !matches!(event, stack_api::system::PullEvent::Message { .. });
            let lines = match progress.lock() {
                Ok(mut p) => p.lines(&event),
                Err(_) => return,
            };
            for line in lines {
                let _ = tx.send(Pulled::Line { line, started });
            }
        };
        if let Err(err) = engine.pull(&pull_ref, platform.as_deref(), &emit) {
            let _ = tx.send(Pulled::Failed(err));
        }
    });
    // Lines are held until the pull reaches a registry that has the
    // image: a failure before that (an unknown image, no registry
    // answering) is an error status, as Docker answers it.
    let mut held = Vec::new();
    loop {
        match rx.recv().await {
            Some(Pulled::Failed(err)) => return Err(DockerError::from(err)),
            Some(Pulled::Line { line, started }) => {
                held.push(line);
                if started {
                    break;
                }
            }
            None => break,
        }
    }
    let (chunks, response) = super::stream::bytes("application/json");
    tokio::spawn(async move {
        for line in &held {
            if !chunks.json_line_async(line).await {
                return;
            }
        }
        while let Some(item) = rx.recv().await {
            let line = match item {
                Pulled::Line { line, .. } => line,
                Pulled::Failed(err) => ProgressLine::error(err.to_string()),
            };
            if !chunks.json_line_async(&line).await {
                break;
            }
        }
    });
    Ok(response)
}

/// Pushes: an image that is not here is a 404 before any line; then
/// `200` and the progress, a failure ending it with an `error` line.
async fn push(s: AppState, name: String, tag: Option<String>) -> Result<Response, DockerError> {
    let local = stack_engine::facade::docker::push::with_query_tag(&name, tag.as_deref());
    let engine = s.engine.clone();
    blocking(move || Ok(engine.docker_image(&local).map(|_| ())?)).await?;
    // Unbounded: the engine reports from inside its own runtime.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<ProgressLine>();
    let engine = s.engine.clone();
    // A client that leaves stops the push.
    let cancel = stack_engine::build::CancellationToken::new();
    let stop = cancel.clone();
    tokio::task::spawn_blocking(move || {
        let emit = |line: ProgressLine| {
            let _ = tx.send(line);
        };
        if let Err(err) = engine.docker_push(&name, tag.as_deref(), &emit, &stop) {
            emit(ProgressLine::error(err.to_string()));
        }
    });
    let (chunks, response) = super::stream::bytes("application/json");
    tokio::spawn(async move {
        loop {
            tokio::select! {
                line = rx.recv() => match line {
                    Some(line) if chunks.json_line_async(&line).await => {}
                    Some(_) => break cancel.cancel(),
                    None => break,
                },
                () = chunks.gone() => break cancel.cancel(),
            }
        }
    });
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct ByNameQuery {
    #[serde(default, deserialize_with = "flag")]
    force: bool,
    /// Docker keeps the image's untagged parent images with it (Compose's
    /// `down --rmi` sends it). stack's images have no parent images, so
    /// there is nothing for it to keep: accepted, and it changes nothing.
    #[serde(default, deserialize_with = "flag")]
    #[allow(dead_code)]
    noprune: bool,
    /// `push` and `tag`: the tag (`docker push NAME:TAG` sends it apart).
    #[serde(default)]
    tag: Option<String>,
    /// `tag`: the new name's repository.
    #[serde(default)]
    repo: Option<String>,
}

/// `/images/{name}/json` (GET), `/images/{name}` (DELETE), and the
/// routes of one image not built yet. The name may hold slashes and a
/// registry's port (`localhost:5000/team/app:1`).
pub async fn by_name(
    State(s): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(rest): Path<String>,
    Q(q): Q<ByNameQuery>,
) -> Result<Response, DockerError> {
    let split = rest.rsplit_once('/');
    match (&method, split) {
        (&Method::GET, Some((name, "json"))) => {
            let name = name.to_string();
            let image = blocking(move || Ok(s.engine.docker_image(&name)?)).await?;
            Ok(Json(image).into_response())
        }
        (&Method::DELETE, _) => {
            if q.force {
                return Err(DockerError::bad_request(
                    "force: removing an image that containers use is not supported by stack",
                ));
            }
            let removed = blocking(move || Ok(s.engine.docker_remove_image(&rest)?)).await?;
            Ok(Json(removed).into_response())
        }
        (&Method::GET, Some((name, "history"))) => {
            let name = name.to_string();
            let steps = blocking(move || Ok(s.engine.docker_image_history(&name)?)).await?;
            Ok(Json(steps).into_response())
        }
        (&Method::GET, Some((_, "get"))) => {
            Err(DockerError::not_implemented("GET", "/images/{name}/get"))
        }
        (&Method::POST, Some((name, "push"))) => {
            check_registry_auth(&headers)?;
            // Without a tag Docker pushes every tag of the repository.
            let tagged = name
                .rsplit('/')
                .next()
                .is_some_and(|last| last.contains(':'));
            if q.tag.as_deref().unwrap_or_default().is_empty() && !tagged {
                return Err(DockerError::not_implemented(
                    "POST",
                    "/images/{name}/push without a tag (docker push --all-tags)",
                ));
            }
            push(s, name.to_string(), q.tag).await
        }
        (&Method::POST, Some((name, "tag"))) => {
            let (name, repo) = (name.to_string(), q.repo.unwrap_or_default());
            blocking(move || Ok(s.engine.docker_tag(&name, &repo, q.tag.as_deref())?)).await?;
            Ok(StatusCode::CREATED.into_response())
        }
        _ => Err(DockerError::new(StatusCode::NOT_FOUND, "page not found")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_from_image_and_tag() {
        assert_eq!(reference("busybox", Some("latest")), "busybox:latest");
        assert_eq!(reference("busybox", None), "busybox");
        assert_eq!(reference("busybox:1", Some("")), "busybox:1");
        assert_eq!(
            reference("busybox", Some("sha256:abc")),
            "busybox@sha256:abc"
        );
    }

    #[test]
    fn an_empty_registry_auth_is_no_credential() {
        let mut headers = HeaderMap::new();
        assert!(check_registry_auth(&headers).is_ok());
        headers.insert("x-registry-auth", "e30=".parse().expect("header"));
        assert!(check_registry_auth(&headers).is_ok());
        // {"serveraddress":"127.0.0.1:5000"}: where, but no credential.
        headers.insert(
            "x-registry-auth",
            "eyJzZXJ2ZXJhZGRyZXNzIjoiMTI3LjAuMC4xOjUwMDAifQ=="
                .parse()
                .expect("header"),
        );
        assert!(check_registry_auth(&headers).is_ok());
        // {"username":"u","password":"p"}
        headers.insert(
            "x-registry-auth",
            "eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InAifQ=="
                .parse()
                .expect("header"),
        );
        assert_eq!(
            check_registry_auth(&headers).expect_err("refused").status,
            StatusCode::NOT_IMPLEMENTED
        );
    }
}

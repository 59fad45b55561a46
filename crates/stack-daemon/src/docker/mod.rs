//! The Docker Engine API, served on the daemon's socket beside the native
//! API. Both routers answer on one socket: [`app`] sends `/v1/...` to the
//! native router and everything else here, after taking off a Docker
//! version prefix (`/v1.43/containers/json`) or none (`/_ping`).
//!
//! Every endpoint of Docker's API is in [`table`]: the ones built call
//! the engine facade (its Docker views, `stack_engine::facade::docker`),
//! the others answer 501 with a message naming them, so a client never
//! meets a silent 404 or a fake success.
//!
//! - [`version`]: the prefix, checked against the versions served.
//! - [`error`]: `{"message"}` bodies, the status of each error class.
//! - [`system`], [`events`], [`containers`], [`logs`], [`images`],
//!   [`objects`], [`exec`] (with [`exec_registry`]): the routes of each
//!   area.

mod archive;
mod attach;
mod build;
mod containers;
mod df;
mod error;
mod events;
mod exec;
pub mod exec_registry;
mod extract;
mod images;
mod logs;
mod objects;
mod prune;
mod stats;
mod stream;
mod system;
mod table;
pub mod version;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;

pub use error::DockerError;
pub use table::{endpoints, Endpoint};

use crate::routes::AppState;

/// The two routers one socket serves.
#[derive(Clone)]
struct Apps {
    native: Router,
    docker: Router,
}

/// The native API and Docker's, on one socket.
pub fn app(state: AppState) -> Router {
    let apps = Apps {
        native: crate::routes::router(state.clone()),
        docker: router(state),
    };
    Router::new().fallback(dispatch).with_state(apps)
}

async fn dispatch(State(apps): State<Apps>, mut req: Request) -> Response {
    match version::route(req.uri().path()) {
        version::Target::Native => apps.native.oneshot(req).await.into_response(),
        version::Target::Docker { path, version } => {
            if let Some(v) = version {
                if let Err(err) = version::check(v) {
                    return err.into_response();
                }
            }
            let uri = match req.uri().query() {
                Some(q) => format!("{path}?{q}"),
                None => path,
            };
            match uri.parse::<Uri>() {
                Ok(uri) => *req.uri_mut() = uri,
                Err(e) => {
                    return DockerError::bad_request(format!("bad path: {e}")).into_response()
                }
            }
            apps.docker.oneshot(req).await.into_response()
        }
    }
}

/// The Docker router over `state`: every endpoint of [`table`].
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for (path, handler) in table::method_routers() {
        router = router.route(path, handler);
    }
    router
        .fallback(page_not_found)
        .method_not_allowed_fallback(no_method)
        .with_state(state)
}

async fn page_not_found() -> DockerError {
    DockerError::new(StatusCode::NOT_FOUND, "page not found")
}

async fn no_method(method: Method, uri: Uri) -> DockerError {
    DockerError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use stack_engine::facade::Engine;
    use stack_engine::paths::HostPaths;

    async fn call(
        app: &Router,
        method: &str,
        path: &str,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .expect("request");
        let res = app.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let body = http_body_util::BodyExt::collect(res.into_body())
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
            .unwrap_or_default();
        (status, headers, body)
    }

    #[tokio::test]
    async fn one_socket_serves_both_apis_and_names_what_is_not_built() {
        let dir = tempfile::tempdir().expect("tempdir");
        let engine = Engine::new(HostPaths::resolve(
            Some(dir.path().into()),
            Some(dir.path().join("run")),
            Some(dir.path().join("none.toml")),
        ));
        let app = app(AppState {
            engine: std::sync::Arc::new(engine),
            execs: Default::default(),
        });
        let (status, headers, body) = call(&app, "GET", "/_ping").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "OK"));
        assert_eq!(headers["api-version"], stack_api::docker::API_VERSION);
        assert_eq!(headers["ostype"], "linux");
        assert_eq!(headers["docker-experimental"], "false");
        assert_eq!(
            headers["cache-control"],
            "no-cache, no-store, must-revalidate"
        );
        assert_eq!(headers["pragma"], "no-cache");
        let (status, headers, body) = call(&app, "HEAD", "/v1.43/_ping").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.is_empty());
        assert_eq!(headers["api-version"], stack_api::docker::API_VERSION);
        let (status, _, body) = call(&app, "GET", "/v1.50/version").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("\"MinAPIVersion\":\"1.24\""), "{body}");
        let (status, _, body) = call(&app, "GET", "/v1.12/version").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, _, body) = call(&app, "POST", "/v1.43/commit").await;
        assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
        assert_eq!(
            body,
            r#"{"message":"POST /commit of the Docker Engine API is not implemented by stack"}"#
        );
        // A name with a port and slashes reaches its route whole.
        let (status, _, body) = call(&app, "GET", "/images/localhost:5000/a/b:1/history").await;
        assert_eq!(
            (status, body.as_str()),
            (
                StatusCode::NOT_FOUND,
                r#"{"message":"No such image: localhost:5000/a/b:1"}"#
            )
        );
        let (status, _, body) = call(&app, "GET", "/images/localhost:5000/a/b:1/get").await;
        assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{body}");
        let (status, _, body) = call(&app, "GET", "/containers/nope/json").await;
        assert_eq!(
            (status, body.as_str()),
            (
                StatusCode::NOT_FOUND,
                r#"{"message":"No such container: nope"}"#
            )
        );
        let (status, _, body) = call(&app, "GET", "/nothing/here").await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::NOT_FOUND, r#"{"message":"page not found"}"#)
        );
        let (status, _, body) = call(&app, "GET", "/containers/json?all=1").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "[]"));
        let (status, _, body) = call(
            &app,
            "GET",
            "/containers/json?filters=%7B%22label%22%3A%7B%22a%3Db%22%3Atrue%7D%7D",
        )
        .await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "[]"));
        let (status, _, body) = call(
            &app,
            "GET",
            "/containers/json?filters=%7B%22colour%22%3A%5B%22red%22%5D%7D",
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        // The native API is still there, with its own error shape.
        let (status, _, body) = call(&app, "GET", "/v1/_ping").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "OK"));
        let (status, _, body) = call(&app, "GET", "/v1/containers/nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("\"kind\":\"not_found\""), "{body}");
    }

    #[test]
    fn every_endpoint_is_listed_once() {
        let all = endpoints();
        for e in &all {
            let same = all
                .iter()
                .filter(|o| o.method == e.method && o.path == e.path)
                .count();
            assert_eq!(same, 1, "{} {} twice", e.method, e.path);
        }
        assert!(all.iter().any(|e| e.path == "/commit" && !e.built));
        assert!(all
            .iter()
            .any(|e| e.path == "/containers/{id}/pause" && e.built));
    }
}

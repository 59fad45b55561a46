//! The API's routes: one table, which the router is built from and which
//! the OpenAPI test compares with `schemas/stack-api.openapi.yaml`.

mod containers;
mod events;
mod exec;
mod extract;
mod images;
mod objects;
mod project_actions;
mod projects;
mod stream;
mod system;

use std::sync::Arc;

use axum::http::{Method, Uri};
use axum::routing::{delete, get, post, MethodRouter};
use axum::Router;

use crate::error::ApiError;
use crate::ops::Host;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub host: Arc<Host>,
}

type Route = (Method, &'static str, MethodRouter<AppState>);

/// Every route: method, path (OpenAPI's `{param}` syntax, which axum shares),
/// handler. Each area that keeps its routes in its own module adds its
/// `routes()` to this list.
fn table() -> Vec<Route> {
    [
        core_routes(),
        exec::routes(),
        objects::routes(),
        projects::routes(),
        project_actions::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// System, containers, images and events.
fn core_routes() -> Vec<Route> {
    vec![
        (Method::GET, "/v1/_ping", get(system::ping)),
        (Method::GET, "/v1/version", get(system::version)),
        (Method::GET, "/v1/containers", get(containers::list)),
        (Method::GET, "/v1/containers/{id}", get(containers::inspect)),
        (
            Method::DELETE,
            "/v1/containers/{id}",
            delete(containers::remove),
        ),
        (
            Method::GET,
            "/v1/containers/{id}/logs",
            get(containers::logs),
        ),
        (
            Method::POST,
            "/v1/containers/{id}/start",
            post(containers::start),
        ),
        (
            Method::POST,
            "/v1/containers/{id}/stop",
            post(containers::stop),
        ),
        (
            Method::POST,
            "/v1/containers/{id}/restart",
            post(containers::restart),
        ),
        (
            Method::POST,
            "/v1/containers/{id}/kill",
            post(containers::kill),
        ),
        (
            Method::POST,
            "/v1/containers/{id}/exec",
            post(containers::exec),
        ),
        (Method::GET, "/v1/images", get(images::list)),
        (Method::POST, "/v1/images/pull", post(images::pull)),
        (Method::POST, "/v1/images/prune", post(images::prune)),
        (Method::DELETE, "/v1/images/{name}", delete(images::remove)),
        (Method::GET, "/v1/events", get(events::stream)),
    ]
}

/// `(METHOD, path)` of every route the server answers.
pub fn served() -> Vec<(String, String)> {
    table()
        .into_iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect()
}

/// The API router over `state`.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for (_, path, handler) in table() {
        router = router.route(path, handler);
    }
    router
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .with_state(state)
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route for {method} {}", uri.path()))
}

async fn no_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

/// The router that answers every request of a refused peer.
pub fn forbidden_router() -> Router {
    Router::new().fallback(|| async {
        ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "permission denied: only root and members of the group `stack` may use the stack daemon",
        )
    })
}

/// Runs blocking engine work off the async threads (CONTRACTS.md).
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("worker thread: {e}")))?
}

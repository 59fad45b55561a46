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

use axum::http::{Method, StatusCode, Uri};
use axum::routing::{delete, get, post, MethodRouter};
use axum::Router;
use stack_api::paths;

use crate::error::ApiError;
use stack_engine::facade::Engine;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    /// The exec instances of the Docker API.
    pub execs: Arc<crate::docker::exec_registry::ExecRegistry>,
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
        (Method::GET, paths::PING, get(system::ping)),
        (Method::GET, paths::VERSION, get(system::version)),
        (Method::GET, paths::CONTAINERS, get(containers::list)),
        (Method::GET, paths::CONTAINER, get(containers::inspect)),
        (Method::DELETE, paths::CONTAINER, delete(containers::remove)),
        (Method::GET, paths::CONTAINER_LOGS, get(containers::logs)),
        (
            Method::POST,
            paths::CONTAINER_START,
            post(containers::start),
        ),
        (Method::POST, paths::CONTAINER_STOP, post(containers::stop)),
        (
            Method::POST,
            paths::CONTAINER_RESTART,
            post(containers::restart),
        ),
        (Method::POST, paths::CONTAINER_KILL, post(containers::kill)),
        (
            Method::POST,
            paths::CONTAINER_PAUSE,
            post(containers::pause),
        ),
        (
            Method::POST,
            paths::CONTAINER_UNPAUSE,
            post(containers::unpause),
        ),
        (
            Method::POST,
            paths::CONTAINER_UPDATE,
            post(containers::update),
        ),
        (Method::POST, paths::CONTAINER_EXEC, post(containers::exec)),
        (Method::GET, paths::IMAGES, get(images::list)),
        (Method::POST, paths::IMAGES_PULL, post(images::pull)),
        (Method::POST, paths::IMAGES_PRUNE, post(images::prune)),
        (Method::DELETE, paths::IMAGE, delete(images::remove)),
        (Method::GET, paths::EVENTS, get(events::stream)),
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
pub(crate) async fn blocking<T: Send + 'static, E: Into<ApiError> + Send + 'static>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("worker thread: {e}")))?
        .map_err(Into::into)
}

/// Docker's answer to an idempotent action (both APIs answer alike): 204
/// when it changed something, 304 when it was already so.
pub(crate) fn outcome_status(outcome: stack_engine::facade::Outcome) -> StatusCode {
    match outcome {
        stack_engine::facade::Outcome::Done => StatusCode::NO_CONTENT,
        stack_engine::facade::Outcome::AlreadyThere => StatusCode::NOT_MODIFIED,
    }
}

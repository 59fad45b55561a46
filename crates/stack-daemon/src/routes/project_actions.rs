//! `POST /v1/projects/{name}/start|stop|restart|kill|pause|unpause|rm`: a
//! project verb
//! on the project's containers, answered once every step ran with each
//! container's outcome (a failed container is an outcome, not an error
//! status; the verb's exit status comes from the outcomes).

use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::post;
use axum::Json;
use stack_api::paths;

use super::extract::J;
use super::{blocking, AppState, Route};
use crate::error::ApiError;
use stack_api::project_actions::ProjectAction;
use stack_api::project_actions::{ActionAnswer, ActionRequest};

pub(super) fn routes() -> Vec<Route> {
    vec![
        (Method::POST, paths::PROJECT_START, post(start)),
        (Method::POST, paths::PROJECT_STOP, post(stop)),
        (Method::POST, paths::PROJECT_RESTART, post(restart)),
        (Method::POST, paths::PROJECT_KILL, post(kill)),
        (Method::POST, paths::PROJECT_PAUSE, post(pause)),
        (Method::POST, paths::PROJECT_UNPAUSE, post(unpause)),
        (Method::POST, paths::PROJECT_RM, post(rm)),
    ]
}

async fn act(
    s: AppState,
    name: String,
    action: ProjectAction,
    req: ActionRequest,
) -> Result<Json<ActionAnswer>, ApiError> {
    tracing::info!(project = %name, action = action.path_word(), "project action");
    blocking(move || s.engine.project_action(&name, action, &req))
        .await
        .map(Json)
}

async fn start(
    State(s): State<AppState>,
    Path(name): Path<String>,
    J(req): J<ActionRequest>,
) -> Result<Json<ActionAnswer>, ApiError> {
    act(s, name, ProjectAction::Start, req).await
}

async fn stop(
    State(s): State<AppState>,
    Path(name): Path<String>,
    J(req): J<ActionRequest>,
) -> Result<Json<ActionAnswer>, ApiError> {
    act(s, name, ProjectAction::Stop, req).await
}

async fn restart(
    State(s): State<AppState>,
    Path(name): Path<String>,
    J(req): J<ActionRequest>,
) -> Result<Json<ActionAnswer>, ApiError> {
    act(s, name, ProjectAction::Restart, req).await
}

async fn kill(
    State(s): State<AppState>,
    Path(name): Path<String>,
    J(req): J<ActionRequest>,
) -> Result<Json<ActionAnswer>, ApiError> {
    act(s, name, ProjectAction::Kill, req).await
}

async fn pause(
    State(s): State<AppState>,
    Path(name): Path<String>,
    J(req): J<ActionRequest>,
) -> Result<Json<ActionAnswer>, ApiError> {
    act(s, name, ProjectAction::Pause, req).await
}

async fn unpause(
    State(s): State<AppState>,
    Path(name): Path<String>,
    J(req): J<ActionRequest>,
) -> Result<Json<ActionAnswer>, ApiError> {
    act(s, name, ProjectAction::Unpause, req).await
}

async fn rm(
    State(s): State<AppState>,
    Path(name): Path<String>,
    J(req): J<ActionRequest>,
) -> Result<Json<ActionAnswer>, ApiError> {
    act(s, name, ProjectAction::Remove, req).await
}

//! `/v1/projects`: the list of projects, and a project's plan, `up`,
//! `down` and containers (`ps`).
//!
//! `up` and `down` plan first and answer planning errors with a status
//! code; then they stream [`ProjectEvent`]s while a thread of their own
//! applies the plan. That thread runs to the end even when the client
//! leaves, so the project is never left between two actions by a
//! disconnect. Only one `up` or `down` of a project runs at a time; a
//! second one gets 409.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Json;
use serde::Deserialize;
use stack_api::paths;

use super::extract::{J, Q};
use super::{blocking, stream, AppState, Route};
use crate::error::ApiError;
use stack_api::projects::{
    DownRequest, PlanAnswer, ProjectEvent, ProjectSummary, PsRow, UpRequest,
};
use stack_engine::facade::projects::check_name;

pub(super) fn routes() -> Vec<Route> {
    vec![
        (Method::GET, paths::PROJECTS, get(list)),
        (Method::POST, paths::PROJECT_PLAN, post(plan)),
        (Method::POST, paths::PROJECT_UP, post(up)),
        (Method::POST, paths::PROJECT_DOWN, post(down)),
        (Method::GET, paths::PROJECT_CONTAINERS, get(containers)),
    ]
}

async fn list(State(s): State<AppState>) -> Result<Json<Vec<ProjectSummary>>, ApiError> {
    blocking(move || s.engine.list_projects()).await.map(Json)
}

async fn plan(
    State(s): State<AppState>,
    Path(name): Path<String>,
    J(req): J<UpRequest>,
) -> Result<Json<PlanAnswer>, ApiError> {
    check_name(&name, &req.project)?;
    let project = req.full_project();
    blocking(move || Ok::<_, ApiError>(s.engine.prepare_up(&project, &req.options)?.answer))
        .await
        .map(Json)
}

async fn up(
    State(s): State<AppState>,
    Path(name): Path<String>,
    J(req): J<UpRequest>,
) -> Result<Response, ApiError> {
    check_name(&name, &req.project)?;
    tracing::info!(project = %name, "up");
    let engine = s.engine.clone();
    let project = Arc::new(req.full_project());
    let planned = project.clone();
    let prepared = blocking(move || engine.prepare_up(&planned, &req.options)).await?;
    let (lines, response) = stream::ndjson();
    spawn_apply(
        &name,
        move |emit| {
            let _ = s.engine.run_up(&project, prepared, req.parallel, emit);
        },
        lines,
    )?;
    Ok(response)
}

async fn down(
    State(s): State<AppState>,
    Path(name): Path<String>,
    J(req): J<DownRequest>,
) -> Result<Response, ApiError> {
    tracing::info!(project = %name, "down");
    let engine = s.engine.clone();
    let project = name.clone();
    let prepared = blocking(move || engine.prepare_down(&project, &req)).await?;
    let (lines, response) = stream::ndjson();
    spawn_apply(
        &name,
        move |emit| {
            let _ = s.engine.run_down(prepared, emit);
        },
        lines,
    )?;
    Ok(response)
}

/// Runs `work` on a plain thread (the engine runs its own threads and
/// runtimes inside), forwarding its events to the stream while the client
/// listens and logging them once it has left.
fn spawn_apply(
    project: &str,
    work: impl FnOnce(&(dyn Fn(ProjectEvent) + Sync)) + Send + 'static,
    lines: stream::Lines,
) -> Result<(), ApiError> {
    let project = project.to_string();
    std::thread::Builder::new()
        .name("project-apply".into())
        .spawn(move || {
            let lines = Mutex::new(lines);
            let emit = |event: ProjectEvent| {
                let listening = lines.lock().map(|l| l.send(&event)).unwrap_or(false);
                if !listening {
                    tracing::info!(project = %project, ?event, "client left; applying on");
                }
            };
            work(&emit);
        })
        .map(drop)
        .map_err(|e| ApiError::internal(format!("start an apply thread: {e}")))
}

#[derive(Debug, Deserialize)]
struct ContainersQuery {
    #[serde(default)]
    all: bool,
    /// Comma-separated service names.
    service: Option<String>,
}

async fn containers(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Q(q): Q<ContainersQuery>,
) -> Result<Json<Vec<PsRow>>, ApiError> {
    let services: Vec<String> = q
        .service
        .iter()
        .flat_map(|s| s.split(','))
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    blocking(move || s.engine.ps_rows(&name, q.all, &services))
        .await
        .map(Json)
}
